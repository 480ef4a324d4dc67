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

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka import Producer as RawProducer

from eventplane.config import Settings
from eventplane.kafka import naming
from eventplane.kafka.clients import client_config, consumer_config
from eventplane.observability.logging import get_logger
from eventplane.queues import journal
from eventplane.queues.models import Record
from eventplane.queues.queue_def import QueueDef
from eventplane.registry import Registry
from eventplane.topics import fifo, metrics
from eventplane.topics.attributes import topic_arn
from eventplane.topics.dedup import FifoDedup, is_fifo
from eventplane.topics.envelope import filter_attributes, notification
from eventplane.topics.model import SUBSCRIPTION, Published, SubscriptionDef, decode

_log = get_logger("eventplane.topics.fanout")

FANOUT_GROUP = f"{naming.PREFIX}.fanout"
TOPIC_PREFIX = naming.topic_topic("")


class FanoutDispatcher:
    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        lookup_queue: Callable[[str], QueueDef | None],
        *,
        instance_id: str,
    ) -> None:
        self._settings = settings
        self._registry = registry
        self._lookup_queue = lookup_queue
        self._instance = instance_id
        self._topics: list[str] = []
        self._topics_changed = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fanout", daemon=True)
        self._subs: dict[str, tuple[int, SubscriptionDef]] = {}
        self._round_robin = 0
        self._dedup = FifoDedup(settings, registry, instance_id=instance_id)

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def subscribe(self, topics: list[str]) -> None:
        if sorted(topics) != self._topics:
            self._topics = sorted(topics)
            self._topics_changed.set()

    # --- the thread -----------------------------------------------------------------
    def _run(self) -> None:
        # Fan-out must not silently stop while the server keeps serving: restart
        # the consumer and producer after any failure.
        while not self._stop.is_set():
            try:
                self._run_once()
            except Exception:
                _log.exception("fan-out dispatcher failed; restarting in 1 s")
                self._topics_changed.set()
                self._stop.wait(1.0)

    def _run_once(self) -> None:
        consumer = Consumer(
            consumer_config(
                self._settings,
                FANOUT_GROUP,
                **{
                    "client.id": f"eventplane-fanout|{self._instance}",
                    "partition.assignment.strategy": "cooperative-sticky",
                    "session.timeout.ms": 6000,
                    "heartbeat.interval.ms": 1000,
                    "topic.metadata.refresh.interval.ms": 1000,
                    "fetch.wait.max.ms": 5,
                },
            )
        )
        try:
            producer = self._producer()
        except Exception:
            consumer.close()
            raise
        try:
            while not self._stop.is_set():
                if self._topics_changed.is_set():
                    self._topics_changed.clear()
                    if self._topics:
                        consumer.subscribe(
                            list(self._topics),
                            on_assign=self._on_assign,
                            on_revoke=self._on_revoke,
                            on_lost=self._on_revoke,
                        )
                    else:
                        consumer.unsubscribe()
                if not self._topics:
                    time.sleep(0.05)
                    continue
                first = consumer.poll(0.05)
                if first is None:
                    continue
                batch = [first, *consumer.consume(499, 0)]
                producer = self._transact(consumer, producer, batch)
        finally:
            consumer.close()
            producer.flush(10)

    # Rebalance callbacks run inside poll/consume on this thread, between transactions.
    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._dedup.assigned((tp.topic, tp.partition) for tp in partitions)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._dedup.revoked((tp.topic, tp.partition) for tp in partitions)

    def _producer(self) -> RawProducer:
        producer = RawProducer(
            client_config(
                self._settings,
                **{
                    # Stable across a restart of this replica: the restarted one fences
                    # (and aborts) its predecessor's open transaction at once.
                    "transactional.id": f"eventplane-fanout-{self._settings.advertise}",
                    "acks": "all",
                    "enable.idempotence": True,
                    "linger.ms": 2,
                    # An open transaction of a crashed replica blocks read_committed
                    # readers of those queue partitions until it times out: keep it short.
                    "transaction.timeout.ms": 10000,
                    "message.timeout.ms": 9000,  # librdkafka: at most the transaction timeout
                },
            )
        )
        producer.init_transactions(30)
        return producer

    def _transact(self, consumer: Consumer, producer: RawProducer, batch: list[Any]) -> RawProducer:
        positions: dict[tuple[str, int], int] = {}
        delivered: list[tuple[str, float]] = []
        producer.begin_transaction()
        try:
            for m in batch:
                err = m.error()
                if err is not None:
                    if err.code() != KafkaError._PARTITION_EOF:
                        _log.warning("fan-out consumer", error=err.str())
                    continue
                positions[(m.topic(), m.partition())] = m.offset() + 1
                delivered.extend(self._fan_out(producer, m))
            offsets = [TopicPartition(t, p, o) for (t, p), o in positions.items()]
            if offsets:
                producer.send_offsets_to_transaction(
                    offsets, consumer.consumer_group_metadata(), 30
                )
            producer.commit_transaction(30)
        except KafkaException as exc:
            self._dedup.aborted()
            error = exc.args[0]
            _log.warning("fan-out transaction failed; retrying the batch", error=error.str())
            try:
                producer.abort_transaction(30)
            except KafkaException:
                producer = self._producer()  # fatal (fenced or broken): start a new one
            if error.fatal():
                producer = self._producer()
            _rewind(consumer)
            return producer
        except BaseException:
            self._dedup.aborted()
            raise
        self._dedup.committed()
        now = time.time() * 1000
        for topic, published_ms in delivered:
            metrics.DELIVERY_LATENCY.labels("sqs").observe(max(0.0, now - published_ms) / 1000)
            metrics.DELIVERED.labels(topic, "sqs").inc()
        return producer

    def _subscriptions(self, topic: str) -> list[SubscriptionDef]:
        found = []
        for r in self._registry.find(SUBSCRIPTION, f"{topic}:"):
            cached = self._subs.get(r.name)
            if cached is None or cached[0] != r.generation:
                cached = (r.generation, SubscriptionDef.from_resource(r))
                self._subs[r.name] = cached
            found.append(cached[1])
        return found

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
            sequence = fifo.sequence_number(m.partition(), m.offset())
        out = []
        for sub in self._subscriptions(topic):
            if sub.config.protocol != "sqs":
                continue  # http/https subscribers have their own at-least-once workers
            if not matches(sub, published):
                metrics.FILTERED.labels(topic).inc()
                continue
            queue = self._lookup_queue(sub.config.endpoint)
            if queue is None:
                metrics.FAILED.labels(topic, "sqs").inc()
                continue  # like SNS: an endpoint that does not exist gets nothing
            self._produce(producer, queue, sub, published, sequence)
            out.append((topic, float(published.published_ms)))
        return out

    def _produce(
        self,
        producer: RawProducer,
        queue: QueueDef,
        sub: SubscriptionDef,
        p: Published,
        sequence: str | None,
    ) -> None:
        raw = sub.config.raw_message_delivery
        body = (
            p.message
            if raw
            else notification(
                message_id=p.message_id,
                topic_arn=topic_arn(sub.topic),
                subject=p.subject,
                message=p.message,
                timestamp_ms=p.published_ms,
                attributes=p.attributes,
                subscription_arn=sub.arn,
                sequence_number=sequence,
            )
        )
        record = Record(
            message_id=str(uuid.uuid4()),
            body=body,
            attributes=dict(p.attributes) if raw else {},
            sent_ms=int(time.time() * 1000),
            delay_seconds=queue.config.delay_seconds,
            group_id=p.group_id if queue.config.fifo else None,
            dedup_id=(p.dedup_id or p.message_id) if queue.config.fifo else None,
        )
        value, headers = journal.encode_record(record)
        if queue.config.fifo:
            partition = fifo.partition_for(record.group_id or "", queue.config.partitions)
        else:
            self._round_robin += 1
            partition = self._round_robin % queue.config.partitions
        producer.produce(
            naming.queue_topic(queue.name), value, headers=list(headers), partition=partition
        )


def matches(sub: SubscriptionDef, p: Published) -> bool:
    """Whether the subscription's filter policy (if any) lets this message through."""
    matcher = sub.config.matcher()
    if matcher is None:
        return True
    if sub.config.filter_policy_scope == "MessageBody":
        return bool(matcher.matches_body(p.message))
    return bool(matcher.matches_attributes(filter_attributes(p.attributes)))


def _rewind(consumer: Consumer) -> None:
    """Back to the last committed offsets: the aborted batch is processed again."""
    assignment = consumer.assignment()
    if not assignment:
        return
    for tp in consumer.committed(assignment, timeout=10):
        consumer.seek(
            TopicPartition(
                tp.topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_BEGINNING
            )
        )
