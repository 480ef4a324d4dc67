"""Delivery latency into queues, shared by `bench events` and `bench topics`.

One sender calls ``send(stamp)`` every 10 ms, where ``stamp`` is the sender's
``perf_counter`` as text; one long-polling consumer per queue reads the stamp back out
of each message body. Both clocks are this process's, so the figure is the whole path:
API call, Kafka, the platform's routing, the queue, the long poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

from eventplane.bench import kafka_baseline
from eventplane.bench._stages import Window
from eventplane.bench._stats import figure, percentile
from eventplane.client import AsyncClient, DeleteMessageBatchEntry
from eventplane.config import Settings
from eventplane.errors import EventplaneError
from eventplane.kafka.clients import TopicSpec, delete_topics, ensure_topics

INTERVAL_S = 0.010
WARMUP = 10
_STAMP = re.compile(r"STAMP(\d+\.\d+)STAMP")


def stamp() -> str:
    """A marker carrying the current perf_counter, found again in any body that embeds it."""
    return f"STAMP{time.perf_counter():.9f}STAMP"


async def latencies(
    target: str,
    send: Callable[[AsyncClient, str], Awaitable[Any]],
    queues: Sequence[str],
    count: int,
    window: Window | None = None,
) -> tuple[list[float], list[float]]:
    """(per-delivery latencies, per-message latency until every queue had it), in seconds.

    ``window`` opens once the path is warm, before the clock starts, and closes when the
    last delivery arrived: the server's stage histogram and CPU over the timed run.
    """
    total = count + WARMUP
    per_delivery: list[float] = []
    arrivals: dict[str, list[float]] = {}
    async with AsyncClient(target) as sender, AsyncClient(target) as consumer:

        async def consume(queue: str) -> None:
            seen = 0
            while seen < total:
                got = await consumer.queues.receive_message(
                    queue, max_number_of_messages=10, wait_time_seconds=20
                )
                now = time.perf_counter()
                for m in got:
                    match = _STAMP.search(m.body)
                    if match is None:
                        continue
                    seen += 1
                    arrivals.setdefault(match.group(1), []).append(now)
                if got:
                    await consumer.queues.delete_message_batch(
                        queue,
                        [
                            DeleteMessageBatchEntry(str(i), m.receipt_handle)
                            for i, m in enumerate(got)
                        ],
                    )

        await _warm_up(sender, consumer, send, queues)
        if window is not None:
            await asyncio.to_thread(window.open)
        consumers = [asyncio.create_task(consume(q)) for q in queues]
        try:
            start = time.perf_counter()
            for i in range(total):
                delay = start + i * INTERVAL_S - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                await send(sender, stamp())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*consumers), 60)
            if window is not None:
                await asyncio.to_thread(window.close)
        finally:
            for task in consumers:
                task.cancel()
            for task in consumers:
                with contextlib.suppress(asyncio.CancelledError, EventplaneError):
                    await task
    all_in: list[float] = []
    for sent, times in sorted(arrivals.items())[WARMUP:]:
        per_delivery.extend(t - float(sent) for t in times)
        if len(times) >= len(queues):
            all_in.append(max(times) - float(sent))
    return per_delivery, all_in


async def _warm_up(
    sender: AsyncClient,
    consumer: AsyncClient,
    send: Callable[[AsyncClient, str], Awaitable[Any]],
    queues: Sequence[str],
    timeout: float = 120.0,
) -> None:
    """Until one message went all the way into every queue: new queues' partitions are
    adopted by their owners and the routing is warm before the clock starts."""
    deadline = time.monotonic() + timeout
    waiting = set(queues)
    while waiting and time.monotonic() < deadline:
        await send(sender, stamp())
        for queue in list(waiting):
            got = await consumer.queues.receive_message(
                queue, max_number_of_messages=10, wait_time_seconds=1
            )
            if got:
                waiting.discard(queue)
                entries = [
                    DeleteMessageBatchEntry(str(i), m.receipt_handle) for i, m in enumerate(got)
                ]
                await consumer.queues.delete_message_batch(queue, entries)
    # Whatever the warm-up left behind is read and dropped now.
    for queue in queues:
        while got := await consumer.queues.receive_message(
            queue, max_number_of_messages=10, wait_time_seconds=1
        ):
            entries = [DeleteMessageBatchEntry(str(i), m.receipt_handle) for i, m in enumerate(got)]
            await consumer.queues.delete_message_batch(queue, entries)


def raw_latency(settings: Settings, count: int) -> tuple[float, float]:
    """The raw confluent-kafka produce-to-consume latency p50/p99 in ms, measured now."""
    topic = f"eventplane.bench.raw.{uuid.uuid4().hex[:8]}.lat"
    ensure_topics(settings, [TopicSpec(topic, 1)])
    try:
        samples = kafka_baseline.latency(settings, topic, count)
    finally:
        with contextlib.suppress(Exception):
            delete_topics(settings, [topic])
    return percentile(samples, 50) * 1000, percentile(samples, 99) * 1000


def latency_figures(
    name: str, samples: list[float], raw: tuple[float, float], **extra: Any
) -> Iterator[dict[str, Any]]:
    for p, baseline in zip((50, 99), raw, strict=True):
        yield figure(
            f"{name}_p{p}",
            "ms",
            percentile(samples, p) * 1000 if samples else float("nan"),
            (f"kafka_raw_latency_p{p}", baseline),
            count=len(samples),
            interval_ms=INTERVAL_S * 1000,
            **extra,
        )
