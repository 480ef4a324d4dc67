"""Bus resource policies: the statements PutPermission generates, and the errors."""

from __future__ import annotations

import json

import pytest

from eventplane.bus.models.permissions import put_policy, put_statement, remove_statement
from eventplane.errors import EventplaneError
from eventplane.security.policy import Decision
from eventplane.security.resource_policy import parse_resource_policy

BUS = "arn:aws:events:local:000000000000:event-bus/orders"
PUT = "events:PutEvents"


def _grant(policy: str, sid: str, principal: str, **kw: object) -> str:
    return put_statement(policy, BUS, statement_id=sid, action=PUT, principal=principal, **kw)  # type: ignore[arg-type]


def test_statements_as_eventbridge_generates_them() -> None:
    text = _grant("", "acct", "111122223333")
    text = _grant(
        text,
        "org",
        "*",
        condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-abc"},
    )
    statements = json.loads(text)["Statement"]
    assert statements == [
        {
            "Sid": "acct",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": PUT,
            "Resource": BUS,
        },
        {
            "Sid": "org",
            "Effect": "Allow",
            "Principal": "*",
            "Action": PUT,
            "Resource": BUS,
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
        },
    ]
    # The same Sid again replaces its statement.
    again = json.loads(_grant(text, "acct", "444455556666"))["Statement"]
    assert [s["Sid"] for s in again] == ["org", "acct"]
    assert again[1]["Principal"] == {"AWS": "arn:aws:iam::444455556666:root"}


def test_the_policy_is_what_authorization_enforces() -> None:
    compiled = parse_resource_policy(_grant("", "acct", "111122223333"))
    assert compiled.evaluate("ci", "111122223333", PUT, BUS) is Decision.ALLOW
    assert compiled.evaluate("ci", "999999999999", PUT, BUS) is Decision.IMPLICIT_DENY
    assert compiled.evaluate("ci", "111122223333", "events:PutRule", BUS) is Decision.IMPLICIT_DENY


@pytest.mark.parametrize(
    ("sid", "action", "principal", "condition", "words"),
    [
        ("", PUT, "*", None, "StatementId"),
        ("has space", PUT, "*", None, "StatementId"),
        ("s", "events:PutRule", "*", None, "Action"),
        ("s", PUT, "ci", None, "Principal"),
        ("s", PUT, "*", {"Type": "StringLike", "Key": "aws:PrincipalOrgID", "Value": "o"}, "Cond"),
    ],
)
def test_malformed_parameters_are_refused(
    sid: str, action: str, principal: str, condition: dict[str, str] | None, words: str
) -> None:
    with pytest.raises(EventplaneError) as info:
        put_statement(
            "", BUS, statement_id=sid, action=action, principal=principal, condition=condition
        )
    assert info.value.code == "ValidationException"
    assert words in info.value.message


def test_remove_and_whole_documents() -> None:
    text = _grant(_grant("", "a", "111122223333"), "b", "*")
    left = remove_statement(text, "a")
    assert [s["Sid"] for s in json.loads(left)["Statement"]] == ["b"]
    assert remove_statement(left, "b") == ""
    with pytest.raises(EventplaneError) as info:
        remove_statement(left, "zzz")
    assert info.value.code == "ResourceNotFoundException"

    whole = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": PUT}]})
    assert put_policy(whole) == whole
    with pytest.raises(EventplaneError) as info:
        put_policy('{"Statement": [{"Effect": "Allow", "Action": "events:PutEvents"}]}')
    assert info.value.code == "ValidationException" and "Principal" in info.value.message
