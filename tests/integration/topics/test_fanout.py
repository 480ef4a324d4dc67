"""SNS-style fan-out into queues on the real broker: filter policies, envelopes, exactly once."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from typing import Any

import pytest

from eventplane.client import Client, Message
from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess, unique_cluster
from eventplane.topics.errors import InvalidParameter, NotFound

pytestmark = pytest.mark.integration


def _drain(c: Client, url: str, expected: int, *, timeout: float = 30.0) -> list[Message]:
    """Receive and delete until ``expected`` messages arrived (then a short look for extras)."""
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    while len(got) < expected and time.monotonic() < deadline:
        batch = c.queues.receive_message(
            url, max_number_of_messages=10, wait_time_seconds=1, message_attribute_names=["All"]
        )
        for m in batch:
            c.queues.delete_message(url, m.receipt_handle)
        got += batch
    got += c.queues.receive_message(url, max_number_of_messages=10, wait_time_seconds=1)
    return got


def _attrs(**values: Any) -> dict[str, dict[str, str]]:
    return {
        k: {"DataType": "Number" if isinstance(v, int) else "String", "StringValue": str(v)}
        for k, v in values.items()
    }


def test_one_publish_reaches_each_subscription_as_its_filter_policy_says(
    eventplane_server: EventplaneProcess,
) -> None:
    u = uuid.uuid4().hex[:8]
    with eventplane_server.client() as c:
        topic = c.topics.create_topic(f"orders-{u}")
        every = c.queues.create_queue(f"every-{u}")
        big = c.queues.create_queue(f"big-{u}")
        raw_new = c.queues.create_queue(f"raw-new-{u}")
        c.topics.subscribe(topic, "sqs", every)
        c.topics.subscribe(
            topic, "sqs", big, attributes={"FilterPolicy": {"amount": [{"numeric": [">", 100]}]}}
        )
        c.topics.subscribe(
            topic,
            "sqs",
            raw_new,
            attributes={"RawMessageDelivery": "true", "FilterPolicy": {"kind": ["new"]}},
        )
        small = c.topics.publish(
            topic, "small new", subject="s1", message_attributes=_attrs(amount=5, kind="new")
        )
        large = c.topics.publish(
            topic, "big old", message_attributes=_attrs(amount=500, kind="old")
        )

        envelopes = [json.loads(m.body) for m in _drain(c, every, 2)]
        assert sorted(e["Message"] for e in envelopes) == ["big old", "small new"]
        first = next(e for e in envelopes if e["Message"] == "small new")
        assert first["Type"] == "Notification"
        assert first["MessageId"] == small.message_id
        assert first["TopicArn"] == topic
        assert first["Subject"] == "s1"
        assert first["MessageAttributes"]["amount"] == {"Type": "Number", "Value": "5"}

        assert [json.loads(m.body)["MessageId"] for m in _drain(c, big, 1)] == [large.message_id]

        (raw,) = _drain(c, raw_new, 1)
        assert raw.body == "small new"  # raw: the message itself, attributes as SQS attributes
        assert raw.message_attributes["kind"].string_value == "new"


def test_invalid_requests_get_sns_errors_and_nothing_breaks(
    eventplane_server: EventplaneProcess,
) -> None:
    u = uuid.uuid4().hex[:8]
    with eventplane_server.client() as c:
        topic = c.topics.create_topic(f"bad-{u}")
        queue = c.queues.create_queue(f"bad-{u}")
        with pytest.raises(InvalidParameter, match="FilterPolicy"):
            c.topics.subscribe(
                topic, "sqs", queue, attributes={"FilterPolicy": '{"a": "not-a-list"}'}
            )
        with pytest.raises(NotFound):
            c.topics.publish(f"arn:aws:sns:local:000000000000:nope-{u}", "x")
        with pytest.raises(InvalidParameter):
            c.topics.publish(topic, "x" * 262_145)
        with pytest.raises(EventplaneError):
            c.topics.subscribe(topic, "carrier-pigeon", "coo")
        # Still serving: a good publish goes through.
        c.topics.subscribe(topic, "sqs", queue, attributes={"RawMessageDelivery": "true"})
        c.topics.publish(topic, "fine")
        assert [m.body for m in _drain(c, queue, 1)] == ["fine"]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_sigkill_mid_fan_out_delivers_every_message_exactly_once(eventplane_kafka: str) -> None:
    server = EventplaneProcess(eventplane_kafka, cluster=unique_cluster()).start()
    u = uuid.uuid4().hex[:8]
    total = 2000
    try:
        with server.client(timeout=10) as c:
            topic = c.topics.create_topic(f"kill-{u}")
            queues = [c.queues.create_queue(f"kill-{u}-{i}") for i in range(2)]
            for q in queues:
                c.topics.subscribe(topic, "sqs", q, attributes={"RawMessageDelivery": "true"})
            bodies = [f"m-{i}" for i in range(total)]
            for start in range(0, total, 10):
                entries = [
                    {"id": str(i), "message": b} for i, b in enumerate(bodies[start : start + 10])
                ]
                result = c.topics.publish_batch(topic, entries)
                assert not result.failed
                if start == total // 2:
                    server.kill()  # mid fan-out: transactions in flight are aborted
                    server.restart()
        with server.client(timeout=10) as c:
            for q in queues:
                received = Counter(m.body for m in _drain(c, q, total, timeout=120))
                assert set(received) == set(bodies), f"missing {len(set(bodies) - set(received))}"
                dupes = {b: n for b, n in received.items() if n > 1}
                assert not dupes, f"delivered more than once: {list(dupes)[:5]}"
    finally:
        server.stop()
