"""A deliberately naive event-pattern interpreter, for tests only.

It walks the raw pattern on every call and shares no code with :mod:`patterns`, so the
tests can cross-check the compiled matcher against it (as aws/event-ruler keeps a simple
matcher next to its state machine). It assumes the pattern is valid: run
``compile_pattern`` first. Speed is not a goal; being obviously right is.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from fractions import Fraction
from typing import Any


def reference_matches(
    pattern: Mapping[str, Any], event: Mapping[str, Any], *, dotted: bool = True
) -> bool:
    """Whether ``event`` matches the (already validated) ``pattern``.

    With ``dotted`` (EventBridge, SNS message bodies), keys name dotted paths: ``"a.b"``
    in the pattern or the event is the same field as ``{"a": {"b": ...}}``. Without it
    (SNS message attributes), keys are plain names. Either way ``anything-but`` against
    an array holds when one element is not excluded, as every other condition does.
    """
    if dotted:
        return _matches(_unflatten(pattern, is_pattern=True), _unflatten(event, is_pattern=False))
    return _matches(pattern, event)


def _unflatten(obj: Any, *, is_pattern: bool) -> Any:
    """Rebuild an object with every dotted key turned into nested objects."""
    if isinstance(obj, list):
        return [_unflatten(item, is_pattern=is_pattern) for item in obj]
    if not isinstance(obj, Mapping) or (is_pattern and _is_operator(obj)):
        return obj
    out: dict[str, Any] = {}
    for key, value in obj.items():
        value = _unflatten(value, is_pattern=is_pattern)
        names = [key] if key == "$or" else key.split(".")
        for name in reversed(names[1:]):
            value = {name: value}
        _put(out, names[0], value)
    return out


def _put(out: dict[str, Any], name: str, value: Any) -> None:
    if name not in out:
        out[name] = value
    elif isinstance(out[name], Mapping) and isinstance(value, Mapping):
        merged = dict(out[name])
        for key, item in value.items():
            _put(merged, key, item)
        out[name] = merged
    else:
        # An event holding both a value and an object at one path: keep both.
        old = out[name] if isinstance(out[name], list) else [out[name]]
        new = value if isinstance(value, list) else [value]
        out[name] = old + new


def _is_operator(obj: Mapping[str, Any]) -> bool:
    # Match expressions ({"prefix": "a.b"}) sit inside leaf arrays; their keys are not paths.
    return len(obj) == 1 and next(iter(obj)) in {
        "prefix",
        "suffix",
        "equals-ignore-case",
        "wildcard",
        "anything-but",
        "numeric",
        "cidr",
        "exists",
    }


def _matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    for key, spec in pattern.items():
        if key == "$or":
            if not any(_matches(branch, event) for branch in spec):
                return False
        elif isinstance(spec, Mapping):
            if not _sub_object_matches(spec, event.get(key) if key in event else None):
                return False
        else:
            values = _scalars(event[key]) if key in event else []
            if not any(_condition_holds(condition, values) for condition in spec):
                return False
    return True


def _sub_object_matches(spec: Mapping[str, Any], value: Any) -> bool:
    candidates: list[Mapping[str, Any]] = (
        [value] if isinstance(value, Mapping) else _objects(value)
    ) or [{}]
    return any(_matches(spec, candidate) for candidate in candidates)


def _objects(value: Any) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []
    if isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping):
                found.append(item)
            else:
                found.extend(_objects(item))
    return found


def _scalars(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return []
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            out.extend(_scalars(item))
        return out
    return [value]


def _condition_holds(condition: Any, values: list[Any]) -> bool:
    if isinstance(condition, Mapping) and "exists" in condition:
        return bool(values) == condition["exists"]
    return any(_value_holds(condition, value) for value in values)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float):
        return "number"
    return "other"


def _same(expected: Any, actual: Any) -> bool:
    if _kind(expected) != _kind(actual):
        return False
    if _kind(expected) == "number":
        return Fraction(expected) == Fraction(actual)
    return bool(expected == actual)


def _value_holds(condition: Any, value: Any) -> bool:
    if not isinstance(condition, Mapping):
        return _same(condition, value)
    [(op, arg)] = condition.items()
    text = value if isinstance(value, str) else None
    if op == "prefix":
        if isinstance(arg, Mapping):
            return text is not None and text.lower().startswith(arg["equals-ignore-case"].lower())
        return text is not None and text[: len(arg)] == arg
    if op == "suffix":
        if isinstance(arg, Mapping):
            return text is not None and text.lower().endswith(arg["equals-ignore-case"].lower())
        return text is not None and (arg == "" or text[-len(arg) :] == arg)
    if op == "equals-ignore-case":
        return text is not None and text.lower() == arg.lower()
    if op == "wildcard":
        return text is not None and _wildcard_matches(_tokens(arg), text)
    if op == "anything-but":
        return not _excluded(arg, value)
    if op == "numeric":
        return _kind(value) == "number" and _in_range(arg, value)
    if op == "cidr":
        return text is not None and _in_cidr(arg, text)
    raise AssertionError(f"unknown operator {op}")


def _excluded(arg: Any, value: Any) -> bool:
    text = value if isinstance(value, str) else None
    if isinstance(arg, Mapping):
        [(op, inner)] = arg.items()
        choices = inner if isinstance(inner, list) else [inner]
        if text is None:
            return False
        if op == "prefix":
            return any(text.startswith(choice) for choice in choices)
        if op == "suffix":
            return any(text.endswith(choice) for choice in choices)
        if op == "equals-ignore-case":
            return any(text.lower() == choice.lower() for choice in choices)
        if op == "wildcard":
            return any(_wildcard_matches(_tokens(choice), text) for choice in choices)
        raise AssertionError(f"unknown anything-but operator {op}")
    choices = arg if isinstance(arg, list) else [arg]
    return any(_same(choice, value) for choice in choices)


def _in_range(arg: list[Any], value: Any) -> bool:
    for i in range(0, len(arg), 2):
        op, bound = arg[i], arg[i + 1]
        holds = {
            "=": value == bound,
            "<": value < bound,
            "<=": value <= bound,
            ">": value > bound,
            ">=": value >= bound,
        }[op]
        if not holds:
            return False
    return True


def _in_cidr(arg: str, text: str) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    network = ipaddress.ip_network(arg, strict=False)
    return address.version == network.version and address in network


_STAR = object()


def _tokens(pattern: str) -> list[Any]:
    tokens: list[Any] = []
    escaped = False
    for char in pattern:
        if escaped:
            tokens.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "*":
            tokens.append(_STAR)
        else:
            tokens.append(char)
    return tokens


def _wildcard_matches(tokens: list[Any], text: str) -> bool:
    if not tokens:
        return text == ""
    head, rest = tokens[0], tokens[1:]
    if head is _STAR:
        return any(_wildcard_matches(rest, text[i:]) for i in range(len(text) + 1))
    return bool(text) and text[0] == head and _wildcard_matches(rest, text[1:])
