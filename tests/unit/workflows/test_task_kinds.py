"""Activity tasks and child executions in the pure interpreter."""

from __future__ import annotations

import json
from typing import Any

from eventplane.workflows import Machine, new_execution, step
from eventplane.workflows.machine import parse_token, resource_kind
from eventplane.workflows.model import (
    Claim,
    DispatchTask,
    ExecutionState,
    Heartbeat,
    NotifyParent,
    Start,
    StartTimer,
    Stop,
    StopChild,
    TaskResult,
    TimerFired,
)
from eventplane.workflows.task_kinds import child_doc

T0 = 1_700_000_000_000
ARN = "arn:aws:states:local:000000000000:execution:m:e1"
SM_ARN = "arn:aws:states:local:000000000000:stateMachine:m"
ACT = "arn:aws:states:local:000000000000:activity:work"
CHILD_SM = "arn:aws:states:local:000000000000:stateMachine:child"


class Run:
    def __init__(self, definition: dict[str, Any], arn: str = ARN) -> None:
        self.machine = Machine(definition)
        self.state: ExecutionState = new_execution(arn, arn.rsplit(":", 1)[-1], SM_ARN)
        self.now = T0
        self.types: list[str] = []
        self.commands: list[Any] = []
        self.details: dict[str, dict[str, Any]] = {}

    def send(self, inbox: Any) -> list[str]:
        result = step(self.machine, self.state, inbox, self.now)
        self.state = result.state
        self.types += [e.type for e in result.events]
        self.details.update({e.type: e.details for e in result.events})
        self.commands += result.commands
        return [e.type for e in result.events]

    def timers(self) -> list[StartTimer]:
        return [c for c in self.commands if isinstance(c, StartTimer)]


def _activity(**more: Any) -> dict[str, Any]:
    return {
        "StartAt": "Work",
        "States": {"Work": {"Type": "Task", "Resource": ACT, "End": True, **more}},
    }


def test_an_activity_arn_is_the_activity_kind() -> None:
    assert resource_kind(ACT) == ("activity", ACT, False)


def test_an_activity_task_is_scheduled_claimed_once_and_answered() -> None:
    r = Run(_activity(Parameters={"n.$": "$.n"}, TimeoutSeconds=300))
    assert r.send(Start('{"n": 3}'))[-1] == "ActivityScheduled"
    assert r.details["ActivityScheduled"]["resource"] == ACT
    assert json.loads(r.details["ActivityScheduled"]["input"]) == {"n": 3}
    assert not [c for c in r.commands if isinstance(c, DispatchTask)]  # nothing to run
    ((task_id, task),) = r.state.activities.items()
    assert parse_token(task["token"]) == (ARN, task_id)
    assert r.send(Claim(task_id, "c1", "worker-a")) == ["ActivityStarted"]
    assert r.details["ActivityStarted"] == {"workerName": "worker-a"}
    assert r.send(Claim(task_id, "c2", "worker-b")) == []  # a second claim loses
    assert r.state.activities[task_id]["claim"] == "c1"
    r.send(TaskResult(task_id, True, output='{"done": true}'))
    assert r.types[-3:] == ["ActivitySucceeded", "TaskStateExited", "ExecutionSucceeded"]
    assert r.state.output == {"done": True}
    assert r.state.activities == {}


def test_a_failed_activity_is_caught_by_its_error_name() -> None:
    definition = _activity(Catch=[{"ErrorEquals": ["Bad"], "Next": "Caught"}])
    definition["States"]["Work"].pop("End")
    definition["States"]["Work"]["Next"] = "Done"
    definition["States"]["Done"] = {"Type": "Succeed"}
    definition["States"]["Caught"] = {"Type": "Fail", "Error": "Caught"}
    r = Run(definition)
    r.send(Start("{}"))
    (task_id,) = r.state.activities
    r.send(TaskResult(task_id, False, error="Bad", cause="no"))
    assert "ActivityFailed" in r.types
    assert r.details["ActivityFailed"] == {"error": "Bad", "cause": "no"}
    assert r.state.error == "Caught"


def test_the_heartbeat_clock_starts_when_a_worker_gets_the_task() -> None:
    r = Run(_activity(HeartbeatSeconds=10))
    r.send(Start("{}"))
    assert r.timers() == []  # waiting in the queue is not missing heartbeats
    (task_id,) = r.state.activities
    r.send(Claim(task_id, "c1", "w"))
    (first,) = r.timers()
    assert first.due_ms == T0 + 10_000
    r.now += 5_000
    r.send(Heartbeat(task_id))
    assert r.timers()[-1].due_ms == T0 + 15_000
    r.send(TimerFired(first.timer_id))  # the re-armed heartbeat replaced it
    assert r.state.status == "RUNNING"
    r.now += 10_000
    r.send(TimerFired(r.timers()[-1].timer_id))
    assert r.types[-2:] == ["ActivityTimedOut", "ExecutionFailed"]
    assert r.state.error == "States.HeartbeatTimeout"
    assert r.state.activities == {}


