"""A FIFO receive attempt and a purge outlive the replica that served them.

Two replicas of one cluster; the one owning the queue's partition serves a
receive with a ReceiveRequestAttemptId (or a purge) and is SIGKILLed. The
survivor adopts the partition from its journal, so a retry of the same attempt
id returns the same messages and receipt handles, and a second purge inside
the minute is still refused with the purged messages still gone.
"""

from __future__ import annotations

import time
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from eventplane.client import Client, Message
from eventplane.errors.queues import PurgeQueueInProgress
from eventplane.testing import EventplaneProcess, eventually, retrying, unique_cluster

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _metric(server: EventplaneProcess, name: str, queue: str) -> float | None:
    with urllib.request.urlopen(server.metrics_url, timeout=5) as resp:
        text = resp.read().decode()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels.get("queue") == queue:
                return s.value
    return None


def _counts(client: Client, url: str) -> tuple[int, int]:
    a = client.queues.get_queue_attributes(
        url, ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )
    return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
def replicas(eventplane_kafka: str) -> Iterator[tuple[EventplaneProcess, EventplaneProcess]]:
    cluster = unique_cluster()
    a = EventplaneProcess(eventplane_kafka, cluster=cluster).start()
    b = EventplaneProcess(eventplane_kafka, cluster=cluster).start()
    try:
        yield a, b
    finally:
        b.stop()
        a.stop()


def _owner_first(
    replicas: tuple[EventplaneProcess, EventplaneProcess], queue: str
) -> tuple[EventplaneProcess, EventplaneProcess]:
    """(owner, survivor): only the partition's owner reports the queue's depth."""

    def owner() -> EventplaneProcess:
        owning = [
            r
            for r in replicas
            if _metric(r, "eventplane_queue_messages_visible", queue) is not None
        ]
        assert len(owning) == 1, f"{len(owning)} replicas report {queue}'s depth"
        return owning[0]

    first = eventually(owner, timeout=30)
    return first, next(r for r in replicas if r is not first)


def test_a_retried_attempt_id_returns_the_same_messages_after_the_owner_dies(
    replicas: tuple[EventplaneProcess, EventplaneProcess],
) -> None:
    a, _ = replicas
    queue = f"attempt-{uuid.uuid4().hex[:8]}.fifo"
    with a.client(timeout=10) as ca:
        url = ca.queues.create_queue(queue, attributes={"FifoQueue": "true"})
        for body in ("r1", "r2", "r3"):
            ca.queues.send_message(url, body, message_group_id="g", message_deduplication_id=body)
        eventually(lambda: _counts(ca, url) == (3, 0), timeout=60)
    owner, survivor = _owner_first(replicas, queue)

    def receive(c: Client, attempt: str) -> list[Message]:
        return c.queues.receive_message(
            url,
            max_number_of_messages=2,
            visibility_timeout=120,
            wait_time_seconds=0,
            message_system_attribute_names=["All"],
            receive_request_attempt_id=attempt,
        )

    with owner.client(timeout=10) as co, survivor.client(timeout=10) as cs:
        first = receive(co, "attempt-1")
        assert [m.body for m in first] == ["r1", "r2"]
        owner.kill()  # SIGKILL: the attempt lived in its memory and in the journal only

        # Until the survivor adopts the partition its receives come back empty; the
        # first non-empty answer must be the replay, not new messages.
        retry = eventually(lambda: retrying(lambda: receive(cs, "attempt-1")), timeout=90)
        assert [(m.message_id, m.body, m.receipt_handle) for m in retry] == [
            (m.message_id, m.body, m.receipt_handle) for m in first
        ]
        assert [m.attributes["ApproximateReceiveCount"] for m in retry] == ["1", "1"]
        assert _metric(survivor, "eventplane_queue_receive_attempt_replays_total", queue) == 1
        # Still in flight (r3 waits behind them in the group), and nothing else handed out.
        assert _counts(cs, url) == (1, 2)
        assert receive(cs, "attempt-2") == []
        # A second retry answers the same again; the replayed handles are the valid ones.
        again = receive(cs, "attempt-1")
        assert [m.receipt_handle for m in again] == [m.receipt_handle for m in first]
        for m in again:
            cs.queues.delete_message(url, m.receipt_handle)
        # Deleted: the attempt is over, and the group moves on to r3.
        rest = eventually(lambda: receive(cs, "attempt-1"), timeout=30)
        assert [m.body for m in rest] == ["r3"]
        assert rest[0].attributes["ApproximateReceiveCount"] == "1"


def test_an_attempt_received_through_another_replica_is_kept_by_the_owner(
    replicas: tuple[EventplaneProcess, EventplaneProcess],
) -> None:
    """The forwarded receive carries the attempt id: the owner journals and replays it."""
    a, _ = replicas
    queue = f"forwarded-{uuid.uuid4().hex[:8]}.fifo"
    with a.client(timeout=10) as ca:
        url = ca.queues.create_queue(queue, attributes={"FifoQueue": "true"})
        for body in ("f1", "f2"):
            ca.queues.send_message(url, body, message_group_id="g", message_deduplication_id=body)
        eventually(lambda: _counts(ca, url) == (2, 0), timeout=60)
    owner, other = _owner_first(replicas, queue)

    def receive(c: Client, attempt: str) -> list[Message]:
        return c.queues.receive_message(
            url, visibility_timeout=120, wait_time_seconds=0, receive_request_attempt_id=attempt
        )

    with owner.client(timeout=10) as co, other.client(timeout=10) as cx:
        first = receive(cx, "via-other")
        assert [m.body for m in first] == ["f1"]
        # Not this replica's memory: the owner answers the retry from its own record.
        retry = receive(co, "via-other")
        assert [(m.message_id, m.receipt_handle) for m in retry] == [
            (m.message_id, m.receipt_handle) for m in first
        ]
        assert _metric(owner, "eventplane_queue_receive_attempt_replays_total", queue) == 1
        assert receive(co, "another") == []  # f2 waits behind f1 in the group
        assert _counts(co, url) == (1, 1)


def test_purge_once_a_minute_holds_when_the_owner_dies(
    replicas: tuple[EventplaneProcess, EventplaneProcess],
) -> None:
    a, _ = replicas
    queue = f"purge-{uuid.uuid4().hex[:8]}"
    with a.client(timeout=10) as ca:
        url = ca.queues.create_queue(queue, attributes={"Partitions": "1"})
        for i in range(5):
            ca.queues.send_message(url, f"before-{i}")
        eventually(lambda: _counts(ca, url) == (5, 0), timeout=60)
    owner, survivor = _owner_first(replicas, queue)

    with owner.client(timeout=10) as co, survivor.client(timeout=10) as cs:
        co.queues.purge_queue(url)
        purged_at = time.monotonic()
        owner.kill()
        with pytest.raises(PurgeQueueInProgress) as info:
            retrying(lambda: cs.queues.purge_queue(url), timeout=50)
        assert time.monotonic() - purged_at < 60  # the refusal is the minute's, not chance
        assert "60 seconds" in info.value.message
        # The survivor serves the partition now; the purged messages stay gone.
        cs.queues.send_message(url, "after")
        seen: list[str] = []

        def after_received() -> bool:
            for m in cs.queues.receive_message(url, max_number_of_messages=10):
                seen.append(m.body)
                cs.queues.delete_message(url, m.receipt_handle)
            return "after" in seen

        eventually(after_received, timeout=60)
        assert seen == ["after"]
        assert _counts(cs, url) == (0, 0)
