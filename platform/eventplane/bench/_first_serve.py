"""How soon a new queue is served while other queues come and go, by group protocol.

A queue's partitions are served once the queue owners' consumer group assigns them,
which takes a rebalance (``kafka/groups.py``). ``queues_first_serve_ms`` times, on two
replicas of one installation, ``CLIENTS`` clients that each loop: create a queue, send a
probe, receive it (long poll), delete the queue: the time from the create's answer to the
probe's arrival. It runs once with the owner groups' default protocol (KIP-848, each
owner group asking for assignments without batching) and once with ``classic`` as the
baseline, so the figure says what the default costs (or saves) a user who creates
queues on a busy installation.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from eventplane.bench._stats import figure, percentile
from eventplane.config import Settings
from eventplane.testing.harness import EventplaneProcess, unique_cluster

CLIENTS = 4
# A probe not received within this long counts as this long (and as a miss).
GIVE_UP_S = 40.0


def _churn(server: EventplaneProcess, until: float, out: list[float], misses: list[int]) -> None:
    with server.client(timeout=30) as client:
        while time.monotonic() < until:
            url = client.queues.create_queue(f"bench-serve-{uuid.uuid4().hex[:10]}")
            started = time.monotonic()
            client.queues.send_message(url, "probe", delay_seconds=0)
            got: list[Any] = []
            while not got and time.monotonic() - started < GIVE_UP_S:
                got = client.queues.receive_message(url, wait_time_seconds=2)
            out.append(time.monotonic() - started)
            if not got:
                misses.append(1)
            client.queues.delete_queue(url)


def _measure(settings: Settings, env: Mapping[str, str], seconds: float) -> tuple[list[float], int]:
    cluster = unique_cluster("bench")
    servers = [
        EventplaneProcess(settings.bootstrap, env=env, cluster=cluster, roles="api,queues")
        for _ in range(2)
    ]
    samples: list[float] = []
    misses: list[int] = []
    try:
        for server in servers:
            server.start(timeout=120)
        until = time.monotonic() + seconds
        threads = [
            threading.Thread(target=_churn, args=(servers[i % 2], until, samples, misses))
            for i in range(CLIENTS)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for server in servers:
            server.stop()
    return samples, len(misses)


def first_serve(
    settings: Settings, env: Mapping[str, str], scale: float
) -> Iterator[dict[str, Any]]:
    """``queues_first_serve_ms`` p50/p99/max, default protocol against ``classic``."""
    seconds = max(10.0, 30.0 * scale)
    default, missed = _measure(settings, env, seconds)
    classic, classic_missed = _measure(
        settings, {**env, "EVENTPLANE_KAFKA_GROUP_PROTOCOL": "classic"}, seconds
    )
    for p in (50, 99, 100):
        ours = percentile(default, p) * 1000 if default else 0.0
        theirs = percentile(classic, p) * 1000 if classic else 0.0
        yield figure(
            f"queues_first_serve_p{p}" if p < 100 else "queues_first_serve_max",
            "ms",
            ours,
            ("classic_protocol", theirs),
            queues=len(default),
            baseline_queues=len(classic),
            not_served=missed,
            baseline_not_served=classic_missed,
            clients=CLIENTS,
            replicas=2,
            seconds=seconds,
        )
