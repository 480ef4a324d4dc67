"""How long an adopting queue owner takes to read its partitions' journals, one after another.

A replica that takes partitions over (a crash elsewhere, a rebalance) reads each one's
lease journal to its end before it serves it (``queues/owner.py``), one partition after
another with one consumer. ``queues_journal_reads_ms`` times that read over
``PARTITIONS`` journal partitions of a few entries each, with the owner's reader, beside
the same reader at the consumer defaults the other consumers use (fetch wait 100 ms).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from confluent_kafka import Consumer, Producer

from eventplane.bench._stats import figure
from eventplane.config import Settings
from eventplane.kafka.clients import (
    SEQUENTIAL_READER,
    TopicSpec,
    client_config,
    consumer_config,
    delete_topics,
    ensure_topics,
)
from eventplane.queues.owner import read_journal

PARTITIONS = 20
ENTRIES = 5


def _read_all(settings: Settings, topic: str, extra: dict[str, Any]) -> float:
    reader = Consumer(consumer_config(settings, f"bench-journal-{uuid.uuid4().hex}", **extra))
    try:
        read_journal(reader, topic, 0)  # connected before the clock starts
        start = time.perf_counter()
        for p in range(PARTITIONS):
            read_journal(reader, topic, p)
        return (time.perf_counter() - start) * 1000
    finally:
        reader.close()


def journal_reads(settings: Settings) -> dict[str, Any]:
    topic = f"eventplane.bench.journal.{uuid.uuid4().hex[:8]}"
    ensure_topics(settings, [TopicSpec(topic, PARTITIONS)])
    try:
        producer = Producer(client_config(settings))
        for p in range(PARTITIONS):
            for i in range(ENTRIES):  # lease tombstones: entries the journal reader applies
                producer.produce(topic, None, key=f"m:{i}".encode(), partition=p)
        producer.flush(10)
        owner = _read_all(settings, topic, SEQUENTIAL_READER)
        default = _read_all(settings, topic, {})
        return figure(
            "queues_journal_reads_ms",
            "ms",
            owner,
            ("queues_journal_reads_default_fetch_wait_ms", default),
            partitions=PARTITIONS,
            entries=ENTRIES,
        )
    finally:
        delete_topics(settings, [topic])
