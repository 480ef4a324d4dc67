"""JSONata mode: ``{% %}`` expressions evaluated with jsonata-python.

Every string of the form ``"{% expr %}"`` in Arguments, Output, Assign,
Condition, Items, TimeoutSeconds, ... is one expression; other values are
literals (objects and arrays are walked). Expressions see ``$states`` (input,
result, errorOutput, context) and the workflow variables as ``$name``. AWS adds
``$partition``, ``$range``, ``$hash``, ``$random``, ``$uuid`` and ``$parse`` and
forbids ``$eval``. Failures raise ``States.QueryEvaluationError``.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import jsonata
from jsonata.utils import Utils

from eventplane.workflows.asl.errors import QUERY_EVALUATION_ERROR, StatesError
from eventplane.workflows.asl.intrinsics import IntrinsicEnv
from eventplane.workflows.asl.intrinsics import evaluate_intrinsic as _intrinsic

if TYPE_CHECKING:
    from eventplane.workflows.asl.definition import StateDef

__all__ = [
    "JsonataEnv",
    "check_expression",
    "evaluate_arguments",
    "evaluate_expression",
    "evaluate_template",
    "is_expression",
    "state_output",
]

_EVAL = re.compile(r"\$eval\s*\(")


_SHARED_RNG = random.Random()


class _Undefined:
    """JSONata's "no value", distinct from JSON null."""


UNDEFINED = _Undefined()


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


def _body(text: str) -> str:
    return text[2:-2].strip()


@lru_cache(maxsize=4096)
def _compile(body: str) -> Any:
    if _EVAL.search(body):
        raise ValueError("the $eval function is not supported")
    try:
        expr = jsonata.Jsonata(body)
    except Exception as exc:  # jsonata raises JException and a few built-ins
        raise ValueError(str(exc)) from None
    # inputs are parsed JSON already; re-validating them walks the whole payload each time
    expr.set_validate_input(False)
    expr.set_output_convert_nulls(False)
    return expr


def check_expression(text: str) -> str | None:
    """None when ``text`` is a well-formed ``{% %}`` expression, else why not."""
    if not is_expression(text):
        return "a JSONata expression must start with '{%' and end with '%}'"
    # AWS reports a definition-time parse error by the expression and JSONata's message

    if not _body(text):
        return "the expression is empty"
    try:
        _compile(_body(text))
    except ValueError as exc:
        return str(exc)
    return None


class JsonataEnv:
    """Bindings for one evaluation: ``$states`` and the variables, plus randomness."""

    def __init__(
        self,
        *,
        input: Any = None,
        result: Any = UNDEFINED,
        error_output: Any = UNDEFINED,
        context: Any = None,
        variables: Mapping[str, Any] | None = None,
        rng: random.Random | None = None,
        new_uuid: Callable[[], str] | None = None,
    ) -> None:
        states: dict[str, Any] = {"input": input, "context": context if context is not None else {}}
        if result is not UNDEFINED:
            states["result"] = result
        if error_output is not UNDEFINED:
            states["errorOutput"] = error_output
        self.states = states
        self.variables = dict(variables or {})
        self.rng = rng or _SHARED_RNG
        self.new_uuid = new_uuid or (lambda: str(uuid.uuid4()))


def evaluate_expression(text: str, env: JsonataEnv, *, field: str = "") -> Any:
    """Evaluate one ``{% %}`` string; UNDEFINED when it yields no value."""
    body = _body(text)
    try:
        expr = _compile(body)
    except ValueError as exc:
        raise StatesError(QUERY_EVALUATION_ERROR, f"{exc}") from None
    bindings: dict[str, Any] = {name: value for name, value in env.variables.items()}
    bindings["states"] = env.states
    bindings.update(_aws_functions(env))
    try:
        value = expr.evaluate(env.states.get("input"), bindings)
    except Exception as exc:
        raise StatesError(QUERY_EVALUATION_ERROR, _failure(body, field, exc)) from None
    if value is None:
        return UNDEFINED
    return _plain(Utils.convert_nulls(value))


