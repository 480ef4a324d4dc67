"""The 18 intrinsic functions of JSONPath mode, parsed from a small grammar.

A ``.$`` field whose value starts with ``States.`` is an intrinsic call. The
call is parsed once (lark, LALR) into an ``IntrinsicCall`` tree and evaluated
per state entry against the state's input, the context object and the
variables. Any failure of an argument rule raises ``States.IntrinsicFailure``
with a cause naming the function and the argument, as AWS does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, UnexpectedInput

from eventplane.workflows.asl.errors import INTRINSIC_FAILURE, StatesError

__all__ = [
    "FUNCTIONS",
    "IntrinsicCall",
    "IntrinsicEnv",
    "IntrinsicSyntaxError",
    "PathArg",
    "evaluate_intrinsic",
    "is_intrinsic",
    "parse_intrinsic",
]

_GRAMMAR = r"""
?start: call
call: FNAME "(" [arg ("," arg)*] ")"
?arg: call
    | STRING -> string
    | NUMBER -> number
    | "true" -> true
    | "false" -> false
    | "null" -> null
    | PATH -> path
FNAME: /States\.[A-Za-z0-9]+/
STRING: /'(\\.|[^'\\])*'/
NUMBER: /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/
PATH: /\$(\[[^\]]*\]|[^\s,()\[\]])*/
%import common.WS
%ignore WS
"""

_PARSER = Lark(_GRAMMAR, parser="lalr", maybe_placeholders=False)

# AWS documents a 10,000 character limit on the strings several functions take.
_MAX_STRING = 10_000
_MAX_RANGE_ITEMS = 1_000
_INT32 = (-(2**31), 2**31 - 1)


# seeding a Random from the OS costs more than evaluating a call: share one unless injected
_SHARED_RNG = random.Random()


class IntrinsicSyntaxError(ValueError):
    """The text is not a well-formed intrinsic call (a definition-time error)."""


@dataclass(frozen=True)
class StringArg:
    """A quoted literal; ``raw`` keeps its escapes because States.Format needs them."""

    raw: str

    @property
    def value(self) -> str:
        return _unescape(self.raw)


@dataclass(frozen=True)
class PathArg:
    """``$...`` (input), ``$$...`` (context object) or ``$name...`` (a variable)."""

    path: str


@dataclass(frozen=True)
class IntrinsicCall:
    name: str
    args: tuple[Any, ...] = ()


@dataclass
class IntrinsicEnv:
    """What a call can see, and its sources of randomness (injected for tests)."""

    input: Any
    context: Any = None
    variables: dict[str, Any] = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: _SHARED_RNG)
    new_uuid: Callable[[], str] = field(default_factory=lambda: lambda: str(uuid.uuid4()))


class _ToTree(Transformer[Token, Any]):
    def call(self, items: list[Any]) -> IntrinsicCall:
        return IntrinsicCall(str(items[0]), tuple(items[1:]))

    def string(self, items: list[Token]) -> StringArg:
        return StringArg(str(items[0])[1:-1])

    def number(self, items: list[Token]) -> int | float:
        text = str(items[0])
        return (
            int(text)
            if (text.lstrip("-").isascii() and text.lstrip("-").isdigit())
            else float(text)
        )

    def true(self, _: list[Token]) -> bool:
        return True

    def false(self, _: list[Token]) -> bool:
        return False

    def null(self, _: list[Token]) -> None:
        return None

    def path(self, items: list[Token]) -> PathArg:
        return PathArg(str(items[0]))


def is_intrinsic(text: object) -> bool:
    return isinstance(text, str) and text.lstrip().startswith("States.")


@lru_cache(maxsize=4096)
def parse_intrinsic(text: str) -> IntrinsicCall:
    """Parse and check names and argument counts; raises IntrinsicSyntaxError."""
    try:
        tree = _ToTree().transform(_PARSER.parse(text.strip()))
    except UnexpectedInput as exc:
        raise IntrinsicSyntaxError(
            f"'{text}' is not a valid intrinsic function call (column {exc.column})"
        ) from None
    _check_static(tree)
    return tree


def _check_static(call: IntrinsicCall) -> None:
    spec = FUNCTIONS.get(call.name)
    if spec is None:
        raise IntrinsicSyntaxError(f"Unknown intrinsic function '{call.name}'")
    low, high = spec[0], spec[1]
    if len(call.args) < low or (high is not None and len(call.args) > high):
        want = str(low) if low == high else f"{low}..{'n' if high is None else high}"
        raise IntrinsicSyntaxError(f"{call.name} takes {want} argument(s), {len(call.args)} given")
    for arg in call.args:
        if isinstance(arg, IntrinsicCall):
            _check_static(arg)
        if isinstance(arg, PathArg):
            from eventplane.workflows.asl.paths import check_path

            try:
                check_path(arg.path, allow_context=True, allow_variables=True)
            except ValueError as exc:
                raise IntrinsicSyntaxError(str(exc)) from None


def evaluate_intrinsic(text_or_call: str | IntrinsicCall, env: IntrinsicEnv) -> Any:
    """Evaluate a call; raises StatesError(States.IntrinsicFailure, cause)."""
    call = parse_intrinsic(text_or_call) if isinstance(text_or_call, str) else text_or_call
    return _eval(call, env)


def _eval(call: IntrinsicCall, env: IntrinsicEnv) -> Any:
    args = [_arg(a, env) for a in call.args]
    impl = FUNCTIONS[call.name][2]
    if call.name == "States.Format":
        first = call.args[0]
        if not isinstance(first, StringArg) and not isinstance(args[0], str):
            raise _fail(call.name, "The first argument must be a string template")
        raw = first.raw if isinstance(first, StringArg) else _escape_plain(args[0])
        return _format(raw, args[1:])
    return impl(call.name, args, env)


def _arg(arg: Any, env: IntrinsicEnv) -> Any:
    if isinstance(arg, IntrinsicCall):
        return _eval(arg, env)
    if isinstance(arg, StringArg):
        return arg.value
    if isinstance(arg, PathArg):
        from eventplane.workflows.asl.paths import resolve_path

        return resolve_path(arg.path, env.input, env.context, env.variables, field="intrinsic")
    return arg


def _fail(name: str, detail: str) -> StatesError:
    return StatesError(INTRINSIC_FAILURE, f"Invalid arguments in {name}: {detail}")


def _unescape(raw: str) -> str:
    out: list[str] = []
    chars = iter(raw)
    for ch in chars:
        out.append(next(chars, "\\") if ch == "\\" else ch)
    return "".join(out)


def _escape_plain(text: str) -> str:
    return text.replace("\\", "\\\\")


def _format(raw: str, values: Sequence[Any]) -> str:
    out: list[str] = []
    used = 0
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            out.append(raw[i + 1])
            i += 2
            continue
        if raw.startswith("{}", i):
            if used >= len(values):
                raise _fail("States.Format", _count_msg(raw, values))
            out.append(_format_value(values[used]))
            used += 1
            i += 2
            continue
        out.append(ch)
        i += 1
    if used != len(values):
        raise _fail("States.Format", _count_msg(raw, values))
    return "".join(out)


def _count_msg(raw: str, values: Sequence[Any]) -> str:
    holes = raw.count("{}") - raw.count("\\{}")
    return f"the template has {holes} placeholder(s) but {len(values)} value(s) were given"


def _format_value(value: Any) -> str:
    """A value as States.Format prints it: objects and arrays the way AWS's Java runtime
    prints its maps and lists (``{Arg1=1, Arg2=[a, b]}``), not as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_format_value(v) for v in value) + "]"
    return json.dumps(value)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _need(name: str, cond: bool, detail: str) -> None:
    if not cond:
        raise _fail(name, detail)


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_array(value: Any) -> bool:
    return isinstance(value, list)


