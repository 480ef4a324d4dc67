"""Consume-transform-produce in Kafka transactions: the exactly-once pump.

One member per replica of a consumer group reads a set of topics. For each batch
the pump opens a transaction, lets ``handle`` write whatever each record turns
into, adds the consumed offsets to the same transaction and commits. Readers
with isolation.level=read_committed see the output exactly once even when a
replica dies mid-batch: the aborted transaction is invisible and the next owner
of the partition starts from the last committed offset. Offsets are sent with
the consumer group's metadata (KIP-447), so a zombie replica is fenced. Batches
take their transactions on two transactional ids in turn (kafka/lanes.py), so one
never waits on the markers of the one before it.

Work that did not come from Kafka can join the same transactions: ``offer(item)`` queues
it on the pump (from any thread) and wakes the pump, which hands it to ``handle_local``
at the start of its next transaction, before that batch's records. Kafka's poll cannot
be woken from another thread, so while an item is expected (``expect``), and for a
moment after one was offered, the pump waits on its local queue and polls Kafka without
blocking. An item is handed over again (next transaction) when its transaction aborts;
what is still queued when the pump stops is returned by ``close()``. A transaction
holding local items also carries the positions of the member's partitions, so a member
the group has fenced cannot commit them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka import Producer as RawProducer

from eventplane.config import Settings
from eventplane.kafka import naming
from eventplane.kafka.clients import client_config, consumer_config, take
from eventplane.kafka.lanes import TransactionLanes
from eventplane.kafka.membership import Membership
from eventplane.kafka.retirement import Holdings
from eventplane.observability import stages
from eventplane.observability.logging import get_logger

_log = get_logger("eventplane.kafka.transactional")

AfterCommit = Callable[[], None]

# While an offered item is expected (``expect``) the pump does not block in Kafka's poll,
# which no other thread can wake: it waits on its local queue, which ``offer`` wakes at
# once, and looks for records (poll without waiting) every this long. So records wait
# up to this while a function the owner runs is in flight, and the pump wakes 500
# times a second then, instead of the hand-over waiting on the poll.
LOCAL_WAIT_SLICE_S = 0.002
# After a local item was offered the pump keeps waiting that way this long: work offered
# in bursts (StartExecution calls the owner applies itself) is not offered expected, and
# would otherwise wait out a Kafka poll each.
LOCAL_ACTIVE_S = 0.5


class _StampingProducer(RawProducer):
    """The transactional producer, adding the hop stamps of the record being handled.

    Every record ``handle`` writes for a consumed record carries that record's produce
    time and this dispatcher's consume time (observability.stages), so the queue owner
    downstream can tell how long the hops took.
    """

    def __init__(self, conf: dict[str, Any]) -> None:
        super().__init__(conf)
        self.stamps: list[tuple[str, bytes]] = []  # set per consumed record, on the pump thread

    def produce(self, topic: str, *args: Any, **kwargs: Any) -> None:
        if self.stamps:
            headers = kwargs.get("headers") or []
            if isinstance(headers, dict):
                headers = list(headers.items())
            kwargs["headers"] = [*headers, *self.stamps]
        super().produce(topic, *args, **kwargs)


class TransactionalPump:
    """Runs ``handle(producer, message)`` for every record, a batch per transaction.

    ``handle`` produces its output with ``producer.produce(...)`` and returns callbacks
    to run once the transaction committed (metrics); it must not commit or flush.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        group: str,
        name: str,
        instance_id: str,
        handle: Callable[[RawProducer, Any], list[AfterCommit]],
        batch_size: int = 500,
        on_assign: Callable[[list[tuple[str, int]]], None] | None = None,
        on_revoke: Callable[[list[tuple[str, int]]], None] | None = None,
        on_commit: Callable[[], None] | None = None,
        on_abort: Callable[[], None] | None = None,
        handle_local: Callable[[RawProducer, Any], list[AfterCommit]] | None = None,
    ) -> None:
        self._settings = settings
        self._group = group
        self._name = name
        self._handle = handle
        self._batch = batch_size
        self._on_assign = on_assign
        self._on_revoke = on_revoke
        self._on_commit = on_commit
        self._on_abort = on_abort
        self._handle_local = handle_local
        self._local: deque[Any] = deque()
        self._local_lock = threading.Condition()
        self._expected = 0
        self._active_until = 0.0  # monotonic: until then, wait as if an item were expected
        self._topics: list[str] = []
        self._topics_changed = threading.Event()
        self._client_id = f"eventplane-{name}|{instance_id}"
        self.holdings = Holdings(name, group, self._client_id)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 15.0) -> list[Any]:
        """Stop the pump; returns the offered items no transaction committed."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        with self._local_lock:
            left = list(self._local)
            self._local.clear()
        return left

    # --- local work -------------------------------------------------------------------
    def expect(self) -> None:
        """An item will be offered soon: wait for it rather than for records in Kafka's poll
        (which only its timeout ends) until it is offered (or ``unexpect``)."""
        with self._local_lock:
            self._expected += 1

    def unexpect(self) -> None:
        """An expected item will not be offered after all."""
        with self._local_lock:
            self._expected = max(0, self._expected - 1)

    def offer(self, item: Any) -> None:
        """Queue ``item`` for ``handle_local`` in the pump's next transaction (thread-safe).
        Items are handed over in the order they were offered."""
        if self._handle_local is None:
            raise RuntimeError(f"pump {self._name} takes no local items")
        with self._local_lock:
            self._local.append(item)
            self._expected = max(0, self._expected - 1)
            self._active_until = time.monotonic() + LOCAL_ACTIVE_S
            self._local_lock.notify_all()

    def _take_local(self) -> list[Any]:
        with self._local_lock:
            items = list(self._local)
            self._local.clear()
        return items

    def _put_back(self, items: list[Any]) -> None:
        """Items of a transaction that did not commit: first in line for the next one."""
        if items:
            with self._local_lock:
                self._local.extendleft(reversed(items))

    def _wait(self, consumer: Consumer, timeout: float) -> list[Any]:
        """The next batch of records, returning early (maybe with none) once a local item
        is queued."""
        deadline = time.monotonic() + timeout
        while True:
            with self._local_lock:
                expected = self._expected > 0 or time.monotonic() < self._active_until
                if expected and not self._local:
                    self._local_lock.wait(LOCAL_WAIT_SLICE_S)
                queued = bool(self._local)
            if queued or expected:
                batch = take(consumer, self._batch, 0)
                if batch or queued or time.monotonic() >= deadline:
                    return batch
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            batch = take(consumer, self._batch, remaining)
            if batch:
                return batch

    def subscribe(self, topics: list[str]) -> None:
        if sorted(topics) != self._topics:
            self._topics = sorted(topics)
            self.holdings.want(self._topics)
            self._topics_changed.set()

    def _run(self) -> None:
        # The pump must not silently stop while the server keeps serving: restart the
        # consumer and producer after any failure.
        while not self._stop.is_set():
            try:
                self._run_once()
            except Exception:
                _log.exception("transactional pump failed; restarting in 1 s", pump=self._name)
                self._topics_changed.set()
                self._stop.wait(1.0)

    def _run_once(self) -> None:
        member = Membership(
            consumer_config(
                self._settings,
                self._group,
                **{
                    "client.id": self._client_id,
                    "partition.assignment.strategy": "cooperative-sticky",
                    "session.timeout.ms": 6000,
                    "heartbeat.interval.ms": 1000,
                    "topic.metadata.refresh.interval.ms": 1000,
                },
            ),
            self.holdings,
            on_assign=self._assigned,
            on_revoke=self._revoked,
            on_lost=self._revoked,
        )
        lanes = TransactionLanes(
            self._producer, f"{naming.PREFIX}-{self._name}-{self._settings.advertise}"
        )
        try:
            while not self._stop.is_set():
                # Between transactions: a member that leaves (no topic left) has
                # committed or aborted everything it read.
                if self._topics_changed.is_set():
                    self._topics_changed.clear()
                    member.follow(list(self._topics))
                consumer = member.consumer
                if consumer is None:
                    time.sleep(0.05)
                    continue
                batch = self._wait(consumer, 0.05)
                local = self._take_local()
                if batch or local:
                    self._transact(consumer, lanes, batch, local)
        finally:
            member.leave()
            for producer in lanes:
                producer.flush(10)

    # Rebalance callbacks run inside poll/consume (or close, when the member leaves) on the
    # pump's thread, between transactions.
    def _assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        pairs = [(tp.topic, tp.partition) for tp in partitions]
        self.holdings.assigned(pairs)
        if self._on_assign is not None:
            self._on_assign(pairs)

    def _revoked(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        pairs = [(tp.topic, tp.partition) for tp in partitions]
        try:
            if self._on_revoke is not None:
                self._on_revoke(pairs)
        finally:
            self.holdings.revoked(pairs)

    def _producer(self, transactional_id: str) -> _StampingProducer:
        producer = _StampingProducer(
            client_config(
                self._settings,
                **{
                    # Stable across a restart of this replica: the restarted one fences
                    # (and aborts) its predecessor's open transaction at once.
                    "transactional.id": transactional_id,
                    "acks": "all",
                    "enable.idempotence": True,
                    "linger.ms": 2,
                    # An open transaction of a crashed replica blocks read_committed
                    # readers of those partitions until it times out: keep it short.
                    "transaction.timeout.ms": 10000,
                    "message.timeout.ms": 9000,  # librdkafka: at most the transaction timeout
                    # Retries of produce and coordinator requests (not the 20 ms
                    # CONCURRENT_TRANSACTIONS wait: the lanes avoid that one).
                    "retry.backoff.ms": 5,
                    "retry.backoff.max.ms": 100,
                },
            )
        )
        producer.init_transactions(30)
        return producer

    def _transact(
        self,
        consumer: Consumer,
        lanes: TransactionLanes[_StampingProducer],
        batch: list[Any],
        local: list[Any] | None = None,
    ) -> None:
        local = local or []
        producer = lanes.advance()
        positions: dict[tuple[str, int], int] = {}
        after: list[AfterCommit] = []
        consumed_at = time.time()
        stamped = 0
        try:
            producer.begin_transaction()
        except BaseException:
            self._put_back(local)
            raise
        try:
            if local:
                assert self._handle_local is not None
                for item in local:
                    after.extend(self._handle_local(producer, item))
                # Fenced like a consumed batch: the member's current positions (what it
                # committed already) go with the transaction.
                for tp in consumer.position(consumer.assignment()):
                    if tp.offset >= 0:
                        positions[(tp.topic, tp.partition)] = tp.offset
            for m in batch:
                err = m.error()
                if err is not None:
                    if err.code() != KafkaError._PARTITION_EOF:
                        _log.warning("pump consumer", pump=self._name, error=err.str())
                    continue
                positions[(m.topic(), m.partition())] = m.offset() + 1
                produced_at = stages.stamp_of(m.headers(), stages.PRODUCED_AT)
                if produced_at is not None:
                    stages.observe("produce_to_dispatch_consume", produced_at, consumed_at)
                    stamped += 1
                    producer.stamps = [
                        stages.stamp(stages.PRODUCED_AT, produced_at),
                        stages.stamp(stages.DISPATCHED_AT, consumed_at),
                    ]
                try:
                    after.extend(self._handle(producer, m))
                finally:
                    producer.stamps = []
            offsets = [TopicPartition(t, p, o) for (t, p), o in positions.items()]
            if offsets:
                producer.send_offsets_to_transaction(
                    offsets, consumer.consumer_group_metadata(), 30
                )
            producer.commit_transaction(30)
        except KafkaException as exc:
            self._put_back(local)
            if self._on_abort is not None:
                self._on_abort()
            error = exc.args[0]
            _log.warning(
                "transaction failed; retrying the batch", pump=self._name, error=error.str()
            )
            try:
                producer.abort_transaction(30)
            except KafkaException:
                lanes.renew()  # fatal (fenced or broken): start a new one
            else:
                if error.fatal():
                    lanes.renew()
            rewind(consumer)
            return
        except BaseException:
            self._put_back(local)
            if self._on_abort is not None:
                self._on_abort()
            raise
        committed_at = time.time()
        for _ in range(stamped):
            stages.observe("dispatch_consume_to_txn_commit", consumed_at, committed_at)
        if self._on_commit is not None:
            self._on_commit()
        for callback in after:
            callback()


def rewind(consumer: Consumer) -> None:
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
