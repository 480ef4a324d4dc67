"""What one Kafka transaction costs the broker, beside a plain acks=all write of the same records.

The fan-out and the rule engine write each batch they consume in one transaction:
the records (here 3, one per subscribed queue), the consumed offset, and the commit.
At light load a batch is one message, so the broker pays this per message. Measured
with a bare confluent-kafka transactional producer, one transaction after another
(``kafka_raw_txn_*``), and the same records written without a transaction, flushed
each time (``kafka_raw_write_*``); and the same transactions taken on two transactional
ids in turn, as the table writer and the pump take them (kafka/lanes.py), beside the
one-id figures (``kafka_raw_txn_lanes_*``): the difference is librdkafka's 20 ms wait
for a transaction begun before the previous one's markers. Broker CPU only for a broker started by
``eventplane kafka start`` on this host (bench/_cpu.py ``broker_pid``).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

from eventplane.bench._cpu import CpuSpan, broker_pid
from eventplane.bench._stats import figure, percentile
from eventplane.config import Settings
from eventplane.kafka.clients import TopicSpec, client_config, delete_topics, ensure_topics
from eventplane.kafka.lanes import TransactionLanes

OUTPUTS = 3


def _writes(settings: Settings, topics: list[str], count: int) -> tuple[list[float], float]:
    p = Producer(client_config(settings, **{"acks": "all", "enable.idempotence": True}))
    p.produce(topics[0], b"warm")
    p.flush(30)
    samples = []
    with CpuSpan(broker_pid(settings)) as broker:
        for i in range(count):
            start = time.perf_counter()
            for t in topics:
                p.produce(t, b"x" * 100, partition=i % 4)
            p.flush(30)
            samples.append(time.perf_counter() - start)
    return samples, broker.per_message_us(count)


def _producer(settings: Settings, transactional_id: str) -> Producer:
    p = Producer(
        client_config(
            settings,
            **{
                # As the dispatchers' pump (kafka/transactional.py) sets it.
                "transactional.id": transactional_id,
                "acks": "all",
                "enable.idempotence": True,
                "linger.ms": 2,
                "retry.backoff.ms": 5,
                "retry.backoff.max.ms": 100,
            },
        )
    )
    p.init_transactions(30)
    return p


def _transactions(
    settings: Settings, source: str, topics: list[str], count: int, lanes: int = 1
) -> tuple[list[float], float]:
    producers = TransactionLanes(
        lambda tid: _producer(settings, tid), f"eventplane-bench-{uuid.uuid4().hex}", lanes
    )
    # A member of a consumer group, as the pump is: its offsets go into each transaction.
    c = Consumer(client_config(settings, **{"group.id": f"bench-{uuid.uuid4().hex}"}))
    c.subscribe([source])
    deadline = time.monotonic() + 30
    while not c.assignment() and time.monotonic() < deadline:
        c.poll(0.1)
    metadata = c.consumer_group_metadata()
    samples = []
    try:
        with CpuSpan(broker_pid(settings)) as broker:
            for i in range(count):
                start = time.perf_counter()
                p = producers.advance()
                p.begin_transaction()
                for t in topics:
                    p.produce(t, b"x" * 100, partition=i % 4)
                p.send_offsets_to_transaction([TopicPartition(source, 0, i + 1)], metadata, 30)
                p.commit_transaction(30)
                samples.append(time.perf_counter() - start)
    finally:
        c.close()
    return samples, broker.per_message_us(count)


def run(settings: Settings, scale: float) -> Iterator[dict[str, Any]]:
    count = max(100, int(500 * scale))
    suffix = uuid.uuid4().hex[:8]
    source = f"eventplane.bench.txn.{suffix}.in"
    topics = [f"eventplane.bench.txn.{suffix}.out{k}" for k in range(OUTPUTS)]
    ensure_topics(settings, [TopicSpec(source, 1), *(TopicSpec(t, 4) for t in topics)])
    try:
        plain, plain_cpu = _writes(settings, topics, count)
        txn, txn_cpu = _transactions(settings, source, topics, count)
        laned, _ = _transactions(settings, source, topics, count, lanes=2)
    finally:
        with contextlib.suppress(Exception):
            delete_topics(settings, [source, *topics])
    for p in (50, 99):
        yield figure(
            f"kafka_raw_txn_p{p}",
            "ms",
            percentile(txn, p) * 1000,
            (f"kafka_raw_write_p{p}", percentile(plain, p) * 1000),
            count=count,
            records=OUTPUTS,
        )
    for p in (50, 99):
        yield figure(
            f"kafka_raw_txn_lanes_p{p}",
            "ms",
            percentile(laned, p) * 1000,
            (f"kafka_raw_txn_p{p}", percentile(txn, p) * 1000),
            count=count,
            records=OUTPUTS,
            lanes=2,
        )
    if broker_pid(settings) is not None:
        yield figure(
            "kafka_raw_txn_broker_cpu_us",
            "us",
            txn_cpu,
            ("kafka_raw_write_broker_cpu_us", plain_cpu),
            count=count,
            records=OUTPUTS,
        )
