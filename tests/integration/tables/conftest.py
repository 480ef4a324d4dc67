"""Fixtures for table tests: one server with the tables role per session, fresh tables."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.client.tables import TableDescription
from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess, unique_cluster


@pytest.fixture(scope="session")
def tables_server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    with EventplaneProcess(eventplane_kafka, roles="tables", cluster=unique_cluster()) as server:
        yield server


@pytest.fixture(scope="session")
def client(tables_server: EventplaneProcess) -> Iterator[Client]:
    with tables_server.client() as c:
        yield c


@pytest.fixture
def make_table(client: Client) -> Iterator[Callable[..., TableDescription]]:
    """make_table(range_key=None, view="NEW_AND_OLD_IMAGES", **kw): a fresh table, deleted after."""
    created: list[str] = []

    def make(
        *,
        hash_key: tuple[str, str] = ("pk", "S"),
        range_key: tuple[str, str] | None = None,
        view: str | None = "NEW_AND_OLD_IMAGES",
        partitions: int = 2,
        **kw: Any,
    ) -> TableDescription:
        name = f"t-{uuid.uuid4().hex[:12]}"
        keys = [(hash_key[0], "HASH")] + ([(range_key[0], "RANGE")] if range_key else [])
        defs = [hash_key] + ([range_key] if range_key else [])
        desc: TableDescription = client.tables.create_table(
            name,
            key_schema=keys,
            attribute_definitions=defs,
            stream_view_type=view,
            partitions=partitions,
            **kw,
        )
        created.append(name)
        return desc

    yield make
    for name in created:
        with contextlib.suppress(EventplaneError):
            client.tables.delete_table(name)
