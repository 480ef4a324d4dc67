"""The table engine's pure parts: keys and partitions, definitions, iterators, pages,
stream records, write steps. Nothing running is needed."""

from __future__ import annotations

import dataclasses
import json
import zlib
from typing import Any

import pytest

from eventplane.errors import ValidationException
from eventplane.kafka import codec
from eventplane.tables import items as it
from eventplane.tables import reads as rd
from eventplane.tables.errors import ExpiredIteratorException
from eventplane.tables.expr import ConditionalCheckFailedException, item_size
from eventplane.tables.keys import canonical_key, canonical_value, partition_of
from eventplane.tables.model import (
    AttributeDefinition,
    CreateTableInput,
    KeySchemaElement,
    StreamSpecification,
    TableDef,
    new_table,
    parse_stream_arn,
    stream_label,
)
from eventplane.tables.repartition import shard_id, shard_span
from eventplane.tables.store import PartitionStore
from eventplane.tables.streams import (
    Iterator,
    IteratorSigner,
    encode_change,
    to_record,
)
from eventplane.tables.writer import Change, Staged


def table(
    range_key: bool = True, view: str = "NEW_AND_OLD_IMAGES", partitions: int = 4
) -> TableDef:
    keys = [KeySchemaElement("pk", "HASH")]
    defs = [AttributeDefinition("pk", "S")]
    if range_key:
        keys.append(KeySchemaElement("sk", "RANGE"))
        defs.append(AttributeDefinition("sk", "N"))
    return new_table(
        CreateTableInput("things", keys, defs, StreamSpecification(True, view), partitions),
        1_700_000_000_123,
    )


def test_numbers_have_one_canonical_key_and_partitions_are_stable() -> None:
    assert (
        canonical_value({"N": "1.0"})
        == canonical_value({"N": "1"})
        == canonical_value({"N": "1E0"})
    )
    assert canonical_value({"N": "-0.0"}) == canonical_value({"N": "0"})
    assert canonical_value({"B": b"\x01"}) == "B:AQ=="
    names = ("pk", "sk")
    assert canonical_key({"pk": {"S": "a"}, "sk": {"N": "10"}}, names) != canonical_key(
        {"pk": {"S": "a"}, "sk": {"N": "1"}}, names
    )
    # CRC-32 of the canonical value: the same partition in every process and release
    assert [partition_of({"S": f"user-{i}"}, 8) for i in range(6)] == [
        partition_of({"S": f"user-{i}"}, 8) for i in range(6)
    ]
    assert partition_of({"S": "user-1"}, 8) == zlib.crc32(b"S:user-1") % 8
    spread = {partition_of({"S": f"k{i}"}, 4) for i in range(100)}
    assert spread == {0, 1, 2, 3}


def test_table_definition_round_trips_and_names_its_stream() -> None:
    t = table()
    assert (t.hash_key, t.range_key, t.partitions) == ("pk", "sk", 4)
    assert t.stream_label == stream_label(1_700_000_000_123) == "2023-11-14T22:13:20.123"
    assert parse_stream_arn(t.stream_arn) == ("things", t.stream_label)
    assert TableDef.from_spec(t.name, json.loads(json.dumps(t.to_spec()))) == t
    with pytest.raises(ValidationException, match="StreamArn"):
        parse_stream_arn("arn:aws:dynamodb:local:000000000000:table/things")


@pytest.mark.parametrize(
    ("req", "message"),
    [
        (
            CreateTableInput(
                "ab", [KeySchemaElement("pk", "HASH")], [AttributeDefinition("pk", "S")]
            ),
            "tableName",
        ),
        (
            CreateTableInput(
                "abc",
                [KeySchemaElement("pk", "HASH")],
                [AttributeDefinition("pk", "S")],
                StreamSpecification(True, "ALL"),
            ),
            "StreamViewType",
        ),
        (
            CreateTableInput(
                "abc",
                [KeySchemaElement("pk", "HASH")],
                [AttributeDefinition("pk", "S")],
                partitions=65,
            ),
            "Partitions",
        ),
        (
            CreateTableInput(
                "abc",
                [KeySchemaElement("pk", "HASH")],
                [AttributeDefinition("pk", "S"), AttributeDefinition("x", "S")],
            ),
            "Number of attributes",
        ),
    ],
)
def test_create_table_rules(req: CreateTableInput, message: str) -> None:
    with pytest.raises(ValidationException, match=message):
        new_table(req, 0)


def test_iterators_are_signed_and_expire_after_15_minutes() -> None:
    signer = IteratorSigner("secret")
    token = signer.sign(Iterator("things", "label", 2, 42, 1_000))
    assert signer.open(token, 1_000 + 15 * 60 * 1000) == Iterator("things", "label", 2, 42, 1_000)
    with pytest.raises(ExpiredIteratorException):
        signer.open(token, 1_000 + 15 * 60 * 1000 + 1)
    with pytest.raises(ValidationException, match="ShardIterator"):
        IteratorSigner("other").open(token, 1_000)
    with pytest.raises(ValidationException, match="ShardIterator"):
        signer.open(token[:-2] + "AA", 1_000)


