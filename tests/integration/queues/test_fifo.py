"""FIFO queues against a real broker: order within a group, group locking, dedup, attempt ids."""

from __future__ import annotations

import hashlib
import time
import urllib.request
import uuid
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator

import pytest

from eventplane.client import Client, Message
from eventplane.errors import InvalidParameterValue, MissingParameter
from eventplane.testing import EventplaneProcess, eventually

pytestmark = pytest.mark.integration

ALL = ["All"]


# --- helpers ---------------------------------------------------------------------------


def _receive(
    client: Client, url: str, *, max_n: int = 10, wait: int = 1, visibility: int = 2
) -> list[Message]:
    return client.queues.receive_message(
        url,
        max_number_of_messages=max_n,
        wait_time_seconds=wait,
        visibility_timeout=visibility,
        message_system_attribute_names=ALL,
    )


def _delete(client: Client, url: str, msgs: list[Message]) -> None:
    for start in range(0, len(msgs), 10):
        chunk = msgs[start : start + 10]
        result = client.queues.delete_message_batch(
            url, [{"id": str(i), "receipt_handle": m.receipt_handle} for i, m in enumerate(chunk)]
        )
        assert not result.failed, result.failed


def _drain(client: Client, url: str, count: int, *, timeout: float = 30.0) -> list[Message]:
    """Receive and delete, one batch at a time, until ``count`` messages arrived."""
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        assert time.monotonic() < deadline, f"received {len(got)} of {count} messages"
        batch = _receive(client, url)
        got.extend(batch)
        _delete(client, url, batch)
    return got


def _wait_visible(client: Client, url: str, count: int) -> None:
    """Wait until the owner has read every sent message (FIFO sends return before that)."""

    def check() -> bool:
        attrs = client.queues.get_queue_attributes(url, ["ApproximateNumberOfMessages"])
        assert attrs["ApproximateNumberOfMessages"] == str(count), attrs
        return True

    eventually(check)


