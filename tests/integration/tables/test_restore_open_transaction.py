"""A restore reads what other writers committed past a transaction a dead writer left
open: read_committed readers stop at the last stable offset, below that transaction,
until the broker aborts it (the bug a SIGKILL in the middle of a repartition showed: the
new partition was restored with the dead replica's items only)."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from eventplane.config import load_settings
from eventplane.kafka.clients import TopicSpec, consumer_config, ensure_topics
from eventplane.tables.owner import encode_item, read_partition

pytestmark = pytest.mark.integration


def _committed(bootstrap: str, topic: str, key: str) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"ok-{topic}-{key}"})
    producer.init_transactions()
    producer.begin_transaction()
    value, headers = encode_item({"pk": {"S": key}}, 0)
    producer.produce(topic, value, key=key, partition=0, headers=headers)
    producer.commit_transaction()


def test_a_restore_reads_past_a_transaction_a_dead_writer_left_open(
    eventplane_kafka: str,
) -> None:
    settings = load_settings({"EVENTPLANE_KAFKA_BOOTSTRAP": eventplane_kafka})
    topic = f"restore-open-{uuid.uuid4().hex[:10]}"
    ensure_topics(settings, [TopicSpec(topic, 1)])
    _committed(eventplane_kafka, topic, "before")
    # A writer that dies mid-transaction: its transaction stays open until the broker
    # aborts it (its timeout, then the broker's next check).
    dead = Producer(
        {
            "bootstrap.servers": eventplane_kafka,
            "transactional.id": f"dead-{topic}",
            "transaction.timeout.ms": 2000,
        }
    )
    dead.init_transactions()
    dead.begin_transaction()
    value, headers = encode_item({"pk": {"S": "never"}}, 0)
    dead.produce(topic, value, key="never", partition=0, headers=headers)
    dead.flush()
    _committed(eventplane_kafka, topic, "after")  # another writer, past the open one

    reader = Consumer(consumer_config(settings, f"r-{topic}"))
    log_ends = Consumer(
        consumer_config(settings, f"e-{topic}", **{"isolation.level": "read_uncommitted"})
    )
    try:
        # What a read_committed reader calls the end is below the open transaction.
        tp = TopicPartition(topic, 0)
        stable = reader.get_watermark_offsets(tp, timeout=10, cached=False)[1]
        end = log_ends.get_watermark_offsets(tp, timeout=10, cached=False)[1]
        assert stable < end
        read = read_partition(reader, topic, 0, log_ends=log_ends, timeout=60)
        assert sorted(read.items) == ["after", "before"]
    finally:
        reader.close()
        log_ends.close()
