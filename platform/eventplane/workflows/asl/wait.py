"""Resolving Wait durations and Task timeouts from literals, paths or expressions.

Time is never read here: the caller passes ``now`` (the engine's injected
clock), so a two-day Wait is unit-testable and deterministic.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from eventplane.workflows.asl.definition import TaskState, WaitState
from eventplane.workflows.asl.errors import QUERY_EVALUATION_ERROR, RUNTIME, StatesError
from eventplane.workflows.asl.jsonata_mode import JsonataEnv, evaluate_template, is_expression
from eventplane.workflows.asl.paths import dumps, resolve_path
from eventplane.workflows.asl.timestamps import parse_timestamp

__all__ = ["resolve_task_timeouts", "wait_until"]

_MAX_SECONDS = 99_999_999


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def wait_until(
    state: WaitState,
    input: Any,
    now: datetime,
    context: Any = None,
    variables: dict[str, Any] | None = None,
) -> datetime:
    """When the Wait state ends. ``input`` is the effective (JSONPath) or raw (JSONata) input."""
    if state.query_language == "JSONata":
        env = JsonataEnv(input=input, context=context, variables=variables)
        if state.seconds is not None:
            seconds = _jsonata(state.seconds, env, "Seconds")
            if not _is_int(seconds) or not 0 <= seconds <= _MAX_SECONDS:
                raise StatesError(
                    QUERY_EVALUATION_ERROR,
                    f"The Seconds field must evaluate to an integer from 0 to {_MAX_SECONDS}, "
                    f"got {dumps(seconds)}",
                )
            return now + timedelta(seconds=int(seconds))
        stamp = _jsonata(state.timestamp, env, "Timestamp")
        when = parse_timestamp(stamp) if isinstance(stamp, str) else None
        if when is None:
            raise StatesError(
                QUERY_EVALUATION_ERROR,
                f"The Timestamp field must evaluate to an RFC3339 timestamp, got {dumps(stamp)}",
            )
        return when
    if state.seconds is not None:
        return now + timedelta(seconds=int(state.seconds))
    if state.timestamp is not None:
        when = parse_timestamp(state.timestamp)
        assert when is not None  # validated with the definition
        return when
    if state.seconds_path is not None:
        seconds = resolve_path(state.seconds_path, input, context, variables)
        if not _is_int(seconds) or not 0 <= seconds <= _MAX_SECONDS:
            raise StatesError(
                RUNTIME,
                f"Invalid path '{state.seconds_path}': the SecondsPath parameter does not "
                f"reference a valid non-negative integer value: {dumps(seconds)}",
            )
        return now + timedelta(seconds=int(seconds))
    path = state.timestamp_path or "$"
    stamp = resolve_path(path, input, context, variables)
    when = parse_timestamp(stamp) if isinstance(stamp, str) else None
    if when is None:
        raise StatesError(
            RUNTIME,
            f"Invalid path '{path}': the TimestampPath parameter does not reference a valid "
            f"ISO-8601 extended offset date-time format string: {dumps(stamp)}",
        )
    return when


def _jsonata(value: Any, env: JsonataEnv, field: str) -> Any:
    return evaluate_template(value, env, field=field) if is_expression(value) else value


def resolve_task_timeouts(
    state: TaskState,
    input: Any,
    context: Any = None,
    variables: dict[str, Any] | None = None,
) -> tuple[int | None, int | None]:
    """(TimeoutSeconds, HeartbeatSeconds) for this entry of the Task; None when unset."""
    env = JsonataEnv(input=input, context=context, variables=variables)
    result: list[int | None] = []
    for name, literal, path in (
        ("TimeoutSeconds", state.timeout_seconds, state.timeout_seconds_path),
        ("HeartbeatSeconds", state.heartbeat_seconds, state.heartbeat_seconds_path),
    ):
        if literal is not None and is_expression(literal):
            value = _jsonata(literal, env, name)
            error = QUERY_EVALUATION_ERROR
        elif literal is not None:
            value, error = literal, RUNTIME
        elif path is not None:
            value, error = resolve_path(path, input, context, variables), RUNTIME
        else:
            result.append(None)
            continue
        if not _is_int(value) or not 1 <= value <= _MAX_SECONDS:
            where = f"{name}Path '{path}'" if path is not None and literal is None else name
            raise StatesError(
                error,
                f"The {where} must resolve to an integer from 1 to {_MAX_SECONDS}, "
                f"got {dumps(value)}",
            )
        result.append(int(value))
    timeout, heartbeat = result
    if timeout is not None and heartbeat is not None and heartbeat >= timeout:
        raise StatesError(
            RUNTIME,
            f"The HeartbeatSeconds ({heartbeat}) must be smaller than the TimeoutSeconds "
            f"({timeout})",
        )
    return timeout, heartbeat
