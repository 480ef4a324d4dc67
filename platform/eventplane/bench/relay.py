"""`eventplane bench relay`: what a split deployment's relay adds to a call.

Two servers of one cluster: ``back`` runs the queues role, ``front`` only the api role
with ``EVENTPLANE_ROLE_ENDPOINTS`` pointing the queues role at ``back``
(runtime/relay.py). The same calls go straight to ``back`` (the baseline) and through
``front``:

- ``relay_get_queue_attributes_ms`` p50/p99: a small gRPC call, one client, one at a
  time; the difference is one more gRPC hop and a parse of the request.
- ``relay_send_message_ms`` p50/p99: SendMessage, which also writes to Kafka.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from eventplane.bench._stats import figure, percentile
from eventplane.client import Client
from eventplane.config import Settings
from eventplane.testing.harness import EventplaneProcess, unique_cluster

Result = dict[str, Any]
CALLS = 1000
WARMUP = 50


def run(settings: Settings, scale: float) -> Iterator[Result]:
    calls = max(100, int(CALLS * scale))
    cluster = unique_cluster("bench")
    back = EventplaneProcess(settings.bootstrap, roles="queues", cluster=cluster)
    front = EventplaneProcess(
        settings.bootstrap,
        roles="api",
        cluster=cluster,
        env={"EVENTPLANE_ROLE_ENDPOINTS": f"queues={back.endpoint}"},
    )
    try:
        back.start(timeout=120)
        front.start(timeout=120)
        with Client(back.endpoint, timeout=30) as direct, Client(front.endpoint) as relayed:
            url = direct.queues.create_queue(f"relay-{uuid.uuid4().hex[:10]}")
            cases: list[tuple[str, Callable[[Client], Any]]] = [
                (
                    "relay_get_queue_attributes_ms",
                    lambda c: c.queues.get_queue_attributes(url, ["VisibilityTimeout"]),
                ),
                ("relay_send_message_ms", lambda c: c.queues.send_message(url, "x")),
            ]
            for name, call in cases:
                base = _latencies(direct, call, calls)
                through = _latencies(relayed, call, calls)
                for label, p in (("p50", 50), ("p99", 99)):
                    yield figure(
                        f"{name}_{label}",
                        "ms",
                        percentile(through, p),
                        (f"direct_{name}_{label}", percentile(base, p)),
                        calls=calls,
                    )
            direct.queues.delete_queue(url)
    finally:
        front.stop()
        back.stop()


def _latencies(client: Client, call: Callable[[Client], Any], calls: int) -> list[float]:
    for _ in range(WARMUP):
        call(client)
    out = []
    for _ in range(calls):
        started = time.perf_counter()
        call(client)
        out.append((time.perf_counter() - started) * 1000)
    return out
