"""security/labelled.py: AddPermission's labelled statements in a resource policy."""

from __future__ import annotations

import json

import pytest

from eventplane.security import labelled
from eventplane.security.resource_policy import parse_resource_policy

Q = "arn:aws:sqs:local:111111111111:q"


def test_the_first_statement_makes_the_document_and_each_label_adds_one() -> None:
    one = labelled.add_statement(
        "", f"{Q}/SQSDefaultPolicy", "a", ["222222222222"], ["SQS:SendMessage"], Q
    )
    two = labelled.add_statement(
        one,
        "ignored",
        "b",
        ["222222222222", "333333333333"],
        ["SQS:SendMessage", "SQS:ReceiveMessage"],
        Q,
    )
    doc = json.loads(two)
    assert doc["Id"] == f"{Q}/SQSDefaultPolicy" and doc["Version"] == "2012-10-17"
    assert doc["Statement"] == [
        {
            "Sid": "a",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
            "Action": "SQS:SendMessage",
            "Resource": Q,
        },
        {
            "Sid": "b",
            "Effect": "Allow",
            "Principal": {
                "AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"]
            },
            "Action": ["SQS:SendMessage", "SQS:ReceiveMessage"],
            "Resource": Q,
        },
    ]
    parse_resource_policy(two)  # what enforcement reads


def test_a_label_is_added_once_and_removed_once() -> None:
    one = labelled.add_statement("", "p", "a", ["222222222222"], ["SQS:*"], Q)
    with pytest.raises(labelled.LabelExists):
        labelled.add_statement(one, "p", "a", ["222222222222"], ["SQS:*"], Q)
    assert labelled.remove_statement(one, "a") == ""  # none left: no policy
    with pytest.raises(labelled.LabelMissing):
        labelled.remove_statement(one, "b")
    with pytest.raises(labelled.LabelMissing):
        labelled.remove_statement("", "a")


def test_statements_not_added_by_label_are_kept() -> None:
    own = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": {"Effect": "Deny", "Principal": "*", "Action": "SQS:*", "Resource": Q},
        }
    )
    added = labelled.add_statement(own, "p", "a", ["222222222222"], ["SQS:SendMessage"], Q)
    assert len(json.loads(added)["Statement"]) == 2
    assert json.loads(labelled.remove_statement(added, "a"))["Statement"] == [
        {"Effect": "Deny", "Principal": "*", "Action": "SQS:*", "Resource": Q}
    ]
