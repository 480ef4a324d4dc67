"""Asynchronous invocations: run when due, retry, then destinations and dead letters.

The replicas with the runner role share ``eventplane.fn.async`` through a due-time task
consumer (at least once; a runner crash repeats an invocation, never loses it). For each
invocation:

- older than the function's MaximumEventAgeInSeconds: dropped to the OnFailure
  destination (condition ``EventAgeExceeded``) and the dead-letter queue;
- throttled (reserved concurrency in use): written back with a backed-off due time,
  until the maximum age;
- a function error: written back as attempt + 1 after about 1 minute, then 2 minutes
  (Lambda's schedule; ``delivery_time_scale`` shortens it for tests only), until
  MaximumRetryAttempts; then OnFailure (``RetriesExhausted``) and the dead-letter queue;
- success: the OnSuccess destination, if any.

Destination records have Lambda's shape (version, timestamp, requestContext,
requestPayload, responseContext, responsePayload); a bus destination receives them as
the detail of a ``Lambda Function Invocation Result - Success|Failure`` event.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final

from eventplane import arn as arns
from eventplane.config import Settings
from eventplane.delivery import MessageAttribute, Payload, Router, TargetUnavailable
from eventplane.delivery.retry import GiveUp, RetryPolicy, TaskRunner, backoff
from eventplane.functions import metrics
from eventplane.functions.invocations import ASYNC_TOPIC, Invocation, decode, invocation_record
from eventplane.functions.pool import InvocationResult, Throttled
from eventplane.kafka import naming
from eventplane.kafka.clients import Producer
from eventplane.kafka.tasks import TaskTopic
from eventplane.observability.logging import get_logger

_log = get_logger("eventplane.functions.async")

ASYNC_GROUP = f"{naming.PREFIX}.fn.async"
RETRY_DELAYS_S = (60.0, 120.0)  # Lambda: about one minute, then about two
THROTTLE_BASE_S = 1.0
THROTTLE_MAX_S = 300.0
TASKS: Final = TaskTopic(
    ASYNC_TOPIC,
    ASYNC_GROUP,
    "fn-async",
    decode=decode,
    due_ms=lambda inv: inv.due_ms,
    on_backlog=metrics.ASYNC_BACKLOG.set,
    identity=lambda inv: inv.request_id,  # retries and throttled re-queues keep it
)


@dataclass(frozen=True)
class AsyncPolicy:
    """What the function's configuration says about asynchronous invocations."""

    function_arn: str
    maximum_retry_attempts: int = 2
    maximum_event_age_seconds: int = 21_600
    on_success: str | None = None
    on_failure: str | None = None
    dead_letter_arn: str | None = None


Run = Callable[[Invocation], Awaitable[tuple[InvocationResult, str]]]  # result, executed version


