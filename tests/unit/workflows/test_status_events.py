"""The shape of 'Step Functions Execution Status Change' events, and which steps send one."""

from __future__ import annotations

import dataclasses
import json

from eventplane.workflows import status_events
from eventplane.workflows.model import ExecutionState

SM = "arn:aws:states:local:000000000000:stateMachine:m"
EX = "arn:aws:states:local:000000000000:execution:m:e1"


def state(**changes: object) -> ExecutionState:
    base = ExecutionState(EX, "e1", SM, start_ms=1_000, input={"a": 1})
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_a_start_a_status_change_and_a_redrive_are_reported_other_steps_are_not() -> None:
    running = state()
    assert status_events.changes(None, running) == [running]
    assert status_events.changes(running, state(transitions=3)) == []
    failed = state(status="FAILED", stop_ms=2_000, error="E")
    assert status_events.changes(running, failed) == [failed]
    redriven = state(redrive_count=1, redrive_ms=3_000)
    assert status_events.changes(failed, redriven) == [redriven]


def test_a_start_that_ends_at_once_reports_running_then_the_end() -> None:
    done = state(status="SUCCEEDED", stop_ms=1_000, output={"r": 1})
    first, second = status_events.changes(None, done)
    assert (first.status, first.stop_ms, first.output) == ("RUNNING", None, None)
    assert second is done


def test_a_failed_execution_has_error_and_cause_and_no_output() -> None:
    d = status_events.detail(
        state(status="FAILED", stop_ms=2_000, error="E", cause="C", output={"x": 1})
    )
    assert d == {
        "executionArn": EX,
        "stateMachineArn": SM,
        "name": "e1",
        "status": "FAILED",
        "startDate": 1_000,
        "stopDate": 2_000,
        "input": '{"a":1}',
        "output": None,
        "inputDetails": {"included": True},
        "outputDetails": None,
        "error": "E",
        "cause": "C",
        "redriveCount": 0,
        "redriveDate": None,
        "redriveStatus": "REDRIVABLE",
        "redriveStatusReason": None,
    }


def test_running_has_no_stop_date_and_succeeded_carries_the_output() -> None:
    running = status_events.detail(state(), input_text='{ "a": 1 }')
    assert running["stopDate"] is None and running["input"] == '{ "a": 1 }'
    assert running["redriveStatus"] == "NOT_REDRIVABLE"
    done = status_events.detail(state(status="SUCCEEDED", stop_ms=5_000, output={"r": 2}))
    assert json.loads(done["output"]) == {"r": 2} and done["outputDetails"] == {"included": True}


def test_the_payload_is_a_new_aws_states_event_about_the_execution() -> None:
    p = status_events.payload(state(status="ABORTED", stop_ms=9))
    assert (p.source, p.detail_type, p.resources) == (
        "aws.states",
        "Step Functions Execution Status Change",
        (EX,),
    )
    assert json.loads(p.body)["status"] == "ABORTED"
    assert status_events.TARGET == "arn:aws:events:local:000000000000:event-bus/default"
