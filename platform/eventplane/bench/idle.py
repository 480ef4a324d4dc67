"""`eventplane bench idle`: what an idle server costs, itself and the broker it polls.

- ``idle_server_cpu_pct``: the server process's CPU (percent of one core) while no
  request and no record arrives, after start-up settled.
- ``idle_broker_cpu_pct``: the local broker's CPU over the same window, beside
  ``idle_broker_alone_cpu_pct``, the same broker measured just before the server
  started. Every consumer that finds nothing new costs the broker one fetch per
  ``fetch.wait.max.ms`` (kafka/clients.py consumer_config); on a shared machine that
  CPU is taken from every request's latency. Only for a broker started by
  ``eventplane kafka start`` on this host (its pid is known); skipped otherwise.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from eventplane.bench._cpu import CpuSpan, broker_pid
from eventplane.bench._stats import figure
from eventplane.bench.queues import server_env
from eventplane.config import Settings
from eventplane.testing import unique_cluster
from eventplane.testing.harness import EventplaneProcess

Result = dict[str, Any]
SETTLE_S = 5.0


def _percent(pid: int | None, seconds: float) -> float:
    started = time.monotonic()
    with CpuSpan(pid) as span:
        time.sleep(seconds)
    return span.seconds / (time.monotonic() - started) * 100


def run(settings: Settings, scale: float) -> Iterator[Result]:
    window = max(5.0, 10.0 * min(scale, 3.0))
    broker = broker_pid(settings)
    alone = _percent(broker, window) if broker is not None else None
    # A cluster of its own: no other server's partitions or traffic reach this one.
    server = EventplaneProcess(
        settings.bootstrap, env=server_env(settings), cluster=unique_cluster()
    )
    try:
        server.start(timeout=120)
        time.sleep(SETTLE_S)
        pid = server.proc.pid if server.proc is not None else None
        started = time.monotonic()
        with CpuSpan(pid) as ours, CpuSpan(broker) as theirs:
            time.sleep(window)
        elapsed = time.monotonic() - started
        yield figure("idle_server_cpu_pct", "%", ours.seconds / elapsed * 100, window_s=window)
        if alone is not None:
            yield figure(
                "idle_broker_cpu_pct",
                "%",
                theirs.seconds / elapsed * 100,
                ("idle_broker_alone_cpu_pct", alone),
                window_s=window,
            )
    finally:
        server.stop()
    with contextlib.suppress(OSError):
        server.log_path.unlink()
