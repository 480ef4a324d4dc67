"""Commands at work: task records are run, timer records fire when due.

Both topics are read by ``kafka/tasks.py`` consumers (at least once, each record when
it is due). A task's outcome and a timer's firing go back to the execution as inbox
records on ``eventplane.wf.inbox``; the owner ignores what arrives twice (a task id or
timer id it no longer waits for). A task record read again after a crash is run only if
the execution still waits for it (the read view says), so a completed state is never
run again; a task that was *running* when its replica died is run again by the next
owner of its partition: at-least-once, as for Lambda's retries.

A function Task the execution's owner may run itself (``claim``): when this replica's
task consumer holds the partition the task record goes to, the owner claims the task
while it writes the step and, once the step committed, calls the function here (on the
task consumer's loop) and hands its result straight to the owner's next step
(``owner.HandedResult``), without waiting for the record to come back through Kafka and
the read view, nor for the result to go through the inbox. The task record is still
written in the step's transaction: reading it, this dispatcher waits for the owner's run
instead of running it again, and finishes the record only once the result is journaled
(the owner's step holding it committed) or, when the owner cannot apply it, once it is
in the inbox. So a replica that dies before that leaves the record unfinished, and the
next reader of the partition runs the task exactly as it would have without the claim.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import threading
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
from eventplane.workflows.machine import resource_kind
from eventplane.workflows.model import DispatchTask, Inbox, TaskResult, TimerFired
from eventplane.workflows.owner import HandedResult, ResultHandOver
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


# How long a finished claim is remembered for a task record this dispatcher has not read
# yet; past it the record is run only if the read view says the task still waits.
CLAIM_KEPT_S = 600.0
CLAIMS_PRUNED_ABOVE = 10_000
INBOX_RETRY_PAUSE_S = 0.5


def runs_in_owner(cmd: DispatchTask) -> bool:
    """A task its owner may run itself: a function invoke that answers with its result."""
    rtype, action, _ = resource_kind(cmd.resource)
    if cmd.wait_for_callback:
        return False
    return rtype == "lambdaFunction" or (rtype == "lambda" and action == "invoke")


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
        # (execution ARN, task id) -> the owner's run of it: True once its result is
        # journaled or in the inbox, False if it was not run (its step aborted, the loop
        # was gone).
        self._claims: dict[tuple[str, str], concurrent.futures.Future[bool]] = {}
        self._claims_lock = threading.Lock()
        self._claims_done: dict[tuple[str, str], float] = {}

    def start(self) -> None:
        self.tasks.start()
        self.timers.start()

    def close(self) -> None:
        self.tasks.close()
        self.timers.close()

    # --- tasks the owner runs itself --------------------------------------------------------
    def claim(self, arn: str, cmd: DispatchTask, partition: int) -> bool:
        """The owner, writing the step that dispatches ``cmd`` (before its commit): may it
        run the task itself? Only a function invoke, and only where this replica reads
        the task record's partition (another replica's dispatcher would run it too)."""
        if not runs_in_owner(cmd) or self.tasks.loop is None:
            return False
        if partition not in self.tasks.assigned:
            return False
        with self._claims_lock:
            self._prune()
            self._claims[arn, cmd.task_id] = concurrent.futures.Future()
        return True

    def unclaim(self, keys: Sequence[tuple[str, str]]) -> None:
        """The step's transaction aborted: its task records were never written."""
        with self._claims_lock:
            for key in keys:
                fut = self._claims.pop(key, None)
                if fut is not None:
                    _settle(fut, False)

    def run_claimed(
        self,
        arn: str,
        cmd: DispatchTask,
        payload: str,
        committed_at: float,
        hand_over: ResultHandOver | None = None,
    ) -> None:
        """The claimed task's step committed: run it (from the owner's thread). Its result
        goes to ``hand_over`` (the owner's next step) when given, else to the inbox."""
        with self._claims_lock:
            fut = self._claims.get((arn, cmd.task_id))
        if fut is None:
            if hand_over is not None:
                hand_over.withdraw_result()
            return
        loop = self.tasks.loop
        try:
            if loop is None:
                raise RuntimeError("the task consumer's loop is gone")
            asyncio.run_coroutine_threadsafe(
                self._run_direct(arn, cmd, payload, committed_at, fut, hand_over), loop
            )
        except Exception:
            if hand_over is not None:
                hand_over.withdraw_result()
            self._finish(arn, cmd.task_id, fut, False)  # run as if never claimed

    async def _run_direct(
        self,
        arn: str,
        cmd: DispatchTask,
        payload: str,
        committed_at: float,
        fut: concurrent.futures.Future[bool],
        hand_over: ResultHandOver | None,
    ) -> None:
        handed = False
        try:
            invoked_at = time.time()
            stages.observe("wf_commit_to_direct_invoke", committed_at, invoked_at)
            out = await self._perform(
                cmd.resource, json.loads(payload), False, arn, cmd.task_id, cmd.token
            )
            stages.observe("wf_task_invoke", invoked_at)
            result = out.result(cmd.task_id)
            if hand_over is None:
                await self._send_result(arn, result, fut)
                return
            loop = asyncio.get_running_loop()
            task_id = cmd.task_id

            def settle() -> None:
                self._finish(arn, task_id, fut, True)

            def fall_back() -> None:
                try:
                    asyncio.run_coroutine_threadsafe(self._send_result(arn, result, fut), loop)
                except Exception:
                    # The loop is gone (stopping): the task record runs the task again.
                    self._finish(arn, task_id, fut, False)

            hand_over.offer_result(HandedResult(arn, result, settle, fall_back))
            handed = True
        finally:
            if not handed:
                if hand_over is not None:
                    hand_over.withdraw_result()
                if not fut.done():
                    self._finish(arn, cmd.task_id, fut, False)

    async def _send_result(
        self, arn: str, result: TaskResult, fut: concurrent.futures.Future[bool]
    ) -> None:
        """A result in hand to the execution's inbox; its claim is settled once it is there."""
        sent = False
        try:
            while True:
                # The result is in hand: keep it rather than call the function again.
                try:
                    await self._inbox(arn, result)
                    break
                except Exception as exc:
                    _log.warning("task result not sent; retrying", execution=arn, error=str(exc))
                    await asyncio.sleep(INBOX_RETRY_PAUSE_S)
            sent = True
        finally:
            self._finish(arn, result.task_id, fut, sent)

    def _finish(
        self, arn: str, task_id: str, fut: concurrent.futures.Future[bool], ran: bool
    ) -> None:
        with self._claims_lock:
            self._claims_done[arn, task_id] = time.monotonic()
        _settle(fut, ran)

    def _claim_of(self, arn: str, task_id: str) -> concurrent.futures.Future[bool] | None:
        with self._claims_lock:
            return self._claims.get((arn, task_id))

    def _forget(self, arn: str, task_id: str) -> None:
        with self._claims_lock:
            self._claims_done.pop((arn, task_id), None)
            self._claims.pop((arn, task_id), None)

    def _prune(self) -> None:
        """Forget finished claims whose task record this dispatcher never read (its
        partition moved), once there are many of them (under the lock)."""
        if len(self._claims_done) <= CLAIMS_PRUNED_ABOVE:
            return
        horizon = time.monotonic() - CLAIM_KEPT_S
        for key, at in list(self._claims_done.items()):
            if at < horizon:
                del self._claims_done[key]
                self._claims.pop(key, None)

    async def _inbox(self, arn: str, inbox: Inbox) -> None:
        await send_inbox(self._ctx, self._clock, records.InboxRecord(arn, inbox))

    async def _fire(self, c: records.CommandRecord) -> None:
        await self._inbox(c.execution_arn, TimerFired(c.id))

    async def _run_task(self, task: _Task) -> None:
        c = task.command
        consumed_at = time.time()
        stages.observe("wf_step_to_task_consume", task.stepped_at, consumed_at)
        claim = self._claim_of(c.execution_arn, c.id)
        if claim is not None:
            # The owner runs it: the record is finished once the result is in the inbox
            # (shielded: losing the partition cancels this wait, not the owner's run).
            ran = await asyncio.shield(asyncio.wrap_future(claim))
            self._forget(c.execution_arn, c.id)
            if ran:
                return
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
            out.result(c.id),
        )


def _settle(fut: concurrent.futures.Future[bool], ran: bool) -> None:
    with contextlib.suppress(concurrent.futures.InvalidStateError):
        fut.set_result(ran)
