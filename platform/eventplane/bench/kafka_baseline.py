"""The baseline every other benchmark is compared with: raw confluent-kafka on the same broker.

- produce throughput: 1 KiB records, acks=all + idempotence (what eventplane uses)
- consume throughput: reading those records back with a fresh consumer group
- produce-to-consume latency p50/p99 at light load (one record per millisecond, no linger)

The throughput figures carry ``client_cpu_us_per_msg``: this process's CPU per record
(``time.process_time``, librdkafka's threads included).
"""

from __future__ import annotations

import os
import struct
import time
import uuid
from collections.abc import Iterator
from typing import Any

from confluent_kafka import Consumer, Producer

from eventplane.bench._stats import figure, percentile
from eventplane.config import Settings
from eventplane.kafka.clients import TopicSpec, client_config, delete_topics, ensure_topics

PAYLOAD = 1024


def _producer(settings: Settings, linger_ms: float = 5) -> Producer:
    return Producer(
        client_config(
            settings, **{"acks": "all", "enable.idempotence": True, "linger.ms": linger_ms}
        )
    )


def _consumer(settings: Settings, topic: str) -> Consumer:
    conf = client_config(
        settings,
        **{
            "group.id": f"bench-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "fetch.wait.max.ms": 5,
        },
    )
    c = Consumer(conf)
    c.subscribe([topic])
    return c


def produce_throughput(settings: Settings, topic: str, count: int) -> tuple[float, float]:
    """Records per second produced with the producer connected before the clock starts.

    A new idempotent producer spends about half a second on metadata and its
    producer id before the first acknowledgement; eventplane's producers are
    long-lived, so the baseline leaves that out (and reports it). Returns
    (records per second, start-up milliseconds). Writes count + 1 records.
    """
    producer = _producer(settings)
    payload = os.urandom(PAYLOAD)
    started = time.perf_counter()
    producer.produce(topic, payload)
    producer.flush(30)
    startup = time.perf_counter() - started
    start = time.perf_counter()
    for _ in range(count):
        while True:
            try:
                producer.produce(topic, payload)
                break
            except BufferError:
                producer.poll(0.001)
        producer.poll(0)
    producer.flush(60)
    return count / (time.perf_counter() - start), startup * 1000


def consume_throughput(settings: Settings, topic: str, count: int) -> float:
    """Records per second read back by a fresh consumer group.

    ``Consumer.consume(n, timeout)`` returns early only once it has ``n``
    records, so each call asks for exactly what is left.
    """
    consumer = _consumer(settings, topic)
    seen = 0
    start: float | None = None
    deadline = time.monotonic() + 120
    try:
        while seen < count and time.monotonic() < deadline:
            batch = consumer.consume(min(1000, count - seen), 0.5)
            if batch and start is None:
                start = time.perf_counter()
            seen += sum(1 for m in batch if not m.error())
        elapsed = time.perf_counter() - (start or time.perf_counter())
    finally:
        consumer.close()
    return seen / elapsed if elapsed > 0 else 0.0


def latency(settings: Settings, topic: str, count: int) -> list[float]:
    # No linger: one record at a time is what a latency baseline times, and librdkafka's
    # default 5 ms linger would be most of it (p50 5.4 ms against 1 ms without).
    p = _producer(settings, linger_ms=0)
    c = _consumer(settings, topic)
    # Wait for the assignment before timing anything.
    while not c.assignment():
        c.poll(0.1)
    samples: list[float] = []
    padding = os.urandom(PAYLOAD - 8)
    for _ in range(count):
        p.produce(topic, struct.pack(">d", time.perf_counter()) + padding)
        p.poll(0)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            m = c.poll(0.05)
            value = m.value() if m is not None and not m.error() else None
            if value:
                samples.append(time.perf_counter() - struct.unpack(">d", value[:8])[0])
                break
        time.sleep(0.001)
    p.flush(10)
    c.close()
    return samples


def run(settings: Settings, scale: float) -> Iterator[dict[str, Any]]:
    topic = f"eventplane.bench.raw.{uuid.uuid4().hex[:8]}"
    lat_topic = topic + ".lat"
    ensure_topics(settings, [TopicSpec(topic, 4), TopicSpec(lat_topic, 1)])
    try:
        n = max(1000, int(100_000 * scale))
        cpu = time.process_time()
        produced, startup_ms = produce_throughput(settings, topic, n)
        cpu = time.process_time() - cpu
        yield figure(
            "kafka_raw_produce",
            "msg/s",
            produced,
            count=n,
            producer_startup_ms=round(startup_ms, 1),
            client_cpu_us_per_msg=round(cpu / n * 1e6, 1),
        )
        # The topic also holds the producer's start-up record.
        cpu = time.process_time()
        consumed = consume_throughput(settings, topic, n + 1)
        cpu = time.process_time() - cpu
        yield figure(
            "kafka_raw_consume",
            "msg/s",
            consumed,
            count=n + 1,
            client_cpu_us_per_msg=round(cpu / (n + 1) * 1e6, 1),
        )
        samples = latency(settings, lat_topic, max(100, int(2000 * scale)))
        yield figure("kafka_raw_latency_p50", "ms", percentile(samples, 50) * 1000)
        yield figure("kafka_raw_latency_p99", "ms", percentile(samples, 99) * 1000)
    finally:
        delete_topics(settings, [topic, lat_topic])
