"""HTTP/S subscribers on a real local HTTP server: retries, dead-letter queue, independence."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from eventplane.testing import EventplaneProcess, eventually, unique_cluster
from eventplane.topics.errors import InvalidParameter

pytestmark = pytest.mark.integration


class Endpoint:
    """Records every notification POST per path, answering per the path's plan; a
    SubscriptionConfirmation goes to ``confirmations`` instead and is answered 200."""

    def __init__(self) -> None:
        self.requests: dict[str, list[dict[str, Any]]] = {}
        self.confirmations: dict[str, list[dict[str, Any]]] = {}
        self.fail_first: dict[str, int] = {}  # path -> how many attempts get a 500
        self.delay: dict[str, float] = {}  # path -> seconds before answering
        self.lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                if self.headers["x-amz-sns-message-type"] == "SubscriptionConfirmation":
                    with endpoint.lock:
                        endpoint.confirmations.setdefault(self.path, []).append(
                            {"body": body, "headers": dict(self.headers)}
                        )
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with endpoint.lock:
                    seen = endpoint.requests.setdefault(self.path, [])
                    seen.append({"body": body, "headers": dict(self.headers), "at": time.time()})
                    failing = len(seen) <= endpoint.fail_first.get(self.path, 0)
                time.sleep(endpoint.delay.get(self.path, 0.0))
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with endpoint.lock:
                    seen[-1]["done"] = time.time()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def got(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.requests.get(path, []))

    def confirmations_of(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.confirmations.get(path, []))


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    e = Endpoint()
    e.thread.start()
    yield e
    e.server.shutdown()
    e.server.server_close()


@pytest.fixture(scope="module")
def fast_retries(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    """A server whose HTTP retry waits are 1/100 of SNS's (20 s -> 0.2 s)."""
    server = EventplaneProcess(
        eventplane_kafka, env={"EVENTPLANE_DELIVERY_TIME_SCALE": "0.01"}, cluster=unique_cluster()
    )
    server.start()
    yield server
    server.stop()


def test_failing_twice_then_succeeding_gets_the_message_once(
    fast_retries: EventplaneProcess, endpoint: Endpoint
) -> None:
    endpoint.fail_first["/flaky"] = 2
    with fast_retries.client() as c:
        topic = c.topics.create_topic(f"http-{uuid.uuid4().hex[:8]}")
        sub = c.topics.subscribe(topic, "http", endpoint.url("/flaky"))
        sent = c.topics.publish(topic, "hello", subject="greeting")
        eventually(lambda: len(endpoint.got("/flaky")) >= 3, timeout=60)
    attempts = endpoint.got("/flaky")
    assert len(attempts) == 3  # two 500s, then one 200: one successful delivery
    ok = attempts[-1]
    envelope = json.loads(ok["body"])
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == sent.message_id
    assert envelope["Message"] == "hello" and envelope["Subject"] == "greeting"
    assert ok["headers"]["x-amz-sns-message-type"] == "Notification"
    assert ok["headers"]["x-amz-sns-subscription-arn"] == sub
    # ...and no fourth attempt, as it was delivered (absence needs a bounded wait).
    time.sleep(1.0)
    assert len(endpoint.got("/flaky")) == 3


def test_always_failing_endpoint_ends_in_the_dead_letter_queue(
    fast_retries: EventplaneProcess, endpoint: Endpoint
) -> None:
    endpoint.fail_first["/down"] = 10_000
    u = uuid.uuid4().hex[:8]
    with fast_retries.client() as c:
        topic = c.topics.create_topic(f"down-{u}")
        dlq = c.queues.create_queue(f"down-dlq-{u}")
        dlq_arn = c.queues.get_queue_attributes(dlq, ["QueueArn"])["QueueArn"]
        c.topics.subscribe(
            topic,
            "http",
            endpoint.url("/down"),
            attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})},
        )
        sent = c.topics.publish(topic, "nobody home")
        (m,) = eventually(lambda: c.queues.receive_message(dlq, wait_time_seconds=2), timeout=60)
    assert json.loads(m.body)["MessageId"] == sent.message_id
    assert len(endpoint.got("/down")) == 4  # SNS's default policy: 1 + 3 retries


def test_a_slow_endpoint_does_not_delay_queue_subscribers(
    fast_retries: EventplaneProcess, endpoint: Endpoint
) -> None:
    endpoint.delay["/slow"] = 5.0
    u = uuid.uuid4().hex[:8]
    with fast_retries.client() as c:
        topic = c.topics.create_topic(f"slow-{u}")
        queue = c.queues.create_queue(f"slow-q-{u}")
        c.topics.subscribe(topic, "http", endpoint.url("/slow"))
        c.topics.subscribe(topic, "sqs", queue, attributes={"RawMessageDelivery": "true"})
        c.topics.publish(topic, "both")
        (m,) = eventually(lambda: c.queues.receive_message(queue, wait_time_seconds=2), timeout=30)
        received_at = time.time()
    assert m.body == "both"
    # The queue had it while the slow endpoint was still busy answering.
    (post,) = eventually(lambda: endpoint.got("/slow"), timeout=30)
    assert "done" not in post or post["done"] > received_at


def test_a_new_subscription_is_sent_the_token_confirm_subscription_takes(
    fast_retries: EventplaneProcess, endpoint: Endpoint
) -> None:
    with fast_retries.client() as c:
        topic = c.topics.create_topic(f"confirm-{uuid.uuid4().hex[:8]}")
        sub = c.topics.subscribe(topic, "http", endpoint.url("/confirm"))
        (sent,) = eventually(lambda: endpoint.confirmations_of("/confirm"), timeout=30)
        message = json.loads(sent["body"])
        assert message["Type"] == "SubscriptionConfirmation"
        assert message["TopicArn"] == topic == sent["headers"]["x-amz-sns-topic-arn"]
        assert f"Token={message['Token']}" in message["SubscribeURL"]
        assert c.topics.confirm_subscription(topic, message["Token"]) == sub
        # Confirmed already (eventplane delivers from the start): confirming again is fine.
        assert c.topics.confirm_subscription(topic, message["Token"]) == sub
        # Subscribing the same endpoint again sends nothing new and keeps the token.
        assert c.topics.subscribe(topic, "http", endpoint.url("/confirm")) == sub
        other = c.topics.create_topic(f"confirm-other-{uuid.uuid4().hex[:8]}")
        with pytest.raises(InvalidParameter):
            c.topics.confirm_subscription(other, message["Token"])  # not that topic's
        with pytest.raises(InvalidParameter):
            c.topics.confirm_subscription(topic, "0" * 128)
        c.topics.unsubscribe(sub)
        with pytest.raises(InvalidParameter):
            c.topics.confirm_subscription(topic, message["Token"])
    assert len(endpoint.confirmations_of("/confirm")) == 1
