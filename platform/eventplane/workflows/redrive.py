"""RedriveExecution: run a FAILED, TIMED_OUT or ABORTED Standard execution again.

The execution keeps its ARN, input, definition and history: a redrive appends an
``ExecutionRedriven`` event and re-enters the state that ended the execution (the root
frame's current state, with the input it had). States that succeeded before are not
run again. When that state is a Parallel or an inline Map, only the branches or
iterations that did not succeed run again, each from its start; the others keep the
result they produced. When it is a Distributed Map, its Map Run is redriven (same ARN,
``MapRunRedriven``): see ``map_run.py``. ``redrive_status`` tells a reader whether a
redrive is allowed, with AWS's reasons.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventplane.workflows.model import ABORTED, FAILED, RUNNING, SUCCEEDED, TIMED_OUT, StartTimer

if TYPE_CHECKING:
    from eventplane.workflows.interpreter import _Run

REDRIVABLE = "REDRIVABLE"
NOT_REDRIVABLE = "NOT_REDRIVABLE"
# AWS: executions that did not succeed in the last 14 days can be redriven.
REDRIVE_PERIOD_MS = 14 * 24 * 3600 * 1000
# A redrive needs room for at least its own events below the 25,000-event limit.
MAX_HISTORY_EVENTS = 25_000


def redrivable_status(status: str) -> bool:
    return status in (FAILED, TIMED_OUT, ABORTED)


def redrive_status(
    status: str, express: bool, stop_ms: int | None, events: int, now_ms: int
) -> tuple[str, str | None]:
    """(redriveStatus, redriveStatusReason) as DescribeExecution reports them."""
    if express:
        return NOT_REDRIVABLE, "Execution is of type EXPRESS and cannot be redriven."
    if status == RUNNING:
        return NOT_REDRIVABLE, "Execution is RUNNING and cannot be redriven."
    if status == SUCCEEDED:
        return NOT_REDRIVABLE, "Execution is SUCCEEDED and cannot be redriven."
    if not redrivable_status(status):
        return NOT_REDRIVABLE, f"Execution is {status} and cannot be redriven."
    if events >= MAX_HISTORY_EVENTS - 1:
        return NOT_REDRIVABLE, "Execution history event limit exceeded."
    if stop_ms is not None and now_ms - stop_ms > REDRIVE_PERIOD_MS:
        return NOT_REDRIVABLE, "Execution redrivable period exceeded."
    return REDRIVABLE, None


def restart(run: _Run, client_token: str | None = None) -> None:
    """Re-open the execution and queue the root frame to re-enter its state."""
    from eventplane.workflows.interpreter import EXECUTION_TIMER

    s = run.state
    root = s.root
    assert root is not None
    old = root.progress
    run.keep[root.fid] = {i: old.results[i] for i in old.succeeded if i < len(old.results)}
    if old.map_run_arn is not None:
        run.redrive_map_runs[root.fid] = (old.map_run_arn, old.map_run_redrives + 1)
    s.status = RUNNING
    s.stop_ms = None
    s.output = s.error = s.cause = None
    s.redrive_count += 1
    s.redrive_ms = run.now
    s.redrive_token = client_token
    run.emit("ExecutionRedriven", {"redriveCount": s.redrive_count})
    timeout = run.m.timeout_seconds
    if timeout is not None:
        # A fresh id: the first attempt's execution timer may still fire, and must not
        # end the redriven attempt.
        tid = f"{EXECUTION_TIMER}r{s.redrive_count}"
        s.timers[tid] = ""
        run.commands.append(StartTimer(tid, run.now + timeout * 1000))
    root.status = RUNNING
    root.output = root.error = root.cause = None
    run.ready(root)
