"""EventBridge target input: the whole event, ``Input``, ``InputPath`` or ``InputTransformer``.

A target's input settings are validated and compiled once, when the target is written;
:meth:`TargetInput.render` then shapes each matched event without reading the settings
again: JSONPaths are lists of steps and templates are lists of segments by then.

Semantics follow the EventBridge documentation ("Amazon EventBridge input transformation"):

- JSONPath is the subset EventBridge supports: ``$``, ``.name`` and ``[index]`` steps.
  A path that selects nothing leaves its variable unset; ``InputPath`` then delivers an
  empty payload.
- An ``InputTemplate`` that is JSON once its placeholders are filled in (a placeholder
  outside quotes stands for a JSON value) is a JSON template: a value outside quotes is
  inserted as JSON (strings get quotes), a value inside a JSON string is inserted with JSON
  escaping and no quotes of its own (objects and arrays lose their inner quotes, as
  EventBridge does to keep the string valid), an unset variable is ``null`` outside quotes
  and nothing inside them. The template's own whitespace outside strings is dropped,
  because EventBridge minifies the JSON it passes on. A placeholder cannot be an object key.
- Any other template is text: values go in raw (strings without quotes, other values as
  JSON), unset variables as nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Final, Literal

from eventplane.errors import ValidationException

MAX_INPUT_LENGTH: Final = 8192
MAX_INPUT_PATH_LENGTH: Final = 256
MAX_TEMPLATE_LENGTH: Final = 8192
MAX_VARIABLES: Final = 100
MAX_VARIABLE_NAME_LENGTH: Final = 256

RULE_ARN: Final = "aws.events.rule-arn"
RULE_NAME: Final = "aws.events.rule-name"
EVENT: Final = "aws.events.event"
EVENT_JSON: Final = "aws.events.event.json"
INGESTION_TIME: Final = "aws.events.event.ingestion-time"
RESERVED_VARIABLES: Final = frozenset({RULE_ARN, RULE_NAME, EVENT, EVENT_JSON, INGESTION_TIME})

_TRANSFORMER_KEYS: Final = frozenset({"InputPathsMap", "InputTemplate"})
_VARIABLE_NAME: Final = re.compile(r"[A-Za-z0-9_\-]+")
# Wider than a variable name so that reserved names (with dots) are placeholders too;
# any other "<" is literal text, since EventBridge offers no way to escape it.
_PLACEHOLDER: Final = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_PATH_STEP: Final = re.compile(r"\.([^.\[\]\s*'\"]+)|\[(\d+)\]")
_JSON_WHITESPACE: Final = frozenset(" \t\n\r")
_MISSING: Final[Any] = object()

Kind = Literal["event", "constant", "path", "transformer"]


@dataclass(frozen=True, slots=True)
class _Context:
    event: Mapping[str, Any]
    rule_arn: str
    rule_name: str
    ingestion_ms: int


_Renderer = Callable[[_Context], str]
_Getter = Callable[[_Context], Any]
_Formatter = Callable[[Any], str]


class TargetInput:
    """How one target's payload is built from a matched event, compiled once."""

    __slots__ = ("_render", "kind")

    def __init__(self, kind: Kind, render: _Renderer) -> None:
        self.kind: Kind = kind
        self._render = render

    @staticmethod
    def compile(
        *,
        input: str | None = None,  # shadows the builtin to match the EventBridge field
        input_path: str | None = None,
        input_transformer: Mapping[str, Any] | None = None,
    ) -> TargetInput:
        """Validate a target's input settings and compile them.

        Args:
            input: ``Input``: constant JSON text delivered instead of the event.
            input_path: ``InputPath``: a JSONPath selecting the part of the event to deliver.
            input_transformer: ``InputTransformer``: ``{"InputPathsMap": {name: jsonpath},
                "InputTemplate": "..."}``.

        None of them set means the whole event is delivered. ``None`` means "not set";
        an empty string is a value (and not a valid one).

        Raises:
            ValidationException: More than one is set, or the one set is invalid; the
                message names the field.
        """
        given = [
            name
            for name, value in (
                ("Input", input),
                ("InputPath", input_path),
                ("InputTransformer", input_transformer),
            )
            if value is not None
        ]
        if len(given) > 1:
            raise ValidationException(
                "Only one of Input, InputPath, or InputTransformer must be provided; "
                f"got {' and '.join(given)}"
            )
        if input is not None:
            return TargetInput("constant", _compile_constant(input))
        if input_path is not None:
            path = compile_json_path(input_path, field="InputPath")
            return TargetInput("path", lambda ctx: _selected_json(path.select(ctx.event)))
        if input_transformer is not None:
            return TargetInput("transformer", _compile_transformer(input_transformer))
        return TargetInput("event", lambda ctx: _dumps(ctx.event))

    def render(
        self, event: Mapping[str, Any], *, rule_arn: str, rule_name: str, ingestion_ms: int
    ) -> str:
        """The payload for ``event`` (already parsed), as the target receives it.

        Args:
            event: The matched event envelope.
            rule_arn: ARN of the rule that matched, for ``<aws.events.rule-arn>``.
            rule_name: Name of that rule, for ``<aws.events.rule-name>``.
            ingestion_ms: When the bus accepted the event (epoch ms), for
                ``<aws.events.event.ingestion-time>``.
        """
        return self._render(_Context(event, rule_arn, rule_name, ingestion_ms))

    def __repr__(self) -> str:
        return f"TargetInput({self.kind})"


