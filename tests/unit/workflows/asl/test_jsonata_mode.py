"""JSONata mode expressions, $states, variables and AWS's added functions, from data."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from eventplane.workflows.asl.errors import StatesError
from eventplane.workflows.asl.jsonata_mode import (
    UNDEFINED,
    JsonataEnv,
    check_expression,
    evaluate_expression,
    evaluate_template,
    is_expression,
)

from .conftest import load_cases

_UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _env(case: dict[str, Any]) -> JsonataEnv:
    extra: dict[str, Any] = {}
    if "result" in case:
        extra["result"] = case["result"]
    if "error_output" in case:
        extra["error_output"] = case["error_output"]
    return JsonataEnv(
        input=case["input"],
        context=case.get("context"),
        variables=case.get("variables"),
        rng=random.Random(3),
        **extra,
    )


def _evaluate(case: dict[str, Any]) -> Any:
    expression = case["expression"]
    if isinstance(expression, str) and is_expression(expression) and case.get("undefined"):
        return evaluate_expression(expression, _env(case))
    return evaluate_template(expression, _env(case), field="Output")


@pytest.mark.parametrize("case", load_cases("jsonata.json"))
def test_jsonata(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(StatesError) as info:
            _evaluate(case)
        assert info.value.error == case["error"]
        assert case["cause_contains"] in info.value.cause
        return
    value = _evaluate(case)
    if case.get("undefined"):
        assert value is UNDEFINED
    elif case.get("expected_uuid"):
        assert _UUID4.match(value)
    elif case.get("expected_unit_interval"):
        assert isinstance(value, float) and 0.0 <= value < 1.0
    else:
        assert value == case["expected"]
        assert type(value) is type(case["expected"])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{% 1 + %}", "end of expression"),
        ("{% %}", "empty"),
        ("{% $eval('x') %}", "$eval"),
        ("{% 1", "must start with"),
    ],
)
def test_check_expression(text: str, problem: str) -> None:
    message = check_expression(text)
    assert message is not None and problem in message


def test_evaluations_do_not_share_bindings() -> None:
    first = JsonataEnv(input={}, variables={"x": 1})
    second = JsonataEnv(input={}, variables={"x": 2})
    assert evaluate_expression("{% $x %}", first) == 1
    assert evaluate_expression("{% $x %}", second) == 2
    assert evaluate_expression("{% $uuid() %}", JsonataEnv(new_uuid=lambda: "fixed")) == "fixed"
