"""boto3's EventBridge client (AWS JSON 1.1), unchanged, against the gateway: buses, rules,
targets, PutEvents routed to an SQS queue and received through boto3's SQS client."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from eventplane.testing import eventually

pytestmark = pytest.mark.integration


def queue_arn(sqs: Any, url: str) -> str:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    arn: str = attrs["QueueArn"]
    return arn


def drain(sqs: Any, url: str, expected: int, *, timeout: float = 30.0) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(got) < expected and time.monotonic() < deadline:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        for m in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        got += batch
    return got


@pytest.fixture
def bus(events: Any) -> Iterator[str]:
    name = f"gw-bus-{uuid.uuid4().hex[:8]}"
    events.create_event_bus(Name=name)
    yield name
    for rule in events.list_rules(EventBusName=name).get("Rules", []):
        targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=name)["Targets"]
        if targets:
            events.remove_targets(
                Rule=rule["Name"], EventBusName=name, Ids=[t["Id"] for t in targets]
            )
        events.delete_rule(Name=rule["Name"], EventBusName=name)
    events.delete_event_bus(Name=name)


def test_put_events_reaches_the_rules_queue_target(
    events: Any, sqs: Any, bus: str, make_queue: Callable[..., str]
) -> None:
    url = make_queue()
    events.put_rule(
        Name="orders",
        EventBusName=bus,
        EventPattern=json.dumps(
            {"source": ["gw.orders"], "detail": {"total": [{"numeric": [">", 10]}]}}
        ),
    )
    put = events.put_targets(
        Rule="orders", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn(sqs, url)}]
    )
    assert put["FailedEntryCount"] == 0

    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    result = events.put_events(
        Entries=[
            {
                "Source": "gw.orders",
                "DetailType": "placed",
                "Detail": json.dumps({"total": 42}),
                "Resources": ["arn:aws:s3:::r"],
                "EventBusName": bus,
                "Time": when,
            },
            {
                "Source": "gw.orders",
                "DetailType": "placed",
                "Detail": json.dumps({"total": 3}),
                "EventBusName": bus,
            },
            {
                "Source": "gw.orders",
                "DetailType": "placed",
                "Detail": "not json",
                "EventBusName": bus,
            },
        ]
    )
    assert result["FailedEntryCount"] == 1
    matching, small, bad = result["Entries"]
    assert matching["EventId"] and small["EventId"]
    assert bad["ErrorCode"] == "MalformedDetail" and "EventId" not in bad

    (message,) = drain(sqs, url, 1)
    event = json.loads(message["Body"])
    assert event["id"] == matching["EventId"]
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "gw.orders",
        "placed",
        {"total": 42},
    )
    assert event["time"] == "2026-01-02T03:04:05Z"
    assert event["resources"] == ["arn:aws:s3:::r"]
    # The small order was put too, and its rule did not match: nothing more arrives.
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []


def test_buses_rules_and_targets(
    events: Any, sqs: Any, bus: str, make_queue: Callable[..., str]
) -> None:
    described = events.describe_event_bus(Name=bus)
    assert described["Name"] == bus and described["Arn"].endswith(f":event-bus/{bus}")
    assert isinstance(described["CreationTime"], dt.datetime)
    listed = events.list_event_buses(NamePrefix=bus)["EventBuses"]
    assert [b["Name"] for b in listed] == [bus]

    pattern = json.dumps({"source": ["gw.a"]})
    arn = events.put_rule(Name="r1", EventBusName=bus, EventPattern=pattern, Description="d")[
        "RuleArn"
    ]
    rule = events.describe_rule(Name="r1", EventBusName=bus)
    assert rule["Arn"] == arn and rule["State"] == "ENABLED" and rule["Description"] == "d"
    assert json.loads(rule["EventPattern"]) == {"source": ["gw.a"]}
    events.disable_rule(Name="r1", EventBusName=bus)
    assert events.describe_rule(Name="r1", EventBusName=bus)["State"] == "DISABLED"
    events.enable_rule(Name="r1", EventBusName=bus)
    assert [r["Name"] for r in events.list_rules(EventBusName=bus)["Rules"]] == ["r1"]

    target = {
        "Id": "t1",
        "Arn": queue_arn(sqs, make_queue()),
        "InputTransformer": {
            "InputPathsMap": {"src": "$.source"},
            "InputTemplate": '{"from": <src>}',
        },
        "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
    }
    assert (
        events.put_targets(Rule="r1", EventBusName=bus, Targets=[target])["FailedEntryCount"] == 0
    )
    (listed_target,) = events.list_targets_by_rule(Rule="r1", EventBusName=bus)["Targets"]
    assert listed_target == target
    removed = events.remove_targets(Rule="r1", EventBusName=bus, Ids=["t1"])
    assert removed["FailedEntryCount"] == 0
    assert events.list_targets_by_rule(Rule="r1", EventBusName=bus)["Targets"] == []
    events.delete_rule(Name="r1", EventBusName=bus)
    assert events.list_rules(EventBusName=bus)["Rules"] == []

    assert events.test_event_pattern(
        EventPattern=pattern,
        Event=json.dumps(
            {
                "id": "1",
                "account": "1",
                "source": "gw.a",
                "time": "2026-01-01T00:00:00Z",
                "region": "us-east-1",
                "detail-type": "x",
                "resources": [],
                "detail": {},
            }
        ),
    )["Result"]


def test_errors_come_as_eventbridge_gives_them(events: Any, bus: str) -> None:
    with pytest.raises(events.exceptions.ResourceNotFoundException) as missing:
        events.describe_rule(Name="no-such-rule", EventBusName=bus)
    # EventBridge answers every client error with 400, a missing resource too.
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_event_bus(Name=f"gw-missing-{uuid.uuid4().hex[:8]}")
    with pytest.raises(events.exceptions.InvalidEventPatternException):
        events.put_rule(Name="bad", EventBusName=bus, EventPattern='{"source": "not-a-list"}')
    with pytest.raises(events.exceptions.ResourceAlreadyExistsException):
        events.create_event_bus(Name=bus)
    missing_bus = events.put_events(
        Entries=[{"Source": "s", "DetailType": "d", "Detail": "{}", "EventBusName": "gw-nobus"}]
    )
    assert missing_bus["FailedEntryCount"] == 1
    assert missing_bus["Entries"][0]["ErrorCode"] == "ResourceNotFoundException"
    # A modeled action eventplane does not serve through the gateway yet.
    with pytest.raises(ClientError) as unsupported:
        events.list_connections()
    assert unsupported.value.response["Error"]["Code"] == "UnsupportedOperation"
    assert "ListConnections" in unsupported.value.response["Error"]["Message"]


def test_an_archive_and_its_replay(
    events: Any, sqs: Any, bus: str, make_queue: Callable[..., str]
) -> None:
    url = make_queue()
    bus_arn = events.describe_event_bus(Name=bus)["Arn"]
    rule_arn = events.put_rule(
        Name="all", EventBusName=bus, EventPattern=json.dumps({"source": ["gw.archived"]})
    )["RuleArn"]
    events.put_targets(
        Rule="all", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn(sqs, url)}]
    )
    name = f"gw-archive-{uuid.uuid4().hex[:8]}"
    created = events.create_archive(ArchiveName=name, EventSourceArn=bus_arn, RetentionDays=1)
    assert created["State"] == "ENABLED" and created["ArchiveArn"].endswith(f":archive/{name}")
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    entries = [
        {
            "Source": "gw.archived",
            "DetailType": "t",
            "Detail": json.dumps({"n": n}),
            "EventBusName": bus,
        }
        for n in (1, 2)
    ]
    assert events.put_events(Entries=entries)["FailedEntryCount"] == 0
    assert len(drain(sqs, url, 2)) == 2

    def archived() -> dict[str, Any]:
        found: dict[str, Any] = events.describe_archive(ArchiveName=name)
        assert found["EventCount"] == 2, found
        return found

    described = eventually(archived)
    assert (described["EventSourceArn"], described["RetentionDays"]) == (bus_arn, 1)
    listed = events.list_archives(NamePrefix=name)["Archives"]
    assert [a["ArchiveName"] for a in listed] == [name]

    replay = f"gw-replay-{uuid.uuid4().hex[:8]}"
    started = events.start_replay(
        ReplayName=replay,
        EventSourceArn=described["ArchiveArn"],
        EventStartTime=start,
        EventEndTime=dt.datetime.now(dt.UTC),
        Destination={"Arn": bus_arn, "FilterArns": [rule_arn]},
    )
    assert started["State"] in ("STARTING", "RUNNING", "COMPLETED")

    def completed() -> dict[str, Any]:
        found: dict[str, Any] = events.describe_replay(ReplayName=replay)
        assert found["State"] == "COMPLETED", found
        return found

    done = eventually(completed, timeout=30)
    assert done["Destination"] == {"Arn": bus_arn, "FilterArns": [rule_arn]}
    assert done["EventSourceArn"] == described["ArchiveArn"]
    again = drain(sqs, url, 2)
    assert sorted(json.loads(m["Body"])["detail"]["n"] for m in again) == [1, 2]
    assert all(json.loads(m["Body"]).get("replay-name") == replay for m in again)
    assert [r["ReplayName"] for r in events.list_replays(NamePrefix=replay)["Replays"]] == [replay]
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_replay(ReplayName=f"gw-none-{uuid.uuid4().hex[:8]}")
    events.delete_archive(ArchiveName=name)
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_archive(ArchiveName=name)
