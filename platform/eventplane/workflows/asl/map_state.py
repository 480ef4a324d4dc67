"""Map state inputs: the items, each iteration's input, concurrency, batching and
the tolerated-failure threshold, resolved from literals, paths or expressions.

The engine runs the iterations; this module only says what they receive and
when their failures fail the Map (States.ExceedToleratedFailureThreshold).
"""

from __future__ import annotations

import json
from typing import Any

from eventplane.workflows.asl.definition import MapState
from eventplane.workflows.asl.errors import QUERY_EVALUATION_ERROR, RUNTIME, StatesError
from eventplane.workflows.asl.intrinsics import IntrinsicEnv
from eventplane.workflows.asl.jsonata_mode import JsonataEnv, evaluate_template, is_expression
from eventplane.workflows.asl.paths import apply_parameters, dumps, resolve_path, select

__all__ = [
    "batch_items",
    "exceeds_tolerance",
    "item_input",
    "map_items",
    "map_limits",
]

_MAX_INT = 99_999_999


def map_items(
    state: MapState,
    effective: Any,
    context: Any = None,
    variables: dict[str, Any] | None = None,
) -> list[Any]:
    """The array to iterate: ItemsPath over the effective input, or JSONata ``Items``."""
    if state.query_language == "JSONata":
        items = state.items
        if items is None:
            items = effective
        elif is_expression(items) or isinstance(items, list):
            env = JsonataEnv(input=effective, context=context, variables=variables)
            items = evaluate_template(items, env, field="Items")
        if not isinstance(items, list):
            raise StatesError(
                QUERY_EVALUATION_ERROR,
                f"The Items field must evaluate to a JSON array, got {dumps(items)}",
            )
        return items
    path = state.items_path or "$"
    items = resolve_path(path, effective, context, variables) if path != "$" else effective
    if not isinstance(items, list):
        raise StatesError(
            RUNTIME,
            f"Invalid path '{path}': the ItemsPath of the Map state '{state.name}' must "
            f"select a JSON array, got {dumps(items)}",
        )
    return items


def item_input(
    state: MapState,
    effective: Any,
    index: int,
    value: Any,
    context: Any = None,
    variables: dict[str, Any] | None = None,
    *,
    env: IntrinsicEnv | None = None,
) -> Any:
    """One iteration's input: ItemSelector (``$$.Map.Item.Index/Value`` set), else the item.

    ``context`` is the Map state's context object; the ``Map.Item`` entry is
    added here so ItemSelector can read it.
    """
    item_context = dict(context or {})
    item_context["Map"] = {"Item": {"Index": index, "Value": value}}
    selector = state.item_selector
    if selector is None:
        return value
    if state.query_language == "JSONata":
        jenv = JsonataEnv(input=effective, context=item_context, variables=variables)
        return evaluate_template(selector, jenv, field="ItemSelector")
    return apply_parameters(selector, effective, item_context, variables, env=env)


def _resolve_number(
    state: MapState,
    name: str,
    literal: Any,
    path: str | None,
    effective: Any,
    context: Any,
    variables: dict[str, Any] | None,
    *,
    high: float,
    integer: bool,
) -> float | None:
    if literal is not None and is_expression(literal):
        env = JsonataEnv(input=effective, context=context, variables=variables)
        value, error = evaluate_template(literal, env, field=name), QUERY_EVALUATION_ERROR
    elif literal is not None:
        value, error = literal, RUNTIME
    elif path is not None:
        value, error = resolve_path(path, effective, context, variables), RUNTIME
    else:
        return None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and integer:
        ok = float(value).is_integer()
    if not ok or not 0 <= value <= high:
        kind = "an integer" if integer else "a number"
        where = f"{name}Path '{path}'" if literal is None else name
        raise StatesError(
            error, f"The {where} of the Map state must be {kind} from 0 to {high:g}, got {value!r}"
        )
    return float(value)


def map_limits(
    state: MapState,
    effective: Any,
    context: Any = None,
    variables: dict[str, Any] | None = None,
) -> tuple[int, int | None, float | None]:
    """(MaxConcurrency (0 = unlimited), ToleratedFailureCount, ToleratedFailurePercentage)."""
    args = (effective, context, variables)
    concurrency = _resolve_number(
        state,
        "MaxConcurrency",
        state.max_concurrency,
        state.max_concurrency_path,
        *args,
        high=_MAX_INT,
        integer=True,
    )
    count = _resolve_number(
        state,
        "ToleratedFailureCount",
        state.tolerated_failure_count,
        state.tolerated_failure_count_path,
        *args,
        high=_MAX_INT,
        integer=True,
    )
    percentage = _resolve_number(
        state,
        "ToleratedFailurePercentage",
        state.tolerated_failure_percentage,
        state.tolerated_failure_percentage_path,
        *args,
        high=100,
        integer=False,
    )
    return (
        int(concurrency or 0),
        None if count is None else int(count),
        percentage,
    )


def exceeds_tolerance(failed: int, total: int, count: int | None, percentage: float | None) -> bool:
    """True once the failures exceed a tolerated limit (with neither set, any failure does).

    AWS fails the Map when either the count or the percentage is exceeded.
    """
    if count is None and percentage is None:
        return failed > 0
    if count is not None and failed > count:
        return True
    return percentage is not None and total > 0 and failed * 100.0 / total > percentage


def batch_items(
    state: MapState,
    items: list[Any],
    effective: Any,
    context: Any = None,
    variables: dict[str, Any] | None = None,
) -> list[Any]:
    """Group items per ItemBatcher into ``{"Items": [...], ...BatchInput}``; no batcher = items."""
    batcher = state.item_batcher
    if not batcher:
        return items
    max_items = batcher.get("MaxItemsPerBatch")
    if max_items is None and "MaxItemsPerBatchPath" in batcher:
        max_items = select(batcher["MaxItemsPerBatchPath"], effective)
    max_bytes = batcher.get("MaxInputBytesPerBatch")
    if max_bytes is None and "MaxInputBytesPerBatchPath" in batcher:
        max_bytes = select(batcher["MaxInputBytesPerBatchPath"], effective)
    batch_input = batcher.get("BatchInput") or {}
    if state.query_language == "JSONPath" and batch_input:
        batch_input = apply_parameters(batch_input, effective, context, variables)
    limit_items = int(max_items) if max_items else len(items) or 1
    limit_bytes = int(max_bytes) if max_bytes else 256 * 1024
    batches: list[Any] = []
    current: list[Any] = []
    size = 0
    for item in items:
        item_size = len(json.dumps(item, separators=(",", ":")).encode())
        if current and (len(current) >= limit_items or size + item_size > limit_bytes):
            batches.append({"Items": current, **batch_input} if batch_input else {"Items": current})
            current, size = [], 0
        current.append(item)
        size += item_size
    if current:
        batches.append({"Items": current, **batch_input} if batch_input else {"Items": current})
    return batches
