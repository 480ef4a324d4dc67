"""pytest fixtures for testing against a real eventplane (loaded via the pytest11 entry point).

- ``eventplane_kafka`` (session): bootstrap servers. Uses EVENTPLANE_KAFKA_BOOTSTRAP
  when set; otherwise starts a local broker on EVENTPLANE_TEST_KAFKA_PORT (default
  14092, below the range free_port() picks from), reusing one that already runs
  there, and stops it at the end if it started it. Under pytest-xdist each worker
  gets its own broker on that port plus the worker's index (gw0: 14092, gw1: 14093,
  ...): every server on one broker is a replica of the same cluster, so workers
  sharing a broker would share their queues' partitions.
  EVENTPLANE_TEST_KAFKA_FRESH=1 wipes a broker's data before starting it.
- ``eventplane_server`` (session): a server process with every role on that broker.
- ``eventplane_client``: a Client connected to it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from eventplane.testing.harness import EventplaneProcess


def _worker_index() -> int:
    """0 without xdist; N for xdist worker ``gwN``."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return (
        int(worker[2:])
        if worker.startswith("gw") and (worker[2:].isascii() and worker[2:].isdigit())
        else 0
    )


@pytest.fixture(scope="session")
def eventplane_kafka() -> Iterator[str]:
    bootstrap = os.environ.get("EVENTPLANE_KAFKA_BOOTSTRAP")
    if bootstrap:
        yield bootstrap
        return
    from eventplane.config import load_settings
    from eventplane.kafka.local import LocalKafka

    port = int(os.environ.get("EVENTPLANE_TEST_KAFKA_PORT", "14092")) + _worker_index()
    broker = LocalKafka.from_settings(load_settings(), port)
    started = broker.start(fresh=os.environ.get("EVENTPLANE_TEST_KAFKA_FRESH") == "1")
    try:
        yield broker.bootstrap
    finally:
        if started:
            broker.stop()


@pytest.fixture(scope="session")
def eventplane_server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    server = EventplaneProcess(eventplane_kafka).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _eventplane_server_alive(request: pytest.FixtureRequest) -> Iterator[None]:
    """A session server that died fails the test that finds it dead, once, with the
    server's last log lines, and is started again: one crash is one failure that
    says why, not every later test of the session failing on a refused connection."""
    yield
    if "eventplane_server" not in request.fixturenames:
        return
    server: EventplaneProcess = request.getfixturevalue("eventplane_server")
    if server.proc is None or server.proc.poll() is None:
        return
    code, tail = server.proc.returncode, server.log_tail(80)
    server.start()  # same ports: later tests and their clients carry on
    pytest.fail(f"the session's eventplane server died (exit {code}); its log ends:\n{tail}")


@pytest.fixture
def eventplane_client(eventplane_server: EventplaneProcess) -> Iterator[Any]:
    with eventplane_server.client() as client:
        yield client
