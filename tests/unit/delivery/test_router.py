"""The delivery layer writes a payload to any ARN through the target's own port."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eventplane import arn
from eventplane.bus.models import BUS, decode_event
from eventplane.delivery import MessageAttribute, Payload, Router, TargetUnavailable
from eventplane.functions.invocations import ASYNC_TOPIC, FUNCTION_KIND, decode
from eventplane.kafka import naming
from eventplane.kafka.fifo import partition_for, sequence_number
from eventplane.queues import journal
from eventplane.queues.attributes import parse_create
from eventplane.queues.queue_def import KIND as QUEUE
from eventplane.registry import Resource
from eventplane.topics import models as topic_model


class _Registry:
    def __init__(self) -> None:
        self.resources: dict[tuple[str, str], Resource] = {}

    def put(self, kind: str, name: str, spec: dict[str, Any] | None = None) -> None:
        self.resources[(kind, name)] = Resource(kind, name, spec or {}, 1, 1, 1)

    def get(self, kind: str, name: str) -> Resource | None:
        return self.resources.get((kind, name))


@pytest.fixture
def registry() -> _Registry:
    r = _Registry()
    for name, attributes in (
        ("orders", {"Partitions": "4"}),
        ("pay.fifo", {"FifoQueue": "true", "Partitions": "3"}),
    ):
        config = parse_create(name, attributes)
        r.put(QUEUE, name, {"config": config.to_spec(), "incarnation": 1})
    r.put(topic_model.TOPIC, "alerts")
    r.put(BUS, "audit")
    r.put(FUNCTION_KIND, "resize")
    return r


def _router(registry: _Registry) -> Router:
    return Router(registry)  # type: ignore[arg-type]


def test_a_fifo_queue_gets_the_record_on_its_group_partition(registry: _Registry) -> None:
    attributes = {"kind": MessageAttribute("String", "new")}
    out = _router(registry).record(
        arn.queue_arn("pay.fifo"),
        Payload("charge", attributes=attributes, group_id="customer-7", dedup_id="d-1"),
    )
    assert out.topic == naming.queue_topic("pay.fifo")
    assert out.partition == partition_for("customer-7", 3)
    record = journal.decode_record(out.value, out.headers)
    assert (record.body, record.group_id, record.dedup_id) == ("charge", "customer-7", "d-1")
    assert record.attributes == attributes


def test_a_standard_queue_spreads_and_ignores_fifo_ids(registry: _Registry) -> None:
    router = _router(registry)
    outs = [
        router.record(arn.queue_arn("orders"), Payload(f"m{i}", group_id="g", dedup_id="d"))
        for i in range(8)
    ]
    assert {o.partition for o in outs} == {0, 1, 2, 3}
    record = journal.decode_record(outs[0].value, outs[0].headers)
    assert (record.group_id, record.dedup_id) == (None, None)


@pytest.mark.parametrize(
    ("target", "payload", "code"),
    [
        (arn.queue_arn("nope"), Payload("x"), "AWS.SimpleQueueService.NonExistentQueue"),
        (arn.queue_arn("pay.fifo"), Payload("x"), "InvalidParameter"),
        (arn.topic_arn("nope"), Payload("x"), "ResourceNotFoundException"),
        (arn.bus_arn("nope"), Payload("{}"), "ResourceNotFoundException"),
        (arn.function_arn("nope"), Payload("{}"), "ResourceNotFoundException"),
        (arn.rule_arn("default", "r"), Payload("x"), "InvalidParameter"),
        ("https://example.com/hook", Payload("x"), "InternalFailure"),
    ],
)
def test_what_cannot_be_delivered_says_why(
    registry: _Registry, target: str, payload: Payload, code: str
) -> None:
    with pytest.raises(TargetUnavailable) as info:
        _router(registry).record(target, payload)
    assert info.value.code == code


def test_a_topic_gets_a_published_message(registry: _Registry) -> None:
    attributes = {"n": MessageAttribute("Number", "3")}
    out = _router(registry).record(
        arn.topic_arn("alerts"), Payload("hello", attributes=attributes, message_id="m-1")
    )
    assert out.topic == naming.topic_topic("alerts")
    published = topic_model.decode(out.value, out.headers)
    assert (published.message_id, published.message) == ("m-1", "hello")
    assert dict(published.attributes) == attributes


def test_a_bus_gets_the_event_forwarded_or_a_new_one_around_the_body(
    registry: _Registry,
) -> None:
    router = _router(registry)
    event = {"id": "e-1", "source": "shop", "detail": {"a": 1}}
    forwarded = router.record(arn.bus_arn("audit"), Payload("ignored", event=event))
    assert decode_event(forwarded.value, forwarded.headers).event == event

    made = router.record(
        arn.bus_arn("audit"),
        Payload(
            json.dumps({"ok": True}),
            source="lambda",
            detail_type="Lambda Function Invocation Result - Success",
            resources=(arn.function_arn("resize"),),
        ),
    )
    envelope = decode_event(made.value, made.headers).event
    assert envelope["detail"] == {"ok": True}
    assert envelope["source"] == "lambda"
    assert envelope["detail-type"] == "Lambda Function Invocation Result - Success"
    assert envelope["resources"] == [arn.function_arn("resize")]
    assert (envelope["account"], envelope["region"]) == (arn.DEFAULT_ACCOUNT, arn.DEFAULT_REGION)


def test_a_function_gets_an_async_invocation_keyed_by_its_name(registry: _Registry) -> None:
    out = _router(registry).record(
        arn.function_arn("resize", "prod"), Payload('{"k": 1}', origin="bus")
    )
    assert (out.topic, out.key) == (ASYNC_TOPIC, "resize")
    inv = decode(out.value, out.headers)
    assert (inv.function, inv.qualifier, inv.payload, inv.source) == (
        "resize",
        "prod",
        b'{"k": 1}',
        "bus",
    )


def test_fifo_answers_per_kind(registry: _Registry) -> None:
    router = _router(registry)
    assert router.fifo(arn.TargetKind.QUEUE, "pay.fifo") is True
    assert router.fifo(arn.TargetKind.QUEUE, "orders") is False
    assert router.fifo(arn.TargetKind.QUEUE, "nope") is False


def test_sequence_numbers_grow_with_the_offset() -> None:
    assert sequence_number(2, 9) < sequence_number(2, 10) < sequence_number(0, 11)
    assert len(sequence_number(3, 12345)) == 20
