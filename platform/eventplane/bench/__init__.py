"""`eventplane bench`: throughput and latency figures as JSON lines.

Every figure is ``{"name", "unit", "value"}``; a figure compared with a baseline
measured in the same run adds ``baseline_name``, ``baseline_value`` and
``ratio`` (= value / baseline_value). Areas register in ``AREAS``.

``soak`` is the one area outside ``all``: it runs for minutes, prints a line per
interval and a summary, and takes its own options (bench/soak.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from eventplane.bench import (
    events,
    functions,
    gateway,
    idle,
    kafka_baseline,
    kafka_txn,
    processes,
    queues,
    relay,
    security,
    soak,
    tables,
    topics,
    workflows,
)
from eventplane.config import Settings

Result = dict[str, Any]
Area = Callable[[Settings, float], Iterator[Result]]


def _kafka(settings: Settings, scale: float) -> Iterator[Result]:
    # The transaction figures first: the throughput runs leave the broker busy for a while.
    yield from kafka_txn.run(settings, scale)
    yield from kafka_baseline.run(settings, scale)


AREAS: dict[str, Area] = {
    "kafka": _kafka,
    "queues": queues.run,
    "topics": topics.run,
    "events": events.run,
    "functions": functions.run,
    "workflows": workflows.run,
    "tables": tables.run,
    "gateway": gateway.run,
    "security": security.run,
    "idle": idle.run,
    "processes": processes.run,
    "relay": relay.run,
}


def run_benchmarks(
    settings: Settings,
    area: str,
    *,
    scale: float = 1.0,
    soak_options: soak.Options | None = None,
) -> Iterator[Result]:
    if area == "soak":
        yield from soak.run(settings, soak_options or soak.Options())
        return
    if area != "all" and area not in AREAS:
        choices = ", ".join([*AREAS, "soak"])
        raise SystemExit(f"eventplane bench: unknown area {area!r}; choose all, {choices}")
    for name, run in AREAS.items():
        if area in ("all", name):
            yield from run(settings, scale)
