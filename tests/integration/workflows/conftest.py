"""One server per module for the workflow tests, a client, and handler functions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from eventplane.client import Client
from eventplane.testing import EventplaneProcess, unique_cluster

HANDLERS = Path(__file__).parent / "handlers" / "wfsteps"
FN_PREFIX = "arn:aws:lambda:local:000000000000:function:"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def wf_server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    server = EventplaneProcess(
        eventplane_kafka, roles="api,runner,workflows,queues,fanout,bus", cluster=unique_cluster()
    ).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def client(wf_server: EventplaneProcess) -> Iterator[Client]:
    with wf_server.client(timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def fns(client: Client) -> Iterator[dict[str, str]]:
    """One function per handler of wf_steps, by handler name -> function ARN."""
    names = {
        h: unique(f"wf-{h}".replace("_", "-"))
        for h in ("add", "flaky", "boom", "keep_token", "mark", "big")
    }
    for handler, name in names.items():
        client.functions.create_function(name, f"wf_steps.{handler}", zip_directory=HANDLERS)
    yield {h: FN_PREFIX + n for h, n in names.items()}
    for name in names.values():
        client.functions.delete_function(name)
