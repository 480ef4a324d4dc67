"""`eventplane bench processes`: one server process against two (``--processes 2``).

The same queue cycles as `bench queues` (send 10 / receive 10 / delete 10 per client,
batched and unbatched) against a server of one worker, then of two, each on a cluster
of its own with the api and queues roles. Every client is a connection of its own, so
the kernel spreads them over the workers. The figure of two processes carries the one
process's as its baseline (``ratio``).

On a machine of two cores the broker and the benchmark's clients share those cores
with the workers: the ratio says what a second process buys there, not on a pod whose
cores are its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

from eventplane.bench import queues
from eventplane.bench._cpu import process_cpu_seconds
from eventplane.bench._stats import figure
from eventplane.config import Settings
from eventplane.testing.harness import EventplaneProcess, unique_cluster

Result = dict[str, Any]
CLIENTS = 8
PROCESSES = (1, 2)


def run(settings: Settings, scale: float) -> Iterator[Result]:
    counts = queues.Counts.scaled(scale)
    first: dict[str, float] = {}
    for n in PROCESSES:
        for name, rate, extra in _measure(settings, counts, n):
            baseline = (f"processes_1_{name}", first[name]) if name in first else None
            first.setdefault(name, rate)
            yield figure(f"processes_{n}_{name}", "msg/s", rate, baseline, processes=n, **extra)


def _measure(
    settings: Settings, counts: queues.Counts, processes: int
) -> Iterator[tuple[str, float, dict[str, Any]]]:
    server = EventplaneProcess(
        settings.bootstrap,
        roles="api,queues",
        # Each queue split over the workers: the owner groups' default (kafka/groups.py).
        env=queues.server_env(settings),
        cluster=unique_cluster("bench"),
        processes=processes,
    )
    target = server.endpoint
    created: list[str] = []
    try:
        server.start(timeout=120)
        made = asyncio.run(queues.prepare_queues(target, created))
        pid = server.proc.pid if server.proc is not None else 0
        for name, url, total, batched in (
            ("queue_batched_cycle", made.batched, counts.batched, True),
            ("queue_cycle", made.unbatched, counts.unbatched, False),
        ):
            before = _server_cpu_seconds(pid)
            r = asyncio.run(queues.cycle(target, url, total, batched=batched, concurrency=CLIENTS))
            cpu = _server_cpu_seconds(pid) - before
            yield (
                name,
                r.rate,
                {
                    "count": r.count,
                    "clients": CLIENTS,
                    "errors": r.errors,
                    "complete": r.complete,
                    # Every worker's CPU (and the supervisor's) per message that went round.
                    "server_cpu_us_per_msg": round(cpu / r.count * 1e6, 1) if r.count else None,
                },
            )
    finally:
        try:
            if created:
                asyncio.run(queues.delete_queues(target, created))
        finally:
            server.stop()
    with contextlib.suppress(OSError):
        server.log_path.unlink()


def _server_cpu_seconds(pid: int) -> float:
    """CPU seconds of the server process and its direct children (the workers)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
            children = [int(c) for c in fh.read().split()]
    except OSError:
        return 0.0
    total = 0.0
    for p in (pid, *children):
        with contextlib.suppress(OSError):
            total += process_cpu_seconds(p)
    return total
