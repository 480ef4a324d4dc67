"""A Fail state's error and cause, from literals, paths, intrinsics or JSONata."""

from __future__ import annotations

from typing import Any

from eventplane.workflows.asl.definition import FailState
from eventplane.workflows.asl.errors import QUERY_EVALUATION_ERROR, RUNTIME, StatesError
from eventplane.workflows.asl.intrinsics import IntrinsicEnv, evaluate_intrinsic, is_intrinsic
from eventplane.workflows.asl.jsonata_mode import JsonataEnv, evaluate_template, is_expression
from eventplane.workflows.asl.paths import dumps, resolve_path

__all__ = ["fail_error_and_cause"]


def fail_error_and_cause(
    state: FailState,
    input: Any,
    context: Any = None,
    variables: dict[str, Any] | None = None,
) -> tuple[str | None, str | None]:
    """(Error, Cause) of the execution failure this Fail state causes."""
    return (
        _value(state, "Error", state.error, state.error_path, input, context, variables),
        _value(state, "Cause", state.cause, state.cause_path, input, context, variables),
    )


def _value(
    state: FailState,
    name: str,
    literal: str | None,
    path: str | None,
    input: Any,
    context: Any,
    variables: dict[str, Any] | None,
) -> str | None:
    if state.query_language == "JSONata":
        if literal is None or not is_expression(literal):
            return literal
        env = JsonataEnv(input=input, context=context, variables=variables)
        value = evaluate_template(literal, env, field=name)
        if not isinstance(value, str):
            raise StatesError(
                QUERY_EVALUATION_ERROR,
                f"The {name} field of the Fail state must evaluate to a string, got {dumps(value)}",
            )
        return value
    if path is None:
        return literal
    if is_intrinsic(path):
        value = evaluate_intrinsic(
            path, IntrinsicEnv(input=input, context=context, variables=dict(variables or {}))
        )
    else:
        value = resolve_path(path, input, context, variables)
    if not isinstance(value, str):
        raise StatesError(
            RUNTIME,
            f"The {name}Path '{path}' of the Fail state must select a string, got {dumps(value)}",
        )
    return value
