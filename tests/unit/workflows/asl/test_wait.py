"""Wait durations and Task timeouts from literals, paths and JSONata, with an injected now."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from eventplane.workflows.asl.definition import TaskState, WaitState, parse_definition
from eventplane.workflows.asl.errors import StatesError
from eventplane.workflows.asl.wait import resolve_task_timeouts, wait_until

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _state(fields: dict[str, Any], language: str = "JSONPath") -> Any:
    definition = {
        "QueryLanguage": language,
        "StartAt": "S",
        "States": {"S": {**fields, "End": True}},
    }
    return parse_definition(json.dumps(definition)).states["S"]


def _wait(fields: dict[str, Any], language: str = "JSONPath") -> WaitState:
    state = _state({"Type": "Wait", **fields}, language)
    assert isinstance(state, WaitState)
    return state


def test_two_days_from_seconds() -> None:
    assert wait_until(_wait({"Seconds": 172800}), {}, NOW) == NOW + timedelta(days=2)


def test_timestamp_with_an_offset() -> None:
    state = _wait({"Timestamp": "2026-01-03T14:00:00+02:00"})
    assert wait_until(state, {}, NOW) == datetime(2026, 1, 3, 12, 0, tzinfo=UTC)


def test_seconds_path_and_timestamp_path() -> None:
    assert wait_until(_wait({"SecondsPath": "$.s"}), {"s": 5}, NOW) == NOW + timedelta(seconds=5)
    state = _wait({"TimestampPath": "$$.Execution.Input.at"})
    context = {"Execution": {"Input": {"at": "2026-02-01T00:00:00Z"}}}
    assert wait_until(state, {}, NOW, context) == datetime(2026, 2, 1, tzinfo=UTC)
    assert wait_until(_wait({"SecondsPath": "$pause"}), {}, NOW, None, {"pause": 0}) == NOW


@pytest.mark.parametrize(
    ("fields", "input", "cause"),
    [
        ({"SecondsPath": "$.s"}, {"s": -1}, "SecondsPath"),
        ({"SecondsPath": "$.s"}, {"s": "5"}, "SecondsPath"),
        ({"SecondsPath": "$.s"}, {}, "$.s"),
        ({"TimestampPath": "$.t"}, {"t": "tomorrow"}, "TimestampPath"),
        ({"TimestampPath": "$.t"}, {"t": "2026-01-01 10:00:00Z"}, "TimestampPath"),
    ],
)
def test_bad_paths_are_runtime_errors(fields: dict[str, Any], input: Any, cause: str) -> None:
    with pytest.raises(StatesError) as info:
        wait_until(_wait(fields), input, NOW)
    assert info.value.error == "States.Runtime"
    assert cause in info.value.cause


def test_jsonata_seconds_and_timestamp() -> None:
    state = _wait({"Seconds": "{% $states.input.delay * 2 %}"}, "JSONata")
    assert wait_until(state, {"delay": 30}, NOW) == NOW + timedelta(minutes=1)
    state = _wait({"Timestamp": "{% $states.input.at %}"}, "JSONata")
    assert wait_until(state, {"at": "2026-01-01T13:00:00Z"}, NOW) == NOW + timedelta(hours=1)
    with pytest.raises(StatesError) as info:
        wait_until(_wait({"Seconds": "{% 'soon' %}"}, "JSONata"), {}, NOW)
    assert info.value.error == "States.QueryEvaluationError"


def _task(fields: dict[str, Any], language: str = "JSONPath") -> TaskState:
    state = _state(
        {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", **fields}, language
    )
    assert isinstance(state, TaskState)
    return state


def test_task_timeouts() -> None:
    assert resolve_task_timeouts(_task({}), {}) == (None, None)
    assert resolve_task_timeouts(_task({"TimeoutSeconds": 60, "HeartbeatSeconds": 10}), {}) == (
        60,
        10,
    )
    state = _task({"TimeoutSecondsPath": "$.t", "HeartbeatSecondsPath": "$.h"})
    assert resolve_task_timeouts(state, {"t": 600, "h": 30}) == (600, 30)
    state = _task({"TimeoutSeconds": "{% $states.input.t %}"}, "JSONata")
    assert resolve_task_timeouts(state, {"t": 5}) == (5, None)


@pytest.mark.parametrize(
    ("fields", "input"),
    [
        ({"TimeoutSecondsPath": "$.t"}, {"t": 0}),
        ({"TimeoutSecondsPath": "$.t"}, {"t": "10"}),
        ({"HeartbeatSecondsPath": "$.h", "TimeoutSeconds": 10}, {"h": 10}),
    ],
)
def test_bad_task_timeouts(fields: dict[str, Any], input: Any) -> None:
    with pytest.raises(StatesError) as info:
        resolve_task_timeouts(_task(fields), input)
    assert info.value.error == "States.Runtime"
