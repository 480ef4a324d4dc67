"""Due-time tasks on a Kafka topic, run at least once by whichever replica owns them.

A task record carries the time it is due. The replicas share the topic through one
consumer group; each task waits (without blocking the others) until it is due, then
runs. A task that raises is retried after a pause: the error is a bug or an outage,
not a verdict on the task (verdicts are the handler's to write, e.g. as a new task
with a later due time, produced before the handler returns).

Which tasks are finished is journaled with the group's offsets, soon after they finish:
the committed offset is the first unfinished task, and the commit's metadata lists the
finished tasks above it (ranges of offsets). A task that waits for a distant due time,
or a chain of re-queued ones, therefore holds back only itself: after a crash or a
rebalance the next owner skips every task journaled as finished, and repeats only
those that were running (or had just finished) at the crash. Nothing is lost: a task
counts as finished only once its handler returned. When the list outgrows the metadata
the broker keeps, the highest ranges are left out and those tasks repeat instead.

A task written back for a later attempt (a retry, a throttled invocation) may have been
finished, but not yet journaled, when its owner died; both records then come back. So a
new owner first reads up to where the partition ended when it took it over, holding the
tasks, and of the records with one identity (``TaskTopic.identity``) runs only the last.

Used by the bus's delivery worker (HTTP destinations and retries) and by asynchronous
function invocations.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from eventplane.config import Settings
from eventplane.kafka.clients import consumer_config
from eventplane.kafka.lag import LagReporter
from eventplane.observability.logging import get_logger

_log = get_logger("eventplane.kafka.tasks")

T = TypeVar("T")
Decode = Callable[[bytes, Sequence[tuple[str, bytes | None]]], T]

MAX_PENDING = 5000
RETRY_PAUSE_S = 1.0
COMMIT_EVERY_S = 0.5  # when nothing finished: keeps the group's offsets fresh
JOURNAL_EVERY_S = 0.05  # at most this long between a task finishing and its commit
# Between empty polls: short while tasks keep coming (a workflow's next Task, a stream of
# async invokes: each waited up to the idle pause before), long once none came for a
# while (an idle server keeps its CPU).
BUSY_POLL_S = 0.002
IDLE_POLL_S = 0.02
BUSY_FOR_S = 1.0
# The broker keeps at most offset.metadata.max.bytes (4,096 by default) per partition.
MAX_METADATA = 3900
_METADATA_VERSION = "t1"


@dataclass(frozen=True)
class TaskTopic(Generic[T]):
    """A topic of due-time tasks: where they are, who shares them, how to read them."""

    topic: str
    group: str
    name: str  # of the consumer thread, and in logs and client ids
    decode: Decode[T]
    due_ms: Callable[[T], int]
    on_backlog: Callable[[int], None] | None = None  # tasks held now (waiting or running)
    max_pending: int = MAX_PENDING
    # What stays the same when a handler writes a task back for a later attempt: of
    # several records with one identity, only the last is still to do.
    identity: Callable[[T], str] | None = None


class TaskConsumer(Generic[T]):
    """Runs ``run(task)`` for every record of the tasks' topic once its due time has come."""

    def __init__(
        self,
        settings: Settings,
        tasks: TaskTopic[T],
        *,
        instance_id: str,
        run: Callable[[T], Awaitable[None]],
    ) -> None:
        self._settings = settings
        self._topic = tasks.topic
        self._group = tasks.group
        self._name = tasks.name
        self._instance = instance_id
        self._decode = tasks.decode
        self._due_ms = tasks.due_ms
        self._run_task = run
        self._on_backlog = tasks.on_backlog
        self._max_pending = tasks.max_pending
        self._identity = tasks.identity
        # partition -> offset where the replay of the previous owner's records ends, and
        # the tasks read before it (by identity), started once it is reached
        self._recovering: dict[int, int] = {}
        self._held: dict[int, dict[str, tuple[int, T]]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=tasks.name, daemon=True)
        # partition -> offset -> finished?  (insertion order = offset order)
        self._pending: dict[int, dict[int, bool]] = {}
        # partition -> offsets journaled as finished that this owner has not read yet
        self._skip: dict[int, list[tuple[int, int]]] = {}
        self._finished_since_commit = False
        self._tasks: dict[int, set[asyncio.Task[None]]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        # The partitions this consumer holds now (read from other threads, e.g. by a
        # workflow owner that runs a task itself only where this replica's consumer
        # would otherwise run it too).
        self.assigned: frozenset[int] = frozenset()

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 15.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    # --- the loop -------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                asyncio.run(self._loop())
            except Exception:
                _log.exception("task consumer failed; restarting in 1 s", consumer=self._name)
                self._stop.wait(1.0)

    async def _loop(self) -> None:
        self.loop = asyncio.get_running_loop()
        lag = LagReporter(self._group)
        consumer = Consumer(
            consumer_config(
                self._settings,
                self._group,
                **{
                    "client.id": f"eventplane-{self._name}|{self._instance}",
                    "session.timeout.ms": 6000,
                    "heartbeat.interval.ms": 1000,
                    "topic.metadata.refresh.interval.ms": 1000,
                    **lag.settings,
                },
            )
        )
        self.assigned = frozenset()
        self._pending.clear()
        self._tasks.clear()
        self._skip.clear()
        self._recovering.clear()
        self._held.clear()
        consumer.subscribe(
            [self._topic],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )
        last_commit = time.monotonic()
        last_task = float("-inf")
        try:
            while not self._stop.is_set():
                backlog = sum(len(p) for p in self._pending.values())
                if self._on_backlog is not None:
                    self._on_backlog(backlog)
                messages = consumer.consume(100, 0) if backlog < self._max_pending else []
                for m in messages:
                    self._accept(m)
                if self._recovering:
                    self._check_recovered(consumer)
                since = time.monotonic() - last_commit
                if since > COMMIT_EVERY_S or (
                    self._finished_since_commit and since > JOURNAL_EVERY_S
                ):
                    self._commit(consumer)
                    last_commit = time.monotonic()
                now = time.monotonic()
                if messages:
                    last_task = now
                    await asyncio.sleep(0)
                else:
                    busy = now - last_task < BUSY_FOR_S
                    await asyncio.sleep(BUSY_POLL_S if busy else IDLE_POLL_S)
        finally:
            self.assigned = frozenset()
            for tasks in self._tasks.values():
                for t in tasks:
                    t.cancel()
            self._commit(consumer)
            try:
                consumer.close()
            except KafkaException as exc:
                _log.warning("closing task consumer", consumer=self._name, error=str(exc))
            lag.close()

    def _on_assign(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        self.assigned = self.assigned | {tp.partition for tp in partitions}
        # The previous owner's journal of finished tasks above its committed offset.
        try:
            committed = consumer.committed(partitions, timeout=10)
        except KafkaException as exc:
            _log.warning("reading task offsets", consumer=self._name, error=str(exc))
            return
        for tp in committed:
            if tp.offset >= 0:
                self._skip[tp.partition] = decode_finished(tp.offset, tp.metadata)
            if self._identity is None:
                continue
            try:
                low, high = consumer.get_watermark_offsets(tp, timeout=10, cached=False)
            except KafkaException as exc:
                _log.warning("reading task watermarks", consumer=self._name, error=str(exc))
                continue
            if high > max(tp.offset, low):
                self._recovering[tp.partition] = high
                self._held[tp.partition] = {}

    def _check_recovered(self, consumer: Any) -> None:
        """Start the held tasks of partitions read up to where the replay ends."""
        positions = consumer.position(
            [TopicPartition(self._topic, p) for p in list(self._recovering)]
        )
        for tp in positions:
            if tp.offset >= self._recovering.get(tp.partition, 1 << 62):
                self._release(tp.partition)

    def _release(self, partition: int) -> None:
        self._recovering.pop(partition, None)
        for offset, task in sorted(self._held.pop(partition, {}).values(), key=lambda h: h[0]):
            self._start(partition, offset, task)

    def _on_revoke(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        self.assigned = self.assigned - {tp.partition for tp in partitions}
        self._commit(consumer)
        for tp in partitions:
            # Unfinished tasks of a partition we lost are redone by its next owner.
            for t in self._tasks.pop(tp.partition, set()):
                t.cancel()
            self._pending.pop(tp.partition, None)
            self._skip.pop(tp.partition, None)
            self._recovering.pop(tp.partition, None)
            self._held.pop(tp.partition, None)

    def _accept(self, m: Any) -> None:
        err = m.error()
        if err is not None:
            if err.code() != KafkaError._PARTITION_EOF:
                _log.warning("task consumer", consumer=self._name, error=err.str())
            return
        partition, offset = m.partition(), m.offset()
        if _take(self._skip.get(partition), offset):
            self._pending.setdefault(partition, {})[offset] = True  # finished before
            return
        self._pending.setdefault(partition, {})[offset] = False
        try:
            task = self._decode(m.value(), m.headers() or [])
        except Exception as exc:
            _log.error("unreadable task", consumer=self._name, offset=offset, error=str(exc))
            self._pending[partition][offset] = True
            return
        if partition in self._recovering and self._identity is not None:
            # Replaying what the previous owner read: a task written back for a later
            # attempt supersedes the record it came from, which the previous owner
            # finished but may not have journaled before it died.
            held = self._held[partition]
            key = self._identity(task)
            earlier = held.get(key)
            if earlier is not None:
                self._pending[partition][earlier[0]] = True
                self._finished_since_commit = True
            held[key] = (offset, task)
            if offset + 1 >= self._recovering[partition]:
                self._release(partition)
            return
        self._start(partition, offset, task)

    def _start(self, partition: int, offset: int, task: T) -> None:
        running = asyncio.get_running_loop().create_task(self._when_due(task))
        tasks = self._tasks.setdefault(partition, set())
        tasks.add(running)

        def finished(t: asyncio.Task[None]) -> None:
            tasks.discard(t)
            if not t.cancelled() and partition in self._pending:
                self._pending[partition][offset] = True
                self._finished_since_commit = True

        running.add_done_callback(finished)

    async def _when_due(self, task: T) -> None:
        wait = self._due_ms(task) / 1000 - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        while True:
            try:
                await self._run_task(task)
                return
            except Exception:
                _log.exception("task failed; retrying", consumer=self._name)
                await asyncio.sleep(RETRY_PAUSE_S)

    def _commit(self, consumer: Any) -> None:
        self._finished_since_commit = False
        offsets = []
        for partition, states in self._pending.items():
            first_open: int | None = None
            finished: list[int] = []
            for offset, done in states.items():
                if not done:
                    if first_open is None:
                        first_open = offset
                elif first_open is not None:
                    finished.append(offset)
            if first_open is None:
                if not states:
                    continue
                first_open = next(reversed(states)) + 1
            ranges = _merge(_ranges(finished) + self._skip.get(partition, []))
            offsets.append(
                TopicPartition(
                    self._topic,
                    partition,
                    first_open,
                    metadata=encode_finished(first_open, ranges),
                )
            )
            for offset in [o for o in states if o < first_open]:
                del states[offset]
        if offsets:
            try:
                consumer.commit(offsets=offsets, asynchronous=False)
            except KafkaException as exc:
                _log.warning("committing task offsets", consumer=self._name, error=str(exc))


def _ranges(offsets: list[int]) -> list[tuple[int, int]]:
    """Sorted offsets as inclusive (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for o in offsets:
        if runs and runs[-1][1] == o - 1:
            runs[-1] = (runs[-1][0], o)
        else:
            runs.append((o, o))
    return runs


def _merge(runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for first, last in sorted(runs):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
        else:
            merged.append((first, last))
    return merged


def _take(runs: list[tuple[int, int]] | None, offset: int) -> bool:
    """Whether ``offset`` is in the journaled runs; drops the runs read past."""
    if not runs:
        return False
    while runs and runs[0][1] < offset:
        runs.pop(0)
    return bool(runs) and runs[0][0] <= offset


def encode_finished(base: int, runs: list[tuple[int, int]]) -> str:
    """Commit metadata: runs of finished offsets above ``base``, as base-36 deltas.

    Runs that do not fit in MAX_METADATA are left out (those tasks run again).
    """
    parts = [_METADATA_VERSION]
    size = len(_METADATA_VERSION)
    previous = base
    for first, last in runs:
        if last < previous:
            continue
        first = max(first, previous)
        part = f"{_b36(first - previous)}+{_b36(last - first)}"
        if size + len(part) + 1 > MAX_METADATA:
            break
        parts.append(part)
        size += len(part) + 1
        previous = last + 1
    return "" if len(parts) == 1 else ",".join(parts)


def decode_finished(base: int, metadata: str | None) -> list[tuple[int, int]]:
    """The runs ``encode_finished(base, ...)`` wrote; nothing for metadata it did not write."""
    if not metadata or not metadata.startswith(_METADATA_VERSION + ","):
        return []
    previous = base
    runs: list[tuple[int, int]] = []
    try:
        for part in metadata.split(",")[1:]:
            gap, length = part.split("+")
            first = previous + int(gap, 36)
            last = first + int(length, 36)
            runs.append((first, last))
            previous = last + 1
    except ValueError:
        return []
    return runs


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out
