"""Counters of a new resource are on /metrics at zero before anything happens to it, so
Prometheus increase() sees the first increments; dead-letter queues are marked."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from eventplane.testing import EventplaneProcess, eventually

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _scrape(server: EventplaneProcess) -> Samples:
    with urllib.request.urlopen(server.metrics_url, timeout=5) as resp:
        text = resp.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


Expected = list[tuple[str, dict[str, str], float]]


def _wait_for(server: EventplaneProcess, expected: Expected) -> None:
    def check() -> bool:
        samples = _scrape(server)
        got = [
            (n, labels, samples.get((n, frozenset(labels.items())))) for n, labels, _ in expected
        ]
        assert got == expected
        return True

    eventually(check, timeout=20)


def test_new_resources_have_zero_series_and_dead_letter_queues_are_marked(
    eventplane_server: EventplaneProcess,
) -> None:
    tag = uuid.uuid4().hex[:10]
    with eventplane_server.client() as client:
        dlq_url = client.queues.create_queue(f"z-dlq-{tag}")
        dlq_arn = client.queues.get_queue_attributes(dlq_url, ["QueueArn"])["QueueArn"]
        source = f"z-src-{tag}"
        client.queues.create_queue(
            source,
            {"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})},
        )
        topic = f"z-topic-{tag}"
        topic_arn = client.topics.create_topic(topic)
        client.topics.subscribe(topic_arn, "sqs", dlq_arn)
        bus = f"z-bus-{tag}"
        client.events.create_event_bus(bus)
        client.events.put_rule(f"z-rule-{tag}", event_pattern={"source": ["z"]}, event_bus_name=bus)

    dlq = dlq_url.rsplit("/", 1)[-1]
    _wait_for(
        eventplane_server,
        [
            ("eventplane_queue_messages_sent_total", {"queue": source}, 0.0),
            ("eventplane_queue_messages_received_total", {"queue": source}, 0.0),
            ("eventplane_queue_messages_moved_to_dlq_total", {"queue": source}, 0.0),
            ("eventplane_queue_messages_sent_total", {"queue": dlq}, 0.0),
            ("eventplane_queue_dead_letter", {"queue": dlq}, 1.0),
            ("eventplane_queue_dead_letter", {"queue": source}, 0.0),
            ("eventplane_topic_messages_published_total", {"topic": topic}, 0.0),
            ("eventplane_topic_deliveries_total", {"topic": topic, "protocol": "sqs"}, 0.0),
            ("eventplane_bus_events_put_total", {"bus": bus}, 0.0),
            ("eventplane_bus_rule_matches_total", {"bus": bus, "rule": f"z-rule-{tag}"}, 0.0),
        ],
    )