def test_shard_ids_name_their_partition() -> None:
    sid = shard_id(1_700_000_000_123, 3)
    assert sid == "shardId-00000001700000000123-00000003"
    t = dataclasses.replace(table(partitions=4), created_ms=1_700_000_000_123)
    assert shard_span(t, sid).partition == 3
    with pytest.raises(Exception, match="does not exist"):
        shard_span(dataclasses.replace(t, partitions=3), sid)


def _change(t: TableDef, old: Any, new: Any) -> Change:
    keys = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    where = it.locate(t, keys)
    return Change(t, where.partition, where.key, keys, old, new)


@pytest.mark.parametrize(
    ("view", "images"),
    [
        ("KEYS_ONLY", set()),
        ("NEW_IMAGE", {"NewImage"}),
        ("OLD_IMAGE", {"OldImage"}),
        ("NEW_AND_OLD_IMAGES", {"NewImage", "OldImage"}),
    ],
)
def test_stream_records_follow_the_view_type(view: str, images: set[str]) -> None:
    t = table(view=view)
    old = {"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"B": b"\x00"}}
    new = {**old, "v": {"S": "x"}}
    value, headers = encode_change(_change(t, old, new), 1_700_000_000_999, "e-1")
    _, rec = codec.decode(value, headers)
    r = to_record(rec, 7)
    assert r["eventName"] == "MODIFY" and r["eventID"] == "e1"
    assert (r["eventVersion"], r["eventSource"]) == ("1.1", "aws:dynamodb")
    d = r["dynamodb"]
    assert d["ApproximateCreationDateTime"] == 1_700_000_000
    assert d["SequenceNumber"] == "000000000000000000007"
    assert (
        set(d)
        - {"ApproximateCreationDateTime", "Keys", "SequenceNumber", "SizeBytes", "StreamViewType"}
        == images
    )
    if "OldImage" in images:
        assert d["OldImage"]["v"] == {"B": "AA=="}  # DynamoDB JSON: binaries as base64
    expected = item_size(_change(t, old, new).keys) + sum(
        item_size(i) for name, i in (("OldImage", old), ("NewImage", new)) if name in images
    )
    assert d["SizeBytes"] == expected


def test_write_steps_see_earlier_staged_changes() -> None:
    t = table(range_key=False)
    committed: dict[str, Any] = {}
    staged = Staged(lambda table, p, key: committed.get(key))
    first = it.put_step(
        t,
        it.PutItemInput(
            "things",
            {"pk": {"S": "a"}, "v": {"N": "1"}},
            condition_expression="attribute_not_exists(pk)",
        ),
    )[1]
    changes, _ = first(staged)
    assert [c.new for c in changes] == [{"pk": {"S": "a"}, "v": {"N": "1"}}]
    staged.stage(changes)
    again = it.put_step(
        t,
        it.PutItemInput(
            "things",
            {"pk": {"S": "a"}, "v": {"N": "2"}},
            condition_expression="attribute_not_exists(pk)",
            return_values_on_condition_check_failure="ALL_OLD",
        ),
    )[1]
    with pytest.raises(ConditionalCheckFailedException) as info:
        again(staged)
    assert info.value.item == {"pk": {"S": "a"}, "v": {"N": "1"}}
    same = it.put_step(t, it.PutItemInput("things", {"pk": {"S": "a"}, "v": {"N": "1"}}))[1]
    assert same(staged)[0] == []  # changes nothing: nothing to write, no stream record
    gone = it.delete_step(t, it.DeleteItemInput("things", {"pk": {"S": "zz"}}))[1]
    assert gone(staged)[0] == []


def test_pages_stop_at_limit_and_at_1mb() -> None:
    t = table(range_key=False)
    store = PartitionStore("things", 0, "pk")
    for i in range(30):
        item = {"pk": {"S": f"k{i:02d}"}, "pad": {"S": "x" * 100_000}}
        store.put(it.locate(t, {"pk": item["pk"]}).key, item, item_size)
    everything = list(store.scan())

    def page(limit: int) -> rd.Page:
        return rd.paginate(
            t, everything, limit=limit, keep=lambda i: True, project=lambda i: i, count_only=False
        )

    by_size = page(0)
    assert by_size.scanned_count == 11 and by_size.size_bytes >= 1024 * 1024
    assert by_size.last_evaluated_key == {"pk": everything[10][1]["pk"]}
    assert page(5).scanned_count == 5 and page(5).last_evaluated_key is not None
    assert page(100).last_evaluated_key is not None  # stopped by size before the limit
    small = rd.paginate(
        t,
        everything[:3],
        limit=0,
        keep=lambda i: i["pk"]["S"] != "k01",
        project=lambda i: {"pk": i["pk"]},
        count_only=False,
    )
    assert (small.count, small.scanned_count, small.last_evaluated_key) == (2, 3, None)
    assert small.items == [{"pk": {"S": "k00"}}, {"pk": {"S": "k02"}}]
