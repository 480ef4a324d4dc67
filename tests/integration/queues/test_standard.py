"""SQS standard-queue semantics, end to end: a real broker and a real server process.

Every test gets fresh queues and waits with ``eventually`` or a long-poll receive, never a
fixed sleep for a condition it can poll. Visibility timeouts and delays are 1-2 s.
"""

from __future__ import annotations

import hashlib
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from eventplane.client import (
    ChangeMessageVisibilityBatchEntry,
    Client,
    DeleteMessageBatchEntry,
    Message,
    MessageAttribute,
    SendMessageBatchEntry,
)
from eventplane.errors import EventplaneError
from eventplane.errors.queues import (
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    EmptyBatchRequest,
    MessageNotInflight,
    PurgeQueueInProgress,
    QueueDoesNotExist,
    QueueNameExists,
    ReceiptHandleIsInvalid,
    TooManyEntriesInBatchRequest,
)
from eventplane.queues import messages as sqs
from eventplane.testing import EventplaneProcess, eventually

from .support import expect_counts, receive_all

pytestmark = pytest.mark.integration

NewQueue = Callable[..., str]


def server_attrs(attrs: dict[str, MessageAttribute]) -> dict[str, sqs.MessageAttribute]:
    return {
        k: sqs.MessageAttribute(a.data_type, a.string_value, a.binary_value)
        for k, a in attrs.items()
    }


def in_background(call: Callable[[], Any]) -> tuple[Future[Any], threading.Event]:
    """Run ``call`` on a thread; returns its future and an event set just before it starts."""
    started = threading.Event()
    pool = ThreadPoolExecutor(1)

    def run() -> Any:
        started.set()
        return call()

    future = pool.submit(run)
    pool.shutdown(wait=False)
    return future, started


# --- send / receive / delete ----------------------------------------------------------------


def test_round_trip_with_md5s_aws_computes(client: Client, new_queue: NewQueue) -> None:
    url = new_queue()
    body = "Sample content."
    attrs = {"sample-attribute": MessageAttribute("String", string_value="sample-value")}

    sent = client.queues.send_message(url, body, message_attributes=attrs)

    # The digests AWS itself put in an SQS event for exactly this body and attribute.
    assert sent.md5_of_message_body == "b58e1d0a86521415d25b85b89f6ad6cd"
    assert sent.md5_of_message_attributes == "7c815262be77a62f56671125069ca888"
    assert sent.md5_of_message_body == hashlib.md5(body.encode()).hexdigest()
    assert sent.sequence_number is None  # standard queues have none

    (m,) = client.queues.receive_message(url, wait_time_seconds=5, message_attribute_names=["All"])
    assert (m.message_id, m.body) == (sent.message_id, body)
    assert m.md5_of_body == sent.md5_of_message_body
    assert m.md5_of_message_attributes == sent.md5_of_message_attributes
    assert m.message_attributes == attrs

    client.queues.delete_message(url, m.receipt_handle)
    expect_counts(client, url)
    assert client.queues.receive_message(url) == []


TYPED = {
    "order.id": MessageAttribute("String", string_value="o-1 \u2713 \U0001f600"),
    "order.total": MessageAttribute("Number", string_value="-12.50"),
    "order.blob": MessageAttribute("Binary", binary_value=b"\x00\x01\xfe\xff"),
    "trace": MessageAttribute("String.json", string_value='{"a": 1}'),
    "count": MessageAttribute("Number.int", string_value="42"),
}
# MessageAttributeNames of a receive -> the attributes it returns.
ATTRIBUTE_FILTERS: list[tuple[list[str], set[str]]] = [
    (["All"], set(TYPED)),
    ([".*"], set(TYPED)),
    (["count"], {"count"}),
    (["order.*"], {"order.id", "order.total", "order.blob"}),
    (["count", "order.*"], {"count", "order.id", "order.total", "order.blob"}),
    (["missing"], set()),
    ([], set()),
]


