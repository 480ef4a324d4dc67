"""SNS FIFO topics on the real broker: group order into FIFO queues, deduplication, errors."""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict
from collections.abc import Callable

import pytest

from eventplane.client import Client, Message
from eventplane.config import Settings, load_settings
from eventplane.kafka import naming
from eventplane.kafka.local import LocalKafka
from eventplane.testing import EventplaneProcess, free_port
from eventplane.topics.dedup import read_windows
from eventplane.topics.errors import InvalidParameter

pytestmark = pytest.mark.integration

RAW = {"RawMessageDelivery": "true"}


def _text(m: Message) -> str:
    """The published message: the body of a raw delivery, else the envelope's Message."""
    if m.body.startswith("{"):
        return str(json.loads(m.body)["Message"])
    return m.body


def _drain_until(
    c: Client,
    url: str,
    last: str,
    *,
    timeout: float = 60.0,
    text: Callable[[Message], str] = _text,
    expect: int = 0,
) -> list[Message]:
    """Receive and delete, in order, until the message ``last`` (and at least ``expect``
    messages: other groups sit on other topic partitions, whose fan-out may lag behind
    ``last``'s) arrived; then look for extras."""
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    while not any(text(m) == last for m in got) or len(got) < expect:
        assert time.monotonic() < deadline, f"{last!r} not received; got {[text(m) for m in got]}"
        batch = c.queues.receive_message(
            url,
            max_number_of_messages=10,
            wait_time_seconds=1,
            message_system_attribute_names=["All"],
        )
        for m in batch:
            c.queues.delete_message(url, m.receipt_handle)
        got += batch
    extra = c.queues.receive_message(url, max_number_of_messages=10, wait_time_seconds=1)
    return got + extra


def _fifo_queue(c: Client, name: str, **attributes: str) -> str:
    return c.queues.create_queue(f"{name}.fifo", attributes={"FifoQueue": "true", **attributes})


def test_every_group_arrives_in_order_at_two_fifo_queues(
    eventplane_server: EventplaneProcess,
) -> None:
    u = uuid.uuid4().hex[:8]
    groups = [f"g{i}" for i in range(6)]
    per_group = 20
    with eventplane_server.client() as c:
        topic = c.topics.create_topic(
            f"prices-{u}.fifo",
            attributes={"FifoTopic": "true", "FifoThroughputScope": "MessageGroup"},
        )
        assert c.topics.get_topic_attributes(topic)["Partitions"] == "4"
        enveloped = _fifo_queue(c, f"prices-{u}")  # one partition
        raw = _fifo_queue(
            c,
            f"prices-raw-{u}",
            DeduplicationScope="messageGroup",
            FifoThroughputLimit="perMessageGroupId",
            Partitions="3",
        )
        c.topics.subscribe(topic, "sqs", enveloped)
        c.topics.subscribe(topic, "sqs", raw, attributes=RAW)

        # Groups interleaved within each batch, a few single publishes in between.
        published: dict[str, list[tuple[str, str, str]]] = defaultdict(list)  # body, id, seq
        order = [(g, i) for i in range(per_group) for g in groups]
        for start in range(0, len(order), 10):
            chunk = order[start : start + 10]
            entries = [
                {
                    "id": f"e{n}",
                    "message": f"{g}-{i}",
                    "message_group_id": g,
                    "message_deduplication_id": f"{u}-{g}-{i}",
                }
                for n, (g, i) in enumerate(chunk)
            ]
            result = c.topics.publish_batch(topic, entries)
            assert not result.failed, result.failed
            by_id = {s.id: s for s in result.successful}
            for n, (g, i) in enumerate(chunk):
                s = by_id[f"e{n}"]
                assert s.sequence_number is not None and len(s.sequence_number) == 20
                published[g].append((f"{g}-{i}", s.message_id, s.sequence_number))
        end = c.topics.publish(topic, "end", message_group_id="g0", message_deduplication_id=u)
        assert end.sequence_number is not None

        for g in groups:
            sequences = [int(seq) for _, _, seq in published[g]]
            assert sequences == sorted(sequences) and len(set(sequences)) == per_group
        assert int(end.sequence_number) > int(published["g0"][-1][2])

        for url in (enveloped, raw):
            received = _drain_until(c, url, "end", expect=len(order) + 1)
            assert len(received) == len(order) + 1, "every message exactly once"
            by_group: dict[str, list[Message]] = defaultdict(list)
            for m in received:
                by_group[m.attributes["MessageGroupId"]].append(m)
            for g in groups:
                bodies = [_text(m) for m in by_group[g] if _text(m) != "end"]
                assert bodies == [body for body, _, _ in published[g]], f"group {g} out of order"
                dedup_ids = [m.attributes["MessageDeduplicationId"] for m in by_group[g]]
                assert dedup_ids[:per_group] == [f"{u}-{g}-{i}" for i in range(per_group)]

    # The SNS envelope carries the topic's MessageId and SequenceNumber.
    first_g1 = published["g1"][0]
    with eventplane_server.client() as c:
        queue = _fifo_queue(c, f"late-{u}")
        c.topics.subscribe(topic, "sqs", queue)
        p = c.topics.publish(
            topic, "late", message_group_id="g1", message_deduplication_id=f"{u}-late"
        )
        (m,) = _drain_until(c, queue, "late")
        envelope = json.loads(m.body)
        assert envelope["Type"] == "Notification"
        assert envelope["MessageId"] == p.message_id
        assert envelope["SequenceNumber"] == p.sequence_number
        assert envelope["TopicArn"] == topic
        assert int(p.sequence_number or 0) > int(first_g1[2])


