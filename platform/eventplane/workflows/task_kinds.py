"""The interpreter's steps for the two task kinds that wait on something other than a
dispatched call: activity tasks (a worker polls for them) and child executions started
with ``states:startExecution.sync`` / ``.sync:2`` (the child reports its end).

Activities: scheduling a task records it in ``ExecutionState.activities`` (journaled in
the step's snapshot, so it survives restarts) and dispatches nothing. A replica's
GetActivityTask claims it through the inbox (``Claim``); the owner grants the first
claim (``ActivityStarted`` with the worker's name) and starts the heartbeat clock from
there. The worker answers with SendTaskSuccess/Failure/Heartbeat and the task's token.

Children: the dispatcher starts the child with the parent task's token; when the child
ends, its owner sends the parent a ``TaskResult`` (``NotifyParent``) in the same Kafka
transaction as the child's last step. The output is DescribeExecution's shape, with
Input and Output as JSON text (``.sync``) or JSON values (``.sync:2``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from eventplane.workflows.lang import dumps
from eventplane.workflows.machine import parse_token
from eventplane.workflows.model import (
    SUCCEEDED,
    Claim,
    ExecutionState,
    Frame,
    NotifyParent,
    StopChild,
    TaskResult,
)

if TYPE_CHECKING:
    from eventplane.workflows.interpreter import _Run

__all__ = [
    "child_doc",
    "claim",
    "notify_parent",
    "schedule_activity",
    "stop_child",
    "submitted_child",
    "sync_mode",
]


CLAIM_TTL_MS = 10_000  # activities.CLAIM_WAIT_S waits longer than this


def sync_mode(rtype: str, action: str) -> str | None:
    """``sync`` or ``sync:2`` for a task that waits for its child execution, else None."""
    if rtype != "states" or not action.startswith("startExecution.sync"):
        return None
    return "sync:2" if action.endswith(":2") else "sync"


# --- activities ---------------------------------------------------------------------------
def schedule_activity(
    run: _Run,
    task_id: str,
    resource: str,
    payload: Any,
    token: str,
    timeout: int | None,
    heartbeat: int | None,
) -> None:
    text = dumps(payload)
    details: dict[str, Any] = {
        "resource": resource,
        "input": text,
        "inputDetails": {"truncated": False},
    }
    if timeout is not None:
        details["timeoutInSeconds"] = timeout
    if heartbeat is not None:
        details["heartbeatInSeconds"] = heartbeat
    run.emit("ActivityScheduled", details)
    run.state.activities[task_id] = {
        "resource": resource,
        "input": text,
        "token": token,
        "heartbeat": heartbeat,
        "claim": None,
        "worker": None,
    }


def claim(run: _Run, c: Claim) -> None:
    """Grant the first claim of a scheduled task; later claims lose (nothing changes).

    A claim older than ``CLAIM_TTL_MS`` is refused too: its poller has stopped waiting
    for the answer (it waits longer than that), and granting it would hand the task to
    nobody."""
    if c.sent_ms and run.now - c.sent_ms > CLAIM_TTL_MS:
        return
    task = run.state.activities.get(c.task_id)
    fid = run.state.tasks.get(c.task_id)
    frame = run.find(fid) if fid is not None else None
    if task is None or task["claim"] is not None or frame is None:
        return
    task["claim"], task["worker"] = c.claim_id, c.worker_name
    run.emit("ActivityStarted", {"workerName": c.worker_name} if c.worker_name else {})
    if task.get("heartbeat") is not None:
        frame.progress.heartbeat_timer = run.timer(
            frame.fid, run.now + int(task["heartbeat"]) * 1000
        )


# --- child executions ---------------------------------------------------------------------
def child_doc(s: ExecutionState, mode: str) -> dict[str, Any]:
    """The child as DescribeExecution shows it, as a ``.sync``/``.sync:2`` task returns it."""
    as_json = mode == "sync:2"
    doc: dict[str, Any] = {
        "ExecutionArn": s.execution_arn,
        "Input": s.input if as_json else dumps(s.input),
        "InputDetails": {"Included": True},
        "Name": s.name,
        "RedriveCount": s.redrive_count,
        "StartDate": s.start_ms,
        "StateMachineArn": s.state_machine_arn,
        "Status": s.status,
        "StopDate": s.stop_ms,
    }
    if s.status == SUCCEEDED:
        doc["Output"] = s.output if as_json else dumps(s.output)
        doc["OutputDetails"] = {"Included": True}
    else:
        if s.error is not None:
            doc["Error"] = s.error
        if s.cause is not None:
            doc["Cause"] = s.cause
    return doc


def notify_parent(run: _Run) -> None:
    """The execution ended: if a ``.sync`` parent waits for it, send the parent its end."""
    s = run.state
    parsed = parse_token(s.parent_token) if s.parent_token else None
    if parsed is None:
        return
    parent_arn, task_id = parsed
    doc = dumps(child_doc(s, s.parent_mode or "sync"))
    if s.status == SUCCEEDED:
        run.commands.append(NotifyParent(parent_arn, task_id, True, output=doc))
    else:
        run.commands.append(
            NotifyParent(parent_arn, task_id, False, error="States.TaskFailed", cause=doc)
        )


def submitted_child(run: _Run, frame: Frame, result: TaskResult) -> None:
    """Remember a ``.sync`` task's child; if the child's end came first (a child that
    finished within its first step), record its submission before its result."""
    p = frame.progress
    text = result.output if result.ok or result.submitted else result.cause
    try:
        doc = json.loads(text or "{}")
    except ValueError:
        return
    if not isinstance(doc, dict) or "ExecutionArn" not in doc:
        return
    if result.submitted:
        p.child_arn = str(doc["ExecutionArn"])
    elif p.child_arn is None:
        submitted = {"ExecutionArn": doc["ExecutionArn"], "StartDate": doc.get("StartDate")}
        run.task_event(frame, "Submitted", output=dumps(submitted))
    p.child_arn = str(doc["ExecutionArn"])


def stop_child(run: _Run, frame: Frame) -> None:
    if frame.progress.child_arn is not None:
        cause = f"The parent execution {run.state.execution_arn} stopped its task"
        run.commands.append(StopChild(frame.progress.child_arn, cause))
