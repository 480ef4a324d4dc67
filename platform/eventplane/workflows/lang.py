"""The language operations the interpreter needs, over the typed ASL core (``asl``).

The interpreter calls only these functions; each hides the difference between the two
query languages (JSONPath: InputPath → Parameters → ResultSelector → ResultPath →
OutputPath; JSONata: Arguments, Output, ``$states``), so stepping a state reads the same
in both.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

from eventplane.workflows import asl
from eventplane.workflows.asl import (
    CatcherDef,
    ChoiceState,
    FailState,
    MapState,
    RetrierDef,
    StateDef,
    StatesError,
    TaskState,
    WaitState,
)
from eventplane.workflows.asl.errors import QUERY_EVALUATION_ERROR
from eventplane.workflows.asl.jsonata_mode import JsonataEnv, evaluate_template, is_expression
from eventplane.workflows.asl.paths import apply_input_path, resolve_path

__all__ = ["StatesError", "dumps"]

# One encoder: json.dumps with non-default options builds a new one per call.
dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _jsonata(sdef: StateDef | CatcherDef) -> bool:
    return getattr(sdef, "query_language", "JSONPath") == "JSONata"


def _env(raw_input: Any, ctx: Any, variables: dict[str, Any], **more: Any) -> JsonataEnv:
    return JsonataEnv(input=raw_input, context=ctx, variables=variables, **more)


def _value(value: Any, env: JsonataEnv, field: str) -> Any:
    return evaluate_template(value, env, field=field) if is_expression(value) else value


def effective_input(sdef: StateDef, raw_input: Any, ctx: Any, variables: dict[str, Any]) -> Any:
    return asl.effective_input(sdef, raw_input, ctx, variables)


def pass_result(sdef: StateDef, effective: Any) -> Any:
    return asl.pass_result(sdef, effective)


def assign(
    sdef: StateDef | CatcherDef | asl.ChoiceRule,
    language_of: StateDef,
    raw_input: Any,
    data: Any,
    ctx: Any,
    variables: dict[str, Any],
    *,
    error_output: Any = None,
) -> dict[str, Any]:
    """The variables a state (or its matched rule or catcher) assigns; not yet applied."""
    if not sdef.assign:
        return {}
    if language_of.query_language == "JSONata":
        extra: dict[str, Any] = {}
        if error_output is not None:
            extra["error_output"] = error_output
        elif language_of.type in ("Task", "Parallel", "Map"):
            extra["result"] = data
        env = _env(raw_input, ctx, variables, **extra)
        return asl.evaluate_assign(
            sdef.assign,
            query_language="JSONata",
            data=data,
            context=ctx,
            variables=variables,
            jsonata_env=env,
        )
    return asl.evaluate_assign(
        sdef.assign, query_language="JSONPath", data=data, context=ctx, variables=variables
    )


def choose(
    sdef: ChoiceState, raw_input: Any, ctx: Any, variables: dict[str, Any]
) -> tuple[str | None, Any, dict[str, Any]]:
    """(next state, output, assignments) of a Choice state."""
    if sdef.query_language == "JSONata":
        target, rule = asl.choose_rule(sdef, raw_input, ctx, variables)
        owner: Any = rule if rule is not None else sdef
        env = _env(raw_input, ctx, variables)
        output = (
            evaluate_template(owner.output, env, field="Output") if owner.has_output else raw_input
        )
        values = (
            asl.evaluate_assign(
                owner.assign,
                query_language="JSONata",
                data=raw_input,
                context=ctx,
                variables=variables,
                jsonata_env=env,
            )
            if owner.assign
            else {}
        )
        return target, output, values
    data = apply_input_path(sdef.input_path, raw_input, variables)
    target, rule = asl.choose_rule(sdef, data, ctx, variables)
    owner = rule if rule is not None and rule.assign else sdef
    values = assign(owner, sdef, raw_input, data, ctx, variables)
    return target, asl.apply_output_path(sdef.output_path, data, variables), values


def passthrough_output(sdef: StateDef, raw_input: Any, ctx: Any, variables: dict[str, Any]) -> Any:
    """Output of a state without a result (Wait, Succeed): paths or Output over the input."""
    if sdef.query_language == "JSONata":
        if sdef.has_output:
            return evaluate_template(sdef.output, _env(raw_input, ctx, variables), field="Output")
        return raw_input
    data = apply_input_path(sdef.input_path, raw_input, variables)
    return asl.apply_output_path(sdef.output_path, data, variables)


def fail_error(
    sdef: FailState, raw_input: Any, ctx: Any, variables: dict[str, Any]
) -> tuple[str | None, str | None]:
    return asl.fail_error_and_cause(sdef, raw_input, ctx, variables)


def wait_until_ms(
    sdef: WaitState, raw_input: Any, ctx: Any, variables: dict[str, Any], now_ms: int
) -> int:
    data = raw_input
    if sdef.query_language != "JSONata":
        data = apply_input_path(sdef.input_path, raw_input, variables)
    now = datetime.fromtimestamp(now_ms / 1000, UTC)
    return int(asl.wait_until(sdef, data, now, ctx, variables).timestamp() * 1000)


def task_timeouts(
    sdef: TaskState, raw_input: Any, ctx: Any, variables: dict[str, Any]
) -> tuple[int | None, int | None]:
    data = raw_input
    if sdef.query_language != "JSONata":
        data = apply_input_path(sdef.input_path, raw_input, variables)
    return asl.resolve_task_timeouts(sdef, data, ctx, variables)


def map_input(sdef: MapState, raw_input: Any, variables: dict[str, Any]) -> Any:
    if sdef.query_language == "JSONata":
        return raw_input
    return apply_input_path(sdef.input_path, raw_input, variables)


def map_items(sdef: MapState, data: Any, ctx: Any, variables: dict[str, Any]) -> list[Any]:
    if sdef.query_language == "JSONata":
        items = (
            data if sdef.items is None else _value(sdef.items, _env(data, ctx, variables), "Items")
        )
        where = "Items"
    else:
        path = sdef.items_path or "$"
        items = resolve_path(path, data, ctx, variables)
        where = f"ItemsPath '{path}'"
    if not isinstance(items, list):
        if sdef.query_language == "JSONata" and is_expression(sdef.items):
            raise StatesError(QUERY_EVALUATION_ERROR, _items_type_cause(sdef.items, items))
        raise StatesError("States.Runtime", f"The {where} must select an array, got {dumps(items)}")
    return items


def _items_type_cause(expression: str, items: Any) -> str:
    """AWS's cause when a JSONata Items expression yields something other than an array."""
    if isinstance(items, bool):
        kind = "boolean"
    elif items is None:
        kind = "null"
    elif isinstance(items, str):
        kind = "string"
    else:
        kind = "object" if isinstance(items, dict) else "number"
    return (
        f"The JSONata expression '{expression[2:-2].strip()}' specified for the field 'Items' "
        f"returned an unexpected result type. Expected 'array', but was '{kind}' for value: "
        f"{dumps(items)}"
    )


