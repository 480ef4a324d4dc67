"""Every intrinsic function with its error cases, from tests/data/asl/intrinsics.json."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from eventplane.workflows.asl.errors import StatesError
from eventplane.workflows.asl.intrinsics import (
    FUNCTIONS,
    IntrinsicEnv,
    IntrinsicSyntaxError,
    evaluate_intrinsic,
    parse_intrinsic,
)

from .conftest import load_cases

_UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _expand(value: Any) -> Any:
    if value == "@@LONG10001@@":
        return "x" * 10_001
    if isinstance(value, dict):
        return {k: _expand(v) for k, v in value.items()}
    return value


def _env(case: dict[str, Any]) -> IntrinsicEnv:
    return IntrinsicEnv(
        input=_expand(case["input"]),
        context=case.get("context"),
        variables=case.get("variables", {}),
        rng=random.Random(7),
    )


@pytest.mark.parametrize("case", load_cases("intrinsics.json"))
def test_intrinsic(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(StatesError) as info:
            evaluate_intrinsic(case["call"], _env(case))
        assert info.value.error == case["error"]
        assert case["cause_contains"] in info.value.cause
        return
    value = evaluate_intrinsic(case["call"], _env(case))
    if "expected_in_range" in case:
        low, high = case["expected_in_range"]
        assert isinstance(value, int) and low <= value < high
        if case.get("repeatable"):
            assert evaluate_intrinsic(case["call"], _env(case)) == value
    elif case.get("expected_uuid"):
        assert _UUID4.match(value)
    else:
        assert value == case["expected"]


@pytest.mark.parametrize("case", load_cases("intrinsics.json", "syntax_errors"))
def test_intrinsic_syntax_error(case: dict[str, Any]) -> None:
    with pytest.raises(IntrinsicSyntaxError, match=re.escape(case["message_contains"])):
        parse_intrinsic(case["call"])


def test_every_function_has_a_case() -> None:
    import json

    from .conftest import DATA

    text = (DATA / "intrinsics.json").read_text()
    calls = " ".join(c["call"] for c in json.loads(text)["cases"])
    assert len(FUNCTIONS) == 18
    missing = [name for name in FUNCTIONS if f"{name}(" not in calls]
    assert missing == []


def test_math_random_draws_from_the_injected_rng() -> None:
    first = evaluate_intrinsic(
        "States.MathRandom(0, 1000000)", IntrinsicEnv(input={}, rng=random.Random(1))
    )
    again = evaluate_intrinsic(
        "States.MathRandom(0, 1000000)", IntrinsicEnv(input={}, rng=random.Random(1))
    )
    assert first == again
