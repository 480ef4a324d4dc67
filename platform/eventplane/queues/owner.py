"""Partition ownership: the consumer group that decides which replica serves which partition.

Every replica runs one member of ``eventplane.queue-owners`` subscribed to all
queue topics. When Kafka assigns it a partition, the member first rebuilds
that partition's state from the lease journal (the co-partitioned ``.state``
topic), then consumes the partition's records from the committed offset and
merges them with the journal. On revocation it commits the lowest undeleted
offset and drops the state; a crashed owner's partitions go to a survivor,
which rebuilds the same state from the same journal.

Threads: librdkafka's consumer lives on one thread (``_ConsumerThread``); all
queue state lives on the asyncio loop. The thread hands records and
assignments to the loop in order (call_soon_threadsafe / run_coroutine_threadsafe),
and the loop hands commits and subscription changes back through a queue.
"""

from __future__ import annotations

import asyncio
import queue as stdlib_queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_INVALID,
    Consumer,
    KafkaError,
    KafkaException,
    TopicPartition,
)

from eventplane.config import Settings
from eventplane.kafka import naming
from eventplane.kafka.clients import SEQUENTIAL_READER, consumer_config, take
from eventplane.kafka.groups import owner_group_config
from eventplane.kafka.membership import Membership
from eventplane.kafka.retirement import Holdings
from eventplane.observability import stages
from eventplane.observability.logging import get_logger
from eventplane.queues.journal import JournalState, decode_record
from eventplane.queues.models import Record

_log = get_logger("eventplane.queues.owner")

QUEUE_PREFIX = naming.queue_topic("")


def queue_of(topic: str) -> str:
    return topic[len(QUEUE_PREFIX) :]


@dataclass
class Adopted:
    """A partition handed to this replica, with what its journal says."""

    queue: str
    partition: int
    start_offset: int
    journal: JournalState


@dataclass
class Incoming:
    queue: str
    partition: int
    offset: int
    record: Record
    produced_at: float | None = None  # hop stamps (observability.stages), wall clock
    dispatched_at: float | None = None


@dataclass
class _Commands:
    subscribe: list[str] | None = None
    commits: dict[tuple[str, int], int] = field(default_factory=dict)


