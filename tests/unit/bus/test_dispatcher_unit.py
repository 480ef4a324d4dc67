"""The rule dispatcher's routing without Kafka: ``RuleDispatcher._handle`` with a recording
producer, a fake consumed message and a TargetWriter over a fake registry."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from eventplane.arn import DEFAULT_ACCOUNT as ACCOUNT
from eventplane.arn import DEFAULT_REGION as REGION
from eventplane.bus.dispatcher import DELIVERIES_TOPIC, RuleDispatcher
from eventplane.bus.entries import envelope
from eventplane.bus.models import (
    BUS,
    DEFAULT_BUS,
    DISABLED,
    ArchiveDef,
    BusEvent,
    Delivery,
    RuleDef,
    TargetDef,
    bus_arn,
    decode_delivery,
    decode_event,
    encode_event,
)
from eventplane.bus.ruleset import RuleSet
from eventplane.bus.targets import TargetWriter
from eventplane.config import Settings
from eventplane.kafka import naming
from eventplane.queues import journal
from eventplane.queues.attributes import QueueConfig
from eventplane.queues.queue_def import KIND as QUEUE
from eventplane.registry import Resource
from eventplane.runtime.clock import Clock, FixedClock, wall_clock_ms
from eventplane.topics import models as topic_model

RETRY_DELAY_S = 30.0
INGESTED_MS = 1_709_294_400_000


def queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


class FakeRegistry:
    """The two reads TargetWriter makes of the registry."""

    def __init__(self) -> None:
        self.resources: dict[tuple[str, str], Resource] = {}

    def add(self, kind: str, name: str, spec: dict[str, Any] | None = None) -> None:
        self.resources[(kind, name)] = Resource(kind, name, spec or {}, 1, 1, 1)

    def add_queue(self, name: str, **config: Any) -> None:
        spec = {"config": QueueConfig(**config).to_spec(), "incarnation": 1}
        self.add(QUEUE, name, spec)

    def get(self, kind: str, name: str) -> Resource | None:
        return self.resources.get((kind, name))

    def find(self, kind: str, prefix: str = "") -> list[Resource]:
        found = [r for (k, n), r in self.resources.items() if k == kind and n.startswith(prefix)]
        return sorted(found, key=lambda r: r.name)


@dataclass
class Produced:
    topic: str
    value: bytes
    kwargs: dict[str, Any]

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        return list(self.kwargs.get("headers", []))


@dataclass
class FakeProducer:
    produced: list[Produced] = field(default_factory=list)

    def produce(self, topic: str, value: bytes, **kwargs: Any) -> None:
        self.produced.append(Produced(topic, value, kwargs))

    def to(self, topic: str) -> list[Produced]:
        return [p for p in self.produced if p.topic == topic]


class FakeMessage:
    def __init__(self, bus: str, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        self._topic = naming.bus_topic(bus)
        self._value = value
        self._headers = headers

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return 42

    def value(self) -> bytes:
        return self._value

    def headers(self) -> list[tuple[str, bytes]]:
        return self._headers

    def error(self) -> None:
        return None


def event(source: str = "com.shop", **detail: Any) -> dict[str, Any]:
    return envelope(
        source=source,
        detail_type="Order placed",
        detail=detail or {"id": "o-1"},
        resources=[],
        time_ms=INGESTED_MS,
    )


def target(target_id: str, arn: str, **spec: Any) -> TargetDef:
    return TargetDef.parse({"Id": target_id, "Arn": arn, **spec})


def rule(
    name: str,
    pattern: str | None = '{"source": ["com.shop"]}',
    *targets: TargetDef,
    bus: str = DEFAULT_BUS,
    schedule: str | None = None,
    state: str = "ENABLED",
) -> RuleDef:
    return RuleDef.build(bus, name, pattern, schedule, state=state, targets=targets)


class Harness:
    def __init__(self, clock: Clock = wall_clock_ms) -> None:
        self.registry = FakeRegistry()
        self.rules: dict[str, list[RuleDef]] = {}
        self.archives: dict[str, list[ArchiveDef]] = {}
        self.producer = FakeProducer()
        self.dispatcher = RuleDispatcher(
            Settings(),
            instance_id="test",
            rules=self._rules,
            archives=lambda bus: self.archives.get(bus, []),
            writer=TargetWriter(self.registry),  # type: ignore[arg-type]
            first_retry_delay=lambda attempt: RETRY_DELAY_S * attempt,
            clock=clock,
        )

    def _rules(self, bus: str) -> tuple[RuleSet[RuleDef], dict[str, RuleDef]]:
        # As the engine builds them: only enabled rules with a pattern are matched.
        rules = self.rules.get(bus, [])
        ruleset = RuleSet((r, r.pattern) for r in rules if r.enabled and r.pattern is not None)
        return ruleset, {r.name: r for r in rules}

    def handle(self, e: BusEvent, bus: str = DEFAULT_BUS) -> list[Any]:
        value, headers = encode_event(e)
        message = FakeMessage(bus, value, headers)
        after = self.dispatcher._handle(self.producer, message)  # type: ignore[arg-type]
        for callback in after:
            callback()
        return after

    def deliveries(self) -> list[Delivery]:
        return [decode_delivery(p.value, p.headers) for p in self.producer.to(DELIVERIES_TOPIC)]


@pytest.fixture
def h() -> Harness:
    return Harness()  # the pump's thread is never started: nothing to close


def topics(produced: Sequence[Produced]) -> list[str]:
    return [p.topic for p in produced]


# --- queue, topic and bus targets -------------------------------------------------------


def test_a_matching_event_writes_one_record_to_a_queue_target(h: Harness) -> None:
    h.registry.add_queue("orders", partitions=3)
    h.rules[DEFAULT_BUS] = [
        rule("shop", '{"source": ["com.shop"]}', target("q", queue_arn("orders")))
    ]
    e = event()
    h.handle(BusEvent(e, INGESTED_MS))
    (out,) = h.producer.produced
    assert out.topic == naming.queue_topic("orders")
    assert 0 <= out.kwargs["partition"] < 3
    record = journal.decode_record(out.value, out.headers)
    assert json.loads(record.body) == e  # no input settings: the whole event
    assert record.group_id is None and record.dedup_id is None


def test_the_queue_receives_the_targets_rendered_input(h: Harness) -> None:
    h.registry.add_queue("orders")
    shaped = target(
        "q",
        queue_arn("orders"),
        InputTransformer={
            "InputPathsMap": {"id": "$.detail.id"},
            "InputTemplate": '{"order": <id>, "rule": <aws.events.rule-name>}',
        },
    )
    h.rules[DEFAULT_BUS] = [rule("shop", '{"source": ["com.shop"]}', shaped)]
    h.handle(BusEvent(event(), INGESTED_MS))
    (out,) = h.producer.produced
    record = journal.decode_record(out.value, out.headers)
    assert json.loads(record.body) == {"order": "o-1", "rule": "shop"}


def test_a_fifo_queue_target_is_deduplicated_by_event_id(h: Harness) -> None:
    h.registry.add_queue("orders.fifo", fifo=True, partitions=2)
    fifo = target("q", queue_arn("orders.fifo"), SqsParameters={"MessageGroupId": "g1"})
    h.rules[DEFAULT_BUS] = [rule("shop", '{"source": ["com.shop"]}', fifo)]
    e = event()
    h.handle(BusEvent(e, INGESTED_MS))
    (out,) = h.producer.produced
    record = journal.decode_record(out.value, out.headers)
    assert (record.group_id, record.dedup_id) == ("g1", e["id"])


def test_an_event_that_matches_no_rule_writes_nothing(h: Harness) -> None:
    h.registry.add_queue("orders")
    h.rules[DEFAULT_BUS] = [
        rule("shop", '{"source": ["com.shop"]}', target("q", queue_arn("orders")))
    ]
    assert h.handle(BusEvent(event(source="com.other"), INGESTED_MS)) == []
    assert h.producer.produced == []


def test_each_target_of_each_matching_rule_gets_the_event(h: Harness) -> None:
    h.registry.add_queue("a")
    h.registry.add_queue("b")
    h.registry.add(topic_model.TOPIC, "alerts")
    h.registry.add(BUS, "audit")
    h.rules[DEFAULT_BUS] = [
        rule(
            "shop",
            '{"source": ["com.shop"]}',
            target("qa", queue_arn("a")),
            target("t", f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"),
        ),
        rule("all", '{"detail": {"id": [{"exists": true}]}}', target("qb", queue_arn("b"))),
        rule("fwd", '{"source": [{"prefix": "com."}]}', target("bus", bus_arn("audit"))),
    ]
    e = event()
    h.handle(BusEvent(e, INGESTED_MS))
    assert sorted(topics(h.producer.produced)) == sorted(
        [
            naming.queue_topic("a"),
            naming.topic_topic("alerts"),
            naming.queue_topic("b"),
            naming.bus_topic("audit"),
        ]
    )
    (forwarded,) = h.producer.to(naming.bus_topic("audit"))
    again = decode_event(forwarded.value, forwarded.headers)
    assert again.event == e
    assert again.replay_name is None and again.scheduled_rule is None and again.rule_filter == ()


def test_a_disabled_rule_does_not_match(h: Harness) -> None:
    h.registry.add_queue("orders")
    h.rules[DEFAULT_BUS] = [
        rule("shop", '{"source": ["com.shop"]}', target("q", queue_arn("orders")), state=DISABLED)
    ]
    h.handle(BusEvent(event(), INGESTED_MS))
    assert h.producer.produced == []


def test_rules_of_another_bus_do_not_see_the_event(h: Harness) -> None:
    h.registry.add_queue("orders")
    h.rules["orders"] = [
        rule("shop", '{"source": ["com.shop"]}', target("q", queue_arn("orders")), bus="orders")
    ]
    h.handle(BusEvent(event(), INGESTED_MS), bus=DEFAULT_BUS)
    assert h.producer.produced == []
    h.handle(BusEvent(event(), INGESTED_MS), bus="orders")
    assert topics(h.producer.produced) == [naming.queue_topic("orders")]


# --- deliveries -------------------------------------------------------------------------


def test_a_missing_queue_writes_a_retry_task_with_the_error(h: Harness) -> None:
    h.rules[DEFAULT_BUS] = [
        rule("shop", '{"source": ["com.shop"]}', target("q", queue_arn("gone")))
    ]
    e = BusEvent(event(), INGESTED_MS)
    before = int(time.time() * 1000)
    h.handle(e)
    after = int(time.time() * 1000)
    (out,) = h.producer.produced
    assert out.topic == DELIVERIES_TOPIC
    assert out.kwargs["key"] == "default:shop/q"
    (task,) = h.deliveries()
    assert task.attempt == 1
    assert task.last_error_code == "AWS.SimpleQueueService.NonExistentQueue"
    assert task.last_error is not None and "gone" in task.last_error
    assert (task.bus, task.rule, task.target_id, task.event_id) == (
        DEFAULT_BUS,
        "shop",
        "q",
        e.event["id"],
    )
    assert json.loads(task.event) == e.event
    assert json.loads(task.payload) == e.event
    assert task.first_ms == INGESTED_MS
    delay_ms = int(RETRY_DELAY_S * 1000)
    assert before + delay_ms <= task.due_ms <= after + delay_ms


def test_the_retry_task_is_due_by_the_injected_clock() -> None:
    clock = FixedClock(1_700_000_000_000)
    h = Harness(clock)
    h.rules[DEFAULT_BUS] = [
        rule("shop", '{"source": ["com.shop"]}', target("q", queue_arn("gone")))
    ]
    h.handle(BusEvent(event(), INGESTED_MS))
    clock.advance(60_000)  # the clock is read when the task is written, not later
    (task,) = h.deliveries()
    assert task.due_ms == 1_700_000_000_000 + int(RETRY_DELAY_S * 1000)


def test_a_missing_topic_or_bus_writes_a_retry_task(h: Harness) -> None:
    h.rules[DEFAULT_BUS] = [
        rule(
            "shop",
            '{"source": ["com.shop"]}',
            target("t", f"arn:aws:sns:{REGION}:{ACCOUNT}:gone"),
            target("b", bus_arn("gone")),
        )
    ]
    h.handle(BusEvent(event(), INGESTED_MS))
    tasks = h.deliveries()
    assert [(d.target_id, d.attempt, d.last_error_code) for d in tasks] == [
        ("t", 1, "ResourceNotFoundException"),
        ("b", 1, "ResourceNotFoundException"),
    ]


def test_a_fifo_queue_target_without_a_group_writes_a_retry_task(h: Harness) -> None:
    h.registry.add_queue("orders.fifo", fifo=True)
    h.rules[DEFAULT_BUS] = [
        rule("shop", '{"source": ["com.shop"]}', target("q", queue_arn("orders.fifo")))
    ]
    h.handle(BusEvent(event(), INGESTED_MS))
    (task,) = h.deliveries()
    assert (task.attempt, task.last_error_code) == (1, "InvalidParameter")


def test_an_http_target_writes_a_first_delivery_task(h: Harness) -> None:
    http = target("hook", "https://example.com/orders", InputPath="$.detail")
    h.rules[DEFAULT_BUS] = [rule("shop", '{"source": ["com.shop"]}', http)]
    e = BusEvent(event(id="o-9"), INGESTED_MS)
    before = int(time.time() * 1000)
    h.handle(e)
    after = int(time.time() * 1000)
    (out,) = h.producer.produced
    assert out.topic == DELIVERIES_TOPIC
    assert out.kwargs["key"] == "default:shop/hook"
    (task,) = h.deliveries()
    assert task.attempt == 0
    assert task.last_error_code is None and task.last_error is None
    assert json.loads(task.payload) == {"id": "o-9"}
    assert json.loads(task.event) == e.event
    assert task.first_ms == INGESTED_MS
    assert before <= task.due_ms <= after


def test_a_target_whose_input_cannot_render_is_skipped_not_fatal(h: Harness) -> None:
    h.registry.add_queue("orders")
    broken = target("q", queue_arn("orders"))

    class Exploding:
        def render(self, *args: Any, **kwargs: Any) -> str:
            raise ValueError("cannot render")

    object.__setattr__(broken, "compiled", Exploding())
    h.rules[DEFAULT_BUS] = [
        rule("bad", '{"source": ["com.shop"]}', broken),
        rule("good", '{"source": ["com.shop"]}', target("q2", queue_arn("orders"))),
    ]
    h.handle(BusEvent(event(), INGESTED_MS))
    assert topics(h.producer.produced) == [naming.queue_topic("orders")]


def test_an_unreadable_record_is_skipped(h: Harness) -> None:
    h.rules[DEFAULT_BUS] = [rule("shop", '{"source": ["com.shop"]}', target("h", "https://x/"))]
    message = FakeMessage(DEFAULT_BUS, b"\x00garbage", [])
    assert h.dispatcher._handle(h.producer, message) == []  # type: ignore[arg-type]
    assert h.producer.produced == []


# --- archives ---------------------------------------------------------------------------


def test_an_archive_with_a_pattern_gets_only_matching_events(h: Harness) -> None:
    h.archives[DEFAULT_BUS] = [
        ArchiveDef.build("shop", DEFAULT_BUS, event_pattern='{"source": ["com.shop"]}'),
        ArchiveDef.build("everything", DEFAULT_BUS),
    ]
    shop = BusEvent(event(), INGESTED_MS)
    other = BusEvent(event(source="com.other"), INGESTED_MS + 5)
    h.handle(shop)
    h.handle(other)
    (archived,) = h.producer.to(naming.archive_topic("shop"))
    assert decode_event(archived.value, archived.headers).event == shop.event
    assert archived.kwargs["timestamp"] == INGESTED_MS  # replays select by ingestion time
    everything = h.producer.to(naming.archive_topic("everything"))
    assert [decode_event(p.value, p.headers).event for p in everything] == [
        shop.event,
        other.event,
    ]
    assert [p.kwargs["timestamp"] for p in everything] == [INGESTED_MS, INGESTED_MS + 5]


def test_an_archived_event_keeps_its_ingestion_time(h: Harness) -> None:
    h.archives[DEFAULT_BUS] = [ArchiveDef.build("all", DEFAULT_BUS)]
    h.handle(BusEvent(event(), INGESTED_MS))
    (archived,) = h.producer.produced
    assert decode_event(archived.value, archived.headers).ingestion_ms == INGESTED_MS


def test_archives_of_another_bus_do_not_get_the_event(h: Harness) -> None:
    h.archives["orders"] = [ArchiveDef.build("orders-all", "orders")]
    h.handle(BusEvent(event(), INGESTED_MS))
    assert h.producer.produced == []


def test_replayed_events_are_delivered_but_not_archived_again(h: Harness) -> None:
    h.registry.add_queue("orders")
    h.rules[DEFAULT_BUS] = [
        rule("shop", '{"source": ["com.shop"]}', target("q", queue_arn("orders")))
    ]
    h.archives[DEFAULT_BUS] = [ArchiveDef.build("all", DEFAULT_BUS)]
    replayed = BusEvent({**event(), "replay-name": "again"}, INGESTED_MS, replay_name="again")
    h.handle(replayed)
    assert topics(h.producer.produced) == [naming.queue_topic("orders")]


# --- scheduled events and replay rule filters -------------------------------------------


def scheduled_event(r: RuleDef) -> BusEvent:
    tick = envelope(
        source="aws.events",
        detail_type="Scheduled Event",
        detail={},
        resources=[r.arn],
        time_ms=INGESTED_MS,
    )
    return BusEvent(tick, INGESTED_MS, scheduled_rule=r.name)


def test_a_scheduled_event_goes_only_to_its_rule(h: Harness) -> None:
    h.registry.add_queue("ticks")
    h.registry.add_queue("aws-events")
    ticking = rule("tick", None, target("q", queue_arn("ticks")), schedule="rate(1 minute)")
    h.rules[DEFAULT_BUS] = [
        ticking,
        rule("other-tick", None, target("q", queue_arn("ticks")), schedule="rate(5 minutes)"),
        # Would match the scheduled event by its pattern, but is not the scheduled rule.
        rule("aws", '{"source": ["aws.events"]}', target("q", queue_arn("aws-events"))),
    ]
    h.archives[DEFAULT_BUS] = [ArchiveDef.build("all", DEFAULT_BUS)]
    tick = scheduled_event(ticking)
    h.handle(tick)
    (out,) = h.producer.produced  # not archived either
    assert out.topic == naming.queue_topic("ticks")
    assert json.loads(journal.decode_record(out.value, out.headers).body) == tick.event


def test_a_scheduled_event_of_a_disabled_or_deleted_rule_goes_nowhere(h: Harness) -> None:
    h.registry.add_queue("ticks")
    disabled = rule(
        "tick", None, target("q", queue_arn("ticks")), schedule="rate(1 minute)", state=DISABLED
    )
    h.rules[DEFAULT_BUS] = [disabled]
    h.handle(scheduled_event(disabled))
    h.rules[DEFAULT_BUS] = []
    h.handle(scheduled_event(disabled))
    assert h.producer.produced == []


def test_a_rule_filter_limits_the_rules_that_see_a_replayed_event(h: Harness) -> None:
    for name in ("a", "b", "c"):
        h.registry.add_queue(name)
    h.rules[DEFAULT_BUS] = [
        rule(name, '{"source": ["com.shop"]}', target("q", queue_arn(name))) for name in "abc"
    ]
    replayed = BusEvent(event(), INGESTED_MS, replay_name="again", rule_filter=("a", "c"))
    h.handle(replayed)
    assert sorted(topics(h.producer.produced)) == [naming.queue_topic("a"), naming.queue_topic("c")]


def test_a_rule_filter_does_not_make_a_non_matching_rule_match(h: Harness) -> None:
    h.registry.add_queue("a")
    h.rules[DEFAULT_BUS] = [rule("a", '{"source": ["com.other"]}', target("q", queue_arn("a")))]
    h.handle(BusEvent(event(), INGESTED_MS, replay_name="again", rule_filter=("a",)))
    assert h.producer.produced == []