def _string_to_json(name: str, a: list[Any], _: IntrinsicEnv) -> Any:
    _need(name, isinstance(a[0], str), "the argument must be a string")
    text = a[0].strip()
    if text == "":
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(name, f"the string is not valid JSON ({exc.msg})") from None


def _json_to_string(name: str, a: list[Any], _: IntrinsicEnv) -> Any:
    return _dumps(a[0])


def _array(name: str, a: list[Any], _: IntrinsicEnv) -> Any:
    return list(a)


def _array_partition(name: str, a: list[Any], _: IntrinsicEnv) -> Any:
    _need(name, _is_array(a[0]), "the first argument must be an array")
    # AWS: a non-integer chunk size is rounded off to the nearest integer
    _need(name, _is_number(a[1]) and _round(a[1]) > 0, "the chunk size must be a positive integer")
    size = _round(a[1])
    return [a[0][i : i + size] for i in range(0, len(a[0]), size)]


def _array_contains(name: str, a: list[Any], _: IntrinsicEnv) -> Any:
    _need(name, _is_array(a[0]), "the first argument must be an array")
    return any(_json_equal(item, a[1]) for item in a[0])


def _json_equal(x: Any, y: Any) -> bool:
    if isinstance(x, bool) or isinstance(y, bool):
        return type(x) is type(y) and x == y
    return bool(x == y)


def _array_range(name: str, a: list[Any], _: IntrinsicEnv) -> Any:
    _need(name, all(_is_number(v) for v in a), "start, end and step must be integers")
    # AWS: a non-integer argument is rounded off to the nearest integer
    start, end, step = (_round(v) for v in a)
    _need(name, step != 0, "the step must not be 0")
    stop = end + (1 if step > 0 else -1)
    count = max(0, math.ceil((stop - start) / step))
    _need(name, count <= _MAX_RANGE_ITEMS, f"the range would have {count} items, at most 1000")
    return list(range(start, stop, step))


def _array_get_item(name: str, a: list[Any], _: IntrinsicEnv) -> Any:
    _need(name, _is_array(a[0]), "the first argument must be an array")
    _need(name, _is_int(a[1]) and a[1] >= 0, "the index must be a non-negative integer")
    index = int(a[1])
    _need(name, index < len(a[0]), f"the index {index} is out of bounds (length {len(a[0])})")
    return a[0][index]


