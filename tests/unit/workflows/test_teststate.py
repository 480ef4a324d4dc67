"""TestState in the core: one state, its status, next state and inspection data."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from eventplane.errors import ValidationException
from eventplane.workflows.errors import InvalidDefinition
from eventplane.workflows.perform import Outcome
from eventplane.workflows.teststate import TestStateActions, TestStateResult

FN = "arn:aws:lambda:local:000000000000:function:f"


class Core(TestStateActions):
    """TestState over a scripted task integration."""

    def __init__(self, outcome: Outcome | None = None) -> None:
        self.outcome = outcome or Outcome(True, output='{"ok": 1}')
        self.calls: list[tuple[str, Any]] = []

    async def perform_task(self, resource: str, payload: Any, waits: bool, *more: Any) -> Outcome:
        self.calls.append((resource, payload))
        return self.outcome


def _test(core: Core, state: dict[str, Any], input_: Any, level: str = "INFO") -> TestStateResult:
    return asyncio.run(core.test_state(json.dumps(state), "", json.dumps(input_), level))


def test_a_pass_state_at_debug_shows_every_processing_step() -> None:
    state = {
        "Type": "Pass",
        "InputPath": "$.order",
        "Parameters": {"id.$": "$.id", "n": 1},
        "ResultPath": "$.order.copy",
        "Next": "Ship",
    }
    r = _test(Core(), state, {"order": {"id": 7}}, "DEBUG")
    assert (r.status, r.next_state) == ("SUCCEEDED", "Ship")
    assert json.loads(r.output or "") == {"order": {"id": 7, "copy": {"id": 7, "n": 1}}}
    d = r.inspection_data
    assert d is not None
    assert json.loads(d.input or "") == {"order": {"id": 7}}
    assert json.loads(d.after_input_path or "") == {"id": 7}
    assert json.loads(d.after_parameters or "") == {"id": 7, "n": 1}
    assert json.loads(d.result or "") == {"id": 7, "n": 1}
    assert json.loads(d.after_result_path or "") == json.loads(r.output or "")


def test_info_has_no_inspection_data() -> None:
    r = _test(Core(), {"Type": "Pass", "End": True}, {"a": 1})
    assert r.inspection_data is None and r.next_state is None
    assert json.loads(r.output or "") == {"a": 1}


def test_a_task_sends_its_parameters_and_selects_its_result() -> None:
    core = Core(Outcome(True, output='{"Payload": {"total": 3}, "StatusCode": 200}'))
    state = {
        "Type": "Task",
        "Resource": FN,
        "Parameters": {"x.$": "$.x"},
        "ResultSelector": {"total.$": "$.Payload.total"},
        "ResultPath": "$.res",
        "End": True,
    }
    r = _test(core, state, {"x": 2}, "TRACE")
    assert core.calls == [(FN, {"x": 2})]
    assert json.loads(r.output or "") == {"x": 2, "res": {"total": 3}}
    assert r.inspection_data is not None
    assert json.loads(r.inspection_data.after_result_selector or "") == {"total": 3}


def test_a_task_error_is_retriable_caught_or_failed() -> None:
    failing = Outcome(False, error="ValueError", cause="bad")
    base = {"Type": "Task", "Resource": FN, "End": True}
    retried = {**base, "Retry": [{"ErrorEquals": ["ValueError"], "MaxAttempts": 2}]}
    r = _test(Core(failing), retried, {})
    assert (r.status, r.error, r.cause) == ("RETRIABLE", "ValueError", "bad")
    caught = {
        **base,
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Recover"}],
    }
    r = _test(Core(failing), caught, {"a": 1})
    assert (r.status, r.next_state) == ("CAUGHT_ERROR", "Recover")
    assert json.loads(r.output or "") == {"a": 1, "err": {"Error": "ValueError", "Cause": "bad"}}
    r = _test(Core(failing), base, {})
    assert (r.status, r.error) == ("FAILED", "ValueError")


def test_choice_wait_and_fail() -> None:
    choice = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.n", "NumericGreaterThan": 5, "Next": "Big"}],
        "Default": "Small",
    }
    assert _test(Core(), choice, {"n": 9}).next_state == "Big"
    assert _test(Core(), choice, {"n": 1}).next_state == "Small"
    no_default = {"Type": "Choice", "Choices": choice["Choices"]}
    r = _test(Core(), no_default, {"n": 1})
    assert (r.status, r.error) == ("FAILED", "States.NoChoiceMatched")
    wait = {"Type": "Wait", "Seconds": 86400, "Next": "After"}
    r = _test(Core(), wait, {"a": 1})  # returns at once
    assert (r.status, r.next_state) == ("SUCCEEDED", "After")
    r = _test(Core(), {"Type": "Fail", "Error": "E", "Cause": "C"}, {})
    assert (r.status, r.error, r.cause) == ("FAILED", "E", "C")


def test_a_path_that_does_not_match_fails_the_state() -> None:
    r = _test(Core(), {"Type": "Pass", "InputPath": "$.missing", "End": True}, {})
    assert r.status == "FAILED" and r.error == "States.Runtime"


def test_jsonata_states_report_their_arguments() -> None:
    core = Core(Outcome(True, output='{"v": 5}'))
    state = {
        "Type": "Task",
        "QueryLanguage": "JSONata",
        "Resource": FN,
        "Arguments": {"n": "{% $states.input.n * 2 %}"},
        "Output": "{% $states.result.v %}",
        "End": True,
    }
    r = _test(core, state, {"n": 4}, "DEBUG")
    assert core.calls == [(FN, {"n": 8})]
    assert r.output == "5"
    assert r.inspection_data is not None
    assert json.loads(r.inspection_data.after_arguments or "") == {"n": 8}


@pytest.mark.parametrize(
    "state",
    [
        {"Type": "Parallel", "Branches": [], "End": True},
        {"Type": "Task", "Resource": "arn:aws:states:local:000000000000:activity:a", "End": True},
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "End": True,
        },
    ],
)
def test_what_test_state_cannot_run_is_refused(state: dict[str, Any]) -> None:
    with pytest.raises((ValidationException, InvalidDefinition)):
        _test(Core(), state, {})


def test_bad_requests_name_their_field() -> None:
    with pytest.raises(ValidationException, match="inspectionLevel"):
        _test(Core(), {"Type": "Pass", "End": True}, {}, "LOUD")
    with pytest.raises(InvalidDefinition):
        _test(Core(), {"Type": "Nope", "End": True}, {})
    with pytest.raises(InvalidDefinition):
        asyncio.run(Core().test_state("[1]", input="{}"))
