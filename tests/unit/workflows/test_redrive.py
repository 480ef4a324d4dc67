"""Redrive in the pure interpreter: what runs again, what is kept, what is refused."""

from __future__ import annotations

import json
from typing import Any

from eventplane.workflows import Machine, new_execution, step
from eventplane.workflows.model import (
    DispatchTask,
    ExecutionState,
    Redrive,
    Start,
    StartTimer,
    TaskResult,
    TimerFired,
)
from eventplane.workflows.redrive import REDRIVE_PERIOD_MS, redrive_status

T0 = 1_700_000_000_000
ARN = "arn:aws:states:local:000000000000:execution:m:e1"
SM_ARN = "arn:aws:states:local:000000000000:stateMachine:m"
FN = "arn:aws:lambda:local:000000000000:function:"


class Driver:
    """Steps one execution by hand, remembering the tasks it dispatched."""

    def __init__(self, definition: dict[str, Any]) -> None:
        self.machine = Machine(definition)
        self.state: ExecutionState = new_execution(ARN, "e1", SM_ARN)
        self.now = T0
        self.types: list[str] = []
        self.pending: list[DispatchTask] = []
        self.timers: list[StartTimer] = []

    def send(self, inbox: Any) -> list[str]:
        result = step(self.machine, self.state, inbox, self.now)
        self.state = result.state
        new = [e.type for e in result.events]
        self.types += new
        self.pending += [c for c in result.commands if isinstance(c, DispatchTask)]
        self.timers += [c for c in result.commands if isinstance(c, StartTimer)]
        return new

    def task(self, resource: str) -> DispatchTask:
        found = next(t for t in self.pending if t.resource == FN + resource)
        self.pending.remove(found)
        return found

    def answer(self, resource: str, output: Any = None, error: str | None = None) -> list[str]:
        t = self.task(resource)
        if error is not None:
            return self.send(TaskResult(t.task_id, False, error=error, cause="boom"))
        return self.send(TaskResult(t.task_id, True, output=json.dumps(output)))


def _task(resource: str, more: dict[str, Any]) -> dict[str, Any]:
    return {"Type": "Task", "Resource": FN + resource, **more}


CHAIN = {
    "StartAt": "A",
    "States": {
        "A": {"Type": "Pass", "Result": {"a": 1}, "ResultPath": "$.a", "Next": "B"},
        "B": _task("b", {"ResultPath": "$.b", "Next": "C"}),
        "C": {"Type": "Pass", "End": True},
    },
}


def test_a_failed_execution_redrives_from_the_failed_state_with_its_input() -> None:
    d = Driver(CHAIN)
    d.send(Start('{"x": 1}'))
    d.answer("b", error="Oops")
    assert d.state.status == "FAILED"
    new = d.send(Redrive())
    assert new[:2] == ["ExecutionRedriven", "TaskStateEntered"]
    assert "PassStateEntered" not in new  # A succeeded before: not run again
    assert d.state.status == "RUNNING" and d.state.redrive_count == 1
    again = d.task("b")
    assert again.payload == {"x": 1, "a": {"a": 1}}
    d.send(TaskResult(again.task_id, True, output='"ok"'))
    assert d.state.status == "SUCCEEDED"
    assert d.state.output == {"x": 1, "a": {"a": 1}, "b": "ok"}
    assert d.types.count("ExecutionStarted") == 1  # one history, one start
    assert d.state.redrive_ms == T0


def test_a_redrive_of_a_running_or_succeeded_execution_does_nothing() -> None:
    d = Driver(CHAIN)
    d.send(Start("{}"))
    assert d.send(Redrive()) == []
    d.answer("b", output=1)
    assert d.state.status == "SUCCEEDED"
    assert d.send(Redrive()) == []
    assert d.state.redrive_count == 0


def test_an_aborted_execution_redrives_and_late_results_of_the_first_attempt_are_ignored() -> None:
    from eventplane.workflows.model import Stop

    d = Driver(CHAIN)
    d.send(Start("{}"))
    stale = d.task("b")
    d.send(Stop("Stopped", "by hand"))
    assert d.state.status == "ABORTED"
    d.send(Redrive())
    assert d.send(TaskResult(stale.task_id, True, output="1")) == []
    d.answer("b", output=2)
    assert d.state.status == "SUCCEEDED" and d.state.output["b"] == 2


