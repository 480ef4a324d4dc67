"""Commands at work: task records are run, timer records fire when due.

Both topics are read by ``kafka/tasks.py`` consumers (at least once, each record when
it is due). A task's outcome and a timer's firing go back to the execution as inbox
records on ``eventplane.wf.inbox``; the owner ignores what arrives twice (a task id or
timer id it no longer waits for). A task record read again after a crash is run only if
the execution still waits for it (the read view says), so a completed state is never
run again; a task that was *running* when its replica died is run again by the next
owner of its partition: at-least-once, as for Lambda's retries.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventplane.kafka import naming
from eventplane.kafka.tasks import TaskConsumer, TaskTopic
from eventplane.observability import stages
from eventplane.observability.logging import get_logger
from eventplane.runtime import ServerContext
from eventplane.workflows import records
from eventplane.workflows.clock import Clock
from eventplane.workflows.model import Inbox, TaskResult, TimerFired
from eventplane.workflows.perform import Outcome
from eventplane.workflows.view import View

_log = get_logger("eventplane.workflows.dispatch")


async def send_inbox(ctx: ServerContext, clock: Clock, rec: records.InboxRecord) -> None:
    """Append an inbox record to the execution's inbox partition (acks=all)."""
    value, headers = records.encode_inbox(rec, clock.now_ms())
    headers = [*headers, stages.stamp(stages.WF_SENT_AT)]
    fut = ctx.producer.produce(
        naming.WF_INBOX, value, key=rec.execution_arn.encode(), headers=headers
    )
    await asyncio.wrap_future(fut)


def _decode(value: bytes, headers: Sequence[tuple[str, bytes | None]]) -> records.CommandRecord:
    return records.decode_command(value, headers)


@dataclass(frozen=True, slots=True)
class _Task:
    command: records.CommandRecord
    stepped_at: float | None  # when the owner took the step that wrote it (stages)


def _decode_task(value: bytes, headers: Sequence[tuple[str, bytes | None]]) -> _Task:
    return _Task(
        records.decode_command(value, headers), stages.stamp_of(headers, stages.WF_STEP_AT)
    )


# (resource, payload, waits for a token, execution ARN, task id, task token) -> outcome:
# ``WorkflowsCore.perform_task``, which starts child executions itself.
PerformTask = Callable[[str, Any, bool, str, str, str | None], Awaitable[Outcome]]


class Dispatcher:
    def __init__(self, ctx: ServerContext, clock: Clock, perform: PerformTask, view: View) -> None:
        self._ctx = ctx
        self._view = view
        self._clock = clock
        self._perform = perform
        self.tasks = TaskConsumer(
            ctx.settings,
            TaskTopic(
                topic=naming.WF_TASKS,
                group=naming.WF_TASKS_GROUP,
                name="wf-tasks",
                decode=_decode_task,
                due_ms=lambda c: 0,
            ),
            instance_id=ctx.instance_id,
            run=self._run_task,
        )
        self.timers = TaskConsumer(
            ctx.settings,
            TaskTopic(
                topic=naming.WF_TIMERS,
                group=naming.WF_TIMERS_GROUP,
                name="wf-timers",
                decode=_decode,
                due_ms=lambda c: clock.wall_ms(c.due_ms),
            ),
            instance_id=ctx.instance_id,
            run=self._fire,
        )

    def start(self) -> None:
        self.tasks.start()
        self.timers.start()

    def close(self) -> None:
        self.tasks.close()
        self.timers.close()

    async def _inbox(self, arn: str, inbox: Inbox) -> None:
        await send_inbox(self._ctx, self._clock, records.InboxRecord(arn, inbox))

    async def _fire(self, c: records.CommandRecord) -> None:
        await self._inbox(c.execution_arn, TimerFired(c.id))

    async def _run_task(self, task: _Task) -> None:
        c = task.command
        consumed_at = time.time()
        stages.observe("wf_step_to_task_consume", task.stepped_at, consumed_at)
        # A task record read again after a crash may belong to a state that completed
        # since: run only what the execution still waits for.
        live = await asyncio.to_thread(self._view.task_live, c.execution_arn, c.id, 30.0)
        if not live:
            return
        payload = json.loads(c.payload) if c.payload else None
        invoked_at = time.time()
        stages.observe("wf_task_consume_to_invoke", consumed_at, invoked_at)
        out = await self._perform(
            c.resource or "", payload, c.wait_for_callback, c.execution_arn, c.id, c.token
        )
        stages.observe("wf_task_invoke", invoked_at)
        await self._inbox(
            c.execution_arn,
            TaskResult(c.id, out.ok, out.output, out.error, out.cause, out.submitted),
        )
