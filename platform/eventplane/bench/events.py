"""`eventplane bench events`: the rule matcher, and PutEvents to a queue target.

- ``events_matcher_*``: matching throughput of the compiled rule set (one thread) with 1,
  100 and 1,000 rules, and the naive one-pattern-after-another loop for comparison
  (:mod:`eventplane.bench.matcher`).
- ``events_put_to_queue_latency_p50`` / ``_p99``: PutEvents every 10 ms to a bus whose
  rule targets a queue; one long-polling consumer; beside the raw confluent-kafka
  produce-to-consume latency measured in the same run (``kafka_raw_latency_p50/p99``);
  ``events_put_to_queue_stage_<stage>_p50/p99``: the same deliveries hop by hop, from the
  server's ``eventplane_stage_seconds`` (bench/_stages.py).

The bus, rule and queue live in an ``eventplane server`` child process on the
configured Kafka, and are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

from eventplane.bench import _stages, matcher
from eventplane.bench._delivery import latencies, latency_figures, raw_latency
from eventplane.bench.queues import server_env
from eventplane.client import AsyncClient
from eventplane.config import Settings
from eventplane.errors import EventplaneError
from eventplane.testing.harness import EventplaneProcess, unique_cluster

Result = dict[str, Any]


async def _put_to_queue_latency(target: str, count: int, window: _stages.Window) -> list[float]:
    suffix = uuid.uuid4().hex[:8]
    queue, bus, rule = f"bench-events-{suffix}", f"bench-{suffix}", f"bench-{suffix}"
    async with AsyncClient(target, timeout=60) as c:
        await c.queues.create_queue(queue)
        await c.events.create_event_bus(bus)
        await c.events.put_rule(rule, event_pattern={"source": ["bench"]}, event_bus_name=bus)
        await c.events.put_targets(
            rule,
            [{"Id": "queue", "Arn": f"arn:aws:sqs:local:000000000000:{queue}"}],
            event_bus_name=bus,
        )
        try:

            async def put(client: AsyncClient, mark: str) -> None:
                await client.events.put_events(
                    [
                        {
                            "Source": "bench",
                            "DetailType": "tick",
                            "Detail": {"t": mark},
                            "EventBusName": bus,
                        }
                    ]
                )

            samples, _ = await latencies(target, put, [queue], count, window)
            return samples
        finally:
            with contextlib.suppress(EventplaneError):
                await c.events.delete_rule(rule, event_bus_name=bus, force=True)
                await c.events.delete_event_bus(bus)
                await c.queues.delete_queue(queue)


def run(settings: Settings, scale: float) -> Iterator[Result]:
    yield from matcher.run(settings, scale)
    count = max(50, int(1000 * scale))
    raw = raw_latency(settings, count)
    server = EventplaneProcess(
        settings.bootstrap, env=server_env(settings), cluster=unique_cluster("bench")
    )
    try:
        server.start(timeout=120)
        window = _stages.Window.of(server, settings)
        samples = asyncio.run(_put_to_queue_latency(server.endpoint, count, window))
        yield from latency_figures("events_put_to_queue_latency", samples, raw)
        yield from window.figures("events_put_to_queue", len(samples))
    finally:
        server.stop()
    with contextlib.suppress(OSError):
        server.log_path.unlink()
