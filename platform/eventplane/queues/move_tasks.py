"""Message move tasks: redrive a dead-letter queue back to its sources (StartMessageMoveTask).

A task lives in the registry (kind ``queue-move-task``) so any replica can list
or cancel it; the replica that started it runs it. It receives from the DLQ
oldest first, sends each message to the given destination or to the queue it
originally came from (``DeadLetterQueueSourceArn``), then deletes it from the
DLQ, at most ``MaxNumberOfMessagesPerSecond`` per second. Moving is
at-least-once: a crash between send and delete can deliver a message twice.

The task record changes state only at start, on cancel and at the end; the
runner's progress goes to a separate record (``queue-move-progress``), so a
progress update can never overwrite a cancel.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from typing import Any

from eventplane.errors import EventplaneError, InvalidParameterValue, ResourceNotFound
from eventplane.errors.queues import QueueDoesNotExist, UnsupportedOperation
from eventplane.observability.logging import get_logger
from eventplane.queues import shapes
from eventplane.queues.engine import QueueEngine, new_record
from eventplane.queues.queue_def import QueueDef

_log = get_logger("eventplane.queues.moves")

KIND = "queue-move-task"
PROGRESS = "queue-move-progress"
MAX_RATE = 500
ACTIVE = ("RUNNING", "CANCELLING")


def _handle(source: str, task_id: str) -> str:
    raw = json.dumps({"source": source, "id": task_id}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _parse_handle(handle: str) -> tuple[str, str]:
    try:
        doc = json.loads(base64.urlsafe_b64decode(handle + "=" * (-len(handle) % 4)))
        return str(doc["source"]), str(doc["id"])
    except (ValueError, KeyError, TypeError):
        raise ResourceNotFound(f"Task handle {handle!r} does not exist.") from None


class MoveTasks:
    def __init__(self, engine: QueueEngine) -> None:
        self.engine = engine
        self.registry = engine.ctx.registry
        self._running: dict[str, asyncio.Task[None]] = {}

    # --- records ------------------------------------------------------------------------
    def _tasks(self, source: str) -> list[dict[str, Any]]:
        return [dict(r.spec) for r in self.registry.find(KIND, f"{source}.")]

    def _task(self, source: str, task_id: str) -> dict[str, Any] | None:
        r = self.registry.get(KIND, f"{source}.{task_id}")
        return dict(r.spec) if r is not None else None

    def _moved(self, task: dict[str, Any]) -> int:
        if task["status"] in ACTIVE:
            p = self.registry.get(PROGRESS, f"{task['source']}.{task['id']}")
            if p is not None:
                return int(p.spec["moved"])
        return int(task["moved"])

    async def _save(self, task: dict[str, Any]) -> None:
        await asyncio.to_thread(self.registry.put, KIND, f"{task['source']}.{task['id']}", task)

    async def _save_progress(self, task: dict[str, Any]) -> None:
        name = f"{task['source']}.{task['id']}"
        await asyncio.to_thread(self.registry.put, PROGRESS, name, {"moved": task["moved"]})

    def _source(self, ref: str) -> QueueDef:
        try:
            return self.engine.get(ref, field="SourceArn")
        except QueueDoesNotExist:
            raise ResourceNotFound(
                "The resource that you specified for the SourceArn parameter doesn't exist."
            ) from None

    # --- API ----------------------------------------------------------------------------
    async def start(self, source_arn: str, destination_arn: str, rate: int) -> str:
        source = self._source(source_arn)
        if not self.engine.dead_letter_sources(source):
            raise InvalidParameterValue(
                "Source queue must be configured as a Dead Letter Queue (no queue's RedrivePolicy "
                f"targets {source.plain})."
            )
        destination = (
            self.engine.get(destination_arn, field="DestinationArn").name if destination_arn else ""
        )
        if not 0 <= rate <= MAX_RATE:
            raise InvalidParameterValue(
                f"Value {rate} for parameter MaxNumberOfMessagesPerSecond is invalid. "
                f"Reason: Must be between 1 and {MAX_RATE}."
            )
        if any(t["status"] in ACTIVE for t in self._tasks(source.name)):
            raise UnsupportedOperation(f"A message move task is already running on {source.plain}.")
        counts = await self.engine.counts(source, local_only=False)
        task_id = uuid.uuid4().hex[:12]
        task: dict[str, Any] = {
            "id": task_id,
            "source": source.name,
            "destination": destination,
            "rate": rate,
            "status": "RUNNING",
            "moved": 0,
            "to_move": counts["ApproximateNumberOfMessages"],
            "started_ms": int(time.time() * 1000),
            "failure_reason": "",
        }
        await self._save(task)
        self._running[task_id] = asyncio.create_task(
            self._run(source, task), name=f"move-{task_id}"
        )
        return _handle(source.arn, task_id)

    def describe(
        self, source_arn: str, max_results: int
    ) -> list[shapes.ListMessageMoveTasksResultEntry]:
        source = self._source(source_arn)
        if max_results and not 1 <= max_results <= 10:
            raise InvalidParameterValue(
                f"Value {max_results} for parameter MaxResults is invalid. "
                "Reason: Must be between 1 and 10."
            )
        tasks = sorted(self._tasks(source.name), key=lambda t: t["started_ms"], reverse=True)
        return [self._view(source, t) for t in tasks[: max_results or 1]]

    def _view(self, source: QueueDef, t: dict[str, Any]) -> shapes.ListMessageMoveTasksResultEntry:
        dest = self.engine.lookup(t["destination"]) if t["destination"] else None
        return shapes.ListMessageMoveTasksResultEntry(
            task_handle=_handle(source.arn, t["id"]) if t["status"] == "RUNNING" else "",
            status=t["status"],
            source_arn=source.arn,
            destination_arn=dest.arn if dest else "",
            max_number_of_messages_per_second=t["rate"],
            approximate_number_of_messages_moved=self._moved(t),
            approximate_number_of_messages_to_move=t["to_move"],
            failure_reason=t["failure_reason"],
            started_timestamp=t["started_ms"],
        )

    async def cancel(self, handle: str) -> int:
        source_ref, task_id = _parse_handle(handle)  # the source queue's ARN
        try:
            source = self.engine.find(source_ref, "TaskHandle")
        except EventplaneError:
            source = None
        task = self._task(source.name, task_id) if source is not None else None
        if source is None or task is None:
            raise ResourceNotFound(f"Task handle {handle!r} does not exist.")
        if task["status"] != "RUNNING":
            raise UnsupportedOperation(f"The task is {task['status']}, not RUNNING.")
        task["status"] = "CANCELLING"
        await self._save(task)
        runner = self._running.get(task_id)
        if runner is not None:
            await asyncio.wait({runner}, timeout=10)
        latest = self._task(source.name, task_id) or task
        return self._moved(latest)

    # --- the runner ---------------------------------------------------------------------
    async def _run(self, source: QueueDef, task: dict[str, Any]) -> None:
        interval = 1.0 / task["rate"] if task["rate"] else 0.0
        last_save = time.monotonic()
        final = "COMPLETED"
        try:
            while True:
                current = self._task(source.name, task["id"])
                if current is not None and current["status"] == "CANCELLING":
                    final = "CANCELLED"
                    break
                batch = await self._receive(source, 1 if interval else 10)
                if not batch:
                    break
                for m in batch:
                    started = time.monotonic()
                    await self._move(source, task, m)
                    task["moved"] += 1
                    if interval:
                        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
                if time.monotonic() - last_save > 1.0:
                    await self._save_progress(task)
                    last_save = time.monotonic()
        except EventplaneError as exc:
            final, task["failure_reason"] = "FAILED", exc.message
        except Exception as exc:
            _log.exception("message move task failed", task=task["id"])
            final, task["failure_reason"] = "FAILED", str(exc)
        finally:
            self._running.pop(task["id"], None)
            current = self._task(source.name, task["id"])
            if final == "COMPLETED" and current is not None and current["status"] == "CANCELLING":
                final = "CANCELLED"  # cancelled while the last batch was moving
            await self._save({**task, "status": final})
            await self._save_progress(task)
            _log.info("message move task ended", task=task["id"], status=final, moved=task["moved"])

    async def _receive(self, source: QueueDef, n: int) -> list[shapes.Message]:
        req = shapes.ReceiveMessageRequest(
            queue_url=source.url,
            max_number_of_messages=n,
            visibility_timeout=60,
            wait_time_seconds=0,
            message_system_attribute_names=["All"],
            message_attribute_names=["All"],
        )
        return await self.engine.receive(source, req, n, local_only=False, oldest_first=True)

    async def _move(self, source: QueueDef, task: dict[str, Any], m: shapes.Message) -> None:
        # The destination's internal name, else back to where the message came from.
        if task["destination"]:
            dest = self.engine.lookup(task["destination"])
        else:
            dest = self.engine.find(
                m.attributes.get("DeadLetterQueueSourceArn", ""),
                "DeadLetterQueueSourceArn",
                account=source.account,
            )
        if dest is None:
            raise QueueDoesNotExist("The specified queue does not exist.")
        attrs = dict(m.message_attributes)
        fifo = dest.config.fifo
        group = (m.attributes.get("MessageGroupId") or m.message_id) if fifo else None
        dedup = (m.attributes.get("MessageDeduplicationId") or m.message_id) if fifo else None
        record = new_record(
            m.body,
            attrs,
            delay_seconds=0,
            group_id=group,
            dedup_id=dedup,
            now_ms=self.engine.clock(),
        )
        await self.engine.send(dest, record)
        await self.engine.delete(source, m.receipt_handle)
