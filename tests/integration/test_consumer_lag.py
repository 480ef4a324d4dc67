"""eventplane_kafka_consumer_lag from a real librdkafka consumer's statistics.

A group consumer that has taken 3 of a partition's 10 records reports a lag of 7 for
that partition (and none for a partition it does not hold); once it closes, its
series go.
"""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from eventplane.kafka.lag import LagReporter
from eventplane.observability.metrics import KAFKA_CONSUMER_LAG
from eventplane.testing import eventually

pytestmark = pytest.mark.integration


def _lag(group: str, topic: str, partition: int) -> float | None:
    for family in KAFKA_CONSUMER_LAG.collect():
        for s in family.samples:
            if s.labels == {"group": group, "topic": topic, "partition": str(partition)}:
                return s.value
    return None


def test_a_consumer_reports_what_it_has_not_taken_in(eventplane_kafka: str) -> None:
    topic = f"eventplane.test.lag.{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": eventplane_kafka})
    admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(30)
    producer = Producer({"bootstrap.servers": eventplane_kafka})
    for i in range(10):
        producer.produce(topic, f"r{i}".encode(), partition=0)
    producer.flush(30)

    group = f"lag-test-{uuid.uuid4().hex[:8]}"
    reporter = LagReporter(group)
    consumer = Consumer(
        {
            "bootstrap.servers": eventplane_kafka,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            **reporter.settings,
            "statistics.interval.ms": 200,  # the test's pace, not the server's 15 s
        }
    )
    try:
        consumer.subscribe([topic])
        taken: list[bytes] = []

        def three_taken() -> bool:
            for m in consumer.consume(3 - len(taken), 0.5):
                if m.error() is None:
                    taken.append(m.value())
            assert len(taken) == 3
            return True

        eventually(three_taken, timeout=30)
        consumer.pause(consumer.assignment())  # poll now serves callbacks, hands out nothing

        def reported() -> bool:
            consumer.poll(0.1)  # librdkafka calls stats_cb inside poll
            assert _lag(group, topic, 0) == 7
            assert _lag(group, topic, 1) == 0  # held, empty
            return True

        eventually(reported, timeout=30)
    finally:
        consumer.close()
        reporter.close()
        admin.delete_topics([topic])
    assert _lag(group, topic, 0) is None and _lag(group, topic, 1) is None