def test_typed_attributes_round_trip_and_filter(client: Client, new_queue: NewQueue) -> None:
    url = new_queue()
    sent = client.queues.send_message(url, "typed", message_attributes=TYPED)
    assert sent.md5_of_message_attributes == sqs.md5_of_message_attributes(server_attrs(TYPED))

    for names, expected in ATTRIBUTE_FILTERS:
        # Visibility 0: the message is visible again at once, ready for the next filter.
        (m,) = client.queues.receive_message(
            url, wait_time_seconds=5, visibility_timeout=0, message_attribute_names=names
        )
        want = {k: TYPED[k] for k in expected}
        assert m.message_attributes == want, names
        # The digest covers what was returned, so an SDK can verify it.
        assert m.md5_of_message_attributes == (
            sqs.md5_of_message_attributes(server_attrs(want)) if want else None
        ), names


def test_system_attributes_and_their_filter(client: Client, new_queue: NewQueue) -> None:
    url = new_queue()
    before = int(time.time() * 1000)
    client.queues.send_message(url, "sys")
    after = int(time.time() * 1000)

    def receive(names: list[str]) -> Message:
        # Visibility 0: the message is visible again at once, ready for the next receive.
        (m,) = client.queues.receive_message(
            url, wait_time_seconds=5, visibility_timeout=0, message_system_attribute_names=names
        )
        return m

    first = receive(["All"])
    assert {"SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"} <= set(
        first.attributes
    )
    sent_ms = int(first.attributes["SentTimestamp"])
    assert before - 1000 <= sent_ms <= after + 1000  # same host, epoch milliseconds
    assert first.attributes["ApproximateReceiveCount"] == "1"
    first_receive = int(first.attributes["ApproximateFirstReceiveTimestamp"])
    assert first_receive >= sent_ms

    assert receive(["ApproximateReceiveCount"]).attributes == {"ApproximateReceiveCount": "2"}
    third = receive(["SentTimestamp", "ApproximateFirstReceiveTimestamp"])
    assert third.attributes == {
        "SentTimestamp": str(sent_ms),
        "ApproximateFirstReceiveTimestamp": str(first_receive),  # the first receive's, kept
    }
    assert receive([]).attributes == {}
    assert receive(["All"]).attributes["ApproximateReceiveCount"] == "5"


# --- visibility -----------------------------------------------------------------------------


def test_expired_message_reappears_with_new_handle_old_one_rejected(
    client: Client, new_queue: NewQueue
) -> None:
    url = new_queue(VisibilityTimeout=1)  # the queue default applies
    sent = client.queues.send_message(url, "again")
    sys = ["ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"]

    (first,) = client.queues.receive_message(
        url, wait_time_seconds=5, message_system_attribute_names=sys
    )
    assert client.queues.receive_message(url) == []  # in flight: hidden from others
    expect_counts(client, url, not_visible=1)

    (second,) = client.queues.receive_message(
        url, wait_time_seconds=5, message_system_attribute_names=sys
    )
    assert second.message_id == first.message_id == sent.message_id
    assert second.attributes["ApproximateReceiveCount"] == "2"
    assert (
        second.attributes["ApproximateFirstReceiveTimestamp"]
        == first.attributes["ApproximateFirstReceiveTimestamp"]
    )
    assert second.receipt_handle != first.receipt_handle

    # Only the latest handle counts: the old one neither changes nor deletes the message.
    with pytest.raises(ReceiptHandleIsInvalid):
        client.queues.change_message_visibility(url, first.receipt_handle, 0)
    with pytest.raises(ReceiptHandleIsInvalid):
        client.queues.delete_message(url, first.receipt_handle)
    expect_counts(client, url, not_visible=1)

    client.queues.delete_message(url, second.receipt_handle)
    client.queues.delete_message(url, second.receipt_handle)  # deleting again succeeds
    expect_counts(client, url)


def test_per_receive_visibility_overrides_queue_default(
    client: Client, new_queue: NewQueue
) -> None:
    url = new_queue(VisibilityTimeout=30)
    client.queues.send_message(url, "short")
    (first,) = client.queues.receive_message(url, wait_time_seconds=5, visibility_timeout=1)
    (again,) = client.queues.receive_message(url, wait_time_seconds=5)  # back after ~1 s
    assert again.message_id == first.message_id
    # This receive used the queue's 30 s, so the message stays hidden.
    assert client.queues.receive_message(url, wait_time_seconds=2) == []
    expect_counts(client, url, not_visible=1)