def test_an_unclaimed_activity_times_out_by_timeout_seconds() -> None:
    r = Run(_activity(TimeoutSeconds=5))
    r.send(Start("{}"))
    (task_id,) = r.state.activities
    (timer,) = r.timers()
    assert timer.due_ms == T0 + 5_000
    r.send(TimerFired(timer.timer_id))
    assert r.state.error == "States.Timeout"
    assert r.state.activities == {}
    assert r.send(Claim(task_id, "c", "w")) == []  # a late claim changes nothing


def _parent(action: str) -> dict[str, Any]:
    return {
        "StartAt": "Child",
        "States": {
            "Child": {
                "Type": "Task",
                "Resource": f"arn:aws:states:::states:{action}",
                "Parameters": {"StateMachineArn": CHILD_SM, "Input.$": "$"},
                "End": True,
            }
        },
    }


def _child_definition() -> dict[str, Any]:
    return {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"r": 1}, "End": True}}}


def test_a_sync_child_reports_its_end_to_the_parent_task() -> None:
    parent = Run(_parent("startExecution.sync:2"))
    parent.send(Start('{"x": 1}'))
    (task,) = [c for c in parent.commands if isinstance(c, DispatchTask)]
    assert task.token is not None and parse_token(task.token) == (ARN, task.task_id)
    child_arn = "arn:aws:states:local:000000000000:execution:child:c1"
    child = Run(_child_definition(), child_arn)
    child.send(Start('{"x": 1}', parent_token=task.token, parent_mode="sync:2"))
    (notify,) = [c for c in child.commands if isinstance(c, NotifyParent)]
    assert (notify.parent_arn, notify.task_id, notify.ok) == (ARN, task.task_id, True)
    doc = json.loads(notify.output or "")
    assert doc["Output"] == {"r": 1} and doc["Input"] == {"x": 1}
    assert doc["Status"] == "SUCCEEDED" and doc["ExecutionArn"] == child_arn
    # the child's end arrives before the dispatcher's "submitted": both are recorded
    parent.send(TaskResult(notify.task_id, True, output=notify.output))
    assert parent.types[-4:] == [
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert json.loads(parent.details["TaskSubmitted"]["output"])["ExecutionArn"] == child_arn


def test_sync_gives_input_and_output_as_json_text_and_a_failure_as_task_failed() -> None:
    child = Run({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}})
    child.send(Start('{"x": 1}', parent_token="bad-token", parent_mode="sync"))
    assert not [c for c in child.commands if isinstance(c, NotifyParent)]  # not a token of ours
    s = child.state
    doc = child_doc(s, "sync")
    assert doc["Input"] == '{"x":1}' and doc["Error"] == "E" and doc["Cause"] == "C"
    assert "Output" not in doc
    parent = Run(_parent("startExecution.sync"))
    parent.send(Start("{}"))
    (task,) = [c for c in parent.commands if isinstance(c, DispatchTask)]
    failing = Run({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}})
    failing.send(Start("{}", parent_token=task.token, parent_mode="sync"))
    (notify,) = [c for c in failing.commands if isinstance(c, NotifyParent)]
    assert (notify.ok, notify.error) == (False, "States.TaskFailed")
    parent.send(TaskResult(notify.task_id, False, error=notify.error, cause=notify.cause))
    assert parent.state.error == "States.TaskFailed"
    assert json.loads(parent.state.cause or "")["Error"] == "E"


def test_stopping_the_parent_stops_its_sync_child() -> None:
    parent = Run(_parent("startExecution.sync"))
    parent.send(Start("{}"))
    (task,) = [c for c in parent.commands if isinstance(c, DispatchTask)]
    child_arn = "arn:aws:states:local:000000000000:execution:child:c9"
    submitted = json.dumps({"ExecutionArn": child_arn, "StartDate": T0})
    parent.send(TaskResult(task.task_id, True, output=submitted, submitted=True))
    parent.send(Stop())
    (stop,) = [c for c in parent.commands if isinstance(c, StopChild)]
    assert stop.execution_arn == child_arn
    assert parent.state.status == "ABORTED"


def test_fire_and_forget_needs_no_token() -> None:
    parent = Run(_parent("startExecution"))
    parent.send(Start("{}"))
    (task,) = [c for c in parent.commands if isinstance(c, DispatchTask)]
    assert task.token is None


def test_claims_and_child_starts_survive_the_inbox_record() -> None:
    from eventplane.workflows import records

    for inbox in (
        Claim("k3", "c-1", "worker-a", T0),
        Start('{"a": 1}', parent_token="tok", parent_mode="sync:2"),
    ):
        value, headers = records.encode_inbox(records.InboxRecord(ARN, inbox), T0)
        assert records.decode_inbox(value, headers).inbox == inbox


def test_a_claim_its_poller_gave_up_on_is_not_granted() -> None:
    r = Run(_activity())
    r.send(Start("{}"))
    (task_id,) = r.state.activities
    r.now += 11_000
    assert r.send(Claim(task_id, "old", "w", sent_ms=T0)) == []
    assert r.send(Claim(task_id, "new", "w", sent_ms=r.now - 1_000)) == ["ActivityStarted"]
