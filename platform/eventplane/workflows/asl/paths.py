"""JSONPath mode: paths, payload templates and the input/output chain.

Paths are parsed by jsonpath-ng (its ``ext`` dialect, for filters) and cached.
AWS's quirks kept here:

- a *definite* path (only names and single indexes) yields the value itself;
  any other path (wildcards, slices, filters, ``..``, unions) yields a list;
- ``$$`` selects from the context object, ``$name`` from the variable ``name``;
- a definite path that matches nothing is an error (States.Runtime), never null;
- ``InputPath``/``OutputPath``/``ResultPath`` set to null mean "{}", "{}" and
  "keep the input" respectively.

The chain InputPath → Parameters → (task) → ResultSelector → ResultPath →
OutputPath is ``effective_input`` then ``state_output``.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from jsonpath_ng import JSONPath
from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext import parse as _jp_parse
from jsonpath_ng.jsonpath import Child, Fields, Index, Root

from eventplane.workflows.asl import jsonata_mode
from eventplane.workflows.asl.errors import RESULT_PATH_MATCH_FAILURE, RUNTIME, StatesError
from eventplane.workflows.asl.intrinsics import (
    IntrinsicEnv,
    IntrinsicSyntaxError,
    evaluate_intrinsic,
    is_intrinsic,
    parse_intrinsic,
)
from eventplane.workflows.asl.jsonata_mode import JsonataEnv

if TYPE_CHECKING:
    from eventplane.workflows.asl.definition import StateDef

__all__ = [
    "apply_input_path",
    "apply_output_path",
    "apply_parameters",
    "apply_result_path",
    "apply_result_selector",
    "check_path",
    "check_payload_template",
    "dumps",
    "effective_input",
    "pass_result",
    "resolve_path",
    "select",
    "state_output",
]

_VARIABLE = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)(.*)$", re.DOTALL)


def dumps(value: Any) -> str:
    """JSON the way AWS prints payloads inside causes (compact)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@lru_cache(maxsize=8192)
def _compile(path: str) -> tuple[JSONPath, bool]:
    try:
        expr = _jp_parse(path)
    except (JsonPathParserError, JsonPathLexerError, Exception) as exc:
        raise ValueError(f"'{path}' is not a valid JSONPath ({exc})") from None
    return expr, _is_definite(expr)


@lru_cache(maxsize=8192)
def _definite_steps(path: str) -> tuple[str | int, ...] | None:
    expr, definite = _compile(path)
    return tuple(_steps(expr)) if definite else None


def _is_definite(expr: Any) -> bool:
    if isinstance(expr, Root):
        return True
    if isinstance(expr, Child):
        return _is_definite(expr.left) and _is_definite(expr.right)
    if isinstance(expr, Fields):
        return len(expr.fields) == 1 and expr.fields[0] != "*"
    if isinstance(expr, Index):
        return len(getattr(expr, "indices", (getattr(expr, "index", 0),))) == 1
    return False


def _split(path: str) -> tuple[str, str]:
    """('input'|'context'|'var:NAME', '$...') for a path as written in a definition."""
    if path.startswith("$$"):
        return "context", path[1:]
    if path.startswith("$") and not path.startswith(("$.", "$[")) and path != "$":
        m = _VARIABLE.match(path)
        if m:
            return f"var:{m.group(1)}", "$" + m.group(2)
    return "input", path


