"""A long poll through a replica that does not own the queue's partition waits for the
owner to say something arrived (owner-to-waiter notification), instead of asking it
ten times a second; what arrives is handed to the waiting receive."""

from __future__ import annotations

import threading
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from eventplane.client import Message
from eventplane.errors.queues import QueueDoesNotExist
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WAIT_S = 6


def _samples(server: EventplaneProcess) -> list[tuple[str, dict[str, str], float]]:
    with urllib.request.urlopen(server.metrics_url, timeout=5) as resp:
        text = resp.read().decode()
    return [
        (s.name, s.labels, s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def _receives_served(server: EventplaneProcess) -> float:
    """ReceiveMessage calls other replicas forwarded to this one, on its internal
    QueueOwners service (the public Queues service serves clients only)."""
    return sum(
        v
        for name, labels, v in _samples(server)
        if name == "eventplane_rpc_duration_seconds_count"
        and labels.get("service") == "QueueOwners"
        and labels.get("method") == "ReceiveMessage"
    )


@pytest.fixture
def replicas(eventplane_kafka: str) -> Iterator[tuple[EventplaneProcess, EventplaneProcess]]:
    cluster = unique_cluster()
    a = EventplaneProcess(eventplane_kafka, cluster=cluster, roles="api,queues").start()
    b = EventplaneProcess(eventplane_kafka, cluster=cluster, roles="api,queues").start()
    try:
        yield a, b
    finally:
        b.stop()
        a.stop()


def test_a_remote_long_poll_is_told_instead_of_polling_the_owner(
    replicas: tuple[EventplaneProcess, EventplaneProcess],
) -> None:
    a, b = replicas
    queue = f"await-{uuid.uuid4().hex[:8]}"
    with a.client(timeout=30) as ca:
        url = ca.queues.create_queue(queue, attributes={"Partitions": "1"})

    def owner() -> EventplaneProcess:
        owning = [
            r
            for r in replicas
            if any(
                name == "eventplane_queue_messages_visible" and labels.get("queue") == queue
                for name, labels, _ in _samples(r)
            )
        ]
        assert len(owning) == 1, f"{len(owning)} replicas report {queue}'s depth"
        return owning[0]

    owning = eventually(owner, timeout=60)
    waiter = b if owning is a else a
    with waiter.client(timeout=30) as cw, owning.client(timeout=30) as co:
        # The waiter's registry view learns of the queue a moment after its creation
        # through the other replica (CI once asked it first: QueueDoesNotExist).
        def known() -> bool:
            try:
                return cw.queues.get_queue_url(queue) == url
            except QueueDoesNotExist:
                return False

        eventually(known, timeout=30)
        # Nothing arrives: the waiter's WAIT_S-second poll costs the owner a bounded
        # number of calls (one look and one wait per second at most), where asking
        # every 100 ms cost about ten a second.
        before = _receives_served(owning)
        assert cw.queues.receive_message(url, wait_time_seconds=WAIT_S) == []
        served = _receives_served(owning) - before
        assert 1 <= served <= 2 * WAIT_S + 4, f"the owner served {served} receives for one poll"

        # Something arrives while the waiter waits: that same receive gets it.
        got: list[Message] = []
        polling = threading.Thread(
            target=lambda: got.extend(cw.queues.receive_message(url, wait_time_seconds=20))
        )
        polling.start()
        co.queues.send_message(url, "news")
        polling.join(30)
        assert [m.body for m in got] == ["news"]
