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


# Shared servers found dead during the session: (test, exit code, log tail).
DIED: list[tuple[str, int | None, str]] = []


def revive(server: EventplaneProcess, nodeid: str) -> None:
    """Start a shared (session/module) server again if it died, on the same ports, and
    record its exit code and last log lines for the session's summary.

    A shared server's death would otherwise fail every later test that uses it with a
    refused connection, saying nothing of why. The test during which it died fails on
    its own if it saw the death; the summary names every death so it is never silent.
    """
    if server.proc is None or server.proc.poll() is None:
        return
    DIED.append((nodeid, server.proc.returncode, server.log_tail(60)))
    server.start()


@pytest.fixture(autouse=True)
def _eventplane_server_alive(request: pytest.FixtureRequest) -> Iterator[None]:
    if "eventplane_server" in request.fixturenames:
        revive(request.getfixturevalue("eventplane_server"), request.node.nodeid)
    yield


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not DIED:
        return
    terminalreporter.section("eventplane servers that died and were restarted", red=True)
    for nodeid, code, tail in DIED:
        terminalreporter.write_line(f"before {nodeid}: exit {code}; its log ends:")
        terminalreporter.write_line(tail)


@pytest.fixture
def eventplane_client(eventplane_server: EventplaneProcess) -> Iterator[Any]:
    with eventplane_server.client() as client:
        yield client