def test_change_visibility_extends(client: Client, new_queue: NewQueue) -> None:
    url = new_queue()
    client.queues.send_message(url, "extend")
    (m,) = client.queues.receive_message(url, wait_time_seconds=5, visibility_timeout=1)
    client.queues.change_message_visibility(url, m.receipt_handle, 3)

    # Well past the original 1 s deadline, the message is still hidden ...
    assert client.queues.receive_message(url, wait_time_seconds=2) == []
    # ... and comes back once the extension ends.
    (again,) = client.queues.receive_message(url, wait_time_seconds=5)
    assert again.message_id == m.message_id


def test_change_visibility_shortens_and_zero_shows_at_once(
    client: Client, new_queue: NewQueue
) -> None:
    url = new_queue()
    client.queues.send_message(url, "shorten")
    (m,) = client.queues.receive_message(url, wait_time_seconds=5, visibility_timeout=60)
    client.queues.change_message_visibility(url, m.receipt_handle, 1)
    (again,) = client.queues.receive_message(url, wait_time_seconds=5, visibility_timeout=60)
    assert again.message_id == m.message_id

    client.queues.change_message_visibility(url, again.receipt_handle, 0)
    (third,) = client.queues.receive_message(url, visibility_timeout=60)  # no wait needed
    assert third.message_id == m.message_id


def test_forged_and_foreign_handles_are_invalid(client: Client, new_queue: NewQueue) -> None:
    url, other = new_queue(), new_queue()
    client.queues.send_message(url, "mine")
    client.queues.send_message(other, "theirs")
    (m,) = client.queues.receive_message(url, wait_time_seconds=5)
    (foreign,) = client.queues.receive_message(other, wait_time_seconds=5)
    h = m.receipt_handle
    tampered = h[:-3] + ("AAA" if not h.endswith("AAA") else "BBB")

    for handle in ("forged-handle", tampered, foreign.receipt_handle):
        with pytest.raises(ReceiptHandleIsInvalid):
            client.queues.delete_message(url, handle)
        with pytest.raises(ReceiptHandleIsInvalid):
            client.queues.change_message_visibility(url, handle, 0)
    # Nothing above touched either message.
    expect_counts(client, url, not_visible=1)
    expect_counts(client, other, not_visible=1)


def test_change_visibility_after_expiry_is_not_inflight(
    client: Client, new_queue: NewQueue
) -> None:
    url = new_queue()
    client.queues.send_message(url, "expired")
    (m,) = client.queues.receive_message(url, wait_time_seconds=5, visibility_timeout=1)
    expect_counts(client, url, visible=1)  # its visibility ran out
    with pytest.raises(MessageNotInflight):
        client.queues.change_message_visibility(url, m.receipt_handle, 10)


# --- delays -----------------------------------------------------------------------------------


def test_queue_delay_and_per_message_override(client: Client, new_queue: NewQueue) -> None:
    url = new_queue(DelaySeconds=2)
    client.queues.send_message(url, "queue-delay")
    client.queues.send_message(url, "no-delay", delay_seconds=0)
    sys = ["SentTimestamp", "ApproximateFirstReceiveTimestamp"]

    (now,) = client.queues.receive_message(url, max_number_of_messages=10, wait_time_seconds=5)
    assert now.body == "no-delay"
    expect_counts(client, url, not_visible=1, delayed=1)

    (later,) = client.queues.receive_message(
        url, wait_time_seconds=5, message_system_attribute_names=sys
    )
    assert later.body == "queue-delay"
    a = later.attributes
    assert int(a["ApproximateFirstReceiveTimestamp"]) - int(a["SentTimestamp"]) >= 2000


