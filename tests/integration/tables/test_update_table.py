"""UpdateTable on the session's table server: streams off and on again (a new stream),
billing mode and throughput echoed, deletion protection refusing DeleteTable."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.client.tables import TableDescription
from eventplane.errors import EventplaneError, ValidationException
from eventplane.testing import EventplaneProcess

pytestmark = pytest.mark.integration

MakeTable = Callable[..., TableDescription]


def _records(client: Client, arn: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for shard in client.tables.describe_stream(arn).shards:
        it = client.tables.get_shard_iterator(arn, shard.shard_id, "TRIM_HORIZON")
        while it:  # a closed shard (its stream switched off) ends: no next iterator
            page = client.tables.get_records(it)
            if not page.records:
                break
            out += page.records
            it = page.next_shard_iterator
    return out


def _put(client: Client, table: str, pk: str) -> None:
    client.tables.put_item(table, {"pk": {"S": pk}, "v": {"N": "1"}})


def test_a_stream_is_switched_off_and_a_new_one_on(client: Client, make_table: MakeTable) -> None:
    t = make_table(view="KEYS_ONLY")
    first = t.latest_stream_arn
    _put(client, t.table_name, "a")
    with pytest.raises(ValidationException, match="Table already has an enabled stream"):
        client.tables.update_table(t.table_name, stream_enabled=True, stream_view_type="NEW_IMAGE")

    off = client.tables.update_table(t.table_name, stream_enabled=False)
    assert not off.stream_enabled and off.latest_stream_arn == first
    assert client.tables.describe_stream(first).stream_status == "DISABLED"
    with pytest.raises(ValidationException, match="Table has no stream to disable"):
        client.tables.update_table(t.table_name, stream_enabled=False)
    _put(client, t.table_name, "b")  # no stream: no record anywhere

    on = client.tables.update_table(t.table_name, stream_enabled=True, stream_view_type="NEW_IMAGE")
    assert on.stream_enabled and on.stream_view_type == "NEW_IMAGE"
    assert on.latest_stream_arn != first
    assert client.tables.describe_table(t.table_name).latest_stream_arn == on.latest_stream_arn
    _put(client, t.table_name, "c")
    (rec,) = _records(client, on.latest_stream_arn)
    assert rec["dynamodb"]["Keys"] == {"pk": {"S": "c"}}
    assert rec["dynamodb"]["StreamViewType"] == "NEW_IMAGE" and "NewImage" in rec["dynamodb"]
    assert sorted(client.tables.list_streams(t.table_name)) == sorted([first, on.latest_stream_arn])
    # The stream switched off stays readable (DISABLED) with what it recorded.
    old = client.tables.describe_stream(first)
    assert (old.stream_status, old.stream_view_type) == ("DISABLED", "KEYS_ONLY")
    assert [r["dynamodb"]["Keys"] for r in _records(client, first)] == [{"pk": {"S": "a"}}]


def test_stream_requests_that_cannot_apply_name_the_problem(
    client: Client, make_table: MakeTable
) -> None:
    t = make_table(view=None)
    with pytest.raises(ValidationException, match="UpdateViewType is required"):
        client.tables.update_table(t.table_name, stream_enabled=True)
    with pytest.raises(ValidationException, match="streamViewType"):
        client.tables.update_table(t.table_name, stream_enabled=True, stream_view_type="ALL")
    with pytest.raises(ValidationException, match="At least one of"):
        client.tables.update_table(t.table_name)
    with pytest.raises(EventplaneError) as missing:
        client.tables.update_table("no-such-table", deletion_protection_enabled=True)
    assert missing.value.code == "ResourceNotFoundException"


def test_billing_mode_and_throughput_are_accepted_and_echoed(
    client: Client, make_table: MakeTable
) -> None:
    t = make_table()
    assert t.billing_mode == "PAY_PER_REQUEST"
    with pytest.raises(ValidationException, match="ProvisionedThroughput must be specified"):
        client.tables.update_table(t.table_name, billing_mode="PROVISIONED")
    with pytest.raises(ValidationException, match="readCapacityUnits"):
        client.tables.update_table(
            t.table_name, billing_mode="PROVISIONED", provisioned_throughput=(0, 5)
        )
    p = client.tables.update_table(
        t.table_name, billing_mode="PROVISIONED", provisioned_throughput=(5, 10)
    )
    assert (p.billing_mode, p.read_capacity_units, p.write_capacity_units) == (
        "PROVISIONED",
        5,
        10,
    )
    d = client.tables.describe_table(t.table_name)
    assert (d.billing_mode, d.read_capacity_units, d.write_capacity_units) == ("PROVISIONED", 5, 10)
    with pytest.raises(ValidationException, match="will not change"):
        client.tables.update_table(t.table_name, provisioned_throughput=(5, 10))
    back = client.tables.update_table(t.table_name, billing_mode="PAY_PER_REQUEST")
    assert (back.billing_mode, back.read_capacity_units) == ("PAY_PER_REQUEST", 0)
    _put(client, t.table_name, "still-writable")
    assert client.tables.get_item(t.table_name, {"pk": {"S": "still-writable"}}) is not None


def test_deletion_protection_refuses_delete_table_until_switched_off(
    client: Client, make_table: MakeTable
) -> None:
    t = make_table(deletion_protection_enabled=True)
    assert t.deletion_protection_enabled
    with pytest.raises(ValidationException, match="protected against deletion"):
        client.tables.delete_table(t.table_name)
    assert client.tables.describe_table(t.table_name).table_status == "ACTIVE"
    off = client.tables.update_table(t.table_name, deletion_protection_enabled=False)
    assert not off.deletion_protection_enabled
    client.tables.delete_table(t.table_name)
    assert t.table_name not in client.tables.list_tables()[0]


def _cli(server: EventplaneProcess, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "eventplane.cli", "table", *args, "--endpoint", server.endpoint],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_table_settings_commands(tables_server: EventplaneProcess, client: Client) -> None:
    name = f"cli-{uuid.uuid4().hex[:10]}"
    _cli(tables_server, "create", name, "--key", "id:S", "--deletion-protection")
    try:
        ttl = json.loads(_cli(tables_server, "update-ttl", name, "expires", "--json"))
        assert ttl == {"time_to_live_status": "ENABLED", "attribute_name": "expires"}
        assert "ENABLED" in _cli(tables_server, "describe-ttl", name)
        _cli(tables_server, "update-ttl", name, "expires", "--disable")
        assert json.loads(_cli(tables_server, "describe-ttl", name, "--json")) == {
            "time_to_live_status": "DISABLED",
            "attribute_name": "",
        }
        desc = json.loads(
            _cli(
                tables_server,
                "update-table",
                name,
                "--stream",
                "NEW_IMAGE",
                "--billing-mode",
                "PROVISIONED",
                "--throughput",
                "3,4",
                "--json",
            )
        )
        assert desc["stream_view_type"] == "NEW_IMAGE" and desc["latest_stream_arn"]
        assert (desc["read_capacity_units"], desc["write_capacity_units"]) == (3, 4)
        assert desc["deletion_protection_enabled"] is True
        off = json.loads(
            _cli(tables_server, "update-table", name, "--deletion-protection", "off", "--json")
        )
        assert off["deletion_protection_enabled"] is False
    finally:
        client.tables.update_table(name, deletion_protection_enabled=False)
        client.tables.delete_table(name)
