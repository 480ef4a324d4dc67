"""Finishing states: output and Assign together, variable scopes, Map inputs and Fail states."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eventplane.workflows.asl.choice import choose_rule
from eventplane.workflows.asl.definition import (
    ChoiceState,
    FailState,
    MapState,
    StateDef,
    TaskState,
    parse_definition,
)
from eventplane.workflows.asl.errors import StatesError
from eventplane.workflows.asl.fail import fail_error_and_cause
from eventplane.workflows.asl.map_state import (
    batch_items,
    exceeds_tolerance,
    item_input,
    map_items,
    map_limits,
)
from eventplane.workflows.asl.outcome import complete_catch, complete_state
from eventplane.workflows.asl.variables import Scope


def _state(fields: dict[str, Any], language: str = "JSONPath", **extra: Any) -> Any:
    body = {**fields}
    if body["Type"] not in ("Choice", "Succeed", "Fail"):
        body["End"] = True
    states = {"S": body, **extra}
    definition = {"QueryLanguage": language, "StartAt": "S", "States": states}
    return parse_definition(json.dumps(definition)).states["S"]


_LAMBDA = "arn:aws:states:::lambda:invoke"


def test_jsonpath_assign_sees_the_selected_result_and_old_variables() -> None:
    state = _state(
        {
            "Type": "Task",
            "Resource": _LAMBDA,
            "ResultSelector": {"total.$": "$.Payload.total"},
            "ResultPath": "$.bill",
            "Assign": {"total.$": "$.total", "previous.$": "$total", "fixed": "yes"},
        }
    )
    outcome = complete_state(state, {"id": 1}, {"Payload": {"total": 9}}, {}, {"total": 4})
    assert outcome.output == {"id": 1, "bill": {"total": 9}}
    assert outcome.assigned == {"total": 9, "previous": 4, "fixed": "yes"}


def test_jsonata_assign_and_output_see_the_same_variables() -> None:
    state = _state(
        {
            "Type": "Task",
            "Resource": _LAMBDA,
            "Assign": {"count": "{% $count + 1 %}", "last": "{% $states.result.v %}"},
            "Output": {"count": "{% $count %}", "input": "{% $states.input.x %}"},
        },
        "JSONata",
    )
    outcome = complete_state(state, {"x": "in"}, {"v": 7}, {}, {"count": 1})
    assert outcome.assigned == {"count": 2, "last": 7}
    assert outcome.output == {"count": 1, "input": "in"}  # Output saw the old $count


def test_choice_rule_assign_and_output_replace_the_states() -> None:
    state = _state(
        {
            "Type": "Choice",
            "Choices": [
                {
                    "Condition": "{% $states.input.n > 1 %}",
                    "Next": "Big",
                    "Assign": {"size": "big"},
                    "Output": {"n": "{% $states.input.n %}"},
                }
            ],
            "Default": "Small",
            "Assign": {"size": "small"},
        },
        "JSONata",
        Big={"Type": "Succeed"},
        Small={"Type": "Succeed"},
    )
    assert isinstance(state, ChoiceState)
    nxt, rule = choose_rule(state, {"n": 2, "other": 0})
    outcome = complete_state(state, {"n": 2, "other": 0}, None, rule=rule)
    assert (nxt, outcome.assigned, outcome.output) == ("Big", {"size": "big"}, {"n": 2})
    nxt, rule = choose_rule(state, {"n": 0})
    outcome = complete_state(state, {"n": 0}, None, rule=rule)
    assert (nxt, outcome.assigned, outcome.output) == ("Small", {"size": "small"}, {"n": 0})


def test_catch_assign_sees_the_error_output() -> None:
    state = _state(
        {
            "Type": "Task",
            "Resource": _LAMBDA,
            "Catch": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "ResultPath": "$.err",
                    "Assign": {"why.$": "$.Cause"},
                    "Next": "F",
                }
            ],
        },
        F={"Type": "Fail"},
    )
    assert isinstance(state, TaskState)
    outcome = complete_catch(state, state.catch[0], {"a": 1}, "Boom", "it broke")
    assert outcome.output == {"a": 1, "err": {"Error": "Boom", "Cause": "it broke"}}
    assert outcome.assigned == {"why": "it broke"}


def test_child_scopes_read_outer_variables_and_do_not_leak() -> None:
    outer = Scope()
    outer.assign({"a": 1, "b": 2})
    branch = outer.child()
    branch.assign({"b": 20, "c": 30})
    assert branch.snapshot() == {"a": 1, "b": 20, "c": 30}
    assert outer.snapshot() == {"a": 1, "b": 2}
    sibling = outer.child()
    assert "c" not in sibling.snapshot()


def _map(fields: dict[str, Any], language: str = "JSONPath") -> MapState:
    processor = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    state = _state({"Type": "Map", "ItemProcessor": processor, **fields}, language)
    assert isinstance(state, MapState)
    return state


def test_map_items_and_item_selector() -> None:
    state = _map(
        {
            "ItemsPath": "$.orders",
            "ItemSelector": {
                "order.$": "$$.Map.Item.Value",
                "i.$": "$$.Map.Item.Index",
                "c.$": "$.c",
            },
        }
    )
    effective = {"orders": [{"id": 1}, {"id": 2}], "c": "x"}
    items = map_items(state, effective)
    assert items == [{"id": 1}, {"id": 2}]
    assert item_input(state, effective, 1, items[1], {"Execution": {}}) == {
        "order": {"id": 2},
        "i": 1,
        "c": "x",
    }
    with pytest.raises(StatesError) as info:
        map_items(state, {"orders": {"not": "a list"}})
    assert info.value.error == "States.Runtime"


def test_map_items_in_jsonata() -> None:
    state = _map(
        {
            "Items": "{% $states.input.list[value > 1] %}",
            "ItemSelector": {"v": "{% $states.context.Map.Item.Value.value %}"},
        },
        "JSONata",
    )
    effective = {"list": [{"value": 1}, {"value": 2}, {"value": 3}]}
    items = map_items(state, effective)
    assert items == [{"value": 2}, {"value": 3}]
    assert item_input(state, effective, 0, items[0]) == {"v": 2}


def test_map_limits_and_tolerance() -> None:
    state = _map(
        {"MaxConcurrencyPath": "$.c", "ToleratedFailureCount": 1, "ToleratedFailurePercentage": 50}
    )
    assert map_limits(state, {"c": 3}) == (3, 1, 50.0)
    assert map_limits(_map({}), {}) == (0, None, None)
    with pytest.raises(StatesError):
        map_limits(state, {"c": -1})
    assert exceeds_tolerance(1, 10, None, None)
    assert not exceeds_tolerance(0, 10, None, None)
    assert not exceeds_tolerance(1, 10, 1, None)
    assert exceeds_tolerance(2, 10, 1, None)
    assert not exceeds_tolerance(5, 10, None, 50.0)
    assert exceeds_tolerance(6, 10, None, 50.0)


def test_item_batcher() -> None:
    state = _map({"ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"k.$": "$.k"}}})
    batches = batch_items(state, [1, 2, 3], {"k": "v"})
    assert batches == [{"Items": [1, 2], "k": "v"}, {"Items": [3], "k": "v"}]


@pytest.mark.parametrize(
    ("fields", "language", "input", "expected"),
    [
        ({"Error": "E", "Cause": "C"}, "JSONPath", {}, ("E", "C")),
        ({"ErrorPath": "$.e", "CausePath": "$.c"}, "JSONPath", {"e": "X", "c": "Y"}, ("X", "Y")),
        (
            {"CausePath": "States.Format('bad {}', $.id)"},
            "JSONPath",
            {"id": 3},
            (None, "bad 3"),
        ),
        ({"Error": "{% 'E' & $states.input.n %}"}, "JSONata", {"n": 1}, ("E1", None)),
    ],
)
def test_fail_error_and_cause(
    fields: dict[str, Any], language: str, input: Any, expected: tuple[Any, Any]
) -> None:
    state: StateDef = _state({"Type": "Fail", **fields}, language)
    assert isinstance(state, FailState)
    assert fail_error_and_cause(state, input) == expected


def test_fail_error_path_must_be_a_string() -> None:
    state = _state({"Type": "Fail", "ErrorPath": "$.e"})
    with pytest.raises(StatesError) as info:
        fail_error_and_cause(state, {"e": 5})
    assert info.value.error == "States.Runtime"


def test_context_object_shape_and_use_from_both_languages() -> None:
    from datetime import UTC, datetime

    from eventplane.workflows.asl.context import context_object
    from eventplane.workflows.asl.jsonata_mode import JsonataEnv, evaluate_expression
    from eventplane.workflows.asl.paths import apply_parameters

    context = context_object(
        execution_arn="arn:aws:states:us-east-1:000000000000:execution:sm:run",
        execution_name="run",
        execution_input={"a": 1},
        start_time=datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC),
        state_machine_arn="arn:aws:states:us-east-1:000000000000:stateMachine:sm",
        state_machine_name="sm",
        state_name="Pay",
        entered_time=datetime(2026, 1, 1, 12, 0, 1, tzinfo=UTC),
        retry_count=2,
        task_token="tok",
    )
    assert context["Execution"]["StartTime"] == "2026-01-01T12:00:00.123Z"
    assert context["State"] == {
        "EnteredTime": "2026-01-01T12:00:01.000Z",
        "Name": "Pay",
        "RetryCount": 2,
    }
    template = {"token.$": "$$.Task.Token", "input.$": "$$.Execution.Input.a"}
    assert apply_parameters(template, {}, context) == {"token": "tok", "input": 1}
    env = JsonataEnv(input={}, context=context)
    assert evaluate_expression("{% $states.context.StateMachine.Name %}", env) == "sm"
