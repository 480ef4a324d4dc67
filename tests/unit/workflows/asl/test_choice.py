"""Every Choice operator, And/Or/Not, Default, errors and JSONata Conditions, from data."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eventplane.workflows.asl.choice import choose, choose_rule
from eventplane.workflows.asl.definition import ChoiceState, parse_definition
from eventplane.workflows.asl.errors import StatesError
from eventplane.workflows.asl.validation_rules import COMPARISON_OPERATORS

from .conftest import DATA, load_cases


def _machine(case: dict[str, Any]) -> ChoiceState:
    targets = {"Match", "Other", "First", "Second"}
    rules = [{"Next": "Match", **rule} for rule in case["rules"]]
    state: dict[str, Any] = {"Type": "Choice", "Choices": rules}
    if "default" in case:
        state["Default"] = case["default"]
    definition: dict[str, Any] = {
        "StartAt": "C",
        "States": {"C": state, **{t: {"Type": "Succeed"} for t in targets}},
    }
    if "query_language" in case:
        definition["QueryLanguage"] = case["query_language"]
    # the other targets are unreachable in most cases: build without validation
    from eventplane.workflows.asl.definition import build_machine

    choice = build_machine(definition).states["C"]
    assert isinstance(choice, ChoiceState)
    return choice


@pytest.mark.parametrize("case", load_cases("choice.json"))
def test_choice(case: dict[str, Any]) -> None:
    state = _machine(case)
    args = (case["input"], case.get("context"), case.get("variables"))
    if "error" in case:
        with pytest.raises(StatesError) as info:
            choose(state, *args)
        assert info.value.error == case["error"]
        assert case["cause_contains"] in info.value.cause
    else:
        assert choose(state, *args) == case["next"]


def test_every_operator_has_a_case() -> None:
    text = (DATA / "choice.json").read_text()
    used = {key for case in json.loads(text)["cases"] for key in _keys(case["rules"])}
    assert set(COMPARISON_OPERATORS) - used == set()


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_choose_rule_returns_the_matched_rule_for_its_assign() -> None:
    machine = parse_definition(
        json.dumps(
            {
                "StartAt": "C",
                "States": {
                    "C": {
                        "Type": "Choice",
                        "Choices": [
                            {
                                "Variable": "$.n",
                                "NumericGreaterThan": 1,
                                "Next": "Big",
                                "Assign": {"size": "big"},
                            }
                        ],
                        "Default": "Small",
                    },
                    "Big": {"Type": "Succeed"},
                    "Small": {"Type": "Succeed"},
                },
            }
        )
    )
    state = machine.states["C"]
    assert isinstance(state, ChoiceState)
    nxt, rule = choose_rule(state, {"n": 2})
    assert nxt == "Big" and rule is not None and rule.assign == {"size": "big"}
    assert choose_rule(state, {"n": 0}) == ("Small", None)
