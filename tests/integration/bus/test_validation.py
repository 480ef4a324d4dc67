"""Requests EventBridge refuses reach the SDK as typed errors with EventBridge's codes;
PutEvents refuses bad entries one by one; the server keeps serving afterwards."""

from __future__ import annotations

import pytest

from eventplane.bus.errors import InvalidEventPattern, LimitExceeded
from eventplane.client import Client
from eventplane.errors import ResourceNotFound, ValidationException

from .support import Resources, drain, events, unique

pytestmark = pytest.mark.integration


def _entry(bus: str, detail: object = None) -> dict[str, object]:
    return {
        "Source": "shop",
        "DetailType": "OrderPlaced",
        "Detail": {"n": 1} if detail is None else detail,
        "EventBusName": bus,
    }


@pytest.mark.parametrize(
    "pattern",
    [
        {"source": "shop"},  # a leaf must be a list
        {"detail": {"n": [{"numeric": [">", "one"]}]}},
        {"source": [{"prefix": 5}]},
        "{not json",
    ],
)
def test_an_invalid_pattern_is_refused(
    client: Client, res: Resources, pattern: dict[str, object] | str
) -> None:
    bus = res.bus()
    with pytest.raises(InvalidEventPattern) as info:
        client.events.put_rule(unique("r"), event_pattern=pattern, event_bus_name=bus)
    assert info.value.code == "InvalidEventPatternException"
    assert "Event pattern is not valid" in info.value.message


@pytest.mark.parametrize(
    "expression", ["rate(0 minutes)", "rate(5 fortnights)", "cron(0 12 * * *)", "every day"]
)
def test_an_invalid_schedule_is_refused(client: Client, expression: str) -> None:
    with pytest.raises(ValidationException) as info:
        client.events.put_rule(unique("r"), schedule_expression=expression)
    assert info.value.code == "ValidationException"


def test_rule_requests_that_break_eventbridges_rules(client: Client, res: Resources) -> None:
    bus = res.bus()
    with pytest.raises(ValidationException, match="default event bus"):
        client.events.put_rule(
            unique("r"), schedule_expression="rate(5 minutes)", event_bus_name=bus
        )
    with pytest.raises(ValidationException, match="EventPattern or ScheduleExpression"):
        client.events.put_rule(unique("r"), event_bus_name=bus)
    with pytest.raises(ValidationException):
        client.events.put_rule(
            unique("r"), event_pattern={"source": ["x"]}, state="PAUSED", event_bus_name=bus
        )

    rule = res.rule(bus, pattern={"source": ["x"]})
    q = res.queue()
    six = [{"Id": f"t{i}", "Arn": q.arn} for i in range(6)]
    with pytest.raises(LimitExceeded) as limit:
        client.events.put_targets(rule.name, six, event_bus_name=bus)
    assert limit.value.code == "LimitExceededException"
    assert client.events.list_targets_by_rule(rule.name, event_bus_name=bus) == []
    # Five is the quota: accepted.
    assert client.events.put_targets(rule.name, six[:5], event_bus_name=bus).failed_entry_count == 0

    # A target that is wrong on its own fails alone; the good one is saved.
    result = client.events.put_targets(
        rule.name,
        [
            {"Id": "t0", "Arn": q.arn, "RetryPolicy": {"MaximumRetryAttempts": 500}},
            {"Id": "t1", "Arn": q.arn, "InputPath": "$.detail"},
        ],
        event_bus_name=bus,
    )
    assert result.failed_entry_count == 1
    assert [(f.target_id, f.error_code) for f in result.failed_entries] == [
        ("t0", "ValidationException")
    ]
    targets = {t.id: t for t in client.events.list_targets_by_rule(rule.name, event_bus_name=bus)}
    assert targets["t1"].input_path == "$.detail"


def test_unknown_resources_are_not_found(client: Client) -> None:
    missing = unique("no-bus")
    with pytest.raises(ResourceNotFound) as info:
        client.events.describe_event_bus(missing)
    assert info.value.code == "ResourceNotFoundException"
    with pytest.raises(ResourceNotFound):
        client.events.put_rule(unique("r"), event_pattern={"source": ["x"]}, event_bus_name=missing)
    with pytest.raises(ResourceNotFound):
        client.events.describe_rule(unique("r"))
    with pytest.raises(ResourceNotFound):
        client.events.put_targets(unique("r"), [{"Id": "q", "Arn": "http://127.0.0.1:9/"}])
    # PutEvents reports an unknown bus per entry.
    result = client.events.put_events([_entry(missing)])
    assert result.failed_entry_count == 1
    assert result.entries[0].error_code == "ResourceNotFoundException"


def test_put_events_refuses_bad_requests_as_a_whole(client: Client, res: Resources) -> None:
    bus = res.bus()
    with pytest.raises(ValidationException) as info:
        client.events.put_events([_entry(bus)] * 11)
    assert info.value.code == "ValidationException"
    with pytest.raises(ValidationException, match="over the limit"):
        client.events.put_events([_entry(bus, {"blob": "x" * (256 * 1024)})])
    with pytest.raises(ValidationException):
        client.events.put_events([])


def test_a_bad_entry_fails_alone_and_the_server_keeps_serving(
    client: Client, res: Resources
) -> None:
    bus = res.bus()
    q = res.queue()
    res.rule(bus, [{"Id": "q", "Arn": q.arn}], pattern={"source": ["shop"]})

    result = client.events.put_events(
        [
            _entry(bus, {"n": 1}),
            _entry(bus, "{malformed"),
            _entry(bus, "[1, 2]"),
            {**_entry(bus), "Source": "aws.ec2"},
            _entry(bus, {"n": 2}),
        ]
    )
    assert result.failed_entry_count == 3
    codes = [e.error_code for e in result.entries]
    assert codes == [
        None,
        "MalformedDetail",
        "MalformedDetail",
        "NotAuthorizedForSourceException",
        None,
    ]
    assert all(e.error_message for e in result.entries[1:4])
    accepted = [e.event_id for e in result.entries if e.event_id is not None]
    assert len(accepted) == 2

    # After every refusal above, events still flow end to end.
    got = events(drain(client, q.url, 2))
    assert sorted(e["id"] for e in got) == sorted(accepted)
    assert sorted(e["detail"]["n"] for e in got) == [1, 2]


def test_test_event_pattern(client: Client) -> None:
    event = {
        "id": "7",
        "account": "000000000000",
        "source": "shop",
        "time": "2024-05-01T12:00:00Z",
        "region": "local",
        "detail-type": "OrderPlaced",
        "resources": [],
        "detail": {"total": 250, "country": "NL"},
    }
    big = {"detail": {"total": [{"numeric": [">", 100]}]}}
    assert client.events.test_event_pattern(big, event) is True
    assert client.events.test_event_pattern({"detail": {"country": ["DE"]}}, event) is False
    assert client.events.test_event_pattern(
        {"$or": [{"detail": {"country": ["DE"]}}, {"source": [{"prefix": "sh"}]}]}, event
    )
    with pytest.raises(InvalidEventPattern):
        client.events.test_event_pattern({"source": "shop"}, event)
    with pytest.raises(ValidationException):
        client.events.test_event_pattern(big, {"detail": {}})  # not a whole event