def _array_length(name: str, a: list[Any], _: IntrinsicEnv) -> Any:
    _need(name, _is_array(a[0]), "the argument must be an array")
    return len(a[0])


def _array_unique(name: str, a: list[Any], _: IntrinsicEnv) -> Any:
    _need(name, _is_array(a[0]), "the argument must be an array")
    seen: list[Any] = []
    for item in a[0]:
        if not any(_json_equal(item, s) for s in seen):
            seen.append(item)
    return seen


def _base64_encode(name: str, a: list[Any], _: IntrinsicEnv) -> Any:
    _need(name, isinstance(a[0], str), "the argument must be a string")
    _need(name, len(a[0]) <= _MAX_STRING, "the string is longer than 10000 characters")
    return base64.b64encode(a[0].encode()).decode("ascii")


def _base64_decode(name: str, a: list[Any], _: IntrinsicEnv) -> Any:
    _need(name, isinstance(a[0], str), "the argument must be a string")
    _need(name, len(a[0]) <= _MAX_STRING, "the string is longer than 10000 characters")
    try:
        return base64.b64decode(a[0], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise _fail(name, "the argument is not valid base64 of UTF-8 text") from None


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384"}
_HASHES["SHA-512"] = "sha512"


def _hash(name: str, a: list[Any], _: IntrinsicEnv) -> Any:
    data = a[0] if isinstance(a[0], str) else _dumps(a[0])
    _need(name, a[0] is not None, "the data to hash must not be null")
    _need(name, len(data) <= _MAX_STRING, "the data is longer than 10000 characters")
    algorithm = _HASHES.get(a[1]) if isinstance(a[1], str) else None
    _need(
        name,
        algorithm is not None,
        f"the algorithm must be one of {', '.join(_HASHES)}, got {_dumps(a[1])}",
    )
    return hashlib.new(str(algorithm), data.encode()).hexdigest()


def _json_merge(name: str, a: list[Any], _: IntrinsicEnv) -> Any:
    _need(name, isinstance(a[0], dict) and isinstance(a[1], dict), "both values must be objects")
    _need(
        name, a[2] is False, "only a shallow merge is supported: the third argument must be false"
    )
    return {**a[0], **a[1]}


def _math_random(name: str, a: list[Any], env: IntrinsicEnv) -> Any:
    _need(name, all(_is_number(v) for v in a), "start, end and seed must be numbers")
    # AWS: a non-integer start or end is rounded off to the nearest integer
    start, end = (_round(v) for v in a[:2])
    _need(name, start < end, "start must be less than end")
    rng = random.Random(_round(a[2])) if len(a) > 2 else env.rng
    return rng.randrange(start, end)


def _round(value: int | float) -> int:
    """To the nearest integer, halves upwards, as Java's Math.round (1.5 -> 2, -1.5 -> -1)."""
    return math.floor(value + 0.5) if isinstance(value, float) else value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _math_add(name: str, a: list[Any], _: IntrinsicEnv) -> Any:
    _need(name, all(_is_number(v) for v in a), "both values must be numbers")
    # AWS rounds a non-integer to the nearest integer first, then adds
    rounded = [_round(v) for v in a]
    low, high = _INT32
    _need(name, all(low <= v <= high for v in rounded), "values must be 32-bit integers")
    return rounded[0] + rounded[1]


def _string_split(name: str, a: list[Any], _: IntrinsicEnv) -> Any:
    _need(name, isinstance(a[0], str), "the first argument must be a string")
    _need(name, isinstance(a[1], str), "the delimiter must be a string")
    parts = [a[0]]
    for delimiter in a[1] or "":
        parts = [p for part in parts for p in part.split(delimiter)]
    return [p for p in parts if p != ""]


def _uuid(name: str, a: list[Any], env: IntrinsicEnv) -> Any:
    return env.new_uuid()


_Impl = Callable[[str, list[Any], IntrinsicEnv], Any]

# name -> (min args, max args or None for variadic, implementation)
FUNCTIONS: dict[str, tuple[int, int | None, _Impl]] = {
    "States.Format": (1, None, _array),  # evaluated by _format, see _eval
    "States.StringToJson": (1, 1, _string_to_json),
    "States.JsonToString": (1, 1, _json_to_string),
    "States.Array": (0, None, _array),
    "States.ArrayPartition": (2, 2, _array_partition),
    "States.ArrayContains": (2, 2, _array_contains),
    "States.ArrayRange": (3, 3, _array_range),
    "States.ArrayGetItem": (2, 2, _array_get_item),
    "States.ArrayLength": (1, 1, _array_length),
    "States.ArrayUnique": (1, 1, _array_unique),
    "States.Base64Encode": (1, 1, _base64_encode),
    "States.Base64Decode": (1, 1, _base64_decode),
    "States.Hash": (2, 2, _hash),
    "States.JsonMerge": (3, 3, _json_merge),
    "States.MathRandom": (2, 3, _math_random),
    "States.MathAdd": (2, 2, _math_add),
    "States.StringSplit": (2, 2, _string_split),
    "States.UUID": (0, 0, _uuid),
}