def _by_group(msgs: list[Message]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for m in msgs:
        groups[m.attributes["MessageGroupId"]].append(m.body)
    return dict(groups)


def _groups_per_partition(partitions: int, per: int) -> list[list[str]]:
    """``per`` group ids for every partition, spread as the server does (crc32 of the id)."""
    found: list[list[str]] = [[] for _ in range(partitions)]
    i = 0
    while any(len(groups) < per for groups in found):
        group = f"g{i}"
        bucket = found[zlib.crc32(group.encode()) % partitions]
        if len(bucket) < per:
            bucket.append(group)
        i += 1
    return found


# --- order within a group --------------------------------------------------------------


def test_order_within_each_group_is_send_order(
    client: Client, make_queue: Callable[..., str]
) -> None:
    url = make_queue(fifo=True, VisibilityTimeout=2)
    groups = ["red", "green", "blue"]
    sent: list[tuple[str, str, str]] = []  # (group, body, dedup id), in send order
    results = {}
    for i in range(15):  # one at a time
        group, body, dedup = groups[i % 3], f"m{i:02d}", f"d{i:02d}"
        results[body] = client.queues.send_message(
            url, body, message_group_id=group, message_deduplication_id=dedup
        )
        sent.append((group, body, dedup))
    for start in (15, 25):  # then in batches of 10 and 5, still interleaved
        entries = []
        for i in range(start, min(start + 10, 30)):
            group, body, dedup = groups[i % 3], f"m{i:02d}", f"d{i:02d}"
            entries.append(
                {
                    "id": body,
                    "message_body": body,
                    "message_group_id": group,
                    "message_deduplication_id": dedup,
                }
            )
            sent.append((group, body, dedup))
        batch = client.queues.send_message_batch(url, entries)
        assert not batch.failed, batch.failed
        assert [e.id for e in batch.successful] == [e["id"] for e in entries]
        for e in batch.successful:
            results[e.id] = e

    got = _drain(client, url, 30)

    assert len(got) == 30
    assert sorted(m.body for m in got) == sorted(body for _, body, _ in sent)
    expected: dict[str, list[str]] = defaultdict(list)
    for group, body, _ in sent:
        expected[group].append(body)
    assert _by_group(got) == expected
    dedup_of = {body: dedup for _, body, dedup in sent}
    group_of = {body: group for group, body, _ in sent}
    last_seq: dict[str, int] = {}
    for m in got:
        assert m.message_id == results[m.body].message_id
        assert m.attributes["MessageGroupId"] == group_of[m.body]
        assert m.attributes["MessageDeduplicationId"] == dedup_of[m.body]
        seq = m.attributes["SequenceNumber"]
        assert seq == results[m.body].sequence_number
        group = m.attributes["MessageGroupId"]
        assert int(seq) > last_seq.get(group, -1), f"{m.body}: sequence went backwards"
        last_seq[group] = int(seq)
        assert m.attributes["ApproximateReceiveCount"] == "1"


# --- a group is locked while one of its messages is in flight --------------------------


def test_in_flight_message_blocks_its_group_until_visible_again(
    client: Client, make_queue: Callable[..., str]
) -> None:
    url = make_queue(fifo=True, VisibilityTimeout=2)
    q = client.queues
    for body in ("a1", "a2"):
        q.send_message(url, body, message_group_id="A", message_deduplication_id=body)
    _wait_visible(client, url, 2)

    first = _receive(client, url, max_n=1, visibility=2)
    assert [m.body for m in first] == ["a1"]

    for body in ("b1", "b2"):
        q.send_message(url, body, message_group_id="B", message_deduplication_id=body)
    others: list[Message] = []

    def both_of_group_b() -> bool:
        batch = _receive(client, url, wait=1, visibility=2)
        others.extend(batch)
        _delete(client, url, batch)  # so b2 is not held back behind b1
        return len(others) >= 2

    eventually(both_of_group_b)
    # Group B is free; group A is not: a2 must wait behind the in-flight a1.
    assert [m.body for m in others] == ["b1", "b2"]
    assert _receive(client, url, wait=0) == []

    # When a1's visibility runs out, a1 itself comes back first, not a2.
    again = eventually(lambda: _receive(client, url, max_n=1, wait=1, visibility=2))
    assert [m.body for m in again] == ["a1"]
    assert again[0].message_id == first[0].message_id
    assert again[0].attributes["ApproximateReceiveCount"] == "2"
    assert again[0].receipt_handle != first[0].receipt_handle
    assert _receive(client, url, wait=0) == []  # a2 still waits behind a1

    q.delete_message(url, again[0].receipt_handle)
    nxt = eventually(lambda: _receive(client, url, wait=1))
    assert [m.body for m in nxt] == ["a2"]
    assert nxt[0].attributes["ApproximateReceiveCount"] == "1"


def test_many_groups_on_four_partitions_keep_order_and_group_locks(
    client: Client, make_queue: Callable[..., str]
) -> None:
    url = make_queue(
        fifo=True,
        VisibilityTimeout=2,
        DeduplicationScope="messageGroup",
        FifoThroughputLimit="perMessageGroupId",
        Partitions=4,
    )
    attrs = client.queues.get_queue_attributes(url)
    assert attrs["Partitions"] == "4"
    assert attrs["DeduplicationScope"] == "messageGroup"
    assert attrs["FifoThroughputLimit"] == "perMessageGroupId"

    groups = [f"grp-{g:02d}" for g in range(20)]
    expected: dict[str, list[str]] = {g: [] for g in groups}
    for k in range(5):  # round k sends message k of every group, 10 per batch
        for half in (groups[:10], groups[10:]):
            entries = []
            for g in half:
                body = f"{g}/{k}"
                expected[g].append(body)
                entries.append(
                    {
                        "id": f"e{len(entries)}",
                        "message_body": body,
                        "message_group_id": g,
                        # The same dedup id in every group: dedup is per group here.
                        "message_deduplication_id": f"k{k}",
                    }
                )
            result = client.queues.send_message_batch(url, entries)
            assert not result.failed, result.failed
    _wait_visible(client, url, 100)

    # Without deleting: once a group has a message in flight, later calls skip it. Three
    # per call splits every group of five, so each group's tail is left waiting.
    first_pass: list[Message] = []
    calls_with_group: dict[str, int] = defaultdict(int)
    while True:
        batch = _receive(client, url, max_n=3, wait=0, visibility=2)
        if not batch:
            break
        for g in {m.attributes["MessageGroupId"] for m in batch}:
            calls_with_group[g] += 1
        first_pass.extend(batch)
    assert 0 < len(first_pass) < 100, len(first_pass)  # some tails waited behind their heads
    assert max(calls_with_group.values()) == 1, dict(calls_with_group)
    for g, bodies in _by_group(first_pass).items():
        assert bodies == expected[g][: len(bodies)], g
    _delete(client, url, first_pass)

    rest = _drain(client, url, 100 - len(first_pass))
    everything = _by_group(first_pass + rest)
    assert everything == expected


# --- deduplication ----------------------------------------------------------------------


def test_same_dedup_id_is_accepted_but_delivered_once(
    client: Client, make_queue: Callable[..., str]
) -> None:
    url = make_queue(fifo=True, VisibilityTimeout=2)
    q = client.queues
    first = q.send_message(url, "original", message_group_id="g", message_deduplication_id="d1")
    dup = q.send_message(url, "changed body", message_group_id="g", message_deduplication_id="d1")
    batch = q.send_message_batch(
        url,
        [
            {
                "id": "x",
                "message_body": "batch dup",
                "message_group_id": "g",
                "message_deduplication_id": "d1",
            }
        ],
    )
    assert dup.message_id == first.message_id
    assert dup.sequence_number == first.sequence_number
    assert not batch.failed
    assert batch.successful[0].message_id == first.message_id
    other = q.send_message(url, "other", message_group_id="g", message_deduplication_id="d2")
    assert other.message_id != first.message_id

    got = _drain(client, url, 2)
    assert [m.body for m in got] == ["original", "other"]
    assert [m.message_id for m in got] == [first.message_id, other.message_id]
    _wait_visible(client, url, 0)
    assert _receive(client, url, wait=1) == []


def test_content_based_deduplication_dedups_identical_bodies(
    client: Client, make_queue: Callable[..., str]
) -> None:
    url = make_queue(fifo=True, VisibilityTimeout=2, ContentBasedDeduplication="true")
    q = client.queues
    a = q.send_message(url, "same body", message_group_id="g")
    b = q.send_message(url, "same body", message_group_id="g")
    c = q.send_message(url, "another body", message_group_id="g")
    assert a.message_id == b.message_id
    assert c.message_id != a.message_id
    # An explicit dedup id wins over the body hash.
    d = q.send_message(url, "same body", message_group_id="g", message_deduplication_id="own")
    assert d.message_id != a.message_id

    got = _drain(client, url, 3)
    assert [m.body for m in got] == ["same body", "another body", "same body"]
    assert got[0].attributes["MessageDeduplicationId"] == hashlib.sha256(b"same body").hexdigest()
    assert got[2].attributes["MessageDeduplicationId"] == "own"
    assert _receive(client, url, wait=1) == []


def test_dedup_still_suppresses_after_the_original_was_deleted(
    client: Client, make_queue: Callable[..., str]
) -> None:
    url = make_queue(fifo=True, VisibilityTimeout=2)
    q = client.queues
    first = q.send_message(url, "once", message_group_id="g", message_deduplication_id="d")
    got = _drain(client, url, 1)
    assert [m.message_id for m in got] == [first.message_id]

    again = q.send_message(url, "once", message_group_id="g", message_deduplication_id="d")
    assert again.message_id == first.message_id
    assert again.sequence_number == first.sequence_number
    sentinel = q.send_message(url, "after", message_group_id="g", message_deduplication_id="s")
    got = _drain(client, url, 1)
    assert [m.message_id for m in got] == [sentinel.message_id]
    assert _receive(client, url, wait=1) == []


def test_different_dedup_ids_are_both_delivered(
    client: Client, make_queue: Callable[..., str]
) -> None:
    url = make_queue(fifo=True, VisibilityTimeout=2)
    q = client.queues
    a = q.send_message(url, "same", message_group_id="g", message_deduplication_id="one")
    b = q.send_message(url, "same", message_group_id="g", message_deduplication_id="two")
    assert a.message_id != b.message_id
    assert int(b.sequence_number or 0) > int(a.sequence_number or 0)
    got = _drain(client, url, 2)
    assert [m.message_id for m in got] == [a.message_id, b.message_id]


# --- receive request attempt id ---------------------------------------------------------


def test_retried_receive_with_same_attempt_id_returns_same_messages(
    client: Client, make_queue: Callable[..., str]
) -> None:
    url = make_queue(fifo=True, VisibilityTimeout=2)
    q = client.queues
    for body in ("r1", "r2", "r3"):
        q.send_message(url, body, message_group_id="g", message_deduplication_id=body)
    _wait_visible(client, url, 3)

    def receive(attempt: str) -> list[Message]:
        return q.receive_message(
            url,
            max_number_of_messages=2,
            wait_time_seconds=0,
            visibility_timeout=2,
            message_system_attribute_names=ALL,
            receive_request_attempt_id=attempt,
        )

    first = receive("attempt-1")
    retry = receive("attempt-1")
    assert [m.body for m in first] == ["r1", "r2"]
    assert [(m.message_id, m.receipt_handle) for m in retry] == [
        (m.message_id, m.receipt_handle) for m in first
    ]
    assert [m.attributes["ApproximateReceiveCount"] for m in retry] == ["1", "1"]
    # A new attempt id is a new receive: the group is locked by r1/r2 in flight.
    assert receive("attempt-2") == []
    _delete(client, url, retry)  # the retried handles are the valid ones
    rest = eventually(lambda: receive("attempt-3"))
    assert [m.body for m in rest] == ["r3"]


def test_retried_receive_with_same_attempt_id_resets_the_visibility_timeout(
    client: Client, make_queue: Callable[..., str]
) -> None:
    url = make_queue(fifo=True)
    q = client.queues
    q.send_message(url, "slow work", message_group_id="g", message_deduplication_id="d")
    _wait_visible(client, url, 1)
    first = q.receive_message(url, visibility_timeout=2, receive_request_attempt_id="try")
    received_at = time.monotonic()
    assert len(first) == 1
    # Nothing to poll for: the point is that the message stays hidden past its first deadline.
    time.sleep(1.2)
    retry = q.receive_message(url, visibility_timeout=2, receive_request_attempt_id="try")
    assert [m.receipt_handle for m in retry] == [m.receipt_handle for m in first]
    time.sleep(max(0.0, received_at + 2.5 - time.monotonic()))
    # The retry restarted the 2 s timeout at ~1.2 s, so at 2.5 s the message is still hidden.
    attrs = q.get_queue_attributes(
        url, ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )
    assert attrs == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "1",
    }