def test_per_message_delay(client: Client, new_queue: NewQueue) -> None:
    url = new_queue()
    client.queues.send_message(url, "delayed", delay_seconds=2)
    sys = ["SentTimestamp", "ApproximateFirstReceiveTimestamp"]

    assert client.queues.receive_message(url) == []
    expect_counts(client, url, delayed=1)
    (m,) = client.queues.receive_message(
        url, wait_time_seconds=5, message_system_attribute_names=sys
    )
    assert m.body == "delayed"
    a = m.attributes
    assert int(a["ApproximateFirstReceiveTimestamp"]) - int(a["SentTimestamp"]) >= 2000


# --- long polling -----------------------------------------------------------------------------


def wait_until_polling(server: EventplaneProcess) -> None:
    """Until the server has the (only) Queues call of this test in flight: the poll waits."""

    def polling() -> bool:
        with urllib.request.urlopen(server.metrics_url, timeout=5) as resp:
            text = resp.read().decode()
        return 'eventplane_rpc_in_flight_requests{service="Queues"} 1.0' in text

    eventually(polling, timeout=10)


def test_long_poll_returns_when_a_message_is_sent(
    client: Client, new_queue: NewQueue, eventplane_server: EventplaneProcess
) -> None:
    url = new_queue()
    t0 = time.monotonic()
    future, started = in_background(
        lambda: client.queues.receive_message(url, wait_time_seconds=10)
    )
    started.wait(5)
    wait_until_polling(eventplane_server)
    sent = client.queues.send_message(url, "wake up")
    got = future.result(timeout=15)
    assert [m.message_id for m in got] == [sent.message_id]
    assert time.monotonic() - t0 < 8  # generous: only fails if the poll ran its full 10 s


def test_long_poll_returns_when_visibility_is_set_to_zero(
    client: Client, new_queue: NewQueue, eventplane_server: EventplaneProcess
) -> None:
    url = new_queue()
    client.queues.send_message(url, "release me")
    (m,) = client.queues.receive_message(url, wait_time_seconds=5, visibility_timeout=60)
    t0 = time.monotonic()
    future, started = in_background(
        lambda: client.queues.receive_message(url, wait_time_seconds=10)
    )
    started.wait(5)
    wait_until_polling(eventplane_server)
    client.queues.change_message_visibility(url, m.receipt_handle, 0)
    got = future.result(timeout=15)
    assert [g.message_id for g in got] == [m.message_id]
    assert time.monotonic() - t0 < 8


def test_long_poll_on_empty_queue_waits_then_returns_nothing(
    client: Client, new_queue: NewQueue
) -> None:
    url = new_queue()
    t0 = time.monotonic()
    assert client.queues.receive_message(url, wait_time_seconds=1) == []
    assert time.monotonic() - t0 >= 0.9  # it did wait


def test_queue_default_wait_time_long_polls(
    client: Client, new_queue: NewQueue, eventplane_server: EventplaneProcess
) -> None:
    url = new_queue(ReceiveMessageWaitTimeSeconds=10)
    t0 = time.monotonic()
    future, started = in_background(lambda: client.queues.receive_message(url))
    started.wait(5)
    wait_until_polling(eventplane_server)
    sent = client.queues.send_message(url, "default wait")
    assert [m.message_id for m in future.result(timeout=15)] == [sent.message_id]
    assert time.monotonic() - t0 < 8


# --- batches ----------------------------------------------------------------------------------


def test_send_batch_of_ten(client: Client, new_queue: NewQueue) -> None:
    url = new_queue()
    entries = [
        SendMessageBatchEntry(
            id=f"m{i}",
            message_body=f"body-{i}",
            message_attributes={"i": MessageAttribute("Number", string_value=str(i))},
        )
        for i in range(10)
    ]
    result = client.queues.send_message_batch(url, entries)
    assert result.failed == []
    assert sorted(s.id for s in result.successful) == sorted(e.id for e in entries)
    for s in result.successful:
        i = int(s.id[1:])
        assert s.md5_of_message_body == sqs.md5_of_body(f"body-{i}")
        assert s.md5_of_message_attributes == sqs.md5_of_message_attributes(
            {"i": sqs.MessageAttribute("Number", str(i))}
        )
    assert len({s.message_id for s in result.successful}) == 10

    got = receive_all(client, url, 10, message_attribute_names=["All"])
    by_id = {s.message_id: int(s.id[1:]) for s in result.successful}
    for m in got:
        assert m.body == f"body-{by_id[m.message_id]}"
        assert m.message_attributes["i"].string_value == str(by_id[m.message_id])