def _failure(body: str, field: str, exc: Exception) -> str:
    """AWS's cause: the sentence naming expression and field, then the JSONata error.

    A coded JSONata error is its own sentence (``. T2001: ...``); a bare message
    (one of AWS's own functions refusing its arguments) follows a colon.
    """
    if isinstance(exc, StatesError):
        detail, separator = exc.cause, ": "
    else:
        code = getattr(exc, "error", None)
        text = str(exc).strip() or type(exc).__name__
        detail, separator = (f"{code}: {text}", ". ") if isinstance(code, str) else (text, ": ")
    where = f" specified for the field '{field}'" if field else ""
    sentence = f"The JSONata expression '{body}'{where} threw an error during evaluation"
    return f"{sentence}{separator}{detail}"


def _plain(value: Any) -> Any:
    """JSON values: lists from JSONata sequences, integral floats as ints."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def evaluate_template(value: Any, env: JsonataEnv, *, field: str = "") -> Any:
    """Walk a field's value, evaluating every ``{% %}`` string; undefined is an error."""
    if isinstance(value, str) and is_expression(value):
        out = evaluate_expression(value, env, field=field)
        if out is UNDEFINED:
            raise StatesError(
                QUERY_EVALUATION_ERROR,
                f"The JSONata expression '{_body(value)}' specified for the field "
                f"'{field}' returned nothing (undefined).",
            )
        return out
    if isinstance(value, dict):
        return {
            k: evaluate_template(v, env, field=f"{field}/{k}" if field else k)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [evaluate_template(v, env, field=f"{field}[{i}]") for i, v in enumerate(value)]
    return value


def evaluate_arguments(state: StateDef, raw_input: Any, env: JsonataEnv) -> Any:
    """A JSONata Task/Parallel state's Arguments (the raw input when absent)."""
    arguments = getattr(state, "arguments", None)
    if arguments is None:
        return raw_input
    return evaluate_template(arguments, env, field="Arguments")


def state_output(state: StateDef, raw_input: Any, result: Any, env: JsonataEnv) -> Any:
    """The Output field, or the result (Task/Parallel/Map) or the input (others)."""
    if state.has_output:
        return evaluate_template(state.output, env, field="Output")
    if state.type in ("Task", "Parallel", "Map"):
        return result
    return raw_input


# --- AWS's added functions -------------------------------------------------------------


def _fail(name: str, detail: str) -> StatesError:
    return StatesError(QUERY_EVALUATION_ERROR, f"Invalid arguments in ${name}: {detail}")


def _aws_functions(env: JsonataEnv) -> dict[str, Any]:
    """Bound per evaluation (not registered on the shared compiled expression)."""
    ienv = IntrinsicEnv(input=None, rng=env.rng, new_uuid=env.new_uuid)

    def intrinsic(jsonata_name: str, name: str, *args: Any) -> Any:
        call = f"States.{name}(" + ", ".join("$.a" + str(i) for i in range(len(args))) + ")"
        ienv.input = {f"a{i}": v for i, v in enumerate(args)}
        try:
            return _intrinsic(call, ienv)
        except StatesError as exc:
            raise _fail(jsonata_name, exc.cause.split(": ", 1)[-1]) from None

    def partition(array: Any, size: Any) -> Any:
        return intrinsic("partition", "ArrayPartition", _plain(array), size)

    def range_(start: Any, end: Any, step: Any) -> Any:
        # AWS's $range is inclusive of end, like States.ArrayRange
        return intrinsic("range", "ArrayRange", start, end, step)

    def hash_(data: Any, algorithm: Any) -> Any:
        return intrinsic("hash", "Hash", _plain(data), algorithm)

    def random_(seed: Any = None) -> Any:
        rng = random.Random(seed) if seed is not None else env.rng
        return rng.random()

    def uuid_() -> Any:
        return env.new_uuid()

    def parse(text: Any) -> Any:
        if not isinstance(text, str):
            raise _fail("parse", "the argument must be a string")
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise _fail("parse", f"the string is not valid JSON ({exc.msg})") from None

    def no_eval(*_: Any) -> Any:
        raise _fail("eval", "the $eval function is not supported")

    functions: dict[str, Callable[..., Any]] = {
        "partition": partition,
        "range": range_,
        "hash": hash_,
        "random": random_,
        "uuid": uuid_,
        "parse": parse,
        "eval": no_eval,
    }
    return {name: jsonata.Jsonata.JLambda(fn) for name, fn in functions.items()}