# --- errors -----------------------------------------------------------------------------


def test_send_without_group_id_is_missing_parameter(
    client: Client, make_queue: Callable[..., str]
) -> None:
    url = make_queue(fifo=True)
    with pytest.raises(MissingParameter) as err:
        client.queues.send_message(url, "x", message_deduplication_id="d")
    assert err.value.code == "MissingParameter"
    assert "MessageGroupId" in err.value.message
    batch = client.queues.send_message_batch(
        url,
        [
            {
                "id": "ok",
                "message_body": "x",
                "message_group_id": "g",
                "message_deduplication_id": "d",
            },
            {"id": "bad", "message_body": "y", "message_deduplication_id": "e"},
        ],
    )
    assert [e.id for e in batch.successful] == ["ok"]
    assert [(f.id, f.code, f.sender_fault) for f in batch.failed] == [
        ("bad", "MissingParameter", True)
    ]


def test_send_without_dedup_id_and_without_content_dedup_is_invalid(
    client: Client, make_queue: Callable[..., str]
) -> None:
    url = make_queue(fifo=True)
    with pytest.raises(InvalidParameterValue) as err:
        client.queues.send_message(url, "x", message_group_id="g")
    assert err.value.code == "InvalidParameterValue"
    assert "ContentBasedDeduplication" in err.value.message


