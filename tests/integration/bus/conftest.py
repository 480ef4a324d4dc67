"""Fixtures for event bus tests: one server per module, a client, self-cleaning resources
and a local HTTP endpoint.

Each module gets its own server (module scope), so the modules that start and kill their
own replicas (schedules, crashes) run with no other server of this package alive.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eventplane.client import Client
from eventplane.testing import EventplaneProcess, unique_cluster

from .support import BUS_ENV, Endpoint, Resources


@pytest.fixture(scope="module")
def bus_server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    server = EventplaneProcess(eventplane_kafka, env=BUS_ENV, cluster=unique_cluster()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(bus_server: EventplaneProcess) -> Iterator[Client]:
    with bus_server.client(timeout=30) as c:
        yield c


@pytest.fixture
def res(client: Client) -> Iterator[Resources]:
    resources = Resources(client)
    try:
        yield resources
    finally:
        resources.cleanup()


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    e = Endpoint().start()
    try:
        yield e
    finally:
        e.stop()
