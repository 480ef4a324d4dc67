"""Tables and single-item actions against a real server and broker."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.errors import EventplaneError, ResourceNotFound, ValidationException
from eventplane.tables.errors import ResourceInUseException

pytestmark = pytest.mark.integration


def S(v: str) -> dict[str, Any]:
    return {"S": v}


def N(v: str) -> dict[str, Any]:
    return {"N": v}


def test_create_describe_list_delete(client: Client, make_table: Callable[..., Any]) -> None:
    t = make_table(range_key=("sk", "N"), partitions=3)
    assert t.table_status == "ACTIVE"
    assert t.key_schema == [("pk", "HASH"), ("sk", "RANGE")]
    assert t.partitions == 3
    assert t.latest_stream_arn.startswith(
        f"arn:aws:dynamodb:local:000000000000:table/{t.table_name}/stream/"
    )
    d = client.tables.describe_table(t.table_name)
    assert (d.table_name, d.stream_view_type, d.item_count) == (
        t.table_name,
        "NEW_AND_OLD_IMAGES",
        0,
    )
    names, _ = client.tables.list_tables()
    assert t.table_name in names
    with pytest.raises(ResourceInUseException):
        make_table_named(client, t.table_name)
    gone = client.tables.delete_table(t.table_name)
    assert gone.table_status == "DELETING"
    with pytest.raises(ResourceNotFound, match="not found"):
        client.tables.describe_table(t.table_name)
    with pytest.raises(ResourceNotFound):
        client.tables.put_item(t.table_name, {"pk": S("a")})


def make_table_named(client: Client, name: str) -> Any:
    return client.tables.create_table(
        name, key_schema=[("pk", "HASH")], attribute_definitions=[("pk", "S")]
    )


@pytest.mark.parametrize(
    ("keys", "defs", "message"),
    [
        ([("pk", "RANGE")], [("pk", "S")], "first KeySchemaElement is not a HASH"),
        ([("pk", "HASH")], [("other", "S")], "not defined in AttributeDefinitions"),
        ([("pk", "HASH")], [("pk", "X")], "attributeType"),
    ],
)
def test_create_table_validation(
    client: Client, keys: list[tuple[str, str]], defs: list[tuple[str, str]], message: str
) -> None:
    with pytest.raises(ValidationException, match=message):
        client.tables.create_table("bad-table", key_schema=keys, attribute_definitions=defs)


def test_put_get_delete_with_return_values(client: Client, make_table: Callable[..., Any]) -> None:
    name = make_table(range_key=("sk", "N")).table_name
    item = {"pk": S("u1"), "sk": N("1"), "blob": {"B": b"\x00\xff"}, "tags": {"SS": ["a", "b"]}}
    assert client.tables.put_item(name, item, return_values="ALL_OLD") is None
    newer = {**item, "n": N("12345678901234567890123456789012345678")}
    assert client.tables.put_item(name, newer, return_values="ALL_OLD") == item
    # "1.0" and "1" are the same number, so the same key
    got = client.tables.get_item(name, {"pk": S("u1"), "sk": N("1.0")})
    assert got == newer
    assert client.tables.get_item(name, {"pk": S("u1"), "sk": N("2")}) is None
    assert (
        client.tables.delete_item(name, {"pk": S("u1"), "sk": N("1")}, return_values="ALL_OLD")
        == newer
    )
    assert client.tables.get_item(name, {"pk": S("u1"), "sk": N("1")}) is None
    assert (
        client.tables.delete_item(name, {"pk": S("u1"), "sk": N("1")}, return_values="ALL_OLD")
        is None
    )


def test_bad_items_and_keys_are_validation_errors(
    client: Client, make_table: Callable[..., Any]
) -> None:
    name = make_table(range_key=("sk", "N")).table_name
    with pytest.raises(ValidationException, match="Missing the key sk"):
        client.tables.put_item(name, {"pk": S("a")})
    with pytest.raises(ValidationException, match="Type mismatch for key sk"):
        client.tables.put_item(name, {"pk": S("a"), "sk": S("x")})
    with pytest.raises(ValidationException, match="does not match the schema"):
        client.tables.get_item(name, {"pk": S("a")})
    with pytest.raises(ValidationException, match="does not match the schema"):
        client.tables.get_item(name, {"pk": S("a"), "sk": N("1"), "x": S("y")})
    with pytest.raises(ValidationException, match="38 significant digits"):
        client.tables.put_item(name, {"pk": S("a"), "sk": N("1"), "n": N("1" * 39)})
    with pytest.raises(ValidationException, match="maximum allowed size"):
        client.tables.put_item(name, {"pk": S("a"), "sk": N("1"), "big": S("x" * 410_000)})
    with pytest.raises(ValidationException, match="ReturnValues"):
        client.tables.put_item(name, {"pk": S("a"), "sk": N("1")}, return_values="ALL_NEW")
    # the server keeps serving after bad requests
    client.tables.put_item(name, {"pk": S("a"), "sk": N("1"), "big": S("x" * 390_000)})
    assert len(client.tables.get_item(name, {"pk": S("a"), "sk": N("1")})["big"]["S"]) == 390_000


def test_batch_write_and_get(client: Client, make_table: Callable[..., Any]) -> None:
    name = make_table(partitions=4).table_name
    puts = [{"PutRequest": {"Item": {"pk": S(f"k{i}"), "v": N(str(i))}}} for i in range(25)]
    assert client.tables.batch_write_item({name: puts}) == {}
    keys = [{"pk": S(f"k{i}")} for i in range(25)] + [{"pk": S("missing")}]
    found = client.tables.batch_get_item({name: {"Keys": keys}})[name]
    assert sorted(int(i["v"]["N"]) for i in found) == list(range(25))
    client.tables.batch_write_item(
        {name: [{"DeleteRequest": {"Key": {"pk": S(f"k{i}")}}} for i in range(10)]}
    )
    assert len(client.tables.batch_get_item({name: {"Keys": keys}})[name]) == 15
    with pytest.raises(ValidationException, match="25"):
        client.tables.batch_write_item({name: puts + puts[:1]})
    with pytest.raises(ValidationException, match="duplicates"):
        client.tables.batch_write_item({name: puts[:2] + puts[:1]})


def test_scan_pages_limit_segments_and_1mb(client: Client, make_table: Callable[..., Any]) -> None:
    name = make_table(partitions=3).table_name
    big = "x" * 100_000
    for chunk in range(3):
        client.tables.batch_write_item(
            {
                name: [
                    {"PutRequest": {"Item": {"pk": S(f"k{chunk * 10 + i}"), "pad": S(big)}}}
                    for i in range(10)
                ]
            }
        )
    first = client.tables.scan(name)  # 30 x 100 KB: the first page stops at 1 MB
    assert first.scanned_count == 11 and first.last_evaluated_key is not None
    seen = [i["pk"]["S"] for i in first.items]
    start = first.last_evaluated_key
    while start is not None:
        page = client.tables.scan(name, limit=7, exclusive_start_key=start)
        assert page.scanned_count <= 7
        seen += [i["pk"]["S"] for i in page.items]
        start = page.last_evaluated_key
    assert sorted(seen) == sorted(f"k{i}" for i in range(30))
    assert client.tables.scan(name, select="COUNT", limit=5).count == 5
    segments = [
        {i["pk"] for i in client.tables.table(name).scan(segment=s, total_segments=3)}
        for s in range(3)
    ]
    assert set().union(*segments) == {f"k{i}" for i in range(30)}
    assert sum(len(s) for s in segments) == 30
    with pytest.raises(ValidationException, match="Segment"):
        client.tables.scan(name, segment=3, total_segments=3)
    with pytest.raises(ValidationException, match="must have value greater than or equal to 1"):
        client.tables.scan(name, segment=0, total_segments=0)
    with pytest.raises(ValidationException, match="TotalSegments parameter is required"):
        client.tables.scan(name, segment=1)
    # A Limit above what 1 MB holds: the page still ends at 1 MB.
    capped = client.tables.scan(name, limit=20)
    assert capped.scanned_count == 11 and capped.last_evaluated_key is not None


def test_plain_python_table(client: Client, make_table: Callable[..., Any]) -> None:
    users = client.tables.table(make_table(hash_key=("id", "S")).table_name)
    users.put_item({"id": "u1", "age": 31, "tags": {"a", "b"}, "meta": {"x": [1, None, True]}})
    assert users.get_item({"id": "u1"}) == {
        "id": "u1",
        "age": Decimal(31),
        "tags": {"a", "b"},
        "meta": {"x": [Decimal(1), None, True]},
    }
    assert [u["id"] for u in users.scan()] == ["u1"]


def test_errors_are_typed(client: Client) -> None:
    with pytest.raises(EventplaneError) as info:
        client.tables.get_item("no-such-table", {"pk": S("a")})
    assert info.value.code == "ResourceNotFoundException"
