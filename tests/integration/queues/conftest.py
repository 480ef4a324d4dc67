"""Fixtures for queue tests: a client bound to the session server and fresh queues."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess


@pytest.fixture
def client(eventplane_server: EventplaneProcess) -> Iterator[Client]:
    with eventplane_server.client() as c:
        yield c


@pytest.fixture
def make_queue(client: Client) -> Iterator[Callable[..., str]]:
    """make_queue(fifo=False, **attributes) -> queue URL; queues are deleted afterwards."""
    created: list[str] = []

    def make(*, fifo: bool = False, name: str | None = None, **attributes: Any) -> str:
        base = name or f"t-{uuid.uuid4().hex[:12]}"
        attrs = {k: str(v) for k, v in attributes.items()}
        if fifo:
            base += ".fifo"
            attrs["FifoQueue"] = "true"
        url = client.queues.create_queue(base, attributes=attrs)
        created.append(url)
        return url

    yield make
    for url in created:
        with contextlib.suppress(EventplaneError):  # a test may delete its own queue
            client.queues.delete_queue(url)


@pytest.fixture
def new_queue(client: Client, make_queue: Callable[..., str]) -> Callable[..., str]:
    """``make_queue``, then wait until the server serves the new queue.

    A new queue's partitions reach their owner after a consumer-group rebalance; until
    then every receive is empty, which would make "nothing to receive yet" assertions
    vacuous. A probe message that makes the round trip proves the queue is served.
    """

    def make(**attributes: Any) -> str:
        url = make_queue(**attributes)
        client.queues.send_message(url, "probe", delay_seconds=0)
        probes = client.queues.receive_message(url, wait_time_seconds=10)
        assert [p.body for p in probes] == ["probe"], f"new queue {url} not served within 10 s"
        client.queues.delete_message(url, probes[0].receipt_handle)
        return url

    return make
