"""DynamoDB Streams on a real server and broker: record shapes, iterators, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.errors import EventplaneError, ResourceNotFound, ValidationException

pytestmark = pytest.mark.integration


def S(v: str) -> dict[str, Any]:
    return {"S": v}


def read_all(client: Client, arn: str) -> list[dict[str, Any]]:
    """Every record of every shard from the trim horizon."""
    out = []
    for shard in client.tables.describe_stream(arn).shards:
        it = client.tables.get_shard_iterator(arn, shard.shard_id, "TRIM_HORIZON")
        while True:
            page = client.tables.get_records(it)
            out += page.records
            if not page.records:
                break
            it = page.next_shard_iterator
    return out


@pytest.mark.parametrize(
    ("view", "new", "old"),
    [
        ("NEW_AND_OLD_IMAGES", True, True),
        ("NEW_IMAGE", True, False),
        ("OLD_IMAGE", False, True),
        ("KEYS_ONLY", False, False),
    ],
)
def test_records_per_view_type(
    client: Client, make_table: Callable[..., Any], view: str, new: bool, old: bool
) -> None:
    t = make_table(view=view, partitions=1)
    name = t.table_name
    client.tables.put_item(name, {"pk": S("a"), "v": S("1")})
    client.tables.put_item(name, {"pk": S("a"), "v": S("1")})  # changes nothing: no record
    client.tables.put_item(name, {"pk": S("a"), "v": S("2")})
    client.tables.delete_item(name, {"pk": S("a")})
    client.tables.delete_item(name, {"pk": S("a")})  # nothing to delete: no record
    records = read_all(client, t.latest_stream_arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    for r in records:
        assert r["eventVersion"] == "1.1" and r["eventSource"] == "aws:dynamodb"
        assert r["awsRegion"] == "local" and len(r["eventID"]) == 32
        d = r["dynamodb"]
        assert d["Keys"] == {"pk": S("a")} and d["StreamViewType"] == view
        assert isinstance(d["ApproximateCreationDateTime"], int) and d["SizeBytes"] > 0
    assert ("NewImage" in records[1]["dynamodb"]) is new
    assert ("OldImage" in records[1]["dynamodb"]) is old
    if new:
        assert records[0]["dynamodb"]["NewImage"] == {"pk": S("a"), "v": S("1")}
        assert "NewImage" not in records[2]["dynamodb"]
    if old:
        assert records[1]["dynamodb"]["OldImage"] == {"pk": S("a"), "v": S("1")}
        assert "OldImage" not in records[0]["dynamodb"]
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3


def test_iterator_types_and_paging(client: Client, make_table: Callable[..., Any]) -> None:
    t = make_table(view="KEYS_ONLY", partitions=1)
    arn = t.latest_stream_arn
    assert arn in client.tables.list_streams(t.table_name)
    desc = client.tables.describe_stream(arn)
    assert (desc.stream_status, desc.table_name, len(desc.shards)) == ("ENABLED", t.table_name, 1)
    shard = desc.shards[0].shard_id
    latest = client.tables.get_shard_iterator(arn, shard, "LATEST")
    for i in range(5):
        client.tables.put_item(t.table_name, {"pk": S(f"k{i}")})
    page = client.tables.get_records(latest, limit=2)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in page.records] == ["k0", "k1"]
    rest = client.tables.get_records(page.next_shard_iterator)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in rest.records] == ["k2", "k3", "k4"]
    assert client.tables.get_records(rest.next_shard_iterator).records == []
    seq = rest.records[0]["dynamodb"]["SequenceNumber"]
    at = client.tables.get_shard_iterator(arn, shard, "AT_SEQUENCE_NUMBER", seq)
    after = client.tables.get_shard_iterator(arn, shard, "AFTER_SEQUENCE_NUMBER", seq)
    assert client.tables.get_records(at).records[0]["dynamodb"]["SequenceNumber"] == seq
    assert client.tables.get_records(after).records[0]["dynamodb"]["Keys"] == {"pk": S("k3")}
    with pytest.raises(ValidationException, match="ShardIterator"):
        client.tables.get_records("not-an-iterator")
    with pytest.raises(ValidationException, match="shardIteratorType"):
        client.tables.get_shard_iterator(arn, shard, "SOMEWHERE")
    with pytest.raises(ResourceNotFound):
        client.tables.get_shard_iterator(arn, "shardId-00000000000000000000-000000ff", "LATEST")
    with pytest.raises(EventplaneError):
        client.tables.describe_stream(arn + "x")


def test_table_without_stream_has_none(client: Client, make_table: Callable[..., Any]) -> None:
    t = make_table(view=None)
    assert t.latest_stream_arn == "" and not t.stream_enabled
    assert client.tables.list_streams(t.table_name) == []


def test_get_records_pages_stop_at_1_mb_and_1000_records(
    client: Client, make_table: Callable[..., Any]
) -> None:
    t = make_table(view="NEW_IMAGE", partitions=1)
    big = "x" * 200_000
    for i in range(8):  # 8 x 200 KB of new images: more than one 1 MB page
        client.tables.put_item(t.table_name, {"pk": S(f"k{i}"), "pad": S(big)})
    arn = t.latest_stream_arn
    shard = client.tables.describe_stream(arn).shards[0].shard_id
    it = client.tables.get_shard_iterator(arn, shard, "TRIM_HORIZON")
    pages = []
    while True:
        page = client.tables.get_records(it, limit=1000)
        if not page.records:
            break
        pages.append([r["dynamodb"]["Keys"]["pk"]["S"] for r in page.records])
        it = page.next_shard_iterator
    assert len(pages) >= 2 and all(len(p) <= 6 for p in pages), pages
    assert [k for p in pages for k in p] == [f"k{i}" for i in range(8)]
    with pytest.raises(ValidationException, match="less than or equal to 1000"):
        client.tables.get_records(it, limit=1001)
