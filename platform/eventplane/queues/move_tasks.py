"""Message move tasks: redrive a dead-letter queue back to its sources (StartMessageMoveTask).

A task lives in the registry (kind ``queue-move-task``) so any replica can list
or cancel it; the replica that started it runs it. It receives from the DLQ
oldest first, sends each message to the given destination or to the queue it
originally came from (``DeadLetterQueueSourceArn``), then deletes it from the
DLQ, at most ``MaxNumberOfMessagesPerSecond`` per second. Moving is
at-least-once: a crash between send and delete can deliver a message twice.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from typing import Any

from eventplane._gen.v1 import queues_pb2 as pb
from eventplane.errors import EventplaneError, InvalidParameterValue, ResourceNotFound
from eventplane.observability.logging import get_logger
from eventplane.queues.attributes import name_from_ref
from eventplane.queues.engine import QueueEngine, new_record
from eventplane.queues.errors import UnsupportedOperation
from eventplane.queues.messages import MessageAttribute
from eventplane.queues.queue_def import QueueDef

_log = get_logger("eventplane.queues.moves")

KIND = "queue-move-task"
MAX_RATE = 500


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

    def _tasks(self, source: str) -> list[dict[str, Any]]:
        return [dict(r.spec) for r in self.registry.find(KIND, f"{source}.")]

    async def _save(self, task: dict[str, Any]) -> None:
        await asyncio.to_thread(self.registry.put, KIND, f"{task['source']}.{task['id']}", task)

    async def start(self, source_arn: str, destination_arn: str, rate: int) -> str:
        source = self.engine.get(source_arn, field="SourceArn")
        if not self.engine.dead_letter_sources(source):
            raise InvalidParameterValue(
                "Source queue must be configured as a Dead Letter Queue (no queue's RedrivePolicy "
                f"targets {source.name})."
            )
        destination = (
            self.engine.get(destination_arn, field="DestinationArn").name if destination_arn else ""
        )
        if not 0 <= rate <= MAX_RATE:
            raise InvalidParameterValue(
                f"Value {rate} for parameter MaxNumberOfMessagesPerSecond is invalid. "
                f"Reason: Must be between 1 and {MAX_RATE}."
            )
        if any(t["status"] in ("RUNNING", "CANCELLING") for t in self._tasks(source.name)):
            raise UnsupportedOperation(f"A message move task is already running on {source.name}.")
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
        return _handle(source.name, task_id)

    def describe(self, source_arn: str, max_results: int) -> list[pb.MessageMoveTask]:
        source = self.engine.get(source_arn, field="SourceArn")
        if max_results and not 1 <= max_results <= 10:
            raise InvalidParameterValue(
                f"Value {max_results} for parameter MaxResults is invalid. "
                "Reason: Must be between 1 and 10."
            )
        tasks = sorted(self._tasks(source.name), key=lambda t: t["started_ms"], reverse=True)
        return [self._view(source, t) for t in tasks[: max_results or 1]]

    def _view(self, source: QueueDef, t: dict[str, Any]) -> pb.MessageMoveTask:
        dest = self.engine.lookup(t["destination"]) if t["destination"] else None
        return pb.MessageMoveTask(
            task_handle=_handle(t["source"], t["id"]) if t["status"] == "RUNNING" else "",
            status=t["status"],
            source_arn=source.arn,
            destination_arn=dest.arn if dest else "",
            max_number_of_messages_per_second=t["rate"],
            approximate_number_of_messages_moved=t["moved"],
            approximate_number_of_messages_to_move=t["to_move"],
            failure_reason=t["failure_reason"],
            started_timestamp=t["started_ms"],
        )

    async def cancel(self, handle: str) -> int:
        source, task_id = _parse_handle(handle)
        found = self.registry.get(KIND, f"{source}.{task_id}")
        if found is None:
            raise ResourceNotFound(f"Task handle {handle!r} does not exist.")
        task = dict(found.spec)
        if task["status"] != "RUNNING":
            raise UnsupportedOperation(f"The task is {task['status']}, not RUNNING.")
        task["status"] = "CANCELLING"
        await self._save(task)
        runner = self._running.get(task_id)
        if runner is not None:
            await asyncio.wait({runner}, timeout=10)
        latest = self.registry.get(KIND, f"{source}.{task_id}")
        return int(latest.spec["moved"]) if latest else int(task["moved"])

    async def _run(self, source: QueueDef, task: dict[str, Any]) -> None:
        interval = 1.0 / task["rate"] if task["rate"] else 0.0
        last_save = time.monotonic()
        try:
            while True:
                current = self.registry.get(KIND, f"{source.name}.{task['id']}")
                if current is not None and current.spec["status"] == "CANCELLING":
                    task["status"] = "CANCELLED"
                    break
                batch = await self._receive(source, 1 if interval else 10)
                if not batch:
                    task["status"] = "COMPLETED"
                    break
                for m in batch:
                    started = time.monotonic()
                    await self._move(source, task, m)
                    task["moved"] += 1
                    if interval:
                        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
                if time.monotonic() - last_save > 1.0:
                    await self._save({**task, "status": "RUNNING"})
                    last_save = time.monotonic()
        except EventplaneError as exc:
            task["status"], task["failure_reason"] = "FAILED", exc.message
        except Exception as exc:
            _log.exception("message move task failed", task=task["id"])
            task["status"], task["failure_reason"] = "FAILED", str(exc)
        finally:
            self._running.pop(task["id"], None)
            await self._save(task)
            _log.info(
                "message move task ended",
                task=task["id"],
                status=task["status"],
                moved=task["moved"],
            )

    async def _receive(self, source: QueueDef, n: int) -> list[pb.Message]:
        req = pb.ReceiveMessageRequest(
            queue_url=source.url,
            max_number_of_messages=n,
            visibility_timeout=60,
            has_visibility_timeout=True,
            wait_time_seconds=0,
            has_wait_time_seconds=True,
            message_system_attribute_names=["All"],
            message_attribute_names=["All"],
        )
        return await self.engine.receive(source, req, local_only=False)

    async def _move(self, source: QueueDef, task: dict[str, Any], m: pb.Message) -> None:
        target = task["destination"] or name_from_ref(
            m.attributes.get("DeadLetterQueueSourceArn", ""), field="DeadLetterQueueSourceArn"
        )
        dest = self.engine.get(target, field="DestinationArn")
        attrs = {
            k: MessageAttribute(v.data_type, v.string_value or None, v.binary_value or None)
            for k, v in m.message_attributes.items()
        }
        group = m.attributes.get("MessageGroupId") if dest.config.fifo else None
        dedup = (
            m.attributes.get("MessageDeduplicationId") or m.message_id if dest.config.fifo else None
        )
        record = new_record(
            m.body,
            attrs,
            delay_seconds=0,
            group_id=group or (m.message_id if dest.config.fifo else None),
            dedup_id=dedup,
            now_ms=self.engine.clock(),
        )
        await self.engine.send(dest, record)
        await self.engine.delete(source, m.receipt_handle)
