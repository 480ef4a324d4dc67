"""Fixtures for function tests: one server per module (async retries scaled to 1/100),
a client, and self-cleaning resources.

Module scope keeps the modules that start and kill their own replicas (test_crash.py)
free of any other server of this package: a server left alive would run their async
invocations for them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eventplane.client import Client
from eventplane.testing import EventplaneProcess, unique_cluster

from .support import FUNCTIONS_ENV, Resources


@pytest.fixture(scope="module")
def fn_server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    server = EventplaneProcess(
        eventplane_kafka, env=FUNCTIONS_ENV, cluster=unique_cluster()
    ).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(fn_server: EventplaneProcess) -> Iterator[Client]:
    with fn_server.client(timeout=30) as c:
        yield c


@pytest.fixture
def res(client: Client) -> Iterator[Resources]:
    resources = Resources(client)
    try:
        yield resources
    finally:
        resources.cleanup()