# --- Input and InputPath -------------------------------------------------------------


def _compile_constant(text: Any) -> _Renderer:
    if not isinstance(text, str):
        raise ValidationException("Input must be a string of JSON text")
    if len(text) > MAX_INPUT_LENGTH:
        raise ValidationException(f"Input must be at most {MAX_INPUT_LENGTH} characters")
    try:
        json.loads(text, parse_constant=_reject_constant)
    except ValueError as err:
        raise ValidationException(f"Input is not valid JSON text: {err}") from None
    return lambda ctx: text


def _selected_json(value: Any) -> str:
    # EventBridge has no payload to send when the path selects nothing.
    return "" if value is _MISSING else _dumps(value)


@dataclass(frozen=True, slots=True)
class JsonPath:
    """A compiled JSONPath: object keys (str) and array indices (int) from the root."""

    source: str
    steps: tuple[str | int, ...]

    def select(self, document: Any) -> Any:
        """The value at this path, or the module's missing marker when there is none."""
        current = document
        for step in self.steps:
            if isinstance(step, str):
                if not isinstance(current, Mapping) or step not in current:
                    return _MISSING
                current = current[step]
            else:
                if not isinstance(current, list) or step >= len(current):
                    return _MISSING
                current = current[step]
        return current


def compile_json_path(text: Any, *, field: str) -> JsonPath:
    """Parse the JSONPath subset EventBridge supports: ``$``, ``.name``, ``[index]``.

    Raises:
        ValidationException: ``text`` is not such a path; the message names ``field``.
    """
    if not isinstance(text, str):
        raise ValidationException(f"{field} must be a string")
    if len(text) > MAX_INPUT_PATH_LENGTH:
        raise ValidationException(f"{field} must be at most {MAX_INPUT_PATH_LENGTH} characters")
    if not text.startswith("$"):
        raise ValidationException(f"{field} {text!r} is not a valid JSONPath: must start with $")
    steps: list[str | int] = []
    pos = 1
    while pos < len(text):
        match = _PATH_STEP.match(text, pos)
        if match is None:
            reason = (
                "wildcards are not supported"
                if "*" in text[pos:]
                else f"unexpected {text[pos]!r} at position {pos}"
            )
            raise ValidationException(f"{field} {text!r} is not a valid JSONPath: {reason}")
        name, index = match.groups()
        steps.append(name if name is not None else int(index))
        pos = match.end()
    return JsonPath(text, tuple(steps))


# --- InputTransformer ----------------------------------------------------------------


class _Mode(Enum):
    JSON = "json"  # a value position in a JSON template
    IN_STRING = "in-string"  # inside a string literal of a JSON template
    RAW = "raw"  # anywhere in a text template


def _compile_transformer(spec: Any) -> _Renderer:
    if not isinstance(spec, Mapping):
        raise ValidationException(
            "InputTransformer must be an object with InputTemplate and optional InputPathsMap"
        )
    unknown = sorted(str(key) for key in spec if key not in _TRANSFORMER_KEYS)
    if unknown:
        raise ValidationException(f"InputTransformer has unknown fields: {', '.join(unknown)}")
    paths = _compile_paths_map(spec.get("InputPathsMap"))
    template = spec.get("InputTemplate")
    if template is None:
        raise ValidationException("InputTransformer.InputTemplate is required")
    if not isinstance(template, str) or not 1 <= len(template) <= MAX_TEMPLATE_LENGTH:
        raise ValidationException(
            f"InputTransformer.InputTemplate must be a string of 1 to {MAX_TEMPLATE_LENGTH} "
            "characters"
        )
    segments = _compile_template(template, paths)

    def render(ctx: _Context) -> str:
        return "".join(
            part if isinstance(part, str) else part[1](part[0](ctx)) for part in segments
        )

    return render


def _compile_paths_map(spec: Any) -> dict[str, JsonPath]:
    if spec is None:
        return {}
    if not isinstance(spec, Mapping):
        raise ValidationException("InputTransformer.InputPathsMap must be an object")
    if len(spec) > MAX_VARIABLES:
        raise ValidationException(
            f"InputTransformer.InputPathsMap has {len(spec)} entries; "
            f"at most {MAX_VARIABLES} are allowed"
        )
    paths: dict[str, JsonPath] = {}
    for name, path in spec.items():
        field = f"InputTransformer.InputPathsMap.{name}"
        if not isinstance(name, str):
            raise ValidationException("InputTransformer.InputPathsMap keys must be strings")
        if name.lower().startswith("aws."):
            raise ValidationException(f"{field}: variable names starting with 'aws.' are reserved")
        if len(name) > MAX_VARIABLE_NAME_LENGTH or not _VARIABLE_NAME.fullmatch(name):
            raise ValidationException(
                f"{field}: variable names must be 1 to {MAX_VARIABLE_NAME_LENGTH} "
                "characters from A-Z, a-z, 0-9, _ and -"
            )
        paths[name] = compile_json_path(path, field=field)
    return paths


