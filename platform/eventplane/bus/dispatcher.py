"""The rule engine: route every bus event to the targets of the rules it matches.

A transactional pump (consumer group ``eventplane.bus``) reads the buses' topics.
For each event it asks the bus's compiled rule set which rules match, renders each
target's input, and, in the same Kafka transaction as the consumed offset, writes:
the queue, topic or bus record of every available target (exactly once); a delivery
task for HTTP destinations and for targets that are unavailable now (the delivery
worker retries them by their policy); and the archived copy for every archive of the
bus whose pattern matches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from confluent_kafka import Producer as RawProducer

from eventplane.bus import metrics
from eventplane.bus.models import (
    ArchiveDef,
    BusEvent,
    Delivery,
    RuleDef,
    TargetDef,
    decode_event,
    encode_delivery,
    encode_event,
    rule_key,
)
from eventplane.bus.ruleset import RuleSet
from eventplane.bus.targets import TargetWriter
from eventplane.config import Settings
from eventplane.delivery import Outgoing, TargetUnavailable
from eventplane.kafka import naming
from eventplane.kafka.transactional import AfterCommit, TransactionalPump
from eventplane.observability.logging import get_logger
from eventplane.runtime.clock import Clock, wall_clock_ms

_log = get_logger("eventplane.bus.rules")

DISPATCH_GROUP = f"{naming.PREFIX}.bus"
DELIVERIES_TOPIC = f"{naming.PREFIX}.bus.deliveries"
BUS_PREFIX = naming.bus_topic("")


class RuleDispatcher:
    def __init__(
        self,
        settings: Settings,
        *,
        instance_id: str,
        rules: Callable[[str], tuple[RuleSet[RuleDef], dict[str, RuleDef]]],
        archives: Callable[[str], list[ArchiveDef]],
        writer: TargetWriter,
        first_retry_delay: Callable[[int], float],
        clock: Clock = wall_clock_ms,
    ) -> None:
        self._clock = clock
        self._rules = rules
        self._archives = archives
        self._writer = writer
        self._retry_delay = first_retry_delay
        self.pump = TransactionalPump(
            settings,
            group=DISPATCH_GROUP,
            name="bus",
            instance_id=instance_id,
            handle=self._handle,
        )

    def start(self) -> None:
        self.pump.start()

    def close(self) -> None:
        self.pump.close()

    def subscribe(self, buses: list[str]) -> None:
        self.pump.subscribe([naming.bus_topic(b) for b in buses])

    def _handle(self, producer: RawProducer, m: Any) -> list[AfterCommit]:
        bus = m.topic()[len(BUS_PREFIX) :]
        try:
            event = decode_event(m.value(), m.headers() or [])
        except Exception as exc:  # one unreadable record must not stop the bus
            _log.error("unreadable bus record", bus=bus, offset=m.offset(), error=str(exc))
            return []
        after: list[AfterCommit] = []
        for rule in self._matching(bus, event):
            after.append(metrics.MATCHED.labels(bus, rule.name).inc)
            for target in rule.targets:
                after.extend(self._deliver(producer, bus, rule, target, event))
        if event.archivable:
            for archive in self._archives(bus):
                if archive.pattern is None or archive.pattern.matches(event.event):
                    value, headers = encode_event(event)
                    producer.produce(
                        naming.archive_topic(archive.name),
                        value,
                        headers=list[tuple[str, str | bytes | None]](headers),
                        timestamp=event.ingestion_ms,
                    )
                    after.append(metrics.ARCHIVED.labels(archive.name).inc)
        return after

    def _matching(self, bus: str, event: BusEvent) -> list[RuleDef]:
        ruleset, by_name = self._rules(bus)
        if event.scheduled_rule is not None:
            rule = by_name.get(event.scheduled_rule)
            return [rule] if rule is not None and rule.enabled else []
        found = ruleset.matching(event.event)
        if event.rule_filter:
            wanted = set(event.rule_filter)
            found = [r for r in found if r.name in wanted]
        return found

    def _deliver(
        self, producer: RawProducer, bus: str, rule: RuleDef, target: TargetDef, event: BusEvent
    ) -> list[AfterCommit]:
        labels = (bus, rule.name, target.id)
        try:
            payload = target.compiled.render(
                event.event, rule_arn=rule.arn, rule_name=rule.name, ingestion_ms=event.ingestion_ms
            )
        except Exception as exc:  # a transformer that cannot render this event
            _log.warning("target input failed", rule=rule.arn, target=target.id, error=str(exc))
            return [metrics.FAILED.labels(*labels).inc]
        now = self._clock()
        task = Delivery(
            bus=bus,
            rule=rule.name,
            target_id=target.id,
            event_id=str(event.event.get("id", "")),
            event=event.event_json,
            payload=payload,
            attempt=0,
            first_ms=event.ingestion_ms,
            due_ms=now,
        )
        if target.kind != "http":  # every other kind is a record, written by its port
            try:
                out = self._writer.record(target, event, payload, rule.arn)
            except TargetUnavailable as exc:
                # The first attempt failed: the delivery worker retries by the target's policy.
                retry = Delivery(
                    **{
                        **task.__dict__,
                        "attempt": 1,
                        "due_ms": now + int(self._retry_delay(1) * 1000),
                        "last_error_code": exc.code,
                        "last_error": exc.message,
                    }
                )
                _produce(producer, delivery_record(retry))
                return [metrics.FAILED.labels(*labels).inc]
            _produce(producer, out)
            latency = max(0.0, now - event.ingestion_ms) / 1000

            def delivered() -> None:
                metrics.DELIVERED.labels(*labels).inc()
                metrics.DELIVERY_LATENCY.labels(target.kind).observe(latency)

            return [delivered]
        _produce(producer, delivery_record(task))  # HTTP destinations: the delivery worker
        return []


def delivery_record(d: Delivery) -> Outgoing:
    value, headers = encode_delivery(d)
    # Keyed by rule and target: one target's deliveries stay on one partition, in order.
    return Outgoing(
        DELIVERIES_TOPIC, value, headers, key=f"{rule_key(d.bus, d.rule)}/{d.target_id}"
    )


def _produce(producer: RawProducer, out: Outgoing) -> None:
    producer.produce(out.topic, out.value, **out.produce_kwargs())
