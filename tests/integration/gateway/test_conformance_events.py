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


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    r = exc.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def _tags(events: Any, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in events.list_tags_for_resource(ResourceARN=arn)["Tags"]}


def test_buses_and_rules_keep_their_tags(events: Any, gateway: EventplaneProcess) -> None:
    # TagResource: "In EventBridge, rules and event buses can be tagged"; a new key is
    # appended, a key it already has gets the new value. CreateEventBus and PutRule take Tags.
    name = f"gw-{uuid.uuid4().hex[:8]}"
    bus_arn = events.create_event_bus(Name=name, Tags=[{"Key": "team", "Value": "shop"}])[
        "EventBusArn"
    ]
    try:
        rule_arn = events.put_rule(
            Name=name,
            EventBusName=name,
            EventPattern='{"source": ["gw.tags"]}',
            Tags=[{"Key": "cost", "Value": "42"}],
        )["RuleArn"]
        assert _tags(events, bus_arn) == {"team": "shop"}
        assert _tags(events, rule_arn) == {"cost": "42"}
        events.tag_resource(
            ResourceARN=bus_arn,
            Tags=[{"Key": "team", "Value": "ops"}, {"Key": "Env", "Value": ""}],
        )
        assert _tags(events, bus_arn) == {"team": "ops", "Env": ""}
        events.untag_resource(ResourceARN=bus_arn, TagKeys=["team", "not-there"])
        assert _tags(events, bus_arn) == {"Env": ""}
        # PutRule on an existing rule leaves its tags alone (TagResource changes them), and
        # a bus's other updates keep its tags.
        events.put_rule(
            Name=name,
            EventBusName=name,
            EventPattern='{"source": ["gw.tags2"]}',
            Tags=[{"Key": "ignored", "Value": "x"}],
        )
        events.update_event_bus(Name=name, Description="changed")
        assert _tags(events, rule_arn) == {"cost": "42"}
        assert _tags(events, bus_arn) == {"Env": ""}
        with gateway.client() as c:
            c.events.tag_resource(rule_arn, {"via": "grpc"})
            assert c.events.list_tags_for_resource(rule_arn) == {"cost": "42", "via": "grpc"}
        events.delete_rule(Name=name, EventBusName=name)
        with pytest.raises(ClientError) as gone:
            events.list_tags_for_resource(ResourceARN=rule_arn)
        assert _code(gone) == ("ResourceNotFoundException", 400)
    finally:
        events.delete_event_bus(Name=name)


@pytest.mark.parametrize(
    ("tags", "problem"),
    [
        ([{"Key": f"k{i}", "Value": "v"} for i in range(51)], "at most 50 tags"),
        ([{"Key": "aws:team", "Value": "v"}], "aws: prefix"),
        ([{"Key": "k" * 129, "Value": "v"}], "1 to 128"),
        ([{"Key": "k", "Value": "v" * 257}], "at most 256"),
    ],
    ids=["51-tags", "aws-prefix", "long-key", "long-value"],
)
def test_tags_out_of_limits_are_refused(
    events: Any, tags: list[dict[str, str]], problem: str
) -> None:
    bus_arn = events.describe_event_bus()["Arn"]
    before = _tags(events, bus_arn)
    with pytest.raises(ClientError) as exc:
        events.tag_resource(ResourceARN=bus_arn, Tags=tags)
    assert _code(exc) == ("ValidationException", 400)
    assert problem in exc.value.response["Error"]["Message"]
    assert _tags(events, bus_arn) == before
    name = f"gw-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ClientError) as created:
        events.create_event_bus(Name=name, Tags=tags)
    assert _code(created) == ("ValidationException", 400)
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_event_bus(Name=name)


def test_tags_of_an_unknown_resource_are_not_found(events: Any) -> None:
    # TagResource, UntagResource, ListTagsForResource: ResourceNotFoundException, "An
    # entity that you specified does not exist."
    missing = [
        f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/gw-never-{uuid.uuid4().hex[:8]}",
        f"arn:aws:events:us-east-1:{ACCOUNT}:rule/gw-never-{uuid.uuid4().hex[:8]}",
        f"arn:aws:sqs:us-east-1:{ACCOUNT}:not-an-eventbridge-resource",
    ]
    calls = (
        lambda arn: events.list_tags_for_resource(ResourceARN=arn),
        lambda arn: events.tag_resource(ResourceARN=arn, Tags=[{"Key": "k", "Value": "v"}]),
        lambda arn: events.untag_resource(ResourceARN=arn, TagKeys=["k"]),
    )
    for arn in missing:
        for call in calls:
            with pytest.raises(ClientError) as exc:
                call(arn)
            assert _code(exc) == ("ResourceNotFoundException", 400), arn


def test_list_rule_names_by_target_pages_through_a_bus(
    events: Any, gateway: EventplaneProcess
) -> None:
    # ListRuleNamesByTarget: the rules of one bus (default when omitted) that have the
    # target; Limit and NextToken page; an unknown bus is ResourceNotFoundException.
    name = f"gw-{uuid.uuid4().hex[:8]}"
    target = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"
    other = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}-other"
    events.create_event_bus(Name=name)
    rules = [f"{name}-{i}" for i in range(3)]
    try:
        for i, rule in enumerate([*rules, f"{name}-x"]):
            events.put_rule(Name=rule, EventBusName=name, EventPattern='{"source": ["gw"]}')
            arns = [other] if i == 3 else [target, other] if i == 1 else [target]
            targets = [{"Id": f"t{n}", "Arn": a} for n, a in enumerate(arns)]
            events.put_targets(Rule=rule, EventBusName=name, Targets=targets)
        first = events.list_rule_names_by_target(TargetArn=target, EventBusName=name, Limit=2)
        assert first["RuleNames"] == rules[:2] and first["NextToken"]
        rest = events.list_rule_names_by_target(
            TargetArn=target, EventBusName=name, Limit=2, NextToken=first["NextToken"]
        )
        assert rest["RuleNames"] == rules[2:] and "NextToken" not in rest
        # The default bus has none of them.
        assert events.list_rule_names_by_target(TargetArn=target)["RuleNames"] == []
        with gateway.client() as c:
            assert c.events.list_rule_names_by_target(target, event_bus_name=name) == rules
        with pytest.raises(ClientError) as missing:
            events.list_rule_names_by_target(TargetArn=target, EventBusName=f"{name}-never")
        assert _code(missing) == ("ResourceNotFoundException", 400)
    finally:
        for rule in [*rules, f"{name}-x"]:
            events.delete_rule(Name=rule, EventBusName=name, Force=True)
        events.delete_event_bus(Name=name)
