"""The delivery worker: HTTP destinations and retries of rule targets, at least once.

Reads delivery tasks from ``eventplane.bus.deliveries`` (consumer group of the same
name, shared by the replicas). Each task waits until it is due, then makes one attempt.
A failed attempt is written back as a new task with the attempt count raised and a
backed-off due time, until the target's RetryPolicy (MaximumRetryAttempts,
MaximumEventAgeInSeconds) gives up; then the event goes to the target's dead-letter
queue with EventBridge's message attributes, or is dropped and counted. An offset is
committed only when every task below it is finished, so a crash repeats work and never
loses it. Tasks run concurrently: one slow endpoint does not hold up the others.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from eventplane.bus import metrics
from eventplane.bus.dispatcher import DELIVERIES_TOPIC, delivery_record
from eventplane.bus.model import BusEvent, Delivery, RuleDef, TargetDef, decode_delivery
from eventplane.bus.targets import Outgoing, TargetUnavailable, TargetWriter
from eventplane.config import Settings
from eventplane.kafka import naming
from eventplane.kafka.clients import Producer, consumer_config
from eventplane.observability.logging import get_logger
from eventplane.topics.http_delivery import is_retriable, post

_log = get_logger("eventplane.bus.deliveries")

DELIVERIES_GROUP = f"{naming.PREFIX}.bus.deliveries"
MAX_PENDING = 5000
HTTP_TIMEOUT_S = 5.0
BASE_DELAY_S = 1.0
MAX_DELAY_S = 180.0

Lookup = Callable[[str, str, str], tuple[RuleDef, TargetDef] | None]


def retry_delay(attempt: int, time_scale: float = 1.0) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): exponential, jittered."""
    base = min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (attempt - 1))
    return base * random.uniform(0.8, 1.0) * time_scale


