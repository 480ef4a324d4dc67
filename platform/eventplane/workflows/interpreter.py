"""The pure execution model: ``step(machine, state, inbox, now_ms) -> Step``.

Given an execution's folded state and one inbox record (start, task result, heartbeat,
timer, stop), a step returns the next state, the history events of what happened and
the commands they cause (dispatch a task, start a timer). No clock, no I/O: Standard
(journaled on Kafka) and Express (in memory) executions and unit tests share it.
"""

from __future__ import annotations

import copy
import functools
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eventplane import arn as arns
from eventplane.workflows import asl, distributed, flow, lang, redrive, task_kinds
from eventplane.workflows.asl import (
    ChoiceState,
    FailState,
    MapState,
    ParallelState,
    PassState,
    StateDef,
    SucceedState,
    TaskState,
    WaitState,
)
from eventplane.workflows.history import STATE_EVENT_PREFIX, HistoryEvent
from eventplane.workflows.lang import StatesError, dumps
from eventplane.workflows.machine import Machine, resource_kind, task_token
from eventplane.workflows.model import (
    ABORTED,
    FAILED,
    RUNNING,
    SUCCEEDED,
    TIMED_OUT,
    Claim,
    Command,
    DispatchTask,
    ExecutionState,
    Frame,
    Heartbeat,
    Inbox,
    Progress,
    Redrive,
    Start,
    StartTimer,
    Stop,
    TaskResult,
    TimerFired,
)

EXECUTION_TIMER = "*"
MAX_PAYLOAD_BYTES = 256 * 1024  # a state's input or output, as AWS


@dataclass(slots=True)
class Step:
    state: ExecutionState
    events: list[HistoryEvent] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)


def new_execution(execution_arn: str, name: str, state_machine_arn: str) -> ExecutionState:
    return ExecutionState(
        execution_arn=execution_arn, name=name, state_machine_arn=state_machine_arn
    )


def step(machine: Machine, state: ExecutionState, inbox: Inbox, now_ms: int) -> Step:
    """Apply one inbox record; ``state`` is not modified (the result holds a new one)."""
    run = _Run(machine, copy.deepcopy(state), now_ms)
    run.apply(inbox)
    return Step(run.state, run.events, run.commands)


def fail_execution(state: ExecutionState, error: str, cause: str, now_ms: int) -> Step:
    """End an execution as FAILED without stepping its states (when stepping is impossible)."""
    run = _Run(Machine({"StartAt": "_", "States": {"_": {"Type": "Succeed"}}}), state, now_ms)
    run.state = copy.deepcopy(state)
    if run.state.status == RUNNING:
        run.end(FAILED, "ExecutionFailed", error=error, cause=cause)
    return Step(run.state, run.events, run.commands)