def test_send_batch_reports_bad_entries_and_sends_the_rest(
    client: Client, new_queue: NewQueue
) -> None:
    url = new_queue()
    result = client.queues.send_message_batch(
        url,
        [
            {"id": "ok1", "message_body": "first"},
            {
                "id": "bad-attr",
                "message_body": "x",
                "message_attributes": {"a": {"DataType": "Decimal", "StringValue": "1"}},
            },
            {"id": "bad-body", "message_body": "nul \x00 inside"},
            {"id": "bad-delay", "message_body": "x", "delay_seconds": 901},
            {"id": "ok2", "message_body": "second"},
        ],
    )
    assert sorted(s.id for s in result.successful) == ["ok1", "ok2"]
    failed = {f.id: f for f in result.failed}
    assert set(failed) == {"bad-attr", "bad-body", "bad-delay"}
    assert failed["bad-attr"].code == "InvalidParameterValue"
    assert failed["bad-body"].code == "InvalidMessageContents"
    assert failed["bad-delay"].code == "InvalidParameterValue"
    assert "DelaySeconds" in failed["bad-delay"].message
    assert all(f.sender_fault for f in result.failed)

    got = receive_all(client, url, 2)
    assert sorted(m.body for m in got) == ["first", "second"]
    expect_counts(client, url, not_visible=2)


def test_delete_and_visibility_batches_with_one_bad_handle(
    client: Client, new_queue: NewQueue
) -> None:
    url = new_queue()
    client.queues.send_message(url, "a")
    client.queues.send_message(url, "b")
    got = {m.body: m for m in receive_all(client, url, 2, visibility_timeout=60)}

    deleted = client.queues.delete_message_batch(
        url,
        [
            DeleteMessageBatchEntry("a", got["a"].receipt_handle),
            DeleteMessageBatchEntry("bad", "not-a-receipt-handle"),
        ],
    )
    assert deleted.successful == ["a"]
    assert [(f.id, f.code, f.sender_fault) for f in deleted.failed] == [
        ("bad", "ReceiptHandleIsInvalid", True)
    ]

    changed = client.queues.change_message_visibility_batch(
        url,
        [
            ChangeMessageVisibilityBatchEntry("b", got["b"].receipt_handle, 0),
            ChangeMessageVisibilityBatchEntry("bad", "not-a-receipt-handle", 0),
        ],
    )
    assert changed.successful == ["b"]
    assert [(f.id, f.code, f.sender_fault) for f in changed.failed] == [
        ("bad", "ReceiptHandleIsInvalid", True)
    ]

    # "a" is gone, "b" is visible again at once.
    (b,) = client.queues.receive_message(url, max_number_of_messages=10)
    assert b.body == "b"
    expect_counts(client, url, not_visible=1)


def _batch_call(client: Client, url: str, op: str, ids: list[str]) -> Any:
    if op == "send":
        return client.queues.send_message_batch(url, [{"id": i, "message_body": "x"} for i in ids])
    if op == "delete":
        return client.queues.delete_message_batch(
            url, [{"id": i, "receipt_handle": "h"} for i in ids]
        )
    return client.queues.change_message_visibility_batch(
        url, [{"id": i, "receipt_handle": "h", "visibility_timeout": 1} for i in ids]
    )


@pytest.mark.parametrize("op", ["send", "delete", "visibility"])
@pytest.mark.parametrize(
    ("ids", "error", "field"),
    [
        (["a", "b", "a"], BatchEntryIdsNotDistinct, "Id"),
        ([f"e{i}" for i in range(11)], TooManyEntriesInBatchRequest, "Entries"),
        ([], EmptyBatchRequest, "Entries"),
    ],
    ids=["duplicate-ids", "eleven", "empty"],
)
def test_batch_shape_errors(
    client: Client,
    make_queue: Callable[..., str],
    op: str,
    ids: list[str],
    error: type[EventplaneError],
    field: str,
) -> None:
    url = make_queue()
    with pytest.raises(error) as info:
        _batch_call(client, url, op, ids)
    assert field in info.value.message
    expect_counts(client, url)  # a rejected batch sends nothing


