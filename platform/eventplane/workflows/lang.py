"""The language operations the interpreter needs, over raw state definitions (dicts).

This is the seam to the pure Amazon States Language core (``workflows.asl``): the
interpreter calls only these functions. Until that core covers a feature, the small
JSONPath subset here stands in (``$``, ``$.a.b``, ``$.a[0]``, ``$['a']``, ``$$`` for
the context object, ``.$`` keys in Parameters/ResultSelector).
"""

from __future__ import annotations

import copy
import json
import random
import re
from datetime import datetime
from typing import Any

PREDEFINED_WILDCARDS = ("States.ALL", "States.TaskFailed")
_UNCATCHABLE = ("States.Runtime", "States.DataLimitExceeded")


class StatesError(Exception):
    """A runtime error of the language, with the error name Retry/Catch match on."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# --- JSONPath subset -----------------------------------------------------------------

_SEGMENT = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]")


def _segments(path: str) -> list[str | int]:
    if not path.startswith("$"):
        raise StatesError("States.Runtime", f"Invalid path '{path}'")
    rest = path[1:]
    out: list[str | int] = []
    pos = 0
    while pos < len(rest):
        m = _SEGMENT.match(rest, pos)
        if m is None:
            raise StatesError("States.Runtime", f"Invalid path '{path}'")
        name, index, quoted = m.groups()
        out.append(int(index) if index is not None else (name if name is not None else quoted))
        pos = m.end()
    return out


class _Missing(Exception):
    pass


def _walk(data: Any, segments: list[str | int]) -> Any:
    for seg in segments:
        in_list = isinstance(seg, int) and isinstance(data, list) and -len(data) <= seg < len(data)
        if not (in_list or (isinstance(seg, str) and isinstance(data, dict) and seg in data)):
            raise _Missing
        data = data[seg]
    return data


def select(path: str, data: Any, context: Any) -> Any:
    """The value at ``path`` (``$$...`` reads the context object); KeyError if absent."""
    try:
        if path.startswith("$$"):
            return _walk(context, _segments(path[1:]))
        return _walk(data, _segments(path))
    except _Missing:
        raise KeyError(path) from None


def _template(template: Any, data: Any, context: Any, field_name: str) -> Any:
    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$") and isinstance(value, str):
                try:
                    out[key[:-2]] = copy.deepcopy(select(value, data, context))
                except KeyError:
                    raise StatesError(
                        "States.ParameterPathFailure",
                        f"The JSONPath '{value}' specified for the field '{key}' could not be "
                        f"found in the input '{dumps(data)}'",
                    ) from None
            else:
                out[key] = _template(value, data, context, field_name)
        return out
    if isinstance(template, list):
        return [_template(v, data, context, field_name) for v in template]
    return template


def _path(state: dict[str, Any], name: str, data: Any, context: Any, default: str) -> Any:
    path = state.get(name, default)
    if path is None:
        return {}
    try:
        return select(path, data, context)
    except KeyError:
        raise StatesError(
            "States.Runtime",
            f"An error occurred while executing the state '{context['State']['Name']}'. "
            f"Invalid path '{path}' : No results for path: {path}",
        ) from None


def effective_input(
    state: dict[str, Any], raw_input: Any, context: Any, variables: dict[str, Any]
) -> Any:
    """InputPath then Parameters: what a state works on."""
    data = _path(state, "InputPath", raw_input, context, "$")
    if "Parameters" in state:
        data = _template(state["Parameters"], data, context, "Parameters")
    return data


def apply_result_path(raw_input: Any, result: Any, path: str | None) -> Any:
    if path is None:
        return raw_input
    segments = _segments(path)
    if not segments:
        return result
    out = copy.deepcopy(raw_input)
    target = out
    for seg in segments[:-1]:
        if not isinstance(target, dict):
            break
        nxt = target.get(seg) if isinstance(seg, str) else None
        if nxt is None:
            nxt = target[seg] = {}
        target = nxt
    if not isinstance(target, dict) or not isinstance(segments[-1], str):
        raise StatesError(
            "States.ResultPathMatchFailure",
            f'Unable to apply ResultPath "{path}" to input "{dumps(raw_input)}"',
        )
    target[segments[-1]] = result
    return out


def state_output(
    state: dict[str, Any], raw_input: Any, result: Any, context: Any, variables: dict[str, Any]
) -> Any:
    """ResultSelector, ResultPath, OutputPath: what a state hands to the next one."""
    if "ResultSelector" in state:
        result = _template(state["ResultSelector"], result, context, "ResultSelector")
    combined = apply_result_path(raw_input, result, state.get("ResultPath", "$"))
    return _path(state, "OutputPath", combined, context, "$")


def pass_result(state: dict[str, Any], effective: Any) -> Any:
    return copy.deepcopy(state["Result"]) if "Result" in state else effective


def error_output(
    catcher: dict[str, Any], raw_input: Any, error: str, cause: str, context: Any
) -> Any:
    return apply_result_path(
        raw_input, {"Error": error, "Cause": cause}, catcher.get("ResultPath", "$")
    )


def fail_error(state: dict[str, Any], data: Any, context: Any) -> tuple[str | None, str | None]:
    error = state.get("Error")
    cause = state.get("Cause")
    if "ErrorPath" in state:
        error = _path(state, "ErrorPath", data, context, "$")
    if "CausePath" in state:
        cause = _path(state, "CausePath", data, context, "$")
    return error, cause


# --- Choice ----------------------------------------------------------------------------

_COMPARE = {
    "Equals": lambda a, b: a == b,
    "LessThan": lambda a, b: a < b,
    "GreaterThan": lambda a, b: a > b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThanEquals": lambda a, b: a >= b,
}
_KINDS: dict[str, Any] = {"String": str, "Numeric": (int, float), "Boolean": bool, "Timestamp": str}


def _rule(rule: dict[str, Any], data: Any, context: Any) -> bool:
    if "And" in rule:
        return all(_rule(r, data, context) for r in rule["And"])
    if "Or" in rule:
        return any(_rule(r, data, context) for r in rule["Or"])
    if "Not" in rule:
        return not _rule(rule["Not"], data, context)
    try:
        value = select(rule["Variable"], data, context)
        present = True
    except KeyError:
        value, present = None, False
    if "IsPresent" in rule:
        return present == rule["IsPresent"]
    if not present:
        raise StatesError(
            "States.Runtime",
            f"Invalid path '{rule['Variable']}': The choice state's "
            "condition path references an invalid value.",
        )
    if "IsNull" in rule:
        return (value is None) == rule["IsNull"]
    for op, expected in rule.items():
        for kind, types in _KINDS.items():
            if not op.startswith(kind):
                continue
            name = op[len(kind) :]
            if name.endswith("Path"):
                name = name[:-4]
                expected = select(expected, data, context)
            if kind == "Numeric" and isinstance(value, bool):
                return False
            if not isinstance(value, types) or name not in _COMPARE:
                return False
            if kind == "Timestamp":
                return bool(_COMPARE[name](_ts(value), _ts(expected)))
            return bool(_COMPARE[name](value, expected))
    return False


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def choose(state: dict[str, Any], data: Any, context: Any, variables: dict[str, Any]) -> str | None:
    """The Next of the first matching rule, else Default, else None."""
    for rule in state.get("Choices", []):
        if _rule(rule, data, context):
            return str(rule["Next"])
    default = state.get("Default")
    return str(default) if default is not None else None


# --- Retry / Catch ---------------------------------------------------------------------


def matches_error(error_equals: list[str], error: str) -> bool:
    for name in error_equals:
        if name == error:
            return True
        if error in _UNCATCHABLE:
            continue
        if name == "States.ALL":
            return True
        if name == "States.TaskFailed" and error not in ("States.Timeout",):
            return True
        if name == "States.Timeout" and error == "States.HeartbeatTimeout":
            return True
    return False


def retry_delay(retrier: dict[str, Any], attempt: int, rng: random.Random) -> float | None:
    """Seconds before retry number ``attempt`` (0-based), or None when attempts are spent."""
    if attempt >= int(retrier.get("MaxAttempts", 3)):
        return None
    delay = float(retrier.get("IntervalSeconds", 1)) * float(retrier.get("BackoffRate", 2.0)) ** (
        attempt
    )
    if "MaxDelaySeconds" in retrier:
        delay = min(delay, float(retrier["MaxDelaySeconds"]))
    if retrier.get("JitterStrategy") == "FULL":
        delay = rng.uniform(0, delay)
    return delay


# --- Wait, timeouts, Map ----------------------------------------------------------------


def wait_until_ms(state: dict[str, Any], data: Any, context: Any, now_ms: int) -> int:
    if "Seconds" in state:
        return now_ms + int(state["Seconds"]) * 1000
    if "SecondsPath" in state:
        seconds = _path(state, "SecondsPath", data, context, "$")
        if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0:
            raise StatesError(
                "States.Runtime",
                f"The SecondsPath parameter does not reference a valid integer: {seconds!r}",
            )
        return now_ms + seconds * 1000
    stamp = state.get("Timestamp")
    if "TimestampPath" in state:
        stamp = _path(state, "TimestampPath", data, context, "$")
    try:
        return int(_ts(str(stamp)).timestamp() * 1000)
    except ValueError:
        raise StatesError(
            "States.Runtime",
            f"The TimestampPath parameter does not reference a valid "
            f"ISO-8601 extended offset date-time format string: {stamp!r}",
        ) from None


def task_timeouts(state: dict[str, Any], data: Any, context: Any) -> tuple[int | None, int | None]:
    timeout = state.get("TimeoutSeconds")
    if "TimeoutSecondsPath" in state:
        timeout = _path(state, "TimeoutSecondsPath", data, context, "$")
    heartbeat = state.get("HeartbeatSeconds")
    if "HeartbeatSecondsPath" in state:
        heartbeat = _path(state, "HeartbeatSecondsPath", data, context, "$")
    return timeout, heartbeat


def map_items(state: dict[str, Any], data: Any, context: Any) -> list[Any]:
    items = state["Items"] if "Items" in state else _path(state, "ItemsPath", data, context, "$")
    if not isinstance(items, list):
        raise StatesError(
            "States.Runtime",
            f"Could not iterate over the path '{state.get('ItemsPath', '$')}': "
            "the value is not an array",
        )
    return list(items)


def item_input(state: dict[str, Any], data: Any, context: Any, item: Any) -> Any:
    """ItemSelector (or the legacy Parameters) applied for one item; else the item."""
    template = state.get("ItemSelector", state.get("Parameters"))
    if template is None:
        return item
    return _template(template, data, context, "ItemSelector")
