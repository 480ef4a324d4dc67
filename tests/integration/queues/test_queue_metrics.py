"""The server's /metrics page reflects what happened on a queue."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from eventplane.client import Client
from eventplane.testing import EventplaneProcess, eventually

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _scrape(server: EventplaneProcess) -> Samples:
    with urllib.request.urlopen(server.metrics_url, timeout=5) as resp:
        text = resp.read().decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def _value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def _name(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def test_counters_and_depth_gauges_follow_the_queue(
    client: Client, make_queue: Callable[..., str], eventplane_server: EventplaneProcess
) -> None:
    url = make_queue(VisibilityTimeout=2)
    queue = _name(url)
    q = client.queues
    q.send_message(url, "one")
    batch = q.send_message_batch(
        url, [{"id": "2", "message_body": "two"}, {"id": "3", "message_body": "three"}]
    )
    assert not batch.failed
    q.send_message(url, "much later", delay_seconds=600)

    def depth(visible: int, not_visible: int, delayed: int) -> Callable[[], bool]:
        def check() -> bool:
            s = _scrape(eventplane_server)
            got = (
                _value(s, "eventplane_queue_messages_visible", queue=queue),
                _value(s, "eventplane_queue_messages_not_visible", queue=queue),
                _value(s, "eventplane_queue_messages_delayed", queue=queue),
            )
            assert got == (visible, not_visible, delayed)
            return True

        return check

    eventually(depth(3, 0, 1))
    s = _scrape(eventplane_server)
    assert _value(s, "eventplane_queue_messages_sent_total", queue=queue) == 4
    # The gauges and GetQueueAttributes describe the same state.
    attrs = q.get_queue_attributes(
        url,
        [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )
    assert attrs == {
        "ApproximateNumberOfMessages": "3",
        "ApproximateNumberOfMessagesNotVisible": "0",
        "ApproximateNumberOfMessagesDelayed": "1",
    }

    got = q.receive_message(url, max_number_of_messages=2, wait_time_seconds=0)
    assert len(got) == 2
    eventually(depth(1, 2, 1), timeout=1.5)  # before the 2 s visibility runs out
    q.delete_message(url, got[0].receipt_handle)

    s = _scrape(eventplane_server)
    assert _value(s, "eventplane_queue_messages_received_total", queue=queue) == 2
    assert _value(s, "eventplane_queue_messages_deleted_total", queue=queue) == 1
    assert _value(s, "eventplane_queue_receive_duration_seconds_count", queue=queue) == 1

    # The undeleted message comes back when its visibility runs out.
    eventually(depth(2, 0, 1))
    s = _scrape(eventplane_server)
    age = _value(s, "eventplane_queue_oldest_message_age_seconds", queue=queue)
    assert age is not None
    assert age >= 1.0  # sent before a 2 s visibility timeout ran out


def test_dead_letter_moves_are_counted_for_the_source_queue(
    client: Client, make_queue: Callable[..., str], eventplane_server: EventplaneProcess
) -> None:
    q = client.queues
    dlq = make_queue()
    dlq_arn = q.get_queue_attributes(dlq, ["QueueArn"])["QueueArn"]
    src = make_queue(
        VisibilityTimeout=1,
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}),
    )
    sent = q.send_message(src, "poison")
    first = eventually(lambda: q.receive_message(src, wait_time_seconds=1))
    assert [m.message_id for m in first] == [sent.message_id]

    # Not deleted: once its visibility runs out, the next receive moves it to the DLQ.
    received_again = []

    def moved() -> list[str]:
        received_again.extend(q.receive_message(src, wait_time_seconds=1))
        return [m.message_id for m in q.receive_message(dlq, wait_time_seconds=0)]

    assert eventually(moved) == [sent.message_id]
    assert received_again == []
    s = _scrape(eventplane_server)
    assert _value(s, "eventplane_queue_messages_moved_to_dlq_total", queue=_name(src)) == 1
    # Every queue has the series from its creation (zero series); the move counts only once.
    assert _value(s, "eventplane_queue_messages_moved_to_dlq_total", queue=_name(dlq)) == 0
    assert _value(s, "eventplane_queue_messages_received_total", queue=_name(src)) == 1
    assert _value(s, "eventplane_queue_messages_received_total", queue=_name(dlq)) == 1


def test_rpc_durations_are_recorded_per_queues_method(
    client: Client, make_queue: Callable[..., str], eventplane_server: EventplaneProcess
) -> None:
    url = make_queue()
    count = "eventplane_rpc_duration_seconds_count"
    before = _scrape(eventplane_server)
    for i in range(3):
        client.queues.send_message(url, f"m{i}")
    client.queues.receive_message(url, wait_time_seconds=0)
    after = _scrape(eventplane_server)

    def delta(method: str) -> float:
        old = _value(before, count, service="Queues", method=method) or 0.0
        return (_value(after, count, service="Queues", method=method) or 0.0) - old

    assert delta("SendMessage") == 3
    assert delta("ReceiveMessage") == 1
    # A histogram: buckets and a sum come with the count.
    inf = _value(
        after,
        "eventplane_rpc_duration_seconds_bucket",
        service="Queues",
        method="SendMessage",
        le="+Inf",
    )
    assert inf == _value(after, count, service="Queues", method="SendMessage")
    total = _value(
        after, "eventplane_rpc_duration_seconds_sum", service="Queues", method="SendMessage"
    )
    assert total is not None and total > 0


@pytest.fixture
def replica(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    """A second server process of the same cluster as the session server."""
    proc = EventplaneProcess(eventplane_kafka).start()
    try:
        yield proc
    finally:
        proc.stop()


def test_counters_summed_over_replicas_count_each_message_once(
    replica: EventplaneProcess,
    eventplane_server: EventplaneProcess,
    make_queue: Callable[..., str],
) -> None:
    url = make_queue(fifo=True, VisibilityTimeout=2)
    queue = _name(url)
    servers = (eventplane_server, replica)

    def owner() -> EventplaneProcess | None:
        for server in servers:
            if (
                _value(_scrape(server), "eventplane_queue_messages_visible", queue=queue)
                is not None
            ):
                return server
        return None

    # Work through the replica that does not own the queue's single partition.
    other = eventplane_server if eventually(owner, timeout=30) is replica else replica
    with other.client() as c:
        for i in range(3):
            c.queues.send_message(
                url, f"m{i}", message_group_id="g", message_deduplication_id=f"{i}"
            )
        received = []
        while len(received) < 3:
            batch = c.queues.receive_message(url, max_number_of_messages=10, wait_time_seconds=5)
            assert batch, "nothing received"
            received.extend(batch)
            for m in batch:
                c.queues.delete_message(url, m.receipt_handle)
    assert sorted(m.body for m in received) == ["m0", "m1", "m2"]

    def total(name: str) -> float:
        return sum(_value(_scrape(s), name, queue=queue) or 0.0 for s in servers)

    assert total("eventplane_queue_messages_deleted_total") == 3
    assert (
        total("eventplane_queue_messages_sent_total"),
        total("eventplane_queue_messages_received_total"),
    ) == (3, 3)