def test_a_parallel_failure_redrives_only_the_branches_that_did_not_succeed() -> None:
    branch = lambda r: {"StartAt": r, "States": {r: _task(r, {"End": True})}}  # noqa: E731
    d = Driver(
        {
            "StartAt": "P",
            "States": {
                "P": {"Type": "Parallel", "Branches": [branch(x) for x in "xyz"], "End": True}
            },
        }
    )
    d.send(Start("{}"))
    d.answer("x", output="X")
    d.answer("y", error="Broken")  # z is aborted
    assert d.state.status == "FAILED"
    d.pending.clear()
    d.send(Redrive())
    assert sorted(t.resource[len(FN) :] for t in d.pending) == ["y", "z"]
    d.answer("y", output="Y")
    d.answer("z", output="Z")
    assert d.state.status == "SUCCEEDED"
    assert d.state.output == ["X", "Y", "Z"]


def test_a_map_failure_redrives_only_the_iterations_that_did_not_succeed() -> None:
    d = Driver(
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "ItemProcessor": {"StartAt": "T", "States": {"T": _task("t", {"End": True})}},
                    "End": True,
                }
            },
        }
    )
    d.send(Start("[10, 20, 30]"))
    tasks = [d.task("t") for _ in range(3)]
    d.send(TaskResult(tasks[0].task_id, True, output="11"))
    d.send(TaskResult(tasks[2].task_id, True, output="31"))
    d.send(TaskResult(tasks[1].task_id, False, error="Bad", cause="x"))
    assert d.state.status == "FAILED"
    d.send(Redrive())
    again = [d.task("t")]
    assert not d.pending and again[0].payload == 20
    d.send(TaskResult(again[0].task_id, True, output="21"))
    assert d.state.status == "SUCCEEDED" and d.state.output == [11, 21, 31]


def test_the_first_attempts_execution_timer_cannot_end_the_redriven_attempt() -> None:
    d = Driver({**CHAIN, "TimeoutSeconds": 60})
    d.send(Start("{}"))
    d.answer("b", error="Oops")
    d.send(Redrive())
    assert d.send(TimerFired("*")) == []  # the first attempt's timer, late
    fresh = [t for t in d.timers if t.timer_id.startswith("*r")]
    assert len(fresh) == 1 and fresh[0].due_ms == T0 + 60_000
    assert d.send(TimerFired(fresh[0].timer_id))[-1] == "ExecutionTimedOut"
    assert d.state.status == "TIMED_OUT"
    d.send(Redrive())
    assert d.state.redrive_count == 2 and d.state.status == "RUNNING"


def test_redrive_status_follows_aws_reasons() -> None:
    now = T0 + REDRIVE_PERIOD_MS
    assert redrive_status("FAILED", False, T0, 10, now) == ("REDRIVABLE", None)
    assert redrive_status("ABORTED", False, T0, 10, now)[0] == "REDRIVABLE"
    assert redrive_status("TIMED_OUT", False, T0, 10, now)[0] == "REDRIVABLE"
    assert redrive_status("FAILED", False, T0 - 1, 10, now) == (
        "NOT_REDRIVABLE",
        "Execution redrivable period exceeded.",
    )
    assert redrive_status("SUCCEEDED", False, T0, 10, now) == (
        "NOT_REDRIVABLE",
        "Execution is SUCCEEDED and cannot be redriven.",
    )
    assert redrive_status("RUNNING", False, None, 10, now)[1] == (
        "Execution is RUNNING and cannot be redriven."
    )
    assert redrive_status("FAILED", True, T0, 10, now)[0] == "NOT_REDRIVABLE"
    assert redrive_status("FAILED", False, T0, 25_000, now)[1] == (
        "Execution history event limit exceeded."
    )


def test_a_redrive_is_counted_in_the_executions_metric() -> None:
    from prometheus_client import REGISTRY

    from eventplane.workflows import metrics

    def redriven() -> float:
        labels = {"state_machine": "m", "outcome": "redriven", "type": "STANDARD"}
        return REGISTRY.get_sample_value("eventplane_workflow_executions_total", labels) or 0.0

    d = Driver(CHAIN)
    d.send(Start("{}"))
    d.answer("b", error="Oops")
    before = redriven()
    result = step(d.machine, d.state, Redrive(), d.now)
    metrics.record_step(result, 0, d.now)
    assert redriven() == before + 1


def test_a_redrive_records_its_client_token() -> None:
    d = Driver(CHAIN)
    d.send(Start("{}"))
    d.answer("b", error="Oops")
    d.send(Redrive("tok"))
    assert (d.state.redrive_token, d.state.redrive_count) == ("tok", 1)