class AsyncInvoker(TaskRunner[Invocation]):
    def __init__(
        self,
        settings: Settings,
        producer: Producer,
        router: Router,
        *,
        instance_id: str,
        policy: Callable[[Invocation], AsyncPolicy | None],
        run: Run,
    ) -> None:
        self._settings = settings
        self._router = router
        self._policy = policy
        self._run = run
        super().__init__(settings, producer, TASKS, instance_id=instance_id, run=self._handle)

    async def enqueue(self, inv: Invocation) -> None:
        await self.send(invocation_record(inv))

    # --- one invocation -----------------------------------------------------------------------
    async def _handle(self, inv: Invocation) -> None:
        policy = self._policy(inv)
        if policy is None:
            _log.warning(
                "async invocation of a function that no longer exists dropped",
                function=inv.function,
                request_id=inv.request_id,
            )
            return
        now_ms = int(time.time() * 1000)
        metrics.ASYNC_AGE.labels(inv.function).observe(max(0, now_ms - inv.first_ms) / 1000)
        if now_ms - inv.first_ms > policy.maximum_event_age_seconds * 1000:
            metrics.ASYNC_DROPPED.labels(inv.function, "EventAgeExceeded").inc()
            await self._failed(inv, policy, "EventAgeExceeded", None, None)
            return
        try:
            result, version = await self._run(inv)
        except Throttled:
            delay = backoff(
                inv.throttles,
                base_s=THROTTLE_BASE_S,
                max_s=THROTTLE_MAX_S,
                time_scale=self._settings.delivery_time_scale,
            )
            metrics.ASYNC_RETRIES.labels(inv.function, "throttled").inc()
            await self.enqueue(
                replace(inv, throttles=inv.throttles + 1, due_ms=now_ms + int(delay * 1000))
            )
            return
        if result.function_error is None:
            if policy.on_success:
                record = _record(inv, policy, "Success", result, version)
                await self._destination(policy.on_success, record, inv, policy, success=True)
            return
        attempt = inv.attempt + 1
        delay = RETRY_DELAYS_S[min(attempt, len(RETRY_DELAYS_S)) - 1]
        due = now_ms + int(delay * self._settings.delivery_time_scale * 1000)
        retry = RetryPolicy(policy.maximum_retry_attempts, policy.maximum_event_age_seconds)
        verdict = retry.next(attempt, inv.first_ms, due)
        if not isinstance(verdict, GiveUp):
            metrics.ASYNC_RETRIES.labels(inv.function, "error").inc()
            await self.enqueue(
                replace(
                    inv,
                    attempt=attempt,
                    due_ms=verdict,
                    last_error=result.payload,
                    last_function_error=result.function_error,
                )
            )
            return
        condition = "RetriesExhausted" if verdict is GiveUp.ATTEMPTS else "EventAgeExceeded"
        metrics.ASYNC_DROPPED.labels(inv.function, condition).inc()
        await self._failed(replace(inv, attempt=attempt), policy, condition, result, version)

    async def _failed(
        self,
        inv: Invocation,
        policy: AsyncPolicy,
        condition: str,
        result: InvocationResult | None,
        version: str | None,
    ) -> None:
        _log.warning(
            "async invocation failed for good",
            function=inv.function,
            request_id=inv.request_id,
            condition=condition,
            attempts=inv.attempt,
        )
        if policy.on_failure:
            record = _record(inv, policy, condition, result, version)
            await self._destination(policy.on_failure, record, inv, policy, success=False)
        if policy.dead_letter_arn:
            await self._dead_letter(policy.dead_letter_arn, inv, result, policy.function_arn)

    async def _destination(
        self,
        arn: str,
        record: dict[str, Any],
        inv: Invocation,
        policy: AsyncPolicy,
        *,
        success: bool,
    ) -> None:
        kind = "Success" if success else "Failure"
        payload = Payload(
            json.dumps(record),
            origin="destination",
            # a bus receives the record as the detail of this event
            source="lambda",
            detail_type=f"Lambda Function Invocation Result - {kind}",
            resources=(policy.function_arn,),
            source_arn=policy.function_arn,  # a target of another account checks its account
        )
        try:
            out = self._router.record(arn, payload)
        except (TargetUnavailable, Exception) as exc:
            metrics.DESTINATIONS.labels(inv.function, kind, "failed").inc()
            _log.error("destination unavailable", destination=arn, error=str(exc))
            return
        await self.send(out)
        metrics.DESTINATIONS.labels(inv.function, kind, "delivered").inc()

    async def _dead_letter(
        self, arn: str, inv: Invocation, result: InvocationResult | None, function_arn: str
    ) -> None:
        """The original event, with Lambda's RequestID, ErrorCode and ErrorMessage attributes."""
        message = ""
        if result is not None:
            try:
                message = str(json.loads(result.payload).get("errorMessage", ""))
            except (ValueError, AttributeError):
                message = result.payload.decode(errors="replace")
        attributes = {
            "RequestID": MessageAttribute("String", inv.request_id),
            "ErrorCode": MessageAttribute("Number", "200"),
            "ErrorMessage": MessageAttribute("String", message[:1024] or "event age exceeded"),
        }
        payload = Payload(
            inv.payload.decode(errors="replace"),
            attributes=attributes,
            group_id=inv.function,
            dedup_id=inv.request_id,
            message_id=inv.request_id,
            origin="destination",
            source_arn=function_arn,
        )
        target = arns.parse_as(arn, arns.Kind.QUEUE, arns.Kind.TOPIC)  # as validated
        try:
            if target is None:
                raise TargetUnavailable("InvalidParameter", f"{arn} is not a queue or topic")
            out = self._router.record(arn, payload)
        except TargetUnavailable:
            metrics.DESTINATIONS.labels(inv.function, "DeadLetter", "failed").inc()
            _log.error("dead-letter target unavailable", target=arn, function=inv.function)
            return
        await self.send(out)
        metrics.DESTINATIONS.labels(inv.function, "DeadLetter", "delivered").inc()


def _record(
    inv: Invocation,
    policy: AsyncPolicy,
    condition: str,
    result: InvocationResult | None,
    version: str | None,
) -> dict[str, Any]:
    """Lambda's destination record."""
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": inv.request_id,
            "functionArn": f"{policy.function_arn}:{version or '$LATEST'}",
            "condition": condition,
            "approximateInvokeCount": max(1, inv.attempt + (1 if condition == "Success" else 0)),
        },
        "requestPayload": _json_or_text(inv.payload),
    }
    if result is not None:
        context: dict[str, Any] = {"statusCode": 200, "executedVersion": version or "$LATEST"}
        if result.function_error:
            context["functionError"] = result.function_error
        record["responseContext"] = context
        record["responsePayload"] = _json_or_text(result.payload)
    return record


def _json_or_text(data: bytes) -> Any:
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return data.decode(errors="replace")
