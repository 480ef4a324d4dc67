"""Table tags through the SDK (sync and asyncio) and the CLI against a real server: the same
limits and messages as the gateway's (tests/integration/gateway/test_conformance_dynamodb.py),
since both front doors reach the engine's rules (tables/tags.py)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from eventplane.client import AsyncClient, Client
from eventplane.client.tables import TableDescription
from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess

pytestmark = pytest.mark.integration


def test_tags_through_the_sdk(client: Client, make_table: Callable[..., TableDescription]) -> None:
    desc = make_table(view=None, tags={"team": "a", "empty": ""})
    arn = desc.table_arn
    assert client.tables.list_tags_of_resource(arn) == {"team": "a", "empty": ""}
    client.tables.tag_resource(arn, {"team": "b", "stage": "test"})
    client.tables.untag_resource(arn, ["empty", "absent"])
    assert client.tables.list_tags_of_resource(arn) == {"team": "b", "stage": "test"}
    with pytest.raises(EventplaneError) as caught:
        client.tables.tag_resource(arn, {f"k{i}": "v" for i in range(49)})
    assert (caught.value.code, caught.value.message) == (
        "ValidationException",
        "Number of Tags exceed the current limit for the provided ResourceArn",
    )
    with pytest.raises(EventplaneError) as caught:
        client.tables.tag_resource(arn, {"aws:x": "v"})
    assert caught.value.message == "Tag Key cannot be prefixed with aws:, Key: aws:x"
    missing = arn.replace(desc.table_name, f"{desc.table_name}-gone")
    with pytest.raises(EventplaneError) as caught:
        client.tables.list_tags_of_resource(missing)
    assert caught.value.code == "ResourceNotFoundException"
    with pytest.raises(ValueError, match="tag_keys"):
        client.tables.untag_resource(arn, "team")  # type: ignore[arg-type]


def test_tags_through_the_async_sdk(
    tables_server: EventplaneProcess, make_table: Callable[..., TableDescription]
) -> None:
    arn = make_table(view=None).table_arn

    async def run() -> dict[str, str]:
        async with AsyncClient(tables_server.endpoint) as ep:
            await ep.tables.tag_resource(arn, {f"k{i:02d}": str(i) for i in range(50)})
            return await ep.tables.list_tags_of_resource(arn)

    assert asyncio.run(run()) == {f"k{i:02d}": str(i) for i in range(50)}


def _cli(server: EventplaneProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eventplane.cli", "table", *args, "--endpoint", server.endpoint],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_tags_through_the_cli(tables_server: EventplaneProcess, client: Client) -> None:
    name = f"cli-tags-{uuid.uuid4().hex[:8]}"
    created = _cli(tables_server, "create", name, "--key", "id:S", "--tag", "team=a")
    assert created.returncode == 0, created.stderr
    try:
        assert _cli(tables_server, "tag", name, "stage=test", "cost=").returncode == 0
        arn = client.tables.describe_table(name).table_arn
        assert _cli(tables_server, "untag", arn, "team").returncode == 0
        shown = _cli(tables_server, "tags", name, "--json")
        parsed: Any = json.loads(shown.stdout)
        assert parsed == {"cost": "", "stage": "test"}
        refused = _cli(tables_server, "tag", name, "aws:x=1")
        assert refused.returncode != 0 and "prefixed with aws:" in refused.stderr
    finally:
        client.tables.delete_table(name)
