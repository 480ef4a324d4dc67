"""`eventplane table ...` against a real server: the commands the README shows."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from eventplane.testing import EventplaneProcess, eventually

pytestmark = pytest.mark.integration


def run(server: EventplaneProcess, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "eventplane.cli", "table", *args, "--endpoint", server.endpoint],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_table_commands(tables_server: EventplaneProcess) -> None:
    name = f"cli-{uuid.uuid4().hex[:10]}"
    run(tables_server, "create", name, "--key", "id:S", "--stream", "NEW_AND_OLD_IMAGES")
    assert name in run(tables_server, "list").split()
    run(tables_server, "put", name, '{"id": {"S": "u1"}, "visits": {"N": "1"}}')
    updated = run(
        tables_server,
        "update",
        name,
        '{"id": {"S": "u1"}}',
        "SET visits = visits + :one",
        "--values",
        '{":one": {"N": "1"}}',
    )
    assert json.loads(updated)["visits"] == {"N": "2"}
    got = json.loads(run(tables_server, "get", name, '{"id": {"S": "u1"}}'))
    assert got == {"id": {"S": "u1"}, "visits": {"N": "2"}}
    rows = run(tables_server, "query", name, "id = :id", "--values", '{":id": {"S": "u1"}}')
    assert [json.loads(r)["id"] for r in rows.splitlines()] == [{"S": "u1"}]
    records = [json.loads(r) for r in run(tables_server, "records", name).splitlines()]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    described = json.loads(run(tables_server, "describe", name, "--json"))
    assert described["table_name"] == name and described["item_count"] == 1
    # Repartitioned (4 to 8): the item and its changes are all still there.
    split = json.loads(run(tables_server, "update-table", name, "--partitions", "8", "--json"))
    assert split["table_status"] == "UPDATING"

    def active() -> bool:
        d = json.loads(run(tables_server, "describe", name, "--json"))
        assert (d["table_status"], d["partitions"], d["item_count"]) == ("ACTIVE", 8, 1)
        return True

    eventually(active, timeout=60)
    got = json.loads(run(tables_server, "get", name, '{"id": {"S": "u1"}}'))
    assert got == {"id": {"S": "u1"}, "visits": {"N": "2"}}
    records = [json.loads(r) for r in run(tables_server, "records", name).splitlines()]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    run(tables_server, "delete", name)
