"""The JSONPath (and JSONata) input/output chain of one state, from tests/data/asl/paths.json."""

from __future__ import annotations

from typing import Any

import pytest

from eventplane.workflows.asl.definition import build_machine
from eventplane.workflows.asl.errors import StatesError
from eventplane.workflows.asl.paths import (
    apply_result_path,
    effective_input,
    pass_result,
    select,
    state_output,
)

from .conftest import load_cases


def _run(case: dict[str, Any]) -> tuple[Any, Any]:
    definition = {"StartAt": "S", "States": {"S": {**case["state"], "End": True}}}
    state = build_machine(definition).states["S"]
    raw, context, variables = case["input"], case.get("context", {}), case.get("variables", {})
    effective = effective_input(state, raw, context, variables)
    result = pass_result(state, effective) if state.type == "Pass" else case.get("result")
    if state.type == "Pass" and state.query_language == "JSONata":
        result = raw
    return effective, state_output(state, raw, result, context, variables)


@pytest.mark.parametrize("case", load_cases("paths.json"))
def test_chain(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(StatesError) as info:
            _run(case)
        assert info.value.error == case["error"]
        assert case["cause_contains"] in info.value.cause
        return
    effective, output = _run(case)
    if "effective_input" in case:
        assert effective == case["effective_input"]
    if "effective_input_sorted" in case:
        assert sorted(effective) == case["effective_input_sorted"]
    if "output" in case:
        assert output == case["output"]


def test_result_path_never_mutates_the_raw_input() -> None:
    raw = {"a": {"b": 1}}
    out = apply_result_path(raw, 2, "$.a.c")
    assert out == {"a": {"b": 1, "c": 2}}
    assert raw == {"a": {"b": 1}}


def test_select_root_is_the_data_itself() -> None:
    data = {"x": [1]}
    assert select("$", data) is data
