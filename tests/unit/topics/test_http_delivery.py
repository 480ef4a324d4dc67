"""HTTP/S delivery against a real local HTTP server: attempts, headers, body, delays, timeouts.

Timing assertions are lower bounds only (a retry never comes early); nothing asserts that a
run was fast, so a loaded machine cannot make these tests flaky.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from eventplane.topics.envelope import http_headers
from eventplane.topics.errors import InvalidParameter
from eventplane.topics.http_delivery import (
    RetryPolicy,
    deliver,
    effective_topic_policy,
    is_retriable,
    post,
)

TOPIC = "arn:aws:sns:local:000000000000:t"
SUB = f"{TOPIC}:abc"
# 3 retries waiting 1, 2.5 and 4 (linear from 1 to 4) scaled to 0.05, 0.125 and 0.2 seconds.
FAST = RetryPolicy.from_delivery_policy(
    '{"healthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 4, "numRetries": 3}}',
    time_scale=0.05,
)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Endpoint:
    """A local HTTP server whose behaviour is chosen by the request path."""

    url: str
    requests: list[Seen] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    release: threading.Event = field(default_factory=threading.Event)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]


def _handler(endpoint: Endpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            endpoint.requests.append(
                Seen(self.path, dict(self.headers.items()), body, time.monotonic())
            )
            endpoint.counts[self.path] += 1
            parts = self.path.strip("/").split("/")
            status = 200
            if parts[0] == "flaky":  # /flaky/<n>: fail n times, then succeed
                status = 500 if endpoint.counts[self.path] <= int(parts[1]) else 200
            elif parts[0] == "status":  # /status/<code>: always that code
                status = int(parts[1])
            elif parts[0] == "slow":  # answer only when the test lets go (or after 10 s)
                endpoint.release.wait(10)
            elif parts[0] == "redirect":
                status = 302
            self.send_response(status)
            if status == 302:
                self.send_header("Location", "/ok")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up (timeout test) is expected here


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = _QuietServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = Endpoint(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def _headers(raw: bool = False) -> dict[str, str]:
    return http_headers(message_id="m-1", topic_arn=TOPIC, subscription_arn=SUB, raw=raw)


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


# --- one POST -----------------------------------------------------------------------------


def test_post_sends_headers_and_body(endpoint: Endpoint) -> None:
    body = json.dumps({"Type": "Notification", "Message": "héllo ✓"}, ensure_ascii=False)
    status = _run(post(f"{endpoint.url}/ok?x=1", body, _headers()))
    assert status == 200
    [seen] = endpoint.requests
    assert seen.path == "/ok?x=1"
    assert seen.body == body.encode()
    assert seen.headers["x-amz-sns-message-type"] == "Notification"
    assert seen.headers["x-amz-sns-message-id"] == "m-1"
    assert seen.headers["x-amz-sns-topic-arn"] == TOPIC
    assert seen.headers["x-amz-sns-subscription-arn"] == SUB
    assert seen.headers["x-amz-sns-rawdelivery"] == "false"
    assert seen.headers["Content-Type"] == "text/plain; charset=UTF-8"
    assert seen.headers["User-Agent"] == "eventplane"
    assert seen.headers["Content-Length"] == str(len(body.encode()))
    assert seen.headers["Host"] == endpoint.url.removeprefix("http://")


def test_post_turns_url_credentials_into_basic_auth(endpoint: Endpoint) -> None:
    url = endpoint.url.replace("http://", "http://user:p%40ss@") + "/ok"
    assert _run(post(url, "x", {})) == 200
    expected = "Basic " + base64.b64encode(b"user:p@ss").decode()
    assert endpoint.requests[0].headers["Authorization"] == expected


def test_post_returns_the_status(endpoint: Endpoint) -> None:
    assert _run(post(f"{endpoint.url}/status/503", "x", {})) == 503
    assert _run(post(f"{endpoint.url}/status/404", "x", {})) == 404


def test_post_does_not_follow_redirects(endpoint: Endpoint) -> None:
    assert _run(post(f"{endpoint.url}/redirect", "x", {})) == 302
    assert endpoint.paths() == ["/redirect"]


def test_post_times_out_as_zero(endpoint: Endpoint) -> None:
    assert _run(post(f"{endpoint.url}/slow", "x", {}, timeout=0.2)) == 0


def test_post_connection_refused_is_zero() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert _run(post(f"http://127.0.0.1:{port}/", "x", {})) == 0


def test_post_tls_to_a_plain_server_is_zero(endpoint: Endpoint) -> None:
    url = endpoint.url.replace("http://", "https://") + "/ok"
    assert _run(post(url, "x", {}, timeout=5)) == 0


@pytest.mark.parametrize(
    ("url", "headers"),
    [("ftp://example.com/", {}), ("not a url", {}), ("http://127.0.0.1:1/", {"X": "a\r\nb"})],
)
def test_post_never_raises_for_bad_input(url: str, headers: dict[str, str]) -> None:
    assert _run(post(url, "x", headers, timeout=1)) == 0


# --- retries ------------------------------------------------------------------------------


def test_retries_until_success_waiting_the_policy_delays(endpoint: Endpoint) -> None:
    start = time.monotonic()
    delivered, attempts = _run(deliver(f"{endpoint.url}/flaky/2", "x", _headers(), FAST))
    assert (delivered, attempts) == (True, 3)
    assert endpoint.paths() == ["/flaky/2"] * 3
    delays = FAST.delays()
    gaps = [b.at - a.at for a, b in itertools.pairwise(endpoint.requests)]
    for gap, delay in zip(gaps, delays, strict=False):
        assert gap >= delay
    assert time.monotonic() - start >= sum(delays[:2])
    # A retry carries the same message id, so the endpoint can deduplicate.
    assert {r.headers["x-amz-sns-message-id"] for r in endpoint.requests} == {"m-1"}


def test_always_failing_endpoint_gets_every_retry(endpoint: Endpoint) -> None:
    start = time.monotonic()
    result = _run(deliver(f"{endpoint.url}/status/500", "x", _headers(), FAST))
    assert result == (False, FAST.num_retries + 1)
    assert len(endpoint.requests) == 4
    assert time.monotonic() - start >= sum(FAST.delays())


def test_client_errors_are_not_retried(endpoint: Endpoint) -> None:
    assert _run(deliver(f"{endpoint.url}/status/404", "x", _headers(), FAST)) == (False, 1)
    assert _run(deliver(f"{endpoint.url}/status/400", "x", _headers(), FAST)) == (False, 1)


@pytest.mark.parametrize("status", [429, 408, 302, 503])
def test_throttling_timeouts_redirects_and_server_errors_are_retried(
    endpoint: Endpoint, status: int
) -> None:
    path = "/redirect" if status == 302 else f"/status/{status}"
    assert _run(deliver(f"{endpoint.url}{path}", "x", _headers(), FAST)) == (False, 4)


def test_a_timeout_counts_as_a_failed_attempt(endpoint: Endpoint) -> None:
    policy = replace(FAST, num_retries=1, timeout_s=0.2)
    start = time.monotonic()
    assert _run(deliver(f"{endpoint.url}/slow", "x", _headers(), policy)) == (False, 2)
    assert time.monotonic() - start >= 2 * 0.2 + policy.delays()[0]


def test_zero_retries_means_one_attempt(endpoint: Endpoint) -> None:
    policy = replace(FAST, num_retries=0)
    assert _run(deliver(f"{endpoint.url}/status/500", "x", _headers(), policy)) == (False, 1)
    assert _run(deliver(f"{endpoint.url}/ok", "x", _headers(), policy)) == (True, 1)


def test_is_retriable() -> None:
    assert [is_retriable(s) for s in (0, 302, 400, 403, 404, 408, 429, 500, 503)] == [
        True,
        True,
        False,
        False,
        False,
        True,
        True,
        True,
        True,
    ]


# --- the policy ---------------------------------------------------------------------------


def test_sns_default_policy() -> None:
    for policy in (RetryPolicy(), RetryPolicy.from_delivery_policy(None)):
        assert policy == RetryPolicy.from_delivery_policy("")
        assert policy.delays() == [20.0, 20.0, 20.0]
        assert policy.timeout_s == 15.0
        assert policy.content_type == "text/plain; charset=UTF-8"
        assert policy.max_receives_per_second is None


def test_the_documented_four_phase_example() -> None:
    policy = RetryPolicy.from_delivery_policy(
        json.dumps(
            {
                "healthyRetryPolicy": {
                    "minDelayTarget": 1,
                    "maxDelayTarget": 60,
                    "numRetries": 50,
                    "numNoDelayRetries": 3,
                    "numMinDelayRetries": 2,
                    "numMaxDelayRetries": 35,
                    "backoffFunction": "exponential",
                },
                "throttlePolicy": {"maxReceivesPerSecond": 10},
                "requestPolicy": {"headerContentType": "application/json"},
            }
        )
    )
    delays = policy.delays()
    assert len(delays) == 50
    assert delays[:3] == [0.0] * 3
    assert delays[3:5] == [1.0, 1.0]
    backoff = delays[5:15]
    assert backoff[0] == 1.0 and backoff[-1] == 60.0
    assert backoff == sorted(backoff)
    assert delays[15:] == [60.0] * 35
    assert policy.max_receives_per_second == 10
    assert policy.content_type == "application/json"


@pytest.mark.parametrize("function", ["linear", "arithmetic", "geometric", "exponential"])
def test_backoff_runs_from_min_to_max(function: str) -> None:
    policy = RetryPolicy(num_retries=10, min_delay_s=5, max_delay_s=260, backoff=function)
    delays = policy.delays()
    assert len(delays) == 10
    assert delays[0] == 5 and delays[-1] == 260
    assert delays == sorted(delays)
    if function == "linear":
        steps = {round(b - a, 6) for a, b in itertools.pairwise(delays)}
        assert len(steps) == 1


def test_time_scale_multiplies_every_delay() -> None:
    document = (
        '{"healthyRetryPolicy": {"minDelayTarget": 2, "maxDelayTarget": 10, "numRetries": 5}}'
    )
    full = RetryPolicy.from_delivery_policy(document)
    scaled = RetryPolicy.from_delivery_policy(document, time_scale=0.01)
    assert scaled.delays() == pytest.approx([d * 0.01 for d in full.delays()])
    assert scaled.timeout_s == full.timeout_s


def test_topic_shape_and_subscription_overrides() -> None:
    topic = json.dumps(
        {
            "http": {
                "defaultHealthyRetryPolicy": {"numRetries": 5, "minDelayTarget": 1},
                "defaultRequestPolicy": {"headerContentType": "application/json"},
            }
        }
    )
    assert RetryPolicy.from_delivery_policy(topic).num_retries == 5
    own = '{"healthyRetryPolicy": {"numRetries": 1}}'
    merged = RetryPolicy.for_subscription(own, topic)
    assert merged.num_retries == 1
    # Sections the subscription does not set keep the topic's.
    assert merged.content_type == "application/json"
    assert RetryPolicy.for_subscription(None, topic).num_retries == 5
    assert RetryPolicy.for_subscription(None, None) == RetryPolicy()
    locked = json.dumps(
        {"http": {**json.loads(topic)["http"], "disableSubscriptionOverrides": True}}
    )
    assert RetryPolicy.for_subscription(own, locked).num_retries == 5


def test_one_bound_given_keeps_the_other_consistent() -> None:
    assert RetryPolicy.from_delivery_policy(
        '{"healthyRetryPolicy": {"maxDelayTarget": 5}}'
    ).delays() == [5.0, 5.0, 5.0]
    assert RetryPolicy.from_delivery_policy(
        '{"healthyRetryPolicy": {"minDelayTarget": 30}}'
    ).delays() == [30.0, 30.0, 30.0]


def test_invalid_policy_raises_invalid_parameter() -> None:
    with pytest.raises(InvalidParameter, match="DeliveryPolicy"):
        RetryPolicy.from_delivery_policy('{"healthyRetryPolicy": {"numRetries": 101}}')


def test_effective_topic_policy() -> None:
    effective = json.loads(effective_topic_policy(None))
    assert effective == {
        "http": {
            "defaultHealthyRetryPolicy": {
                "minDelayTarget": 20,
                "maxDelayTarget": 20,
                "numRetries": 3,
                "numMaxDelayRetries": 0,
                "numNoDelayRetries": 0,
                "numMinDelayRetries": 0,
                "backoffFunction": "linear",
            },
            "disableSubscriptionOverrides": False,
            "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"},
        }
    }
    custom = json.loads(
        effective_topic_policy(
            '{"http": {"defaultThrottlePolicy": {"maxReceivesPerSecond": 3}, '
            '"disableSubscriptionOverrides": true}}'
        )
    )
    assert custom["http"]["defaultThrottlePolicy"] == {"maxReceivesPerSecond": 3}
    assert custom["http"]["disableSubscriptionOverrides"] is True
