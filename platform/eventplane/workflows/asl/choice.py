"""Choice state rules: every comparison operator, And/Or/Not, and JSONata Conditions.

A comparison whose operand has the wrong type is false, never an error (so
``NumericEquals`` on a string simply does not match). A ``Variable`` or
``...Path`` operand that selects nothing is a ``States.Runtime`` error, except
under ``IsPresent``, which exists to test exactly that.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from eventplane.workflows.asl.definition import ChoiceRule, ChoiceState
from eventplane.workflows.asl.errors import QUERY_EVALUATION_ERROR, RUNTIME, StatesError
from eventplane.workflows.asl.jsonata_mode import JsonataEnv, evaluate_template
from eventplane.workflows.asl.paths import dumps, resolve_path
from eventplane.workflows.asl.timestamps import parse_timestamp

__all__ = ["choose", "choose_rule", "evaluate_rule", "string_matches"]

_MISSING = object()


def choose(
    state: ChoiceState,
    input: Any,
    context: Any = None,
    variables: dict[str, Any] | None = None,
) -> str | None:
    """The next state's name, the Default, or None (the caller raises NoChoiceMatched)."""
    return choose_rule(state, input, context, variables)[0]


def choose_rule(
    state: ChoiceState,
    input: Any,
    context: Any = None,
    variables: dict[str, Any] | None = None,
) -> tuple[str | None, ChoiceRule | None]:
    """(next, the matched rule or None when Default or nothing matched).

    The engine needs the rule for its ``Assign``/``Output``; when the Default is
    taken the state's own Assign/Output apply. ``input`` is the effective
    input (after InputPath) in JSONPath mode and the raw input in JSONata mode.
    """
    for index, rule in enumerate(state.choices):
        if state.query_language == "JSONata":
            matched = _condition(rule, index, input, context, variables)
        else:
            matched = evaluate_rule(rule, input, context, variables)
        if matched:
            return rule.next, rule
    return state.default, None


def _condition(rule: ChoiceRule, index: int, input: Any, context: Any, variables: Any) -> bool:
    condition = rule.condition
    if isinstance(condition, bool):
        return condition
    env = JsonataEnv(input=input, context=context, variables=variables)
    field = f"Choices[{index}]/Condition"
    value = evaluate_template(condition, env, field=field)
    if not isinstance(value, bool):
        raise StatesError(
            QUERY_EVALUATION_ERROR,
            f"The JSONata expression '{str(condition)[2:-2].strip()}' specified for the field "
            f"'{field}' must evaluate to a boolean, got {dumps(value)}",
        )
    return value


def evaluate_rule(
    rule: ChoiceRule, input: Any, context: Any = None, variables: dict[str, Any] | None = None
) -> bool:
    """Evaluate one JSONPath rule (recursively for And/Or/Not)."""
    if rule.and_ is not None:
        return all(evaluate_rule(r, input, context, variables) for r in rule.and_)
    if rule.or_ is not None:
        return any(evaluate_rule(r, input, context, variables) for r in rule.or_)
    if rule.not_ is not None:
        return not evaluate_rule(rule.not_, input, context, variables)
    op = rule.operator or ""
    variable = rule.variable or "$"
    value = _lookup(variable, input, context, variables)
    if op == "IsPresent":
        return (value is not _MISSING) == rule.value
    if value is _MISSING:
        raise StatesError(
            RUNTIME,
            f"Invalid path '{variable}': The choice state's condition path references an "
            "invalid value.",
        )
    operand = rule.value
    if op.endswith("Path"):
        operand = _lookup(str(operand), input, context, variables)
        if operand is _MISSING:
            raise StatesError(
                RUNTIME,
                f"Invalid path '{rule.value}': The choice state's condition path references "
                "an invalid value.",
            )
        op = op[: -len("Path")]
    if op.startswith("Is"):
        return _TYPE_TESTS[op](value) == operand
    if op == "StringMatches":
        return (
            isinstance(value, str) and isinstance(operand, str) and string_matches(value, operand)
        )
    kind, _, relation = _split_operator(op)
    left, right = _coerce(kind, value), _coerce(kind, operand)
    if left is None or right is None:
        return False
    return _RELATIONS[relation](left, right)


def _lookup(path: str, input: Any, context: Any, variables: Any) -> Any:
    try:
        return resolve_path(path, input, context, variables)
    except StatesError:
        return _MISSING


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "IsNull": lambda v: v is None,
    "IsNumeric": _is_number,
    "IsString": lambda v: isinstance(v, str),
    "IsBoolean": lambda v: isinstance(v, bool),
    "IsTimestamp": lambda v: isinstance(v, str) and parse_timestamp(v) is not None,
}

_RELATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda a, b: bool(a == b),
    "LessThan": lambda a, b: bool(a < b),
    "GreaterThan": lambda a, b: bool(a > b),
    "LessThanEquals": lambda a, b: bool(a <= b),
    "GreaterThanEquals": lambda a, b: bool(a >= b),
}


def _split_operator(op: str) -> tuple[str, str, str]:
    for kind in ("String", "Numeric", "Boolean", "Timestamp"):
        if op.startswith(kind):
            return kind, "", op[len(kind) :]
    raise ValueError(f"unknown comparison operator {op}")


def _coerce(kind: str, value: Any) -> Any:
    """The comparable form of ``value`` for ``kind``, or None when it has another type."""
    if kind == "String":
        return value if isinstance(value, str) else None
    if kind == "Numeric":
        return value if _is_number(value) else None
    if kind == "Boolean":
        return value if isinstance(value, bool) else None
    return parse_timestamp(value) if isinstance(value, str) else None


@lru_cache(maxsize=1024)
def _pattern(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "*" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def string_matches(value: str, pattern: str) -> bool:
    """StringMatches: ``*`` matches any run of characters; ``\\*`` and ``\\\\`` are literal."""
    return _pattern(pattern).fullmatch(value) is not None
