"""Definition-time checks of the Wait and Fail fields (a part of validation.py).

AWS refuses at create time what these fields could never do at run time: a
``Timestamp`` that is not an RFC 3339 date-time, ``Seconds`` that is not an
integer, an ``Error``/``Cause`` that is not a string, and an ``ErrorPath`` or
``CausePath`` that is neither a reference path nor one of the intrinsic
functions that return a string.
"""

from __future__ import annotations

from typing import Any

from eventplane.workflows.asl.intrinsics import (
    IntrinsicSyntaxError,
    is_intrinsic,
    parse_intrinsic,
)
from eventplane.workflows.asl.jsonata_mode import is_expression
from eventplane.workflows.asl.paths import check_path
from eventplane.workflows.asl.timestamps import parse_timestamp

__all__ = ["fail_problems", "wait_problems"]

# the Fail state's developer-guide entry lists these as usable in ErrorPath/CausePath
_STRING_INTRINSICS = (
    "States.Format",
    "States.JsonToString",
    "States.ArrayGetItem",
    "States.Base64Encode",
    "States.Base64Decode",
    "States.Hash",
    "States.UUID",
)


def wait_problems(s: dict[str, Any], loc: str, language: str) -> list[tuple[str, str]]:
    """(location, message) for a Wait state's Seconds and Timestamp literals."""
    problems: list[tuple[str, str]] = []
    jsonata = language == "JSONata"
    if "Timestamp" in s:
        stamp = s["Timestamp"]
        if not (jsonata and is_expression(stamp)) and (
            not isinstance(stamp, str) or parse_timestamp(stamp) is None
        ):
            problems.append(
                (
                    f"{loc}/Timestamp",
                    "The value for the field 'Timestamp' must be a valid ISO 8601 "
                    "(RFC 3339) timestamp such as '2016-03-14T01:59:00Z'",
                )
            )
    if "Seconds" in s:
        seconds = s["Seconds"]
        if not (jsonata and is_expression(seconds)) and (
            isinstance(seconds, bool) or not isinstance(seconds, (int, float))
        ):  # a number is range-checked with the other integers
            problems.append(
                (f"{loc}/Seconds", "The value for the field 'Seconds' must be an INTEGER")
            )
    return problems


def fail_problems(s: dict[str, Any], loc: str, language: str) -> list[tuple[str, str]]:
    """(location, message) for a Fail state's Error, Cause, ErrorPath and CausePath."""
    problems: list[tuple[str, str]] = []
    for key in ("Error", "Cause"):
        if key in s and not isinstance(s[key], str):
            problems.append((f"{loc}/{key}", f"The value for the field '{key}' must be a STRING"))
    if language == "JSONata":
        return problems
    for key in ("ErrorPath", "CausePath"):
        if key not in s:
            continue
        message = _path_problem(key, s[key])
        if message is not None:
            problems.append((loc, message))
    return problems


def _path_problem(key: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return f"The value for the field '{key}' must be a STRING"
    if is_intrinsic(value):
        try:
            call = parse_intrinsic(value)
        except IntrinsicSyntaxError as exc:
            return f"The value for the field '{key}' must be a valid intrinsic function ({exc})"
        if call.name not in _STRING_INTRINSICS:
            return (
                f"The value for the field '{key}' must be a reference path or an intrinsic "
                f"function that returns a string ({', '.join(_STRING_INTRINSICS)}), "
                f"not {call.name}"
            )
        return None
    try:
        check_path(value, reference=True)
    except ValueError as exc:
        return f"The value for the field '{key}' must be a valid reference path: {exc}"
    return None