def test_batch_over_the_total_size_limit(client: Client, new_queue: NewQueue) -> None:
    url = new_queue()
    # Each entry fits the 1 MiB message limit; together they exceed the 1 MiB batch limit.
    body = "x" * 110_000
    with pytest.raises(BatchRequestTooLong):
        client.queues.send_message_batch(
            url, [{"id": f"e{i}", "message_body": body} for i in range(10)]
        )
    expect_counts(client, url)  # none of it was sent


def test_batch_limit_does_not_shrink_with_maximum_message_size(
    client: Client, new_queue: NewQueue
) -> None:
    # SQS: each message must fit MaximumMessageSize; the batch as a whole may carry 1 MiB.
    url = new_queue(MaximumMessageSize=1024)
    result = client.queues.send_message_batch(
        url, [{"id": f"e{i}", "message_body": "y" * 1000} for i in range(3)]
    )
    assert result.failed == []
    assert len(result.successful) == 3


# --- counts, purge, retention ---------------------------------------------------------------


def test_approximate_counts(client: Client, new_queue: NewQueue) -> None:
    url = new_queue()
    for i in range(3):
        client.queues.send_message(url, f"visible-{i}")
    client.queues.send_message(url, "later", delay_seconds=60)
    expect_counts(client, url, visible=3, delayed=1)

    client.queues.receive_message(url, wait_time_seconds=5, visibility_timeout=60)
    expect_counts(client, url, visible=2, not_visible=1, delayed=1)


def test_purge_deletes_everything_sent_before(client: Client, new_queue: NewQueue) -> None:
    url = new_queue(VisibilityTimeout=1)
    for body in ("a", "b", "c"):
        client.queues.send_message(url, body)
    client.queues.send_message(url, "delayed", delay_seconds=1)
    (inflight,) = client.queues.receive_message(url, wait_time_seconds=5)
    expect_counts(client, url, visible=2, not_visible=1, delayed=1)

    client.queues.purge_queue(url)
    expect_counts(client, url)
    # Longer than the visibility timeout and the delay: nothing purged comes back.
    assert client.queues.receive_message(url, max_number_of_messages=10, wait_time_seconds=2) == []
    client.queues.delete_message(url, inflight.receipt_handle)  # a purged handle is harmless

    sent = client.queues.send_message(url, "after purge")
    (m,) = client.queues.receive_message(url, max_number_of_messages=10, wait_time_seconds=5)
    assert m.message_id == sent.message_id

    with pytest.raises(PurgeQueueInProgress) as info:
        client.queues.purge_queue(url)
    assert "60 seconds" in info.value.message


def test_retention_period_round_trips(client: Client, make_queue: Callable[..., str]) -> None:
    # 60 s is the SQS minimum; real expiry is too slow for this suite.
    url = make_queue(MessageRetentionPeriod=60)
    attrs = client.queues.get_queue_attributes(url, ["MessageRetentionPeriod"])
    assert attrs == {"MessageRetentionPeriod": "60"}
    client.queues.set_queue_attributes(url, {"MessageRetentionPeriod": 1_209_600})
    attrs = client.queues.get_queue_attributes(url, ["MessageRetentionPeriod"])
    assert attrs == {"MessageRetentionPeriod": "1209600"}


# --- queue lifecycle --------------------------------------------------------------------------


def test_create_is_idempotent_conflicts_are_refused(
    client: Client, make_queue: Callable[..., str]
) -> None:
    name = f"life-{uuid.uuid4().hex[:12]}"
    url = make_queue(name=name, VisibilityTimeout=5, DelaySeconds=1)

    assert client.queues.create_queue(name, {"VisibilityTimeout": 5, "DelaySeconds": 1}) == url
    with pytest.raises(QueueNameExists) as info:
        client.queues.create_queue(name, {"VisibilityTimeout": 6, "DelaySeconds": 1})
    assert "VisibilityTimeout" in info.value.message
    assert client.queues.get_queue_url(name) == url

    attrs = client.queues.get_queue_attributes(url)
    assert attrs["VisibilityTimeout"] == "5"
    assert attrs["DelaySeconds"] == "1"
    assert attrs["QueueArn"].endswith(f":{name}")
    assert client.queues.get_queue_attributes(url, ["DelaySeconds"]) == {"DelaySeconds": "1"}


