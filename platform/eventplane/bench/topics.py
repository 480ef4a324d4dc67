"""`eventplane bench topics`: Publish to a topic with three queue subscribers.

- ``topics_publish_to_queue_latency_p50`` / ``_p99``: each delivery, publish to receive.
- ``topics_publish_to_all_3_queues_latency_p50`` / ``_p99``: until the last of the three
  subscribers had the message.
- ``topics_publish_to_queue_stage_<stage>_p50`` / ``_p99``: where that time went, hop by
  hop, from the server's ``eventplane_stage_seconds`` (bench/_stages.py).

Both beside the raw confluent-kafka produce-to-consume latency measured in the same run
(``kafka_raw_latency_p50/p99``). One Publish every 10 ms (light load), raw message
delivery, one long-polling consumer per queue, in an ``eventplane server`` child process.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

from eventplane.bench import _stages
from eventplane.bench._delivery import latencies, latency_figures, raw_latency
from eventplane.bench.queues import server_env
from eventplane.client import AsyncClient
from eventplane.config import Settings
from eventplane.errors import EventplaneError
from eventplane.testing.harness import EventplaneProcess, unique_cluster

Result = dict[str, Any]
SUBSCRIBERS = 3


async def _publish_latency(
    target: str, count: int, window: _stages.Window
) -> tuple[list[float], list[float]]:
    suffix = uuid.uuid4().hex[:8]
    queues = [f"bench-topics-{suffix}-{i}" for i in range(SUBSCRIBERS)]
    async with AsyncClient(target, timeout=60) as c:
        topic = await c.topics.create_topic(f"bench-{suffix}")
        for q in queues:
            await c.queues.create_queue(q)
            await c.topics.subscribe(
                topic,
                "sqs",
                f"arn:aws:sqs:local:000000000000:{q}",
                attributes={"RawMessageDelivery": True},
            )
        try:

            async def publish(client: AsyncClient, mark: str) -> None:
                await client.topics.publish(topic, mark)

            return await latencies(target, publish, queues, count, window)
        finally:
            with contextlib.suppress(EventplaneError):
                await c.topics.delete_topic(topic)
                for q in queues:
                    await c.queues.delete_queue(q)


def run(settings: Settings, scale: float) -> Iterator[Result]:
    count = max(50, int(1000 * scale))
    raw = raw_latency(settings, count)
    server = EventplaneProcess(
        settings.bootstrap, env=server_env(settings), cluster=unique_cluster("bench")
    )
    try:
        server.start(timeout=120)
        window = _stages.Window.of(server, settings)
        each, all_in = asyncio.run(_publish_latency(server.endpoint, count, window))
        yield from latency_figures(
            "topics_publish_to_queue_latency", each, raw, subscribers=SUBSCRIBERS
        )
        yield from latency_figures(
            "topics_publish_to_all_3_queues_latency", all_in, raw, subscribers=SUBSCRIBERS
        )
        yield from window.figures("topics_publish_to_queue", len(each))
    finally:
        server.stop()
    with contextlib.suppress(OSError):
        server.log_path.unlink()