@functools.lru_cache(maxsize=4096)
def iso(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


class _Run:
    def __init__(self, machine: Machine, state: ExecutionState, now_ms: int) -> None:
        self.m = machine
        self.state = state
        self.now = now_ms
        self.events: list[HistoryEvent] = []
        self.commands: list[Command] = []
        self._ready: list[Frame] = []
        # By frame id, a redriven Parallel/Map's branches or items that succeeded (kept,
        # not run again), and a redriven Distributed Map's Map Run (ARN, redrive count).
        self.keep: dict[str, dict[int, Any]] = {}
        self.redrive_map_runs: dict[str, tuple[str, int]] = {}
        # Where this step's commands stood when the history filled up (None: not full).
        self._full_at: int | None = None

    # --- plumbing ---------------------------------------------------------------------
    def emit(
        self, type_: str, details: dict[str, Any] | None = None, *, last: bool = False
    ) -> None:
        s = self.state
        # The history holds at most 25,000 events, the last kept for the failure that
        # ends an execution reaching the quota (see fail_if_history_full).
        if not last and s.last_event_id >= redrive.MAX_HISTORY_EVENTS - 1:
            if self._full_at is None:
                self._full_at = len(self.commands)
            return
        event = HistoryEvent(s.last_event_id + 1, s.last_event_id, self.now, type_, details or {})
        s.last_event_id = event.id
        self.events.append(event)

    def next_id(self, prefix: str) -> str:
        self.state.seq += 1
        return f"{prefix}{self.state.seq}"

    def timer(self, frame_fid: str, due_ms: int) -> str:
        tid = self.next_id("t")
        self.state.timers[tid] = frame_fid
        self.commands.append(StartTimer(tid, due_ms))
        return tid

    def find(self, fid: str) -> Frame | None:
        frame = self.state.root
        if frame is None or fid == frame.fid:
            return frame
        for part in fid.split("/")[1:]:
            assert frame is not None
            frame = next((c for c in frame.progress.children if c.fid.endswith("/" + part)), None)
            if frame is None:
                return None
        return frame

    def parent(self, frame: Frame) -> Frame | None:
        if "/" not in frame.fid:
            return None
        return self.find(frame.fid.rsplit("/", 1)[0])

    def sdef(self, frame: Frame) -> StateDef:
        return self.m.state(frame.scope, frame.state)

    def context(self, frame: Frame, token: str | None = None, item: Any = None) -> dict[str, Any]:
        s = self.state
        ctx: dict[str, Any] = {
            "Execution": {
                "Id": s.execution_arn,
                "Input": s.input,
                "Name": s.name,
                "RoleArn": arns.default_role(arns.account_of(s.execution_arn)),
                "StartTime": iso(s.start_ms),
                "RedriveCount": s.redrive_count,
            },
            "State": {
                "EnteredTime": iso(frame.progress.entered_ms or self.now),
                "Name": frame.state,
                "RetryCount": sum(frame.progress.retry_counts),
            },
            "StateMachine": {
                "Id": s.state_machine_arn,
                "Name": s.state_machine_arn.rsplit(":", 1)[-1],
            },
        }
        if token is not None:
            ctx["Task"] = {"Token": token}
        if item is not None:
            ctx["Map"] = {"Item": item}
        return ctx

    # --- inbox --------------------------------------------------------------------------
    def apply(self, inbox: Inbox) -> None:
        s = self.state
        if isinstance(inbox, Start):
            if s.root is None:
                self.start(inbox)
        elif isinstance(inbox, Redrive):
            if redrive.redrivable_status(s.status) and s.root is not None:
                redrive.restart(self, inbox.client_token)
        elif s.status != RUNNING:
            return  # late results, timers and stops of a finished execution
        elif isinstance(inbox, TaskResult):
            self.task_result(inbox)
        elif isinstance(inbox, Heartbeat):
            self.heartbeat(inbox)
        elif isinstance(inbox, TimerFired):
            self.timer_fired(inbox)
        elif isinstance(inbox, Claim):
            task_kinds.claim(self, inbox)
        elif isinstance(inbox, Stop):
            self.abort_frame(s.root)
            self.end(ABORTED, "ExecutionAborted", error=inbox.error, cause=inbox.cause)
        self.drain()

    def drain(self) -> None:
        while self._ready and self.state.status == RUNNING and self._full_at is None:
            self.enter(self._ready.pop(0))
        self.fail_if_history_full()

    def fail_if_history_full(self) -> None:
        """An execution whose history reached the quota fails, as on AWS.

        What the step started after the history filled up (tasks, timers) is not
        started: no event records it.
        """
        if self._full_at is None or self.state.status != RUNNING:
            return
        del self.commands[self._full_at :]
        self.abort_frame(self.state.root)
        self.end(
            FAILED,
            "ExecutionFailed",
            error="States.Runtime",
            cause=(
                f"The execution reached the maximum number of history events"
                f" ({redrive.MAX_HISTORY_EVENTS})."
            ),
        )

    def start(self, inbox: Start) -> None:
        s = self.state
        s.start_ms = self.now
        s.input = json.loads(inbox.input)
        s.version_arn, s.alias_arn = inbox.version_arn, inbox.alias_arn
        s.parent_token, s.parent_mode = inbox.parent_token, inbox.parent_mode
        details = {
            "input": inbox.input,
            "inputDetails": {"truncated": False},
            "roleArn": inbox.role_arn or arns.default_role(arns.account_of(s.execution_arn)),
            "stateMachineArn": s.state_machine_arn,
        }
        if s.version_arn is not None:
            details["stateMachineVersionArn"] = s.version_arn
        if s.alias_arn is not None:
            details["stateMachineAliasArn"] = s.alias_arn
        self.emit("ExecutionStarted", details)
        if self.m.timeout_seconds is not None:
            s.timers[EXECUTION_TIMER] = ""
            self.commands.append(
                StartTimer(EXECUTION_TIMER, self.now + self.m.timeout_seconds * 1000)
            )
        s.root = Frame(fid="0", scope=[], state=self.m.start_at([]), input=s.input)
        self._ready.append(s.root)

    def end(self, status: str, type_: str, **details: Any) -> None:
        s = self.state
        s.status = status
        s.stop_ms = self.now
        s.tasks.clear()
        s.timers.clear()
        s.activities.clear()
        if status == SUCCEEDED:
            s.output = details["output"]
            output = {"output": dumps(s.output), "outputDetails": {"truncated": False}}
            self.emit(type_, output, last=True)
        else:
            s.error, s.cause = details.get("error"), details.get("cause")
            error = {k: v for k, v in (("error", s.error), ("cause", s.cause)) if v is not None}
            self.emit(type_, error, last=True)
        task_kinds.notify_parent(self)

    # --- entering a state ---------------------------------------------------------------
    def enter(self, frame: Frame) -> None:
        sdef = self.sdef(frame)
        frame.progress = Progress(entered_ms=self.now)
        self.state.transitions += 1
        self.emit(
            f"{STATE_EVENT_PREFIX[sdef.type]}Entered",
            {
                "name": frame.state,
                "input": dumps(frame.input),
                "inputDetails": {"truncated": False},
            },
        )
        frame.progress.entered_event = self.state.last_event_id
        self.guarded(frame, sdef, self.run_state)

    def guarded(self, frame: Frame, sdef: StateDef, action: Any) -> None:
        """Run ``action(frame, sdef)``; a language error becomes the state's error."""
        try:
            action(frame, sdef)
        except StatesError as exc:
            if exc.error == "States.Runtime":
                exc = exc.for_state(frame.state, frame.progress.entered_event)
            self.handle_error(frame, sdef, exc.error, exc.cause)

    def run_state(self, frame: Frame, sdef: StateDef) -> None:
        """Do (or redo, after a Retry's back-off) what the current state does."""
        ctx = self.context(frame)
        v = frame.variables
        if isinstance(sdef, PassState):
            data = lang.effective_input(sdef, frame.input, ctx, v)
            self.finish(frame, sdef, lang.pass_result(sdef, data))
        elif isinstance(sdef, ChoiceState):
            target, output, values = lang.choose(sdef, frame.input, ctx, v)
            if target is None:
                raise StatesError(
                    "States.NoChoiceMatched",
                    f"No Choice Rules matched and no Default was specified for the state "
                    f"'{frame.state}'",
                )
            v.update(values)
            self.exit(frame, output)
            self.goto(frame, target, output)
        elif isinstance(sdef, WaitState):
            due = lang.wait_until_ms(sdef, frame.input, ctx, v, self.now)
            frame.progress.timer_id = self.timer(frame.fid, due)
        elif isinstance(sdef, SucceedState):
            output = lang.passthrough_output(sdef, frame.input, ctx, v)
            self.exit(frame, output)
            self.complete(frame, SUCCEEDED, output=output)
        elif isinstance(sdef, FailState):
            error, cause = lang.fail_error(sdef, frame.input, ctx, v)
            self.complete(frame, FAILED, error=error, cause=cause)
        elif isinstance(sdef, TaskState):
            self.dispatch(frame, sdef)
        elif isinstance(sdef, ParallelState):
            flow.start_parallel(self, frame, sdef)
        elif isinstance(sdef, MapState):
            flow.start_map(self, frame, sdef)
        else:
            raise StatesError("States.Runtime", f"Unknown state type {sdef.type!r}")

    def wait_over(self, frame: Frame, sdef: StateDef) -> None:
        ctx = self.context(frame)
        output = lang.passthrough_output(sdef, frame.input, ctx, frame.variables)
        frame.variables.update(
            lang.assign(sdef, sdef, frame.input, frame.input, ctx, frame.variables)
        )
        self.exit(frame, output)
        self.move_on(frame, sdef, output)

    def exit(self, frame: Frame, output: Any) -> None:
        kind = self.sdef(frame).type
        text = dumps(output)
        if len(text.encode()) > MAX_PAYLOAD_BYTES:
            raise StatesError(
                "States.DataLimitExceeded",
                f"The state/task '{frame.state}' returned a result with a size exceeding the "
                f"maximum number of bytes service limit ({MAX_PAYLOAD_BYTES}).",
            )
        self.emit(
            f"{STATE_EVENT_PREFIX[kind]}Exited",
            {"name": frame.state, "output": text, "outputDetails": {"truncated": False}},
        )

    def goto(self, frame: Frame, target: str, data: Any) -> None:
        frame.state = target
        frame.input = data
        frame.progress = Progress()
        self._ready.append(frame)

    def move_on(self, frame: Frame, sdef: StateDef, output: Any) -> None:
        if sdef.end or sdef.next is None:
            self.complete(frame, SUCCEEDED, output=output)
        else:
            self.goto(frame, sdef.next, output)

    def finish(self, frame: Frame, sdef: StateDef, result: Any) -> None:
        """The state produced ``result``: process it into output, assign, exit, move on."""
        self.guarded(frame, sdef, lambda f, d: self._finish(f, d, result))

    def _finish(self, frame: Frame, sdef: StateDef, result: Any) -> None:
        ctx = self.context(frame)
        v = frame.variables
        outcome = asl.complete_state(sdef, frame.input, result, ctx, v)
        v.update(outcome.assigned)
        self.exit(frame, outcome.output)
        self.move_on(frame, sdef, outcome.output)

    # --- errors -------------------------------------------------------------------------
    def handle_error(self, frame: Frame, sdef: StateDef, error: str, cause: str) -> None:
        """Retry, else Catch, else the frame fails with the error."""
        if isinstance(sdef, TaskState | ParallelState | MapState):
            progress = frame.progress
            if len(progress.retry_counts) < len(sdef.retry):
                progress.retry_counts = [0] * len(sdef.retry)
            for i, retrier in enumerate(sdef.retry):
                if lang.matches_error(retrier.error_equals, error):
                    rng = random.Random(f"{self.state.execution_arn}/{self.state.seq}")
                    delay = lang.retry_delay(retrier, progress.retry_counts[i], rng)
                    if delay is not None:
                        progress.retry_counts[i] += 1
                        progress.timer_id = self.timer(frame.fid, self.now + int(delay * 1000))
                        return
                    break
            for catcher in sdef.catch:
                if lang.matches_error(catcher.error_equals, error):
                    ctx = self.context(frame)
                    v = frame.variables
                    try:
                        caught = asl.complete_catch(
                            sdef, catcher, frame.input, error, cause, ctx, v
                        )
                        self.exit(frame, caught.output)
                    except StatesError as exc:
                        self.complete(frame, FAILED, error=exc.error, cause=exc.cause)
                        return
                    v.update(caught.assigned)
                    self.goto(frame, catcher.next, caught.output)
                    return
        self.complete(frame, FAILED, error=error, cause=cause)

    def complete(self, frame: Frame, status: str, **details: Any) -> None:
        """A frame reached its end (Succeed, End, Fail or an unhandled error)."""
        frame.status = status
        frame.output = details.get("output")
        frame.error, frame.cause = details.get("error"), details.get("cause")
        parent = self.parent(frame)
        if parent is None:
            if status == SUCCEEDED:
                self.end(SUCCEEDED, "ExecutionSucceeded", output=frame.output)
            else:
                self.end(FAILED, "ExecutionFailed", error=frame.error, cause=frame.cause)
            return
        flow.child_done(self, parent, frame)

    def abort_frame(self, frame: Frame | None) -> None:
        """Stop whatever ``frame`` waits for; its late results will be ignored."""
        if frame is None or frame.status != RUNNING:
            return
        p = frame.progress
        for tid in (p.timer_id, p.timeout_timer, p.heartbeat_timer):
            if tid is not None:
                self.state.timers.pop(tid, None)
        if p.task_id is not None:
            self.state.tasks.pop(p.task_id, None)
            self.state.activities.pop(p.task_id, None)
            if p.map_run_arn is not None:
                self.emit("MapRunAborted")  # the Map Run sees its task is gone
            task_kinds.stop_child(self, frame)
        for child in p.children:
            self.abort_frame(child)
        kind = self.sdef(frame).type
        if kind in ("Task", "Wait", "Parallel", "Map"):
            self.emit(f"{STATE_EVENT_PREFIX[kind]}Aborted", {"name": frame.state})
        frame.status = ABORTED

    # --- tasks --------------------------------------------------------------------------
    def dispatch(self, frame: Frame, sdef: TaskState) -> None:
        task_id = self.next_id("k")
        resource = sdef.resource
        rtype, rname, waits = resource_kind(resource)
        waits_child = task_kinds.sync_mode(rtype, rname) is not None
        needs_token = waits or waits_child or rtype == "activity"
        token = task_token(self.state.execution_arn, task_id) if needs_token else None
        ctx = self.context(frame, token=token)
        payload = lang.effective_input(sdef, frame.input, ctx, frame.variables)
        timeout, heartbeat = lang.task_timeouts(sdef, frame.input, ctx, frame.variables)
        p = frame.progress
        p.task_id = task_id
        self.state.tasks[task_id] = frame.fid
        if rtype == "activity":
            assert token is not None
            task_kinds.schedule_activity(
                self, task_id, resource, payload, token, timeout, heartbeat
            )
            if timeout is not None:
                p.timeout_timer = self.timer(frame.fid, self.now + int(timeout) * 1000)
            return
        if rtype == "lambdaFunction":
            self.emit(
                "LambdaFunctionScheduled",
                {"resource": resource, "input": dumps(payload), "timeoutInSeconds": timeout},
            )
            self.emit("LambdaFunctionStarted")
        else:
            details: dict[str, Any] = {
                "resourceType": rtype,
                "resource": rname,
                "region": arns.identity().region,
                "parameters": dumps(payload),
            }
            if timeout is not None:
                details["timeoutInSeconds"] = timeout
            if heartbeat is not None:
                details["heartbeatInSeconds"] = heartbeat
            self.emit("TaskScheduled", details)
            self.emit("TaskStarted", {"resourceType": rtype, "resource": rname})
        if timeout is not None:
            p.timeout_timer = self.timer(frame.fid, self.now + int(timeout) * 1000)
        if heartbeat is not None:
            p.heartbeat_timer = self.timer(frame.fid, self.now + int(heartbeat) * 1000)
        self.commands.append(
            DispatchTask(task_id, resource, payload, token, waits, timeout, heartbeat)
        )

    def task_event(self, frame: Frame, outcome: str, **details: Any) -> None:
        sdef = self.sdef(frame)
        assert isinstance(sdef, TaskState)
        rtype, rname, _ = resource_kind(sdef.resource)
        if rtype in ("lambdaFunction", "activity"):
            kind = "LambdaFunction" if rtype == "lambdaFunction" else "Activity"
            self.emit(f"{kind}{outcome}", details)
        else:
            self.emit(f"Task{outcome}", {"resourceType": rtype, "resource": rname, **details})

    def task_result(self, result: TaskResult) -> None:
        fid = self.state.tasks.get(result.task_id)
        frame = self.find(fid) if fid is not None else None
        if frame is None:
            return
        sdef = self.sdef(frame)
        if isinstance(sdef, MapState):
            distributed.result(self, frame, sdef, result)
            return
        assert isinstance(sdef, TaskState)
        if task_kinds.sync_mode(*resource_kind(sdef.resource)[:2]):
            task_kinds.submitted_child(self, frame, result)
        if result.submitted:
            self.task_event(frame, "Submitted", output=result.output or "{}")
            return
        self.state.tasks.pop(result.task_id, None)
        self.end_task(frame)
        if result.ok:
            output = result.output or "null"
            self.task_event(frame, "Succeeded", output=output)
            self.finish(frame, sdef, json.loads(output))
        else:
            error, cause = result.error or "States.TaskFailed", result.cause or ""
            self.task_event(frame, "Failed", error=error, cause=cause)
            self.handle_error(frame, sdef, error, cause)

    def end_task(self, frame: Frame) -> None:
        p = frame.progress
        for tid in (p.timeout_timer, p.heartbeat_timer):
            if tid is not None:
                self.state.timers.pop(tid, None)
        if p.task_id is not None:
            self.state.activities.pop(p.task_id, None)
        p.task_id = p.timeout_timer = p.heartbeat_timer = None

    def heartbeat(self, beat: Heartbeat) -> None:
        fid = self.state.tasks.get(beat.task_id)
        frame = self.find(fid) if fid is not None else None
        if frame is None or frame.progress.heartbeat_timer is None:
            return
        self.state.timers.pop(frame.progress.heartbeat_timer, None)
        sdef = self.sdef(frame)
        assert isinstance(sdef, TaskState)
        _, heartbeat = lang.task_timeouts(sdef, frame.input, self.context(frame), frame.variables)
        frame.progress.heartbeat_timer = self.timer(
            frame.fid, self.now + int(heartbeat or 0) * 1000
        )

    # --- timers -------------------------------------------------------------------------
    def timer_fired(self, fired: TimerFired) -> None:
        fid = self.state.timers.pop(fired.timer_id, None)
        if fid is None:
            return
        if fired.timer_id.startswith(EXECUTION_TIMER):  # "*", or "*r<n>" after a redrive
            self.abort_frame(self.state.root)
            self.end(
                TIMED_OUT,
                "ExecutionTimedOut",
                error="States.Timeout",
                cause="The execution ran longer than the state machine's TimeoutSeconds",
            )
            return
        frame = self.find(fid)
        if frame is None or frame.status != RUNNING:
            return
        p, sdef = frame.progress, self.sdef(frame)
        if fired.timer_id == p.timer_id:
            p.timer_id = None
            if isinstance(sdef, WaitState):
                self.guarded(frame, sdef, self.wait_over)
            else:  # a Retry's back-off is over: run the state again
                self.guarded(frame, sdef, self.run_state)
            return
        if fired.timer_id in (p.timeout_timer, p.heartbeat_timer):
            heartbeat = fired.timer_id == p.heartbeat_timer
            if p.task_id is not None:
                self.state.tasks.pop(p.task_id, None)
            self.end_task(frame)
            error = "States.HeartbeatTimeout" if heartbeat else "States.Timeout"
            cause = (
                "The task did not send a heartbeat within its HeartbeatSeconds"
                if heartbeat
                else "The task ran longer than its TimeoutSeconds"
            )
            self.task_event(frame, "TimedOut", error=error, cause=cause)
            self.handle_error(frame, sdef, error, cause)

    def ready(self, frame: Frame) -> None:
        self._ready.append(frame)