def test_set_queue_attributes_then_get(client: Client, make_queue: Callable[..., str]) -> None:
    url = make_queue()
    new = {
        "VisibilityTimeout": "7",
        "DelaySeconds": "3",
        "MessageRetentionPeriod": "120",
        "MaximumMessageSize": "2048",
        "ReceiveMessageWaitTimeSeconds": "2",
    }
    client.queues.set_queue_attributes(url, new)
    assert client.queues.get_queue_attributes(url, list(new)) == new
    # A partial update keeps the rest.
    client.queues.set_queue_attributes(url, {"DelaySeconds": 0})
    assert client.queues.get_queue_attributes(url, list(new)) == {**new, "DelaySeconds": "0"}


def test_tags_are_accepted(client: Client) -> None:
    name = f"tags-{uuid.uuid4().hex[:12]}"
    url = client.queues.create_queue(name, tags={"team": "payments", "env": "test"})
    try:
        assert client.queues.get_queue_url(name) == url
    finally:
        client.queues.delete_queue(url)


def test_list_queues_with_prefix(client: Client, make_queue: Callable[..., str]) -> None:
    prefix = f"lst-{uuid.uuid4().hex[:8]}-"
    a = make_queue(name=prefix + "a")
    b = make_queue(name=prefix + "b")
    other = make_queue(name=f"oth-{uuid.uuid4().hex[:8]}")

    assert sorted(client.queues.list_queues(prefix)) == [a, b]
    assert other in client.queues.list_queues()
    page = client.queues.list_queues_page(prefix, max_results=1)
    assert page.queue_urls == [a] and page.next_token is not None
    rest = client.queues.list_queues_page(prefix, max_results=1, next_token=page.next_token)
    assert rest.queue_urls == [b]


def test_deleted_queue_does_not_exist(client: Client, make_queue: Callable[..., str]) -> None:
    name = f"gone-{uuid.uuid4().hex[:12]}"
    url = make_queue(name=name)
    client.queues.send_message(url, "lost with the queue")
    client.queues.delete_queue(url)

    calls: list[Callable[[], object]] = [
        lambda: client.queues.get_queue_url(name),
        lambda: client.queues.get_queue_attributes(url),
        lambda: client.queues.set_queue_attributes(url, {"DelaySeconds": 1}),
        lambda: client.queues.send_message(url, "x"),
        lambda: client.queues.receive_message(url),
        lambda: client.queues.purge_queue(url),
        lambda: client.queues.delete_queue(url),
    ]
    for call in calls:
        with pytest.raises(QueueDoesNotExist):
            call()
    assert url not in client.queues.list_queues(name)


# --- concurrency ------------------------------------------------------------------------------


def test_hundred_concurrent_messages_delivered_exactly_once(
    client: Client, new_queue: NewQueue
) -> None:
    url = new_queue()
    with ThreadPoolExecutor(10) as pool:
        sent = list(pool.map(lambda i: client.queues.send_message(url, f"m-{i}"), range(100)))
    sent_ids = sorted(s.message_id for s in sent)
    assert len(set(sent_ids)) == 100

    received: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 30

    def consume() -> None:
        while time.monotonic() < deadline:
            with lock:
                if len(received) >= 100:
                    return
            for m in client.queues.receive_message(
                url, max_number_of_messages=10, wait_time_seconds=1
            ):
                client.queues.delete_message(url, m.receipt_handle)
                with lock:
                    received.append(m.message_id)

    with ThreadPoolExecutor(4) as pool:
        for f in [pool.submit(consume) for _ in range(4)]:
            f.result()

    assert sorted(received) == sent_ids  # every message, none twice
    assert client.queues.receive_message(url, max_number_of_messages=10) == []
    expect_counts(client, url)
