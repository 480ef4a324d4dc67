"""Time to live on a real server: the owner sweeps expired items away as durable deletes
that the stream shows as REMOVE records by the service, and the setting survives a restart.

The server here sweeps every 200 ms and is the only replica of its cluster: the last
test kills it and starts it again with its clock two days ahead.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.errors import EventplaneError, ValidationException
from eventplane.tables.ttl import OFFSET_ENV, SWEEP_ENV
from eventplane.testing import EventplaneProcess, eventually, retrying, unique_cluster

pytestmark = pytest.mark.integration

SERVICE = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
TWO_DAYS_S = 2 * 86400


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    with EventplaneProcess(
        eventplane_kafka, roles="tables", cluster=unique_cluster(), env={SWEEP_ENV: "200"}
    ) as s:
        yield s


@pytest.fixture(scope="module")
def ep(server: EventplaneProcess) -> Iterator[Client]:
    with server.client() as c:
        yield c


def _table(ep: Client) -> tuple[str, str]:
    name = f"ttl-{uuid.uuid4().hex[:10]}"
    desc = ep.tables.create_table(
        name,
        key_schema=[("id", "HASH")],
        attribute_definitions=[("id", "S")],
        stream_view_type="NEW_AND_OLD_IMAGES",
        partitions=2,
    )
    return name, desc.latest_stream_arn


def _records(ep: Client, arn: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for shard in ep.tables.describe_stream(arn).shards:
        it = ep.tables.get_shard_iterator(arn, shard.shard_id, "TRIM_HORIZON")
        while True:
            page = ep.tables.get_records(it)
            if not page.records:
                break
            out += page.records
            it = page.next_shard_iterator
    return out


def _put(ep: Client, table: str, ident: str, expires: dict[str, str] | None) -> None:
    item = {"id": {"S": ident}, "v": {"S": "x"}}
    if expires is not None:
        item["expires"] = expires
    ep.tables.put_item(table, item)


def _ids(ep: Client, table: str) -> set[str]:
    return {i["id"]["S"] for i in ep.tables.scan(table).items}


def test_time_to_live_is_enabled_and_described_with_dynamodb_errors(ep: Client) -> None:
    table, _ = _table(ep)
    before = ep.tables.describe_time_to_live(table)
    assert (before.time_to_live_status, before.attribute_name) == ("DISABLED", "")
    assert ep.tables.update_time_to_live(table, "expires", True) is True
    after = ep.tables.describe_time_to_live(table)
    assert (after.time_to_live_status, after.attribute_name) == ("ENABLED", "expires")
    with pytest.raises(ValidationException, match="TimeToLive is already enabled"):
        ep.tables.update_time_to_live(table, "expires", True)
    with pytest.raises(ValidationException, match="active on a different AttributeName"):
        ep.tables.update_time_to_live(table, "other", True)
    ep.tables.update_time_to_live(table, "expires", False)
    assert ep.tables.describe_time_to_live(table).time_to_live_status == "DISABLED"
    with pytest.raises(ValidationException, match="TimeToLive is already disabled"):
        ep.tables.update_time_to_live(table, "expires", False)
    with pytest.raises(EventplaneError) as missing:
        ep.tables.describe_time_to_live("no-such-table")
    assert missing.value.code == "ResourceNotFoundException"


def test_expired_items_are_removed_by_the_service_and_the_rest_stay(ep: Client) -> None:
    table, arn = _table(ep)
    ep.tables.update_time_to_live(table, "expires", True)
    now = int(time.time())
    _put(ep, table, "expired", {"N": str(now - 60)})
    _put(ep, table, "future", {"N": str(now + 86400)})
    _put(ep, table, "text", {"S": str(now - 60)})  # not a Number: ignored
    _put(ep, table, "none", None)

    eventually(lambda: _ids(ep, table) == {"future", "text", "none"}, timeout=30)
    assert ep.tables.get_item(table, {"id": {"S": "expired"}}) is None

    def removal() -> dict[str, Any]:
        removes = [r for r in _records(ep, arn) if r["eventName"] == "REMOVE"]
        assert len(removes) == 1, removes
        return removes[0]

    rec = eventually(removal, timeout=15)
    assert rec["userIdentity"] == SERVICE
    assert rec["dynamodb"]["Keys"] == {"id": {"S": "expired"}}
    assert rec["dynamodb"]["OldImage"]["expires"] == {"N": str(now - 60)}
    inserts = [r for r in _records(ep, arn) if r["eventName"] == "INSERT"]
    assert len(inserts) == 4 and all("userIdentity" not in r for r in inserts)


def test_the_setting_survives_a_restart_and_moving_the_clock_expires_items(
    server: EventplaneProcess, ep: Client
) -> None:
    table, arn = _table(ep)
    ep.tables.update_time_to_live(table, "expires", True)
    now = int(time.time())
    _put(ep, table, "tomorrow", {"N": str(now + 86400)})
    _put(ep, table, "next-week", {"N": str(now + 7 * 86400)})
    _put(ep, table, "gone", {"N": str(now - 1)})
    # The sweep that removed "gone" left "tomorrow" (its expiry is ahead of the clock).
    eventually(lambda: _ids(ep, table) == {"tomorrow", "next-week"}, timeout=30)

    server.kill()
    server.extra_env[OFFSET_ENV] = str(TWO_DAYS_S * 1000)
    try:
        server.restart()
        with server.client() as later:
            ttl = retrying(lambda: later.tables.describe_time_to_live(table))
            assert (ttl.time_to_live_status, ttl.attribute_name) == ("ENABLED", "expires")
            eventually(lambda: retrying(lambda: _ids(later, table)) == {"next-week"}, timeout=60)
            removes = [r for r in _records(later, arn) if r["eventName"] == "REMOVE"]
            assert sorted(r["dynamodb"]["Keys"]["id"]["S"] for r in removes) == [
                "gone",
                "tomorrow",
            ]
            assert all(r["userIdentity"] == SERVICE for r in removes)
    finally:
        server.extra_env.pop(OFFSET_ENV, None)
