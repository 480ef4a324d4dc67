"""Small helpers shared by the benchmarks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by nearest rank; values need not be sorted."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    # Nearest rank: the smallest value with at least p% of the values at or below it.
    rank = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[rank]


def figure(
    name: str,
    unit: str,
    value: float,
    baseline: tuple[str, float] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    result: dict[str, Any] = {"name": name, "unit": unit, "value": round(value, 3)}
    if baseline is not None:
        result["baseline_name"] = baseline[0]
        result["baseline_value"] = round(baseline[1], 3)
        result["ratio"] = round(value / baseline[1], 4) if baseline[1] else None
    result.update(extra)
    return result