class OwnerListener:
    """What the loop side implements (engine.QueueEngine)."""

    async def adopt(self, adopted: Adopted) -> None:
        raise NotImplementedError

    async def relinquish(self, partitions: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        """Drop these partitions; returns the offsets to commit for them."""
        raise NotImplementedError

    def on_records(self, records: list[Incoming]) -> None:
        raise NotImplementedError

    def committed(self, offsets: dict[tuple[str, int], int]) -> None:
        """Kafka confirmed these offset commits ((queue, partition) -> offset)."""
        raise NotImplementedError


class OwnerConsumer:
    """The replica's member of eventplane.queue-owners, on its own thread."""

    def __init__(
        self,
        settings: Settings,
        listener: OwnerListener,
        loop: asyncio.AbstractEventLoop,
        *,
        advertise: str,
        instance_id: str,
        exists: Callable[[str], bool],
    ) -> None:
        self._settings = settings
        self._exists = exists  # is the queue still defined? (registry, thread-safe)
        self._listener = listener
        self._loop = loop
        self.client_id = f"eventplane-owner|{advertise}|{instance_id}"
        self._commands: stdlib_queue.SimpleQueue[_Commands] = stdlib_queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="queue-owner", daemon=True)
        self._topics: list[str] = []
        self.holdings = Holdings("queue-owner", naming.QUEUE_OWNERS_GROUP, self.client_id)
        self.owned: set[tuple[str, int]] = set()  # read on the loop; written via callbacks

    def start(self) -> None:
        self._thread.start()

    def subscribe(self, topics: list[str]) -> None:
        if sorted(topics) != self._topics:
            self._topics = sorted(topics)
            self.holdings.want(self._topics)
            self._commands.put(_Commands(subscribe=list(self._topics)))

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        if offsets:
            self._commands.put(_Commands(commits=dict(offsets)))

    def close(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    # --- the consumer thread ---------------------------------------------------------
    def _run(self) -> None:
        # Reads one adopted partition's journal after another: see SEQUENTIAL_READER.
        reader = Consumer(
            consumer_config(
                self._settings,
                f"{naming.PREFIX}.journal-reader.{uuid.uuid4().hex}",
                **SEQUENTIAL_READER,
            )
        )

        def on_assign(c: Consumer, partitions: list[TopicPartition]) -> None:
            self.holdings.assigned((tp.topic, tp.partition) for tp in partitions)
            if partitions:
                _log.info("partitions assigned", count=len(partitions))
            for tp in partitions:
                self._adopt(c, reader, tp)

        def on_revoke(c: Consumer, partitions: list[TopicPartition]) -> None:
            self._relinquish(c, partitions, commit=True)

        def on_lost(c: Consumer, partitions: list[TopicPartition]) -> None:
            self._relinquish(c, partitions, commit=False)

        member = Membership(
            consumer_config(
                self._settings,
                naming.QUEUE_OWNERS_GROUP,
                **{
                    "client.id": self.client_id,
                    **owner_group_config(self._settings, naming.QUEUE_OWNERS_GROUP),
                    "fetch.queue.backoff.ms": 1,
                    # A queue topic created during a rebalance is only noticed at the
                    # next metadata refresh: keep that short so new queues are served
                    # within about a second.
                    "topic.metadata.refresh.interval.ms": 1000,
                    "on_commit": self._on_commit,
                },
            ),
            self.holdings,
            on_assign=on_assign,
            on_revoke=on_revoke,
            on_lost=on_lost,
        )
        try:
            self._loop_forever(member)
        except Exception:
            _log.exception("queue owner consumer crashed")
        finally:
            member.leave()  # revokes (and so commits) what it owns
            reader.close()

    def _loop_forever(self, member: Membership) -> None:
        while not self._stop.is_set():
            self._drain_commands(member)
            consumer = member.consumer
            if consumer is None:  # no queue: not in the group
                time.sleep(0.05)
                continue
            batch = take(consumer, 500, 0.05)
            if batch:
                self._dispatch(batch)

    def _drain_commands(self, member: Membership) -> None:
        """Apply the queued subscription changes and commits, in order."""
        commits: dict[tuple[str, int], int] = {}
        while True:
            try:
                cmd = self._commands.get_nowait()
            except stdlib_queue.Empty:
                break
            if cmd.subscribe is not None:
                # The commits queued before go out first: with no queue left the
                # consumer closes here.
                self._commit(member.consumer, commits)
                commits = {}
                member.follow(cmd.subscribe)
            commits.update(cmd.commits)
        self._commit(member.consumer, commits)

    def _commit(self, consumer: Consumer | None, commits: dict[tuple[str, int], int]) -> None:
        offsets = [TopicPartition(t, p, o) for (t, p), o in commits.items() if (t, p) in self.owned]
        if consumer is None or not offsets:
            return
        try:
            consumer.commit(offsets=offsets, asynchronous=True)
        except KafkaException as exc:
            _log.warning("offset commit failed", error=str(exc))

    def _on_commit(self, err: KafkaError | None, partitions: list[TopicPartition]) -> None:
        # Runs inside poll on the consumer thread, for every commit this consumer made.
        if err is not None:
            _log.warning("offset commit failed", error=err.str())
            return
        confirmed = {
            (queue_of(tp.topic), tp.partition): tp.offset
            for tp in partitions
            if tp.error is None and tp.offset >= 0
        }
        if confirmed:
            self._loop.call_soon_threadsafe(self._listener.committed, confirmed)

    def _dispatch(self, batch: list[Any]) -> None:
        records: list[Incoming] = []
        for m in batch:
            err = m.error()
            if err is not None:
                if err.code() not in (KafkaError._PARTITION_EOF, KafkaError.UNKNOWN_TOPIC_OR_PART):
                    _log.warning("owner consumer", error=err.str())
                continue
            try:
                rec = decode_record(m.value(), m.headers() or [])
            except Exception as exc:  # an unreadable record must not stop the queue
                _log.error(
                    "unreadable queue record", topic=m.topic(), offset=m.offset(), error=str(exc)
                )
                continue
            headers = m.headers() or []
            records.append(
                Incoming(
                    queue_of(m.topic()),
                    m.partition(),
                    m.offset(),
                    rec,
                    stages.stamp_of(headers, stages.PRODUCED_AT),
                    stages.stamp_of(headers, stages.DISPATCHED_AT),
                )
            )
        if records:
            self._loop.call_soon_threadsafe(self._listener.on_records, records)

    def _adopt(self, consumer: Consumer, reader: Consumer, tp: TopicPartition) -> None:
        queue = queue_of(tp.topic)
        # Serving a partition without its journal would resurrect deleted
        # messages and release leased ones early: retry until it reads (the
        # group keeps this member alive meanwhile) or the server stops.
        delay = 0.2
        while True:
            try:
                start, journal = self._read_state(
                    consumer, reader, queue, tp, lambda: not self._exists(queue)
                )
                break
            except (KafkaException, TimeoutError) as exc:
                if self._stop.is_set() or not self._exists(queue):
                    # Deleted while being taken over: nothing to serve. (Retrying
                    # forever here would block every other assignment.)
                    _log.info("partition of a deleted queue not adopted", queue=queue)
                    return
                _log.warning(
                    "cannot take over partition yet; retrying",
                    queue=queue,
                    partition=tp.partition,
                    error=str(exc),
                )
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        fut = asyncio.run_coroutine_threadsafe(
            self._listener.adopt(Adopted(queue, tp.partition, start, journal)), self._loop
        )
        fut.result(timeout=60)
        self.owned.add((tp.topic, tp.partition))
        _log.info(
            "partition adopted",
            queue=queue,
            partition=tp.partition,
            start_offset=start,
            leases=len(journal.leases),
        )

    @staticmethod
    def _read_state(
        consumer: Consumer,
        reader: Consumer,
        queue: str,
        tp: TopicPartition,
        gone: Callable[[], bool],
    ) -> tuple[int, JournalState]:
        (committed,) = consumer.committed([TopicPartition(tp.topic, tp.partition)], timeout=10)
        if committed.error is not None:
            raise KafkaException(committed.error)
        if committed.offset >= 0:
            start = committed.offset
        else:
            low, _ = consumer.get_watermark_offsets(tp, timeout=10)
            start = max(low, 0)
        return start, read_journal(reader, naming.queue_state_topic(queue), tp.partition, gone)

    def _relinquish(
        self, consumer: Consumer, partitions: list[TopicPartition], *, commit: bool
    ) -> None:
        keys = [(tp.topic, tp.partition) for tp in partitions]
        for key in keys:
            self.owned.discard(key)
        self.holdings.revoked(keys)
        fut = asyncio.run_coroutine_threadsafe(
            self._listener.relinquish([(queue_of(t), p) for t, p in keys]), self._loop
        )
        try:
            offsets = fut.result(timeout=30)
        except Exception:
            _log.exception("relinquish failed")
            return
        if commit and offsets:
            tps = [
                TopicPartition(naming.queue_topic(q), p, o)
                for (q, p), o in offsets.items()
                if o > 0
            ]
            if tps:
                try:
                    consumer.commit(offsets=tps, asynchronous=False)
                except KafkaException as exc:
                    _log.warning("final commit failed", error=str(exc))


def read_journal(
    reader: Consumer,
    topic: str,
    partition: int,
    gone: Callable[[], bool] = lambda: False,
    timeout: float = 60.0,
) -> JournalState:
    """Everything the partition's journal holds, read to its current end.

    Gives up (TimeoutError) after ``timeout`` or as soon as ``gone()`` says the queue
    was deleted meanwhile: the adoptions of every other partition wait behind this one.
    """
    state = JournalState()
    tp = TopicPartition(topic, partition)
    try:
        low, high = reader.get_watermark_offsets(tp, timeout=10)
    except KafkaException as exc:
        if exc.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
            return state
        raise
    if high <= low:
        return state
    reader.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if gone():
                raise TimeoutError(f"the queue of {topic} was deleted while it was read")
            m = reader.poll(0.2)
            if m is None:
                pos = reader.position([tp])[0].offset
                if pos != OFFSET_INVALID and pos >= high:
                    break
                continue
            err = m.error()
            if err is not None:
                if err.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                    raise KafkaException(err)
                continue
            key = (m.key() or b"").decode()
            state.apply(key, m.value(), m.headers() or [])
            if (m.offset() or 0) >= high - 1:
                break
        else:
            raise TimeoutError(f"reading the journal {topic}[{partition}] took over {timeout:g}s")
    finally:
        reader.unassign()
    return state
