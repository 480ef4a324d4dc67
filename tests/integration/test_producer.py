"""The shared producer keeps serving delivery reports whatever one caller did.

Its poll thread resolves every produce of the process. A request cancelled while its
record was in flight cancels that record's future; the delivery report for it used to
raise in the poll thread, which then died, and every later produce of the server waited
forever (creates and sends timing out, seen in a CI run).
"""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from eventplane.config import Settings
from eventplane.kafka.clients import (
    Producer,
    TopicSpec,
    client_config,
    delete_topics,
    ensure_topics,
)

pytestmark = pytest.mark.integration


def test_a_cancelled_record_does_not_stop_the_delivery_reports(kafka_settings: Settings) -> None:
    topic = f"producer-test-{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_settings, [TopicSpec(topic)])
    producer = Producer(kafka_settings, name="producer-test")
    try:
        given_up = [producer.produce(topic, b"given up") for _ in range(20)]
        assert all(f.cancel() for f in given_up)
        later = producer.produce(topic, b"later")
        assert later.result(timeout=30).offset() is not None
        assert producer._poller.is_alive()
    finally:
        producer.close()
        delete_topics(kafka_settings, [topic])


def test_a_created_topic_is_served_by_its_leaders_when_ensure_topics_returns(
    kafka_settings: Settings,
) -> None:
    """No produce to a topic just created meets a leader that has not applied it yet.

    Such a produce is refused (NOT_LEADER_OR_FOLLOWER) and retried, and Kafka before 4.5
    (KAFKA-15591) then appends the idempotent producer's next batch first and never
    writes the retried one, while telling the producer it did: CI lost the first
    messages sent to a queue right after CreateQueue. Right after CreateTopics most
    partitions refused a ListOffsets that way; after ensure_topics, every one answers
    the first time, in every round.
    """
    admin = AdminClient(client_config(kafka_settings))
    for _ in range(5):
        topic = f"served-{uuid.uuid4().hex[:8]}"
        ensure_topics(kafka_settings, [TopicSpec(topic, partitions=4)])
        try:
            asked = {TopicPartition(topic, p): OffsetSpec.latest() for p in range(4)}
            refused = []
            for tp, fut in admin.list_offsets(asked, request_timeout=10).items():
                try:
                    fut.result(timeout=10)
                except KafkaException as exc:
                    refused.append((tp.partition, exc.args[0].str()))
            assert refused == []
        finally:
            delete_topics(kafka_settings, [topic])
