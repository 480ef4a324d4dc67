"""Fan-out into queues, exactly once: consume-transform-produce in Kafka transactions.

One member per replica of the consumer group ``eventplane.fanout`` reads the
topics' Kafka topics. For each batch it opens a transaction, writes a queue
record for every queue subscription whose filter policy matches, adds the
consumed offsets to the same transaction, and commits. Queue owners read with
isolation.level=read_committed, so a message reaches each subscribed queue
exactly once even when a replica dies mid-batch: the aborted transaction is
invisible and the next owner of the topic partition starts from the last
committed offset. The transactional id is bound to the consumer group's
generation (KIP-447), so a zombie replica is fenced.

FIFO topics: a message whose dedup id the partition accepted in the last five minutes
is skipped (dedup.py, journaled in the same transaction); the others go to their
group's partition of each FIFO queue, in offset order, so every group keeps its order.
"""

from __future__ import annotations

import json
import time
from typing import Any

from confluent_kafka import Producer as RawProducer

from eventplane import arn as arns
from eventplane.config import Settings
from eventplane.delivery import Payload, Router, TargetUnavailable
from eventplane.kafka import naming
from eventplane.kafka.fifo import sequence_number
from eventplane.kafka.transactional import AfterCommit, TransactionalPump
from eventplane.observability.logging import get_logger
from eventplane.registry import Registry
from eventplane.topics import metrics
from eventplane.topics.dedup import FifoDedup, is_fifo
from eventplane.topics.envelope import filter_attributes, notification
from eventplane.topics.models import SUBSCRIPTION, Published, SubscriptionDef, decode

_log = get_logger("eventplane.topics.fanout")

FANOUT_GROUP = f"{naming.PREFIX}.fanout"
TOPIC_PREFIX = naming.topic_topic("")


class FanoutDispatcher:
    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        *,
        instance_id: str,
    ) -> None:
        self._registry = registry
        self._router = Router(registry)
        self._by_topic: dict[str, tuple[int, list[SubscriptionDef]]] = {}
        self._changes: dict[str, int] = {}
        registry.subscribe(self._on_registry_change)
        self._dedup = FifoDedup(settings, registry, instance_id=instance_id)
        self._pump = TransactionalPump(
            settings,
            group=FANOUT_GROUP,
            name="fanout",
            instance_id=instance_id,
            handle=self._handle,
            on_assign=self._dedup.assigned,
            on_revoke=self._dedup.revoked,
            on_commit=self._dedup.committed,
            on_abort=self._dedup.aborted,
        )

    def start(self) -> None:
        self._pump.start()

    def close(self, timeout: float = 15.0) -> None:
        self._pump.close(timeout)

    def subscribe(self, topics: list[str]) -> None:
        self._pump.subscribe(topics)

    def _handle(self, producer: RawProducer, m: Any) -> list[AfterCommit]:
        delivered = self._fan_out(producer, m)
        if not delivered:
            return []

        def count() -> None:
            now = time.time() * 1000
            for topic, published_ms in delivered:
                latency = max(0.0, now - published_ms) / 1000
                metrics.DELIVERY_LATENCY.labels("sqs").observe(latency)
                metrics.DELIVERED.labels(topic, "sqs").inc()

        return [count]

    def _subscriptions(self, topic: str) -> list[SubscriptionDef]:
        """The topic's subscriptions, parsed (and their filter policies compiled) once.

        Rebuilt only after a subscription of the topic changed: this runs per message. The
        change count is read before the registry, so a change racing the rebuild is seen
        at the next message.
        """
        changes = self._changes.get(topic, 0)
        cached = self._by_topic.get(topic)
        if cached is not None and cached[0] == changes:
            return cached[1]
        found = [
            SubscriptionDef.from_resource(r) for r in self._registry.find(SUBSCRIPTION, f"{topic}:")
        ]
        self._by_topic[topic] = (changes, found)
        return found

    def _on_registry_change(self, kind: str, name: str, resource: Any) -> None:
        if kind == SUBSCRIPTION:
            topic = name.partition(":")[0]
            self._changes[topic] = self._changes.get(topic, 0) + 1

    def _fan_out(self, producer: RawProducer, m: Any) -> list[tuple[str, float]]:
        topic = m.topic()[len(TOPIC_PREFIX) :]
        try:
            published = decode(m.value(), m.headers() or [])
        except Exception as exc:  # one unreadable record must not stop the topic
            _log.error("unreadable topic record", topic=topic, offset=m.offset(), error=str(exc))
            return []
        sequence = None
        if is_fifo(m.topic()):
            if not self._dedup.admit(producer, m, published):
                metrics.DEDUPLICATED.labels(topic).inc()
                return []
            sequence = sequence_number(m.partition(), m.offset())
        out = []
        for sub in self._subscriptions(topic):
            if sub.config.protocol not in ("sqs", "lambda"):
                continue  # http/https subscribers have their own at-least-once workers
            if not matches(sub, published):
                metrics.FILTERED.labels(topic).inc()
                continue
            try:
                if sub.config.protocol == "lambda":
                    self._invoke(producer, sub, published, sequence)
                else:
                    self._produce(producer, sub, published, sequence)
            except TargetUnavailable:
                # like SNS: an endpoint that does not exist gets nothing
                metrics.FAILED.labels(topic, sub.config.protocol).inc()
                continue
            out.append((topic, float(published.published_ms)))
        return out

    def _invoke(
        self, producer: RawProducer, sub: SubscriptionDef, p: Published, sequence: str | None
    ) -> None:
        """An asynchronous invocation with SNS's Lambda event, in this transaction."""
        envelope = json.loads(_notification(sub, p, sequence))
        event = {
            "Records": [
                {
                    "EventSource": "aws:sns",
                    "EventVersion": "1.0",
                    "EventSubscriptionArn": sub.arn,
                    "Sns": envelope,
                }
            ]
        }
        target = arns.Target(arns.TargetKind.FUNCTION, sub.config.endpoint, sub.arn)
        self._router.produce(target, Payload(json.dumps(event), origin="topic"), producer)

    def _produce(
        self, producer: RawProducer, sub: SubscriptionDef, p: Published, sequence: str | None
    ) -> None:
        """The queue record of ``p`` for queue subscription ``sub``, in this transaction."""
        raw = sub.config.raw_message_delivery
        payload = Payload(
            p.message if raw else _notification(sub, p, sequence),
            attributes=dict(p.attributes) if raw else {},
            group_id=p.group_id,
            dedup_id=p.dedup_id or p.message_id,
            origin="topic",
            source_arn=sub.topic_arn,
        )
        target = arns.Target(arns.TargetKind.QUEUE, sub.config.endpoint, sub.arn)
        self._router.produce(target, payload, producer)


def _notification(sub: SubscriptionDef, p: Published, sequence: str | None) -> str:
    """The SNS envelope of ``p`` as ``sub`` receives it."""
    return notification(
        message_id=p.message_id,
        topic_arn=sub.topic_arn,
        subject=p.subject,
        message=p.message,
        timestamp_ms=p.published_ms,
        attributes=p.attributes,
        subscription_arn=sub.arn,
        sequence_number=sequence,
    )


def matches(sub: SubscriptionDef, p: Published) -> bool:
    """Whether the subscription's filter policy (if any) lets this message through."""
    matcher = sub.config.matcher()
    if matcher is None:
        return True
    if sub.config.filter_policy_scope == "MessageBody":
        return bool(matcher.matches_body(p.message))
    return bool(matcher.matches_attributes(filter_attributes(p.attributes)))