def check_path(
    path: str,
    *,
    allow_context: bool = True,
    allow_variables: bool = True,
    reference: bool = False,
) -> None:
    """Raise ValueError naming the problem when ``path`` is not usable where it is."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise ValueError(f"'{path}' is not a valid JSONPath: it must start with '$'")
    source, rest = _split(path)
    if source == "context" and not allow_context:
        raise ValueError(f"'{path}': the context object ($$) is not allowed here")
    if source.startswith("var:") and not allow_variables:
        raise ValueError(f"'{path}': variables are not allowed here")
    _, definite = _compile(rest)
    if reference and not definite:
        raise ValueError(
            f"'{path}' is not a valid reference path: only names and single indexes are allowed"
        )


def select(path: str, data: Any) -> Any:
    """The value at ``path`` in ``data``; a list for an indefinite path.

    Raises StatesError(States.Runtime) when a definite path matches nothing.
    """
    if path == "$":
        return data
    steps = _definite_steps(path)
    if steps is not None:
        # names and single indexes: walk the data directly (jsonpath-ng's find is slow)
        node = data
        for step in steps:
            if isinstance(step, str):
                if not isinstance(node, dict) or step not in node:
                    raise _no_results(path)
                node = node[step]
            else:
                if not isinstance(node, list) or not -len(node) <= step < len(node):
                    raise _no_results(path)
                node = node[step]
        return node
    expr, definite = _compile(path)
    matches = [m.value for m in expr.find(data)]
    if definite:
        if not matches:
            raise _no_results(path)
        return matches[0]
    return matches


def _no_results(path: str) -> StatesError:
    expr, _ = _compile(path)
    return StatesError(RUNTIME, f"Invalid path '{path}' : No results for path: {_normalized(expr)}")


def _normalized(expr: Any) -> str:
    if isinstance(expr, Root):
        return "$"
    if isinstance(expr, Child):
        return _normalized(expr.left) + _normalized(expr.right)
    if isinstance(expr, Fields):
        return f"['{expr.fields[0]}']"
    if isinstance(expr, Index):
        indices = getattr(expr, "indices", (getattr(expr, "index", 0),))
        return f"[{indices[0]}]"
    return str(expr)


def resolve_path(
    path: str,
    input: Any,
    context: Any,
    variables: dict[str, Any] | None,
    *,
    field: str = "",
) -> Any:
    """Select from the input, the context object (``$$``) or a variable (``$name``)."""
    source, rest = _split(path)
    if source == "input":
        return select(rest, input)
    if source == "context":
        return select(rest, context if context is not None else {})
    name = source[4:]
    if variables is None or name not in variables:
        raise StatesError(RUNTIME, f"The variable '${name}' used in '{path}' is not defined")
    return select(rest, variables[name])


# --- payload templates (Parameters, ResultSelector, ItemSelector, Assign) ------------


def check_payload_template(template: Any, where: str) -> list[tuple[str, str]]:
    """(location, message) for each ``.$`` value that is neither a path nor an intrinsic."""
    problems: list[tuple[str, str]] = []
    if isinstance(template, dict):
        for key, value in template.items():
            loc = f"{where}/{key}"
            if isinstance(key, str) and key.endswith(".$"):
                if not isinstance(value, str):
                    problems.append((where, f"The value for the field '{key}' must be a STRING"))
                    continue
                try:
                    if is_intrinsic(value):
                        parse_intrinsic(value)
                    else:
                        check_path(value)
                except (ValueError, IntrinsicSyntaxError) as exc:
                    problems.append(
                        (
                            where,
                            f"The value for the field '{key}' must be a valid JSONPath or a "
                            f"valid intrinsic function call ({exc})",
                        )
                    )
            else:
                problems.extend(check_payload_template(value, loc))
    elif isinstance(template, list):
        for i, item in enumerate(template):
            problems.extend(check_payload_template(item, f"{where}[{i}]"))
    return problems


def apply_parameters(
    template: Any,
    input: Any,
    context: Any,
    variables: dict[str, Any] | None = None,
    *,
    env: IntrinsicEnv | None = None,
    source_name: str = "input",
) -> Any:
    """Fill a payload template: ``key.$`` values are paths or intrinsic calls."""
    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if isinstance(key, str) and key.endswith(".$") and isinstance(value, str):
                out[key[:-2]] = _dynamic(key, value, input, context, variables, env, source_name)
            else:
                out[key] = apply_parameters(
                    value, input, context, variables, env=env, source_name=source_name
                )
        return out
    if isinstance(template, list):
        return [
            apply_parameters(v, input, context, variables, env=env, source_name=source_name)
            for v in template
        ]
    return template


def _dynamic(
    key: str,
    value: str,
    input: Any,
    context: Any,
    variables: dict[str, Any] | None,
    env: IntrinsicEnv | None,
    source_name: str,
) -> Any:
    if is_intrinsic(value):
        if env is None:
            env = IntrinsicEnv(input=input, context=context, variables=dict(variables or {}))
        else:
            env = IntrinsicEnv(
                input=input,
                context=context,
                variables=dict(variables or {}),
                rng=env.rng,
                new_uuid=env.new_uuid,
            )
        return evaluate_intrinsic(value, env)
    try:
        return resolve_path(value, input, context, variables)
    except StatesError as exc:
        source, _ = _split(value)
        if source.startswith("var:"):
            raise
        where = "context object" if source == "context" else source_name
        data = context if source == "context" else input
        raise StatesError(
            RUNTIME,
            f"The JSONPath '{value}' specified for the field '{key}' could not be found "
            f"in the {where} '{dumps(data)}'",
        ) from exc


def apply_result_selector(
    template: Any,
    result: Any,
    context: Any,
    variables: dict[str, Any] | None = None,
    *,
    env: IntrinsicEnv | None = None,
) -> Any:
    return apply_parameters(template, result, context, variables, env=env, source_name="result")


def apply_input_path(path: str | None, raw_input: Any, variables: Any = None) -> Any:
    """InputPath; null discards the input (the state sees ``{}``)."""
    if path is None:
        return {}
    return _io_path(path, raw_input, None, variables)


def apply_output_path(path: str | None, output: Any, variables: Any = None) -> Any:
    """OutputPath; null sends ``{}`` to the next state."""
    if path is None:
        return {}
    return _io_path(path, output, None, variables)


def _io_path(path: str, data: Any, context: Any, variables: Any) -> Any:
    source, rest = _split(path)
    if source == "input":
        return select(rest, data)
    return resolve_path(path, data, context, variables)


def apply_result_path(raw_input: Any, result: Any, path: str | None) -> Any:
    """Place ``result`` into a copy of the raw input at the reference path ``path``."""
    if path is None:
        return raw_input
    if path == "$":
        return result
    steps = list(_definite_steps(path) or ())
    if not steps:
        raise ValueError(f"'{path}' is not a reference path")
    if not isinstance(raw_input, dict) and isinstance(steps[0], str):
        raise _match_failure(path, raw_input)
    # Copy only the containers along the path: payloads are treated as immutable
    # values, so the untouched subtrees can be shared with the raw input.
    root: Any = _shallow(raw_input)
    node: Any = root
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        if isinstance(step, str):
            if not isinstance(node, dict):
                raise _match_failure(path, raw_input)
            if last:
                node[step] = result
            else:
                child = node.get(step)
                if child is None:
                    child = {}
                elif not isinstance(child, (dict, list)):
                    raise _match_failure(path, raw_input)
                node[step] = _shallow(child)
                node = node[step]
        else:
            if not isinstance(node, list) or not -len(node) <= step < len(node):
                raise _match_failure(path, raw_input)
            if last:
                node[step] = result
            else:
                node[step] = _shallow(node[step])
                node = node[step]
    return root


def _shallow(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value


def _steps(expr: Any) -> list[str | int]:
    if isinstance(expr, Root):
        return []
    if isinstance(expr, Child):
        return _steps(expr.left) + _steps(expr.right)
    if isinstance(expr, Fields) and len(expr.fields) == 1:
        return [expr.fields[0]]
    if isinstance(expr, Index):
        indices = getattr(expr, "indices", (getattr(expr, "index", 0),))
        if len(indices) == 1:
            return [int(indices[0])]
    raise ValueError(f"'{expr}' is not a reference path")


def _match_failure(path: str, raw_input: Any) -> StatesError:
    return StatesError(
        RESULT_PATH_MATCH_FAILURE,
        f'Unable to apply ResultPath "{path}" to input "{dumps(raw_input)}"',
    )


# --- the whole chain for one state ---------------------------------------------------


def effective_input(
    state: StateDef,
    raw_input: Any,
    context: Any,
    variables: dict[str, Any] | None = None,
    *,
    env: IntrinsicEnv | None = None,
) -> Any:
    """What the state works on: InputPath then Parameters (JSONPath mode).

    In JSONata mode: the ``Arguments`` of a Task or Parallel state, else the raw
    input. For a Map state the Parameters field is per item (``ItemSelector``),
    so it is not applied here.
    """
    if state.query_language == "JSONata":
        args_env = JsonataEnv(
            input=raw_input,
            context=context,
            variables=variables,
            rng=env.rng if env else None,
            new_uuid=env.new_uuid if env else None,
        )
        return jsonata_mode.evaluate_arguments(state, raw_input, args_env)
    value = apply_input_path(state.input_path, raw_input, variables)
    parameters = getattr(state, "parameters", None)
    if parameters is not None and state.type != "Map":
        value = apply_parameters(parameters, value, context, variables, env=env)
    return value


def pass_result(state: StateDef, effective: Any) -> Any:
    """A Pass state's result: its ``Result`` when present, else its effective input."""
    result = getattr(state, "result", None)
    return effective if result is None and not getattr(state, "has_result", False) else result


def state_output(
    state: StateDef,
    raw_input: Any,
    result: Any,
    context: Any,
    variables: dict[str, Any] | None = None,
    *,
    env: IntrinsicEnv | None = None,
) -> Any:
    """ResultSelector → ResultPath → OutputPath (JSONPath mode); Output (JSONata mode).

    ``result`` is the task's (or Parallel/Map's) result, a Pass state's
    ``pass_result``, or the effective input of a Choice/Wait/Succeed state.
    """
    if state.query_language == "JSONata":
        jenv = JsonataEnv(
            input=raw_input,
            result=result,
            context=context,
            variables=variables,
            rng=env.rng if env else None,
            new_uuid=env.new_uuid if env else None,
        )
        return jsonata_mode.state_output(state, raw_input, result, jenv)
    selector = getattr(state, "result_selector", None)
    if selector is not None:
        result = apply_result_selector(selector, result, context, variables, env=env)
    if hasattr(state, "result_path"):
        combined = apply_result_path(raw_input, result, state.result_path)
    else:
        combined = result
    return apply_output_path(state.output_path, combined, variables)
