"""SIGTERM drains: a long poll in flight completes normally, then the process exits 0."""

from __future__ import annotations

import threading
import time
import urllib.request
import uuid

import pytest

from eventplane.testing import EventplaneProcess, eventually, unique_cluster

pytestmark = pytest.mark.integration


def _metrics(server: EventplaneProcess) -> str:
    with urllib.request.urlopen(server.metrics_url, timeout=5) as resp:
        return resp.read().decode()


def test_sigterm_lets_an_in_flight_long_poll_finish(eventplane_kafka: str) -> None:
    server = EventplaneProcess(
        eventplane_kafka, env={"EVENTPLANE_SHUTDOWN_GRACE": "10"}, cluster=unique_cluster()
    ).start()
    outcome: dict[str, object] = {}
    with server.client(timeout=30) as c:
        url = c.queues.create_queue(f"drain-{uuid.uuid4().hex[:8]}")

        def long_poll() -> None:
            started = time.monotonic()
            try:
                outcome["messages"] = c.queues.receive_message(url, wait_time_seconds=3)
            except Exception as exc:
                outcome["error"] = exc
            outcome["elapsed"] = time.monotonic() - started

        poller = threading.Thread(target=long_poll)
        poller.start()
        # SIGTERM only once the poll is in flight on the server.
        eventually(
            lambda: 'eventplane_rpc_in_flight_requests{service="Queues"} 1.0' in _metrics(server)
        )
        assert server.proc is not None
        server.proc.terminate()
        poller.join(timeout=30)
        assert server.proc.wait(30) == 0
    assert "error" not in outcome, outcome
    assert outcome["messages"] == []
    assert float(outcome["elapsed"]) >= 2.5  # it ran its full wait, it was not cut off
    log = server.log_tail(200)
    assert "eventplane stopping" in log and "eventplane stopped" in log
