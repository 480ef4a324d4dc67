"""Rules on the real broker: patterns select events, target inputs shape them, disabled
rules stay quiet, and topics and other buses are targets too."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from eventplane.client import Client

from .support import Resources, bus_arn, drain, events, unique

pytestmark = pytest.mark.integration


def _entry(bus: str, source: str, detail_type: str, detail: dict[str, object]) -> dict[str, object]:
    return {"Source": source, "DetailType": detail_type, "Detail": detail, "EventBusName": bus}


def _put(client: Client, *entries: dict[str, object]) -> list[str]:
    result = client.events.put_events(list(entries))
    assert result.failed_entry_count == 0, result.entries
    return [e.event_id for e in result.entries if e.event_id is not None]


def test_a_pattern_rule_delivers_the_matching_events_only(client: Client, res: Resources) -> None:
    bus = res.bus()
    source, other = unique("shop"), unique("warehouse")
    matched, everything = res.queue(), res.queue()
    res.rule(
        bus,
        [{"Id": "q", "Arn": matched.arn}],
        pattern={
            "source": [source],
            "detail-type": ["OrderPlaced"],
            "detail": {"total": [{"numeric": [">", 100]}]},
        },
    )
    # The witness rule sees all four: once it has them, the dispatcher has decided on
    # each (both rules are evaluated in the same transaction per event).
    res.rule(bus, [{"Id": "all", "Arn": everything.arn}], pattern={"source": [source, other]})

    big, small, wrong_type, wrong_source = _put(
        client,
        _entry(bus, source, "OrderPlaced", {"total": 250, "sku": "A-1"}),
        _entry(bus, source, "OrderPlaced", {"total": 50}),
        _entry(bus, source, "OrderShipped", {"total": 250}),
        _entry(bus, other, "OrderPlaced", {"total": 250}),
    )

    seen = events(drain(client, everything.url, 4))
    assert sorted(e["id"] for e in seen) == sorted([big, small, wrong_type, wrong_source])
    (event,) = events(drain(client, matched.url, 1, settle=1))
    assert event["id"] == big
    # The whole EventBridge envelope, as SEMANTICS.md lists it.
    assert event["version"] == "0"
    assert event["source"] == source
    assert event["detail-type"] == "OrderPlaced"
    assert event["detail"] == {"total": 250, "sku": "A-1"}
    assert event["account"] == "000000000000"
    assert event["region"] == "local"
    assert event["resources"] == []
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    assert "replay-name" not in event


def test_target_inputs_transformer_constant_and_path(client: Client, res: Resources) -> None:
    bus = res.bus()
    source = unique("shop")
    as_json, as_text, constant, path = res.queue(), res.queue(), res.queue(), res.queue()
    paths = {"id": "$.detail.id", "who": "$.detail.customer.name", "src": "$.source"}
    rule = res.rule(
        bus,
        [
            {
                "Id": "json",
                "Arn": as_json.arn,
                "InputTransformer": {
                    "InputPathsMap": paths,
                    "InputTemplate": (
                        '{"order": <id>, "who": "<who>", "src": <src>, '
                        '"rule": "<aws.events.rule-name>"}'
                    ),
                },
            },
            {
                "Id": "text",
                "Arn": as_text.arn,
                "InputTransformer": {
                    "InputPathsMap": paths,
                    "InputTemplate": "Order <id> for <who>",
                },
            },
            {"Id": "constant", "Arn": constant.arn, "Input": '{"fixed": true, "n": [1, 2]}'},
            {"Id": "path", "Arn": path.arn, "InputPath": "$.detail"},
        ],
        pattern={"source": [source]},
    )
    _put(client, _entry(bus, source, "OrderPlaced", {"id": 7, "customer": {"name": "Ada"}}))

    (m,) = drain(client, as_json.url, 1)
    assert m.body == f'{{"order":7,"who":"Ada","src":"{source}","rule":"{rule.name}"}}'
    (m,) = drain(client, as_text.url, 1)
    assert m.body == "Order 7 for Ada"
    (m,) = drain(client, constant.url, 1)
    assert m.body == '{"fixed": true, "n": [1, 2]}'
    (m,) = drain(client, path.url, 1)
    assert m.body == '{"id":7,"customer":{"name":"Ada"}}'


def test_a_disabled_rule_delivers_nothing_until_enabled(client: Client, res: Resources) -> None:
    bus = res.bus()
    source = unique("shop")
    quiet, witness = res.queue(), res.queue()
    rule = res.rule(
        bus, [{"Id": "q", "Arn": quiet.arn}], pattern={"source": [source]}, state="DISABLED"
    )
    res.rule(bus, [{"Id": "w", "Arn": witness.arn}], pattern={"source": [source]})
    assert client.events.describe_rule(rule.name, event_bus_name=bus).state == "DISABLED"

    (while_disabled,) = _put(client, _entry(bus, source, "Tick", {"n": 1}))
    # The enabled rule on the same bus got it: the disabled one was asked and said no.
    assert [e["id"] for e in events(drain(client, witness.url, 1))] == [while_disabled]
    assert drain(client, quiet.url, 0, settle=1) == []

    client.events.enable_rule(rule.name, event_bus_name=bus)
    assert client.events.describe_rule(rule.name, event_bus_name=bus).state == "ENABLED"
    (while_enabled,) = _put(client, _entry(bus, source, "Tick", {"n": 2}))
    assert [e["id"] for e in events(drain(client, quiet.url, 1, settle=1))] == [while_enabled]
    assert [e["id"] for e in events(drain(client, witness.url, 1))] == [while_enabled]


def test_a_topic_target_fans_the_event_out(client: Client, res: Resources) -> None:
    bus = res.bus()
    source = unique("shop")
    topic = res.topic()
    raw = res.queue()
    client.topics.subscribe(topic, "sqs", raw.url, attributes={"RawMessageDelivery": "true"})
    res.rule(bus, [{"Id": "t", "Arn": topic}], pattern={"source": [source]})

    (event_id,) = _put(client, _entry(bus, source, "OrderPlaced", {"total": 3}))
    (m,) = drain(client, raw.url, 1)
    event = json.loads(m.body)  # raw delivery: the body is the event itself
    assert event["id"] == event_id
    assert event["detail"] == {"total": 3}


def test_another_bus_as_target_routes_the_event_by_its_own_rules(
    client: Client, res: Resources
) -> None:
    first, second = res.bus(), res.bus()
    source = unique("shop")
    landed = res.queue()
    res.rule(first, [{"Id": "next", "Arn": bus_arn(second)}], pattern={"source": [source]})
    res.rule(second, [{"Id": "q", "Arn": landed.arn}], pattern={"detail": {"hop": [True]}})

    (event_id,) = _put(client, _entry(first, source, "Hop", {"hop": True, "k": str(uuid.uuid4())}))
    (event,) = events(drain(client, landed.url, 1))
    assert event["id"] == event_id
    assert event["source"] == source
