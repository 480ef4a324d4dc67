"""Due-time tasks on a Kafka topic, run at least once by whichever replica owns them.

A task record carries the time it is due. The replicas share the topic through one
consumer group; each task waits (without blocking the others) until it is due, then
runs. An offset is committed only when every task below it has finished, so a crash
repeats work and never loses it. A task that raises is retried after a pause: the
error is a bug or an outage, not a verdict on the task (verdicts are the handler's to
write, e.g. as a new task with a later due time).

Used by the bus's delivery worker (HTTP destinations and retries) and by asynchronous
function invocations.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from eventplane.config import Settings
from eventplane.kafka.clients import consumer_config
from eventplane.observability.logging import get_logger

_log = get_logger("eventplane.kafka.tasks")

T = TypeVar("T")
Decode = Callable[[bytes, Sequence[tuple[str, bytes | None]]], T]

MAX_PENDING = 5000
RETRY_PAUSE_S = 1.0


class TaskConsumer(Generic[T]):
    """Runs ``run(task)`` for every record of ``topic`` once ``due_ms(task)`` has come."""

    def __init__(
        self,
        settings: Settings,
        *,
        topic: str,
        group: str,
        name: str,
        instance_id: str,
        decode: Decode[T],
        due_ms: Callable[[T], int],
        run: Callable[[T], Awaitable[None]],
        on_backlog: Callable[[int], None] | None = None,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self._settings = settings
        self._topic = topic
        self._group = group
        self._name = name
        self._instance = instance_id
        self._decode = decode
        self._due_ms = due_ms
        self._run_task = run
        self._on_backlog = on_backlog
        self._max_pending = max_pending
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        # partition -> offset -> finished?  (insertion order = offset order)
        self._pending: dict[int, dict[int, bool]] = {}
        self._tasks: dict[int, set[asyncio.Task[None]]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None

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
        consumer = Consumer(
            consumer_config(
                self._settings,
                self._group,
                **{
                    "client.id": f"eventplane-{self._name}|{self._instance}",
                    "session.timeout.ms": 6000,
                    "heartbeat.interval.ms": 1000,
                    "topic.metadata.refresh.interval.ms": 1000,
                },
            )
        )
        self._pending.clear()
        self._tasks.clear()
        consumer.subscribe([self._topic], on_revoke=self._on_revoke, on_lost=self._on_revoke)
        last_commit = time.monotonic()
        try:
            while not self._stop.is_set():
                backlog = sum(len(p) for p in self._pending.values())
                if self._on_backlog is not None:
                    self._on_backlog(backlog)
                messages = consumer.consume(100, 0) if backlog < self._max_pending else []
                for m in messages:
                    self._accept(m)
                if time.monotonic() - last_commit > 0.5:
                    self._commit(consumer)
                    last_commit = time.monotonic()
                await asyncio.sleep(0 if messages else 0.02)
        finally:
            for tasks in self._tasks.values():
                for t in tasks:
                    t.cancel()
            self._commit(consumer)
            try:
                consumer.close()
            except KafkaException as exc:
                _log.warning("closing task consumer", consumer=self._name, error=str(exc))

    def _on_revoke(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        self._commit(consumer)
        for tp in partitions:
            # Unfinished tasks of a partition we lost are redone by its next owner.
            for t in self._tasks.pop(tp.partition, set()):
                t.cancel()
            self._pending.pop(tp.partition, None)

    def _accept(self, m: Any) -> None:
        err = m.error()
        if err is not None:
            if err.code() != KafkaError._PARTITION_EOF:
                _log.warning("task consumer", consumer=self._name, error=err.str())
            return
        partition, offset = m.partition(), m.offset()
        self._pending.setdefault(partition, {})[offset] = False
        try:
            task = self._decode(m.value(), m.headers() or [])
        except Exception as exc:
            _log.error("unreadable task", consumer=self._name, offset=offset, error=str(exc))
            self._pending[partition][offset] = True
            return
        running = asyncio.get_running_loop().create_task(self._when_due(task))
        tasks = self._tasks.setdefault(partition, set())
        tasks.add(running)

        def finished(t: asyncio.Task[None]) -> None:
            tasks.discard(t)
            if not t.cancelled() and partition in self._pending:
                self._pending[partition][offset] = True

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
        offsets = []
        for partition, states in self._pending.items():
            done = 0
            for offset, finished in states.items():
                if not finished:
                    break
                done = offset + 1
            if done:
                offsets.append(TopicPartition(self._topic, partition, done))
                for offset in [o for o in states if o < done]:
                    del states[offset]
        if offsets:
            try:
                consumer.commit(offsets=offsets, asynchronous=False)
            except KafkaException as exc:
                _log.warning("committing task offsets", consumer=self._name, error=str(exc))
