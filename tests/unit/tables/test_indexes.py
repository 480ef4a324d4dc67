"""Secondary indexes on the pure parts: CreateTable/UpdateTable validation, the owner
store's GSI entries, index order and merging, and index key type checks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from eventplane.errors import EventplaneError, ResourceNotFound, ValidationException
from eventplane.tables import expressions as ex
from eventplane.tables import index_reads as ir
from eventplane.tables.expr import item_size
from eventplane.tables.index_updates import (
    GlobalSecondaryIndexUpdate,
    IndexChanges,
    apply_updates,
    finished,
)
from eventplane.tables.indexes import Projection, SecondaryIndex, type_mismatch
from eventplane.tables.keys import canonical_key
from eventplane.tables.model import (
    AttributeDefinition,
    CreateTableInput,
    KeySchemaElement,
    TableDef,
    new_table,
)
from eventplane.tables.store import PartitionStore


def _table(
    *,
    gsis: list[SecondaryIndex] | None = None,
    lsis: list[SecondaryIndex] | None = None,
    defs: dict[str, str] | None = None,
    range_key: bool = True,
) -> TableDef:
    keys = [KeySchemaElement("pk", "HASH")] + (
        [KeySchemaElement("sk", "RANGE")] if range_key else []
    )
    types = {"pk": "S", **({"sk": "S"} if range_key else {}), **(defs or {})}
    return new_table(
        CreateTableInput(
            "orders",
            keys,
            [AttributeDefinition(n, t) for n, t in types.items()],
            partitions=2,
            global_secondary_indexes=gsis or [],
            local_secondary_indexes=lsis or [],
        ),
        1_800_000_000_000,
    )


def gsi(name: str, *keys: str, projection: Projection | None = None) -> SecondaryIndex:
    schema = [KeySchemaElement(keys[0], "HASH")] + (
        [KeySchemaElement(keys[1], "RANGE")] if len(keys) > 1 else []
    )
    return SecondaryIndex(name, schema, projection or Projection())


def lsi(name: str, range_key: str, hash_key: str = "pk") -> SecondaryIndex:
    return SecondaryIndex(
        name, [KeySchemaElement(hash_key, "HASH"), KeySchemaElement(range_key, "RANGE")]
    )


def test_a_table_keeps_its_indexes_through_the_registry_spec() -> None:
    t = _table(
        gsis=[gsi("byEmail", "email", projection=Projection("INCLUDE", ("name",)))],
        lsis=[lsi("byDate", "date")],
        defs={"email": "S", "date": "N"},
    )
    again = TableDef.from_spec(t.name, t.to_spec())
    assert again == t
    assert [d.name for d in again.gsis] == ["byEmail"]
    assert [d.name for d in again.lsis] == ["byDate"]
    assert again.index_arn("byEmail").endswith(":table/orders/index/byEmail")


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (
            {"gsis": [gsi("byX", "x")]},
            "Some index key attributes are not defined in AttributeDefinitions",
        ),
        (
            {"gsis": [gsi("byX", "x")], "defs": {"x": "S", "y": "N"}},
            "Number of attributes in KeySchema does not exactly match",
        ),
        (
            {"lsis": [lsi("byX", "x")], "defs": {"x": "S"}, "range_key": False},
            "Table KeySchema does not have a range key",
        ),
        (
            {"lsis": [lsi("byX", "y", hash_key="x")], "defs": {"x": "S", "y": "S"}},
            "Index KeySchema does not have the same leading hash key",
        ),
        (
            {"gsis": [gsi("byX", "x"), gsi("byX", "x")], "defs": {"x": "S"}},
            "Duplicate index name: byX",
        ),
        ({"gsis": [gsi("ab", "x")], "defs": {"x": "S"}}, "Member must have length between 3"),
        ({"gsis": [gsi("by X", "x")], "defs": {"x": "S"}}, "regular expression pattern"),
        (
            {"gsis": [gsi(f"g{i:02d}", "x") for i in range(21)], "defs": {"x": "S"}},
            "GlobalSecondaryIndex count exceeds the per-table limit of 20",
        ),
        (
            {"lsis": [lsi(f"l{i:02d}", "x") for i in range(6)], "defs": {"x": "S"}},
            "exceeds the per-table limit of 5",
        ),
        (
            {"gsis": [gsi("byX", "x", projection=Projection("INCLUDE"))], "defs": {"x": "S"}},
            "ProjectionType is INCLUDE, but NonKeyAttributes is not specified",
        ),
        (
            {
                "gsis": [gsi("byX", "x", projection=Projection("KEYS_ONLY", ("a",)))],
                "defs": {"x": "S"},
            },
            "ProjectionType is KEYS_ONLY, but NonKeyAttributes is specified",
        ),
        (
            {
                "gsis": [
                    gsi(
                        "byX",
                        "x",
                        projection=Projection("INCLUDE", tuple(f"a{i}" for i in range(101))),
                    )
                ],
                "defs": {"x": "S"},
            },
            "exceeds the limit of 100",
        ),
    ],
)
def test_create_table_index_rules(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationException, match=message):
        _table(**kw)


def test_index_key_types_are_checked_on_write() -> None:
    t = _table(gsis=[gsi("byEmail", "email")], defs={"email": "S"})
    type_mismatch(t.indexes, t.attribute_types, {"pk": {"S": "a"}, "sk": {"S": "b"}})
    type_mismatch(t.indexes, t.attribute_types, {"email": {"S": "x@y"}})
    with pytest.raises(ValidationException, match=r"Type mismatch for Index Key email Expected: S"):
        type_mismatch(t.indexes, t.attribute_types, {"email": {"N": "1"}})
    with pytest.raises(ValidationException, match="cannot contain an empty string value"):
        type_mismatch(t.indexes, t.attribute_types, {"email": {"S": ""}})


def _put(store: PartitionStore, t: TableDef, item: dict[str, Any]) -> None:
    store.put(canonical_key(item, t.key_names), item, item_size)


def test_the_store_keeps_gsi_entries_in_step_with_writes() -> None:
    t = _table(gsis=[gsi("byEmail", "email")], defs={"email": "S"})
    store = PartitionStore(t.name, 0, "pk")
    a = {"pk": {"S": "a"}, "sk": {"S": "1"}, "email": {"S": "x"}}
    _put(store, t, a)
    _put(store, t, {"pk": {"S": "b"}, "sk": {"S": "1"}})  # sparse: no email
    assert store.gsi_group("byEmail", ("email",), "S:x") == [a]  # built from the items
    moved = {**a, "email": {"S": "y"}}
    _put(store, t, moved)
    assert store.gsi_group("byEmail", ("email",), "S:x") == []
    assert store.gsi_group("byEmail", ("email",), "S:y") == [moved]
    store.delete(canonical_key(a, t.key_names), item_size)
    assert store.gsi_group("byEmail", ("email",), "S:y") == []
    assert store.index_items(("email",), "byEmail") == []


def test_gsi_candidates_merge_in_index_order_then_table_key() -> None:
    t = _table(gsis=[gsi("byTeam", "team", "rank")], defs={"team": "S", "rank": "N"})
    (index,) = t.gsis
    stores = [PartitionStore(t.name, p, "pk") for p in range(2)]
    for i, (pk, rank) in enumerate([("b", 2), ("a", 2), ("c", 1), ("d", 3)]):
        item = {"pk": {"S": pk}, "sk": {"S": "s"}, "team": {"S": "t"}, "rank": {"N": str(rank)}}
        _put(stores[i % 2], t, item)
    exprs = ex.compile(key_condition="team = :t", names=None, values={":t": {"S": "t"}})
    keys = ex.key_range(exprs, t, ir.key_schema(t, index))
    parts = [ir.query_candidates(t, index, [s], keys, True, None, 0) for s in stores]
    merged = ir.merge(t, index, parts, True)
    assert [i["pk"]["S"] for i in merged] == ["c", "a", "b", "d"]  # rank, then table key
    # Resuming after ("a", rank 2) skips exactly what was returned.
    start = ir.start_position(t, index, ir.last_key(t, index)(merged[1]))
    rest = [ir.query_candidates(t, index, [s], keys, True, start, 0) for s in stores]
    assert [i["pk"]["S"] for i in ir.merge(t, index, rest, True)] == ["b", "d"]
    backward = [ir.query_candidates(t, index, [s], keys, False, None, 0) for s in stores]
    assert [i["pk"]["S"] for i in ir.merge(t, index, backward, False)] == ["d", "b", "a", "c"]


def test_reading_an_index_follows_dynamodb_rules() -> None:
    t = _table(
        gsis=[gsi("byX", "x", projection=Projection("KEYS_ONLY"))],
        lsis=[lsi("byY", "y")],
        defs={"x": "S", "y": "S"},
    )
    with pytest.raises(ValidationException, match="Consistent reads are not supported"):
        ir.resolve(t, "byX", True, "")
    with pytest.raises(ValidationException, match="Select type ALL_ATTRIBUTES is not supported"):
        ir.resolve(t, "byX", False, "ALL_ATTRIBUTES")
    assert ir.resolve(t, "byY", True, "ALL_ATTRIBUTES").name == "byY"
    with pytest.raises(ValidationException, match="does not have the specified index: nope"):
        ir.resolve(t, "nope", False, "")


def test_update_table_adds_a_gsi_creating_then_active() -> None:
    t = _table()
    new = apply_updates(
        t,
        [GlobalSecondaryIndexUpdate(create=gsi("byX", "x"))],
        [AttributeDefinition("x", "N")],
    )
    (index,) = new.gsis
    assert (index.status, index.backfilling) == ("CREATING", True)
    assert new.attribute_types["x"] == "N"
    with pytest.raises(ValidationException, match="Cannot read from backfilling"):
        ir.resolve(new, "byX", False, "")
    with pytest.raises(EventplaneError, match="Table is being updated"):
        apply_updates(new, [GlobalSecondaryIndexUpdate(delete_index_name="byX")], [])
    done = finished(new)
    assert (done.gsis[0].status, done.gsis[0].backfilling) == ("ACTIVE", False)
    with pytest.raises(ValidationException, match="Attempting to create an index which already"):
        apply_updates(done, [GlobalSecondaryIndexUpdate(create=gsi("byX", "x"))], [])
    with pytest.raises(EventplaneError, match="Only 1 online index can be created or deleted"):
        apply_updates(
            done,
            [
                GlobalSecondaryIndexUpdate(create=gsi("byY", "x")),
                GlobalSecondaryIndexUpdate(delete_index_name="byX"),
            ],
            [],
        )
    with pytest.raises(ValidationException, match="Some index key attributes are not defined"):
        apply_updates(done, [GlobalSecondaryIndexUpdate(create=gsi("byZ", "z"))], [])
    with pytest.raises(ResourceNotFound):
        apply_updates(done, [GlobalSecondaryIndexUpdate(delete_index_name="nope")], [])
    deleting = apply_updates(done, [GlobalSecondaryIndexUpdate(delete_index_name="byX")], [])
    assert deleting.gsis[0].status == "DELETING"
    gone = finished(deleting)
    assert gone.indexes == () and "x" not in gone.attribute_types


def test_index_changes_finish_once_every_partition_built_the_index() -> None:
    """The driver retries until the backfill reports every partition, then stores the
    finished definition (a new owner of partition 0 runs the same on adoption)."""
    creating = apply_updates(
        _table(),
        [GlobalSecondaryIndexUpdate(create=gsi("byX", "x"))],
        [AttributeDefinition("x", "S")],
    )
    stored: list[TableDef] = []
    answers = iter([False, True])

    async def backfill(table: TableDef) -> bool:
        return next(answers)

    async def store(table: TableDef) -> None:
        stored.append(table)

    async def run() -> None:
        changes = IndexChanges(
            lambda name: stored[-1] if stored else creating, backfill, store, retry_seconds=0
        )
        changes.kick(creating)
        changes.kick(creating)  # one driver per table
        await changes.wait(creating.name)
        changes.kick(stored[-1])  # nothing pending: nothing to do
        await changes.stop()

    asyncio.run(run())
    (done,) = stored
    assert done.gsis[0].status == "ACTIVE" and not done.gsis[0].backfilling
