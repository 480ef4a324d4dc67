"""The shared producer keeps serving delivery reports whatever one caller did.

Its poll thread resolves every produce of the process. A request cancelled while its
record was in flight cancels that record's future; the delivery report for it used to
raise in the poll thread, which then died, and every later produce of the server waited
forever (creates and sends timing out, seen in a CI run).
"""

from __future__ import annotations

import uuid

import pytest

from eventplane.config import Settings
from eventplane.kafka.clients import Producer, TopicSpec, delete_topics, ensure_topics

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
