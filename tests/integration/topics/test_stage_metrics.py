"""Per-hop latency on /metrics: a publish into a subscribed queue, and a plain queue send,
each leave one observation in every stage of their path (observability/stages.py)."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from eventplane.testing import EventplaneProcess, eventually, unique_cluster

pytestmark = pytest.mark.integration

FANOUT_PATH = (
    "accept_to_produce_ack",
    "produce_to_dispatch_consume",
    "dispatch_consume_to_txn_commit",
    "dispatch_consume_to_owner_adopt",
    "owner_adopt_to_receive_answer",
)


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    # Its own cluster: the counts below are this server's alone.
    proc = EventplaneProcess(eventplane_kafka, cluster=unique_cluster()).start(timeout=120)
    try:
        yield proc
    finally:
        proc.stop()


def _stage_counts(server: EventplaneProcess) -> dict[str, float]:
    with urllib.request.urlopen(server.metrics_url, timeout=5) as resp:
        text = resp.read().decode()
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "eventplane_stage_seconds":
            continue
        for s in family.samples:
            if s.name.endswith("_count"):
                assert set(s.labels) == {"stage"}  # no per-queue labels: bounded series
                counts[s.labels["stage"]] = s.value
    return counts


def _receive(server: EventplaneProcess, url: str, body: str) -> None:
    with server.client() as c:

        def arrived() -> bool:
            got = c.queues.receive_message(url, max_number_of_messages=10, wait_time_seconds=2)
            assert [m.body for m in got] == [body]
            return True

        eventually(arrived, timeout=60)


def test_a_publish_is_observed_at_every_hop_to_the_receiver(
    server: EventplaneProcess, unique: str
) -> None:
    with server.client() as c:
        url = c.queues.create_queue(f"stages-{unique}")
        topic = c.topics.create_topic(f"stages-{unique}")
        c.topics.subscribe(
            topic,
            "sqs",
            f"arn:aws:sqs:local:000000000000:stages-{unique}",
            attributes={"RawMessageDelivery": True},
        )
        before = _stage_counts(server)
        c.topics.publish(topic, "hello")
    _receive(server, url, "hello")

    def observed() -> bool:
        after = _stage_counts(server)
        for stage in FANOUT_PATH:
            assert after.get(stage, 0) >= before.get(stage, 0) + 1, stage
        return True

    eventually(observed, timeout=15)


def test_a_queue_send_is_observed_from_produce_to_the_receiver(
    server: EventplaneProcess, unique: str
) -> None:
    with server.client() as c:
        url = c.queues.create_queue(f"stages-direct-{unique}")
        before = _stage_counts(server)
        c.queues.send_message(url, "direct")
    _receive(server, url, "direct")

    def observed() -> bool:
        after = _stage_counts(server)
        for stage in ("accept_to_produce_ack", "produce_to_owner_adopt"):
            assert after.get(stage, 0) >= before.get(stage, 0) + 1, stage
        assert after.get("owner_adopt_to_receive_answer", 0) >= (
            before.get("owner_adopt_to_receive_answer", 0) + 1
        )
        return True

    eventually(observed, timeout=15)