class DeliveryWorker:
    def __init__(
        self,
        settings: Settings,
        producer: Producer,
        writer: TargetWriter,
        lookup: Lookup,
        *,
        instance_id: str,
    ) -> None:
        self._settings = settings
        self._producer = producer
        self._writer = writer
        self._lookup = lookup
        self._instance = instance_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bus-deliveries", daemon=True)
        # partition -> offset -> finished?  (insertion order = offset order)
        self._pending: dict[int, dict[int, bool]] = {}
        self._tasks: dict[int, set[asyncio.Task[None]]] = {}

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 15.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def delay(self, attempt: int) -> float:
        return retry_delay(attempt, self._settings.delivery_time_scale)

    # --- the loop -------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                asyncio.run(self._loop())
            except Exception:
                _log.exception("bus delivery worker failed; restarting in 1 s")
                self._stop.wait(1.0)

    async def _loop(self) -> None:
        consumer = Consumer(
            consumer_config(
                self._settings,
                DELIVERIES_GROUP,
                **{
                    "client.id": f"eventplane-bus-deliveries|{self._instance}",
                    "session.timeout.ms": 6000,
                    "heartbeat.interval.ms": 1000,
                    "topic.metadata.refresh.interval.ms": 1000,
                },
            )
        )
        self._pending.clear()
        self._tasks.clear()
        consumer.subscribe([DELIVERIES_TOPIC], on_revoke=self._on_revoke)
        last_commit = time.monotonic()
        try:
            while not self._stop.is_set():
                backlog = sum(len(p) for p in self._pending.values())
                metrics.DELIVERY_BACKLOG.set(backlog)
                messages = consumer.consume(100, 0) if backlog < MAX_PENDING else []
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
                _log.warning("closing bus delivery consumer", error=str(exc))

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
                _log.warning("bus delivery consumer", error=err.str())
            return
        partition, offset = m.partition(), m.offset()
        self._pending.setdefault(partition, {})[offset] = False
        try:
            task = decode_delivery(m.value(), m.headers() or [])
        except Exception as exc:
            _log.error("unreadable delivery task", offset=offset, error=str(exc))
            self._pending[partition][offset] = True
            return
        running = asyncio.get_running_loop().create_task(self._run_task(task))
        tasks = self._tasks.setdefault(partition, set())
        tasks.add(running)

        def finished(t: asyncio.Task[None]) -> None:
            tasks.discard(t)
            if not t.cancelled() and partition in self._pending:
                self._pending[partition][offset] = True

        running.add_done_callback(finished)

    def _commit(self, consumer: Any) -> None:
        offsets = []
        for partition, states in self._pending.items():
            done = 0
            for offset, finished in states.items():
                if not finished:
                    break
                done = offset + 1
            if done:
                offsets.append(TopicPartition(DELIVERIES_TOPIC, partition, done))
                for offset in [o for o in states if o < done]:
                    del states[offset]
        if offsets:
            try:
                consumer.commit(offsets=offsets, asynchronous=False)
            except KafkaException as exc:
                _log.warning("committing delivery offsets", error=str(exc))

    # --- one task ---------------------------------------------------------------------------
    async def _run_task(self, task: Delivery) -> None:
        wait = task.due_ms / 1000 - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        found = self._lookup(task.bus, task.rule, task.target_id)
        if found is None:
            return  # the rule or target was removed: nothing to deliver to
        rule, target = found
        labels = (task.bus, rule.name, target.id)
        if task.attempt > 0:
            metrics.RETRIED.labels(*labels).inc()
        try:
            code, message, retriable = await self._attempt(target, task)
        except Exception as exc:
            code, message, retriable = "InternalFailure", str(exc), True
        if code is None:
            metrics.DELIVERED.labels(*labels).inc()
            latency = max(0.0, time.time() - task.first_ms / 1000)
            metrics.DELIVERY_LATENCY.labels(target.kind).observe(latency)
            return
        metrics.FAILED.labels(*labels).inc()
        failed = replace(task, attempt=task.attempt + 1, last_error_code=code, last_error=message)
        now_ms = int(time.time() * 1000)
        expires_ms = task.first_ms + target.retry.maximum_event_age_seconds * 1000
        if not retriable:
            await self._give_up(rule, target, failed, "NonRetriableError")
        elif failed.attempt > target.retry.maximum_retry_attempts:
            await self._give_up(rule, target, failed, "MaximumRetryAttemptsExhausted")
        else:
            due = now_ms + int(self.delay(failed.attempt) * 1000)
            if due > expires_ms:
                await self._give_up(rule, target, failed, "MaximumEventAgeExhausted")
            else:
                await self._send(delivery_record(replace(failed, due_ms=due)))

    async def _attempt(self, target: TargetDef, task: Delivery) -> tuple[str | None, str, bool]:
        """(error code or None on success, message, retriable)."""
        if target.kind == "http":
            status = await post(
                target.endpoint,
                task.payload,
                {"Content-Type": "application/json; charset=utf-8"},
                timeout=HTTP_TIMEOUT_S,
            )
            if 200 <= status < 300:
                return None, "", True
            if status == 0:
                return "SDK_CLIENT_ERROR", f"no answer from {target.endpoint}", True
            return f"HTTP_{status}", f"{target.endpoint} answered {status}", is_retriable(status)
        try:
            event = BusEvent(json.loads(task.event), task.first_ms, text=task.event)
            out = self._writer.record(target, event, task.payload)
        except TargetUnavailable as exc:
            return exc.code, exc.message, True
        await self._send(out)
        return None, "", True

    async def _give_up(
        self, rule: RuleDef, target: TargetDef, task: Delivery, condition: str
    ) -> None:
        out = self._writer.dead_letter(target, rule, task, condition)
        labels = (task.bus, rule.name, target.id)
        _log.warning(
            "target delivery gave up",
            rule=rule.arn,
            target=target.id,
            condition=condition,
            attempts=task.attempt,
            error=task.last_error,
            dead_letter=target.dead_letter_arn,
        )
        if out is None:
            metrics.DEAD_LETTERED.labels(*labels, "dropped").inc()
            return
        await self._send(out)
        metrics.DEAD_LETTERED.labels(*labels, "dead_lettered").inc()

    async def _send(self, out: Outgoing) -> None:
        await self._producer.send(
            out.topic,
            out.value,
            key=out.key,
            headers=out.headers,
            partition=out.partition,
            timestamp_ms=out.timestamp_ms,
        )
