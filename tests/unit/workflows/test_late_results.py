"""A task result the execution no longer waits for changes nothing.

The owner relies on it: a function Task's result handed straight to the owner's step
can also reach the execution through the inbox (the owner lost the result's transaction
and fell back, or the task record ran the task again after a crash), and only the first
one to arrive may count.
"""

from __future__ import annotations

import json

from eventplane.workflows import Machine, new_execution, step
from eventplane.workflows.model import DispatchTask, Start, TaskResult

ARN = "arn:aws:states:local:000000000000:execution:m:e1"
SM_ARN = "arn:aws:states:local:000000000000:stateMachine:m"
FN = "arn:aws:lambda:local:000000000000:function:f"
T0 = 1_700_000_000_000

CHAIN = {
    "StartAt": "A",
    "States": {
        "A": {"Type": "Task", "Resource": FN, "Next": "B"},
        "B": {"Type": "Task", "Resource": FN, "End": True},
    },
}


def test_a_result_delivered_twice_is_applied_once() -> None:
    machine = Machine(json.dumps(CHAIN))
    started = step(machine, new_execution(ARN, "e1", SM_ARN), Start("{}"), T0)
    (a,) = [c for c in started.commands if isinstance(c, DispatchTask)]
    result = TaskResult(a.task_id, True, output='{"x": 1}')

    first = step(machine, started.state, result, T0 + 1)
    assert [e.type for e in first.events].count("LambdaFunctionSucceeded") == 1
    (b,) = [c for c in first.commands if isinstance(c, DispatchTask)]
    assert b.task_id != a.task_id

    again = step(machine, first.state, result, T0 + 2)
    assert (again.events, again.commands) == ([], [])
    assert again.state == first.state

    done = step(machine, first.state, TaskResult(b.task_id, True, output="{}"), T0 + 3)
    late = step(machine, done.state, result, T0 + 4)
    assert done.state.status == "SUCCEEDED"
    assert (late.events, late.commands) == ([], [])


def test_a_retried_task_ignores_the_result_of_its_earlier_attempt() -> None:
    retried = {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Task",
                "Resource": FN,
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1}],
                "End": True,
            }
        },
    }
    machine = Machine(json.dumps(retried))
    started = step(machine, new_execution(ARN, "e1", SM_ARN), Start("{}"), T0)
    (a,) = [c for c in started.commands if isinstance(c, DispatchTask)]
    failed = step(machine, started.state, TaskResult(a.task_id, False, error="E"), T0 + 1)
    # the earlier attempt's result arriving again (here a success) is not the retry's
    late = step(machine, failed.state, TaskResult(a.task_id, True, output="{}"), T0 + 2)
    assert (late.events, late.commands) == ([], [])
    assert late.state.status == "RUNNING"
