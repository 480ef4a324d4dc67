"""EventBridge behaviours AWS documents that a differential run against another emulator
showed we got wrong, through boto3 (JSON protocol) and the gRPC door."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from eventplane.errors import ValidationException
from eventplane.testing import EventplaneProcess

from .support import ACCOUNT

pytestmark = pytest.mark.integration


def test_custom_bus_names_cannot_contain_a_slash(events: Any, gateway: EventplaneProcess) -> None:
    # CreateEventBus Name: "Custom event bus names can't contain the / character."
    name = f"gw-{uuid.uuid4().hex[:8]}/orders"
    with pytest.raises(ClientError) as exc:
        events.create_event_bus(Name=name)
    r = exc.value.response
    assert (r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]) == (
        "ValidationException",
        400,
    )
    assert "/" in r["Error"]["Message"]
    with gateway.client() as c, pytest.raises(ValidationException):
        c.events.create_event_bus(name)
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_event_bus(Name=name)


def test_fifo_queue_target_needs_a_message_group(events: Any) -> None:
    # Target SqsParameters: "Contains the message group ID to use when the target is a FIFO
    # queue." A .fifo name is a FIFO queue whether or not it exists yet.
    rule = f"gw-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=rule, EventPattern='{"source": ["gw.conformance"]}')
    try:
        queue = f"arn:aws:sqs:us-east-1:000000000000:gw-{uuid.uuid4().hex[:8]}.fifo"
        put = events.put_targets(Rule=rule, Targets=[{"Id": "fifo", "Arn": queue}])
        assert put["FailedEntryCount"] == 1
        (failed,) = put["FailedEntries"]
        assert (failed["TargetId"], failed["ErrorCode"]) == ("fifo", "ValidationException")
        assert "SqsParameters" in failed["ErrorMessage"]
        assert events.list_targets_by_rule(Rule=rule).get("Targets", []) == []
        grouped = {"Id": "fifo", "Arn": queue, "SqsParameters": {"MessageGroupId": "g"}}
        assert events.put_targets(Rule=rule, Targets=[grouped])["FailedEntryCount"] == 0
        (target,) = events.list_targets_by_rule(Rule=rule)["Targets"]
        assert target["SqsParameters"] == {"MessageGroupId": "g"}
        events.remove_targets(Rule=rule, Ids=["fifo"])
    finally:
        events.delete_rule(Name=rule)


def test_describe_rule_names_the_account_that_created_it(events: Any) -> None:
    # DescribeRule's response has CreatedBy, "the account ID of the user that created the rule".
    rule = f"gw-{uuid.uuid4().hex[:8]}"
    arn = events.put_rule(Name=rule, EventPattern='{"source": ["gw.conformance"]}')["RuleArn"]
    try:
        described = events.describe_rule(Name=rule)
        assert described["CreatedBy"] == arn.split(":")[4] == ACCOUNT
        listed = events.list_rules(NamePrefix=rule)["Rules"]
        assert [r["Name"] for r in listed] == [rule]
        assert "CreatedBy" not in listed[0]  # ListRules' Rule shape has no such member
    finally:
        events.delete_rule(Name=rule)


def test_describe_event_bus_says_when_it_last_changed(events: Any) -> None:
    # DescribeEventBus answers CreationTime and LastModifiedTime.
    name = f"gw-{uuid.uuid4().hex[:8]}"
    events.create_event_bus(Name=name)
    try:
        created = events.describe_event_bus(Name=name)
        assert created["LastModifiedTime"] == created["CreationTime"]
        events.update_event_bus(Name=name, Description="orders")
        updated = events.describe_event_bus(Name=name)
        assert updated["CreationTime"] == created["CreationTime"]
        assert updated["LastModifiedTime"] >= created["LastModifiedTime"]
        assert events.describe_event_bus()["LastModifiedTime"]  # the default bus too
    finally:
        events.delete_event_bus(Name=name)


def test_test_event_pattern_needs_the_mandatory_event_fields(
    events: Any, gateway: EventplaneProcess
) -> None:
    # TestEventPattern Event: "the following fields are mandatory: id, account, source,
    # time, region, resources, detail-type".
    event = {
        "id": "e1",
        "account": ACCOUNT,
        "source": "gw.conformance",
        "time": "2024-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail-type": "checked",
        "detail": {},
    }
    pattern = '{"source": ["gw.conformance"]}'
    assert events.test_event_pattern(EventPattern=pattern, Event=json.dumps(event))["Result"]
    without = {k: v for k, v in event.items() if k != "resources"}
    with pytest.raises(ClientError) as exc:
        events.test_event_pattern(EventPattern=pattern, Event=json.dumps(without))
    r = exc.value.response
    assert (r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]) == (
        "ValidationException",
        400,
    )
    assert "resources" in r["Error"]["Message"]
    with gateway.client() as c, pytest.raises(ValidationException):
        c.events.test_event_pattern(pattern, without)