def test_per_message_delay_is_invalid_on_fifo(
    client: Client, make_queue: Callable[..., str]
) -> None:
    url = make_queue(fifo=True)
    with pytest.raises(InvalidParameterValue) as err:
        client.queues.send_message(
            url, "x", message_group_id="g", message_deduplication_id="d", delay_seconds=5
        )
    assert "DelaySeconds" in err.value.message
    batch = client.queues.send_message_batch(
        url,
        [
            {
                "id": "late",
                "message_body": "x",
                "message_group_id": "g",
                "message_deduplication_id": "d",
                "delay_seconds": 5,
            }
        ],
    )
    assert [(f.id, f.code) for f in batch.failed] == [("late", "InvalidParameterValue")]
    _wait_visible(client, url, 0)
    assert _receive(client, url, wait=0) == []


def test_queue_level_delay_applies_to_fifo_messages(
    client: Client, make_queue: Callable[..., str]
) -> None:
    url = make_queue(fifo=True, DelaySeconds=2, VisibilityTimeout=2)
    q = client.queues
    sent = q.send_message(url, "later", message_group_id="g", message_deduplication_id="d")

    def delayed() -> bool:
        attrs = q.get_queue_attributes(url, ["All"])
        assert attrs["DelaySeconds"] == "2"
        assert attrs["ApproximateNumberOfMessagesDelayed"] == "1", attrs
        assert attrs["ApproximateNumberOfMessages"] == "0", attrs
        return True

    eventually(delayed, timeout=1.5)
    got = eventually(lambda: _receive(client, url, wait=1), timeout=10)
    assert [m.message_id for m in got] == [sent.message_id]
    waited = int(got[0].attributes["ApproximateFirstReceiveTimestamp"]) - int(
        got[0].attributes["SentTimestamp"]
    )
    assert waited >= 2000


# --- two replicas of one cluster ----------------------------------------------------------
# Last in the module: while the second replica runs, the session server owns only some
# partitions, and the tests above expect it alone.