def test_a_duplicate_within_five_minutes_is_accepted_but_delivered_once(
    eventplane_server: EventplaneProcess,
) -> None:
    u = uuid.uuid4().hex[:8]
    with eventplane_server.client() as c:
        topic = c.topics.create_topic(f"dedup-{u}.fifo", attributes={"FifoTopic": "true"})
        attributes = c.topics.get_topic_attributes(topic)
        assert attributes["FifoTopic"] == "true"
        assert attributes["ContentBasedDeduplication"] == "false"
        assert attributes["FifoThroughputScope"] == "Topic"
        assert attributes["Partitions"] == "1"
        queue = _fifo_queue(c, f"dedup-{u}")
        c.topics.subscribe(topic, "sqs", queue, attributes=RAW)

        first = c.topics.publish(
            topic, "first", message_group_id="a", message_deduplication_id="d1"
        )
        # Same dedup id: accepted, answered with the original ids, not delivered. Topic scope
        # deduplicates across groups.
        again = c.topics.publish(
            topic, "again", message_group_id="a", message_deduplication_id="d1"
        )
        other_group = c.topics.publish(
            topic, "other group", message_group_id="b", message_deduplication_id="d1"
        )
        assert again == first and other_group == first
        batch = c.topics.publish_batch(
            topic,
            [
                {"id": "1", "message": "second", "message_group_id": "a",
                 "message_deduplication_id": "d2"},
                {"id": "2", "message": "second again", "message_group_id": "a",
                 "message_deduplication_id": "d2"},
                {"id": "3", "message": "first again", "message_group_id": "a",
                 "message_deduplication_id": "d1"},
                {"id": "4", "message": "end", "message_group_id": "a",
                 "message_deduplication_id": "d3"},
            ],
        )  # fmt: skip
        assert not batch.failed
        ids = {s.id: (s.message_id, s.sequence_number) for s in batch.successful}
        assert ids["2"] == ids["1"]
        assert ids["3"] == (first.message_id, first.sequence_number)
        assert [m.body for m in _drain_until(c, queue, "end")] == ["first", "second", "end"]


def test_content_based_deduplication_and_message_group_scope(
    eventplane_server: EventplaneProcess,
) -> None:
    u = uuid.uuid4().hex[:8]
    with eventplane_server.client() as c:
        topic = c.topics.create_topic(
            f"cbd-{u}.fifo",
            attributes={
                "FifoTopic": "true",
                "ContentBasedDeduplication": "true",
                "FifoThroughputScope": "MessageGroup",
                "Partitions": "2",
            },
        )
        queue = _fifo_queue(c, f"cbd-{u}", DeduplicationScope="messageGroup", Partitions="2")
        c.topics.subscribe(topic, "sqs", queue, attributes=RAW)
        # No dedup id: the SHA-256 of the body is the id, per group in MessageGroup scope.
        c.topics.publish(topic, "same body", message_group_id="a")
        c.topics.publish(topic, "same body", message_group_id="a")
        c.topics.publish(topic, "same body", message_group_id="b")
        # An explicit id wins over the body hash.
        c.topics.publish(topic, "same body", message_group_id="a", message_deduplication_id="x")
        c.topics.publish(topic, "different", message_group_id="a")
        c.topics.publish(topic, "end", message_group_id="a")
        received = _drain_until(c, queue, "end")
        by_group: dict[str, list[str]] = defaultdict(list)
        for m in received:
            by_group[m.attributes["MessageGroupId"]].append(m.body)
        assert by_group == {
            "a": ["same body", "same body", "different", "end"],
            "b": ["same body"],
        }

        # A topic can widen its scope from Topic to MessageGroup, never back.
        narrow = c.topics.create_topic(f"cbd-narrow-{u}.fifo", attributes={"FifoTopic": "true"})
        c.topics.set_topic_attributes(narrow, "FifoThroughputScope", "MessageGroup")
        with pytest.raises(InvalidParameter, match="FifoThroughputScope"):
            c.topics.set_topic_attributes(topic, "FifoThroughputScope", "Topic")


