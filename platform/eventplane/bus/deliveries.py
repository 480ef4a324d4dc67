"""The delivery worker: HTTP destinations and retries of rule targets, at least once.

Reads delivery tasks from ``eventplane.bus.deliveries`` (consumer group of the same
name, shared by the replicas) with the delivery layer's retry runner. Each task waits
until it is due, then makes one attempt.
A failed attempt is written back as a new task with the attempt count raised and a
backed-off due time, until the target's RetryPolicy (MaximumRetryAttempts,
MaximumEventAgeInSeconds) gives up; then the event goes to the target's dead-letter
queue with EventBridge's message attributes, or is dropped and counted. An offset is
committed only when every task below it is finished, so a crash repeats work and never
loses it. Tasks run concurrently: one slow endpoint does not hold up the others.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Final

from eventplane.bus import metrics
from eventplane.bus.dispatcher import DELIVERIES_TOPIC, delivery_record
from eventplane.bus.models import BusEvent, Delivery, RuleDef, TargetDef, decode_delivery
from eventplane.bus.targets import TargetWriter
from eventplane.config import Settings
from eventplane.delivery import TargetUnavailable
from eventplane.delivery.http import is_retriable, post
from eventplane.delivery.retry import GiveUp, RetryPolicy, TaskRunner, backoff
from eventplane.kafka import naming
from eventplane.kafka.clients import Producer
from eventplane.kafka.tasks import TaskTopic
from eventplane.observability.logging import get_logger

_log = get_logger("eventplane.bus.deliveries")

DELIVERIES_GROUP = f"{naming.PREFIX}.bus.deliveries"
HTTP_TIMEOUT_S = 5.0
BASE_DELAY_S = 1.0
MAX_DELAY_S = 180.0

Lookup = Callable[[str, str, str], tuple[RuleDef, TargetDef] | None]
TASKS: Final = TaskTopic(
    DELIVERIES_TOPIC,
    DELIVERIES_GROUP,
    "bus-deliveries",
    decode=decode_delivery,
    due_ms=lambda task: task.due_ms,
    on_backlog=metrics.DELIVERY_BACKLOG.set,
    # a retry keeps all of these; the first attempt time tells two deliveries apart
    identity=lambda d: f"{d.bus}/{d.rule}/{d.target_id}/{d.event_id}/{d.first_ms}",
)


def retry_delay(attempt: int, time_scale: float = 1.0) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): exponential, jittered."""
    return backoff(attempt - 1, base_s=BASE_DELAY_S, max_s=MAX_DELAY_S, time_scale=time_scale)


class DeliveryWorker(TaskRunner[Delivery]):
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
        self._writer = writer
        self._lookup = lookup
        super().__init__(settings, producer, TASKS, instance_id=instance_id, run=self._run_task)

    def delay(self, attempt: int) -> float:
        return retry_delay(attempt, self._settings.delivery_time_scale)

    # --- one task ---------------------------------------------------------------------------
    async def _run_task(self, task: Delivery) -> None:
        found = self._lookup(task.bus, task.rule, task.target_id)
        if found is None:
            return  # the rule or target was removed: nothing to deliver to
        rule, target = found
        labels = (task.bus, rule.name, target.id)
        if task.attempt > 0:
            metrics.RETRIED.labels(*labels).inc()
        try:
            code, message, retriable = await self._attempt(rule, target, task)
        except Exception as exc:
            code, message, retriable = "InternalFailure", str(exc), True
        if code is None:
            metrics.DELIVERED.labels(*labels).inc()
            latency = max(0.0, time.time() - task.first_ms / 1000)
            metrics.DELIVERY_LATENCY.labels(target.kind).observe(latency)
            return
        metrics.FAILED.labels(*labels).inc()
        failed = replace(task, attempt=task.attempt + 1, last_error_code=code, last_error=message)
        if not retriable:
            await self._give_up(rule, target, failed, "NonRetriableError")
            return
        policy = RetryPolicy(
            target.retry.maximum_retry_attempts, target.retry.maximum_event_age_seconds
        )
        due = int(time.time() * 1000) + int(self.delay(failed.attempt) * 1000)
        verdict = policy.next(failed.attempt, task.first_ms, due)
        if verdict is GiveUp.ATTEMPTS:
            await self._give_up(rule, target, failed, "MaximumRetryAttemptsExhausted")
        elif verdict is GiveUp.AGE:
            await self._give_up(rule, target, failed, "MaximumEventAgeExhausted")
        else:
            await self.send(delivery_record(replace(failed, due_ms=verdict)))

    async def _attempt(
        self, rule: RuleDef, target: TargetDef, task: Delivery
    ) -> tuple[str | None, str, bool]:
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
            out = self._writer.record(target, event, task.payload, rule.arn)
        except TargetUnavailable as exc:
            return exc.code, exc.message, True
        await self.send(out)
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
        await self.send(out)
        metrics.DEAD_LETTERED.labels(*labels, "dead_lettered").inc()
