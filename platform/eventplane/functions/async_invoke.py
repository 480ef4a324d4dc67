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
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from eventplane.bus.entries import envelope
from eventplane.bus.model import BusEvent, TargetDef
from eventplane.bus.targets import Outgoing, TargetUnavailable, TargetWriter, invocation_record
from eventplane.config import Settings
from eventplane.functions import metrics
from eventplane.functions.invocations import ASYNC_TOPIC, Invocation, decode
from eventplane.functions.pool import InvocationResult, Throttled
from eventplane.kafka import naming
from eventplane.kafka.clients import Producer
from eventplane.kafka.tasks import TaskConsumer
from eventplane.observability.logging import get_logger
from eventplane.queues.messages import MessageAttribute
from eventplane.topics import model as topic_model

_log = get_logger("eventplane.functions.async")

ASYNC_GROUP = f"{naming.PREFIX}.fn.async"
RETRY_DELAYS_S = (60.0, 120.0)  # Lambda: about one minute, then about two
THROTTLE_BASE_S = 1.0
THROTTLE_MAX_S = 300.0


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


class AsyncInvoker:
    def __init__(
        self,
        settings: Settings,
        producer: Producer,
        writer: TargetWriter,
        *,
        instance_id: str,
        policy: Callable[[Invocation], AsyncPolicy | None],
        run: Run,
    ) -> None:
        self._settings = settings
        self._producer = producer
        self._writer = writer
        self._policy = policy
        self._run = run
        self._consumer = TaskConsumer(
            settings,
            topic=ASYNC_TOPIC,
            group=ASYNC_GROUP,
            name="fn-async",
            instance_id=instance_id,
            decode=decode,
            due_ms=lambda inv: inv.due_ms,
            run=self._handle,
            on_backlog=metrics.ASYNC_BACKLOG.set,
        )

    def start(self) -> None:
        self._consumer.start()

    def close(self, timeout: float = 15.0) -> None:
        self._consumer.close(timeout)

    async def enqueue(self, inv: Invocation) -> None:
        await self._send(invocation_record(inv))

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
            delay = min(THROTTLE_MAX_S, THROTTLE_BASE_S * 2**inv.throttles)
            delay *= random.uniform(0.8, 1.0) * self._settings.delivery_time_scale
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
        if attempt <= policy.maximum_retry_attempts:
            delay = RETRY_DELAYS_S[min(attempt, len(RETRY_DELAYS_S)) - 1]
            delay *= self._settings.delivery_time_scale
            due = now_ms + int(delay * 1000)
            if due - inv.first_ms <= policy.maximum_event_age_seconds * 1000:
                metrics.ASYNC_RETRIES.labels(inv.function, "error").inc()
                await self.enqueue(
                    replace(
                        inv,
                        attempt=attempt,
                        due_ms=due,
                        last_error=result.payload,
                        last_function_error=result.function_error,
                    )
                )
                return
            condition = "EventAgeExceeded"
        else:
            condition = "RetriesExhausted"
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
            await self._dead_letter(policy.dead_letter_arn, inv, result)

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
        try:
            target = TargetDef.parse({"Id": "destination", "Arn": arn})
            now = int(time.time() * 1000)
            event = envelope(
                source="lambda",
                detail_type=f"Lambda Function Invocation Result - {kind}",
                detail=record,
                resources=[policy.function_arn],
                time_ms=now,
            )
            out = self._writer.record(target, BusEvent(event, now), json.dumps(record))
        except (TargetUnavailable, Exception) as exc:
            metrics.DESTINATIONS.labels(inv.function, kind, "failed").inc()
            _log.error("destination unavailable", destination=arn, error=str(exc))
            return
        await self._send(out)
        metrics.DESTINATIONS.labels(inv.function, kind, "delivered").inc()

    async def _dead_letter(
        self, arn: str, inv: Invocation, result: InvocationResult | None
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
        body = inv.payload.decode(errors="replace")
        target = TargetDef.parse({"Id": "dlq", "Arn": arn})
        out: Outgoing | None = None
        if target.kind == "sqs":
            queue = self._writer.queue(target.endpoint)
            if queue is not None:
                out = self._writer.queue_record(
                    queue,
                    body,
                    attributes=attributes,
                    group_id=inv.function,
                    dedup_id=inv.request_id,
                )
        elif target.kind == "sns":
            published = topic_model.Published(
                message_id=inv.request_id,
                message=body,
                http_message=None,
                subject=None,
                attributes=attributes,
                published_ms=int(time.time() * 1000),
            )
            value, headers = topic_model.encode(published)
            out = Outgoing(naming.topic_topic(target.endpoint), value, headers)
        if out is None:
            metrics.DESTINATIONS.labels(inv.function, "DeadLetter", "failed").inc()
            _log.error("dead-letter target unavailable", target=arn, function=inv.function)
            return
        await self._send(out)
        metrics.DESTINATIONS.labels(inv.function, "DeadLetter", "delivered").inc()

    async def _send(self, out: Outgoing) -> None:
        await out.send(self._producer)


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