def test_fifo_requests_sns_refuses(eventplane_server: EventplaneProcess) -> None:
    u = uuid.uuid4().hex[:8]
    with eventplane_server.client() as c:
        with pytest.raises(InvalidParameter, match=r"\.fifo"):
            c.topics.create_topic(f"no-suffix-{u}", attributes={"FifoTopic": "true"})
        with pytest.raises(InvalidParameter, match="FifoTopic=true"):
            c.topics.create_topic(f"no-attribute-{u}.fifo")
        with pytest.raises(InvalidParameter, match="FifoThroughputScope=Topic"):
            c.topics.create_topic(
                f"too-wide-{u}.fifo", attributes={"FifoTopic": "true", "Partitions": "4"}
            )
        topic = c.topics.create_topic(f"errors-{u}.fifo", attributes={"FifoTopic": "true"})
        standard_topic = c.topics.create_topic(f"errors-{u}")
        standard_queue = c.queues.create_queue(f"errors-{u}")
        fifo_queue = _fifo_queue(c, f"errors-{u}")

        with pytest.raises(InvalidParameter, match="Please use FIFO SQS queue"):
            c.topics.subscribe(topic, "sqs", standard_queue)
        with pytest.raises(InvalidParameter, match="Please use FIFO SQS queue"):
            c.topics.subscribe(topic, "http", "http://127.0.0.1:9/hook")
        with pytest.raises(InvalidParameter, match="can not be subscribed to standard SNS topics"):
            c.topics.subscribe(standard_topic, "sqs", fifo_queue)
        assert c.topics.list_subscriptions_by_topic(topic) == []

        with pytest.raises(InvalidParameter, match="MessageGroupId parameter is required"):
            c.topics.publish(topic, "x", message_deduplication_id="d")
        with pytest.raises(InvalidParameter, match="ContentBasedDeduplication"):
            c.topics.publish(topic, "x", message_group_id="g")
        with pytest.raises(InvalidParameter, match="MessageGroupId"):
            c.topics.publish(standard_topic, "x", message_group_id="g")

        result = c.topics.publish_batch(
            topic,
            [
                {"id": "ok", "message": "x", "message_group_id": "g",
                 "message_deduplication_id": "d"},
                {"id": "no-group", "message": "x", "message_deduplication_id": "d2"},
            ],
        )  # fmt: skip
        assert [s.id for s in result.successful] == ["ok"]
        assert result.successful[0].sequence_number
        assert [(f.id, f.code) for f in result.failed] == [("no-group", "InvalidParameter")]
        # Standard topics answer without a sequence number.
        assert c.topics.publish(standard_topic, "x").sequence_number is None


def test_the_journal_rebuilds_the_window(
    eventplane_server: EventplaneProcess, kafka_settings: Settings
) -> None:
    """What a dispatcher taking over a partition reads: every accepted id, no duplicate."""
    u = uuid.uuid4().hex[:8]
    name = f"journal-{u}.fifo"
    with eventplane_server.client() as c:
        topic = c.topics.create_topic(name, attributes={"FifoTopic": "true"})
        queue = _fifo_queue(c, f"journal-{u}")
        c.topics.subscribe(topic, "sqs", queue, attributes=RAW)
        sent = [c.topics.publish(topic, f"m{i}", message_group_id=f"g{i % 3}",
                                 message_deduplication_id=f"d{i}") for i in range(10)]  # fmt: skip
        c.topics.publish(topic, "dup", message_group_id="g0", message_deduplication_id="d4")
        assert len(_drain_until(c, queue, "m9")) == 10
    (window,) = read_windows(kafka_settings, [(naming.topic_topic(name), 0)]).values()
    assert len(window) == 10
    published = int(time.time() * 1000)
    for i in range(10):
        assert not window.offer("Topic", "any", f"d{i}", published), f"d{i} forgotten"
    assert window.offer("Topic", "g0", "d10", published)
    assert len({p.sequence_number for p in sent}) == 10


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_dedup_window_survives_a_crash() -> None:
    """SIGKILL the only replica mid-window: the restarted one rebuilds it from the journal.

    On a broker of its own: on the shared one, the session server (a replica of the same
    fan-out group) might own the partition and keep the window in memory.
    """
    broker = LocalKafka.from_settings(load_settings({}), free_port())
    broker.start(fresh=True)
    server = EventplaneProcess(broker.bootstrap).start()
    try:
        with server.client(timeout=10) as c:
            topic = c.topics.create_topic("crash.fifo", attributes={"FifoTopic": "true"})
            queue = _fifo_queue(c, "crash")
            c.topics.subscribe(topic, "sqs", queue, attributes=RAW)
            for i in range(20):
                c.topics.publish(
                    topic, f"m{i}", message_group_id="g", message_deduplication_id=f"d{i}"
                )
            assert [m.body for m in _drain_until(c, queue, "m19")] == [f"m{i}" for i in range(20)]
        server.kill()
        server.restart()
        with server.client(timeout=10) as c:
            # Accepted (this replica's memory of its answers is gone, so with new ids) ...
            assert c.topics.publish(
                topic, "m3 again", message_group_id="g", message_deduplication_id="d3"
            ).sequence_number
            c.topics.publish(topic, "end", message_group_id="g", message_deduplication_id="end")
            # ... but not delivered again.
            assert [m.body for m in _drain_until(c, queue, "end", timeout=90)] == ["end"]
    finally:
        server.stop()
        broker.stop()