@pytest.fixture(scope="module")
def replica(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    """A second server process of the same cluster, which a test may crash and restart."""
    proc = EventplaneProcess(eventplane_kafka).start()
    try:
        yield proc
    finally:
        proc.stop()


def _owns(proc: EventplaneProcess, queue: str) -> bool:
    """Whether ``proc`` owns a partition of ``queue`` (it reports depth only for those)."""
    with urllib.request.urlopen(proc.metrics_url, timeout=5) as resp:
        text = resp.read().decode()
    return f'eventplane_queue_messages_visible{{queue="{queue}"}}' in text


@pytest.mark.slow
@pytest.mark.parametrize("crash", ["sigterm", "sigkill"])
def test_dedup_survives_a_server_restart(
    crash: str,
    replica: EventplaneProcess,
    eventplane_server: EventplaneProcess,
    make_queue: Callable[..., str],
) -> None:
    name = f"t-{uuid.uuid4().hex[:12]}"
    url = make_queue(
        fifo=True,
        name=name,
        VisibilityTimeout=2,
        DeduplicationScope="messageGroup",
        Partitions=4,
    )
    # Partitions are balanced over all queues, not per queue: find which of the two
    # processes own this queue's partitions, and crash all of those, so every dedup
    # entry and lease afterwards comes from the journal.
    processes = (replica, eventplane_server)
    owners = eventually(
        lambda: [p for p in processes if _owns(p, f"{name}.fifo")],
        timeout=30,
        message="no process owns a partition of the queue",
    )
    # On every partition, whoever owns it: one group whose message was received and
    # deleted before the crash (its dedup entry lives only in the journal), and one whose
    # message is still in flight (its lease must survive too).
    per_partition = _groups_per_partition(4, per=2)
    done = [groups[0] for groups in per_partition]
    pending = [groups[1] for groups in per_partition]
    with replica.client() as c:
        before = {
            g: c.queues.send_message(
                url, f"body-{g}", message_group_id=g, message_deduplication_id="d"
            )
            for g in done + pending
        }
        received: list[Message] = []

        def all_received() -> bool:
            received.extend(_receive(c, url))
            return len(received) >= 8

        eventually(all_received)
        assert sorted(m.message_id for m in received) == sorted(
            r.message_id for r in before.values()
        )
        _delete(c, url, [m for m in received if m.attributes["MessageGroupId"] in done])

    for proc in owners:
        if crash == "sigterm":
            assert proc.stop() == 0
        else:
            proc.kill()
    for proc in owners:
        proc.restart()

    with replica.client() as c:
        for g in done + pending:
            again = c.queues.send_message(
                url, f"again-{g}", message_group_id=g, message_deduplication_id="d"
            )
            assert again.message_id == before[g].message_id, g
            assert again.sequence_number == before[g].sequence_number, g
        sentinels = {
            g: c.queues.send_message(
                url, f"end-{g}", message_group_id=g, message_deduplication_id="e"
            ).message_id
            for g in done + pending
        }
        got = _drain(c, url, 12, timeout=45)
    expected = {g: [sentinels[g]] for g in done}
    expected.update({g: [before[g].message_id, sentinels[g]] for g in pending})
    by_group: dict[str, list[str]] = defaultdict(list)
    for m in got:
        by_group[m.attributes["MessageGroupId"]].append(m.message_id)
    assert by_group == expected
    counts = {m.body: m.attributes["ApproximateReceiveCount"] for m in got}
    assert all(counts[f"body-{g}"] == "2" for g in pending), counts


def test_queue_level_delay_applies_when_another_replica_owns_the_queue(
    replica: EventplaneProcess,
    eventplane_server: EventplaneProcess,
    make_queue: Callable[..., str],
) -> None:
    name = f"t-{uuid.uuid4().hex[:12]}"
    url = make_queue(fifo=True, name=name, DelaySeconds=2, VisibilityTimeout=2)
    queue = f"{name}.fifo"
    owner = eventually(
        lambda: (
            (_owns(replica, queue) and replica)
            or (_owns(eventplane_server, queue) and eventplane_server)
        ),
        timeout=30,
        message="no replica owns the queue",
    )
    # Send and receive through the replica that does NOT own the single partition.
    other = eventplane_server if owner is replica else replica
    with other.client() as c:
        c.queues.send_message(url, "later", message_group_id="g", message_deduplication_id="d")
        got = eventually(lambda: _receive(c, url, wait=1), timeout=10)
    waited = int(got[0].attributes["ApproximateFirstReceiveTimestamp"]) - int(
        got[0].attributes["SentTimestamp"]
    )
    assert waited >= 2000, f"delivered {waited} ms after it was sent; DelaySeconds is 2"