def item_input(sdef: MapState, data: Any, ctx: Any, variables: dict[str, Any], item: Any) -> Any:
    """ItemSelector (or the legacy Parameters) for one item; the item itself without one."""
    if sdef.item_selector is None:
        return item
    if sdef.query_language == "JSONata":
        return evaluate_template(
            sdef.item_selector, _env(data, ctx, variables), field="ItemSelector"
        )
    return asl.apply_parameters(sdef.item_selector, data, ctx, variables)


def map_number(
    sdef: MapState, name: str, data: Any, ctx: Any, variables: dict[str, Any]
) -> float | None:
    """MaxConcurrency / ToleratedFailureCount / ToleratedFailurePercentage, resolved."""
    literal = getattr(sdef, name)
    path = getattr(sdef, f"{name}_path")
    if literal is not None:
        value = (
            _value(literal, _env(data, ctx, variables), name)
            if isinstance(literal, str)
            else literal
        )
    elif path is not None:
        value = resolve_path(path, data, ctx, variables)
    else:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise StatesError("States.Runtime", f"The Map state's {name} must be a non-negative number")
    return float(value)


def matches_error(error_equals: tuple[str, ...], error: str) -> bool:
    return asl.matches_error(error_equals, error)


def retry_delay(retrier: RetrierDef, retries_done: int, rng: random.Random) -> float | None:
    """Seconds before the next retry, given how many this retrier already made."""
    return asl.retry_delay(retrier, retries_done + 1, rng)