_Segment = str | tuple[_Getter, _Formatter]


def _compile_template(template: str, paths: Mapping[str, JsonPath]) -> tuple[_Segment, ...]:
    field = "InputTransformer.InputTemplate"
    # Each piece: (raw literal, literal minified outside strings) or (name, inside a string).
    literals: list[tuple[str, str]] = []
    slots: list[tuple[str, bool]] = []
    in_string = escaped = False
    pos = 0
    for match in _PLACEHOLDER.finditer(template):
        name = match.group(1)
        if name not in paths and name not in RESERVED_VARIABLES:
            raise ValidationException(f"{field} uses <{name}>, which InputPathsMap does not define")
        in_string, escaped, minified = _scan(template[pos : match.start()], in_string, escaped)
        literals.append((template[pos : match.start()], minified))
        slots.append((name, in_string))
        # A pending backslash escapes the placeholder's first character: not JSON,
        # which the trial parse below detects.
        escaped = False
        pos = match.end()
    in_string, escaped, minified = _scan(template[pos:], in_string, escaped)
    literals.append((template[pos:], minified))

    is_json = _is_json_template(literals, slots, field)
    if not is_json and template.lstrip().startswith("{"):
        raise ValidationException(
            f"{field} starts like a JSON object but is not valid JSON "
            "(placeholders cannot be object keys)"
        )
    segments: list[_Segment] = []
    for i, (raw, minified) in enumerate(literals):
        text = minified if is_json else raw
        if text:
            segments.append(text)
        if i < len(slots):
            name, inside = slots[i]
            mode = (_Mode.IN_STRING if inside else _Mode.JSON) if is_json else _Mode.RAW
            if name in (EVENT, EVENT_JSON) and mode is not _Mode.JSON:
                raise ValidationException(
                    f"{field}: <{name}> can only be used as a JSON value, "
                    "not inside a string or a text template"
                )
            segments.append((_getter(name, paths), _FORMATTERS[mode]))
    return tuple(segments)


def _scan(literal: str, in_string: bool, escaped: bool) -> tuple[bool, bool, str]:
    """JSON string state after ``literal``, and ``literal`` without whitespace outside strings."""
    kept: list[str] = []
    for ch in literal:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in _JSON_WHITESPACE:
            continue
        kept.append(ch)
    return in_string, escaped, "".join(kept)


def _is_json_template(
    literals: list[tuple[str, str]], slots: list[tuple[str, bool]], field: str
) -> bool:
    # Trial parse with stand-ins: null for a value position, a marker inside strings
    # (so a placeholder used as an object key can be recognised).
    source = "".join(raw for raw, _ in literals)
    marker = "#placeholder#"
    while marker in source:
        marker += "#"
    parts: list[str] = []
    for i, (raw, _) in enumerate(literals):
        parts.append(raw)
        if i < len(slots):
            parts.append(marker if slots[i][1] else "null")

    def check_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if any(marker in key for key, _ in pairs):
            raise ValidationException(f"{field}: a placeholder cannot be used as an object key")
        return dict(pairs)

    try:
        json.loads("".join(parts), parse_constant=_reject_constant, object_pairs_hook=check_keys)
    except ValueError:
        return False
    return True


def _getter(name: str, paths: Mapping[str, JsonPath]) -> _Getter:
    if name in paths:
        path = paths[name]
        return lambda ctx: path.select(ctx.event)
    return _RESERVED_GETTERS[name]


def _event_without_detail(ctx: _Context) -> dict[str, Any]:
    # EventBridge documents <aws.events.event> as the payload without "detail";
    # <aws.events.event.json> is the full event.
    return {key: value for key, value in ctx.event.items() if key != "detail"}


def _ingestion_time(ctx: _Context) -> str:
    seconds, millis = divmod(ctx.ingestion_ms, 1000)
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%S}.{millis:03d}Z"


_RESERVED_GETTERS: Final[Mapping[str, _Getter]] = {
    RULE_ARN: lambda ctx: ctx.rule_arn,
    RULE_NAME: lambda ctx: ctx.rule_name,
    EVENT: _event_without_detail,
    EVENT_JSON: lambda ctx: ctx.event,
    INGESTION_TIME: _ingestion_time,
}


def _as_json(value: Any) -> str:
    return "null" if value is _MISSING else _dumps(value)


def _in_string(value: Any) -> str:
    if value is _MISSING:
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, Mapping | list):
        text = _dumps(value).replace('"', "")
    else:
        return _dumps(value)
    return json.dumps(text)[1:-1]


def _raw(value: Any) -> str:
    if value is _MISSING:
        return ""
    return value if isinstance(value, str) else _dumps(value)


_FORMATTERS: Final[Mapping[_Mode, _Formatter]] = {
    _Mode.JSON: _as_json,
    _Mode.IN_STRING: _in_string,
    _Mode.RAW: _raw,
}


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
