"""Definition validation: one bad definition per diagnostic, from tests/data/asl/validation.json."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eventplane.errors import EventplaneError
from eventplane.workflows.asl.definition import (
    ChoiceState,
    MapState,
    ParallelState,
    TaskState,
    parse_definition,
    validate_definition,
)
from eventplane.workflows.asl.errors import InvalidDefinition

from .conftest import load_cases


def _text(case: dict[str, Any]) -> str:
    return case["definition_text"] if "definition_text" in case else json.dumps(case["definition"])


@pytest.mark.parametrize("case", load_cases("validation.json"))
def test_validation(case: dict[str, Any]) -> None:
    diagnostics = validate_definition(
        _text(case), machine_type=case.get("machine_type", "STANDARD")
    )
    errors = [d for d in diagnostics if d.severity == "ERROR"]
    if case.get("valid"):
        assert errors == []
    for want in case.get("expected", []):
        found = [
            d
            for d in diagnostics
            if d.code == want["code"]
            and ("location" not in want or d.location == want["location"])
            and d.severity == want.get("severity", "ERROR")
            and want.get("message_contains", "") in d.message
        ]
        assert found, f"{want} not in {diagnostics}"
    if "errors_exactly" in case:
        assert sorted({d.code for d in errors}) == sorted(case["errors_exactly"])


def test_parse_raises_invalid_definition_with_the_diagnostics() -> None:
    text = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}})
    with pytest.raises(InvalidDefinition) as info:
        parse_definition(text)
    assert info.value.code == "InvalidDefinition"
    assert "MISSING_TRANSITION_TARGET" in [d.code for d in info.value.diagnostics]
    assert "/States/A/Next" in info.value.message
    # the API error travels like every other eventplane error
    again = EventplaneError.from_code(info.value.code, info.value.message)
    assert isinstance(again, InvalidDefinition)


def test_parse_builds_typed_states_with_defaults() -> None:
    text = json.dumps(
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "ResultPath": None,
                    "Retry": [{"ErrorEquals": ["States.ALL"]}],
                    "Next": "P",
                },
                "P": {
                    "Type": "Parallel",
                    "QueryLanguage": "JSONata",
                    "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}],
                    "Next": "M",
                },
                "M": {
                    "Type": "Map",
                    "Parameters": {"v.$": "$$.Map.Item.Value"},
                    "Iterator": {"StartAt": "Y", "States": {"Y": {"Type": "Pass", "End": True}}},
                    "Next": "C",
                },
                "C": {
                    "Type": "Choice",
                    "Choices": [{"Not": {"Variable": "$.a", "IsNull": True}, "Next": "T"}],
                    "Default": "E",
                },
                "E": {"Type": "Succeed"},
            },
        }
    )
    machine = parse_definition(text)
    task = machine.states["T"]
    assert isinstance(task, TaskState)
    assert task.input_path == "$" and task.result_path is None and task.output_path == "$"
    retrier = task.retry[0]
    assert (retrier.interval_seconds, retrier.max_attempts, retrier.backoff_rate) == (1, 3, 2.0)
    assert retrier.jitter_strategy == "NONE" and retrier.max_delay_seconds is None
    parallel = machine.states["P"]
    assert isinstance(parallel, ParallelState)
    assert parallel.query_language == "JSONata"
    # branch states inherit the machine's language, not the Parallel's (as on AWS)
    assert parallel.branches[0].states["X"].query_language == "JSONPath"
    mapped = machine.states["M"]
    assert isinstance(mapped, MapState)
    assert mapped.item_selector == {"v.$": "$$.Map.Item.Value"}
    assert mapped.item_processor is not None and mapped.item_processor.start_at == "Y"
    choice = machine.states["C"]
    assert isinstance(choice, ChoiceState)
    rule = choice.choices[0]
    assert rule.not_ is not None and rule.not_.operator == "IsNull" and rule.not_.value is True


def test_many_errors_are_reported_at_once() -> None:
    text = json.dumps(
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "InputPath": "x", "Next": "Nope"},
                "B": {"Type": "Wait", "End": True},
            },
        }
    )
    codes = {d.code for d in validate_definition(text)}
    assert {"SCHEMA_VALIDATION_FAILED", "MISSING_TRANSITION_TARGET"} <= codes


def test_invalid_definition_message_lists_every_error_as_aws_does() -> None:
    text = json.dumps(
        {
            "StartAt": "pass1",
            "States": {
                "pass1": {"Type": "Pass", "Next": "pass3"},
                "pass2": {"Type": "Pass", "End": True},
            },
        }
    )
    with pytest.raises(InvalidDefinition) as info:
        parse_definition(text)
    assert info.value.message == (
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: "
        'pass3 at /States/pass1/Next, MISSING_TRANSITION_TARGET: State "pass2" is not '
        "reachable. at /States/pass2'"
    )
