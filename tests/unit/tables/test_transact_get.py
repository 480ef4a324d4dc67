"""TransactGetItems' core: validation, one snapshot per replica, conflicts across replicas."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from eventplane.errors import ResourceNotFound, ValidationException
from eventplane.errors.tables import TransactionCanceledException
from eventplane.tables import items as it
from eventplane.tables import transact_get as tg
from eventplane.tables.expr import item_size
from eventplane.tables.model import (
    AttributeDefinition,
    CreateTableInput,
    KeySchemaElement,
    TableDef,
    new_table,
)
from eventplane.tables.routing import NotOwner
from eventplane.tables.store import PartitionStore

OTHER = "10.0.0.2:50051"
T = new_table(
    CreateTableInput(
        "things",
        [KeySchemaElement("pk", "HASH"), KeySchemaElement("sk", "RANGE")],
        [AttributeDefinition("pk", "S"), AttributeDefinition("sk", "N")],
        partitions=4,
    ),
    1_700_000_000_000,
)


def table_of(name: str) -> TableDef:
    if name != T.name:
        raise ResourceNotFound(f"Requested resource not found: Table: {name} not found")
    return T


def key(pk: str, sk: int = 1) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}}


def get(pk: str, sk: int = 1, **kw: Any) -> tg.TransactGet:
    return tg.TransactGet(T.name, key(pk, sk), **kw)


class Replica:
    """This replica's stores for some partitions; the rest belongs to OTHER."""

    def __init__(self, mine: set[int]) -> None:
        self.stores = {p: PartitionStore(T.name, p, "pk") for p in mine}
        # OTHER's items and their versions, by canonical key.
        self.other: dict[str, dict[str, Any]] = {}
        self.versions: dict[str, int] = {}
        self.remote_reads = 0
        self.between_reads: list[tuple[str, dict[str, Any]]] = []  # OTHER's writes

    def put_other(self, k: str, item: dict[str, Any]) -> None:
        self.other[k] = item
        self.versions[k] = self.versions.get(k, 0) + 1

    def put(self, item: dict[str, Any]) -> None:
        where = it.locate(T, it.exact_key(T, {"pk": item["pk"], "sk": item["sk"]}))
        if where.partition in self.stores:
            self.stores[where.partition].put(where.key, item, item_size)
        else:
            self.put_other(where.key, item)

    async def owner(self, table: TableDef, partition: int) -> PartitionStore | str:
        return self.stores.get(partition, OTHER)

    def local(self, table: str, partition: int) -> PartitionStore | None:
        return self.stores.get(partition)

    async def remote(self, address: str, gets: list[tg.TransactGet]) -> tg.Snapshot:
        assert address == OTHER
        self.remote_reads += 1
        if self.remote_reads == 2:  # writes land between the two reads
            for k, item in self.between_reads:
                self.put_other(k, item)
        keys = [it.locate(T, it.exact_key(T, g.key)).key for g in gets]
        return tg.Snapshot(
            [self.other.get(k) for k in keys], [str(self.versions.get(k, 0)) for k in keys]
        )

    def run(self, gets: list[tg.TransactGet]) -> list[Any]:
        planned = tg.plan(table_of, gets)
        snap = asyncio.run(tg.transact_get(planned, self.owner, self.local, self.remote))
        return snap.items


def partition(pk: str) -> int:
    return it.locate(T, key(pk)).partition


PKS = [f"p{i}" for i in range(12)]


def test_validation_happens_before_any_read() -> None:
    with pytest.raises(ValidationException, match="less than or equal to 100"):
        tg.plan(table_of, [get(f"p{i}") for i in range(101)])
    with pytest.raises(ValidationException, match="greater than or equal to 1"):
        tg.plan(table_of, [])
    with pytest.raises(ValidationException, match="multiple operations on one item"):
        tg.plan(table_of, [tg.TransactGet(T.name, key("a", 1)), get("a", 1)])
    dup = {"pk": {"S": "a"}, "sk": {"N": "1.0"}}  # the same number, written otherwise
    with pytest.raises(ValidationException, match="multiple operations on one item"):
        tg.plan(table_of, [get("a", 1), tg.TransactGet(T.name, dup)])
    with pytest.raises(ValidationException, match="does not match the schema"):
        tg.plan(table_of, [tg.TransactGet(T.name, {"pk": {"S": "a"}})])
    with pytest.raises(ResourceNotFound):
        tg.plan(table_of, [tg.TransactGet("nope", key("a"))])
    with pytest.raises(ValidationException):
        tg.plan(table_of, [get("a", projection_expression="#missing")])
    assert len(tg.plan(table_of, [get(f"p{i}") for i in range(100)])) == 100


def test_items_of_this_replica_come_back_in_order_projected_and_none_when_absent() -> None:
    r = Replica(set(range(4)))
    r.put({**key("a"), "v": {"S": "A"}, "w": {"N": "1"}})
    r.put({**key("b"), "v": {"S": "B"}})
    got = r.run([get("b", projection_expression="v"), get("zz"), get("a")])
    assert got == [{"v": {"S": "B"}}, None, {**key("a"), "v": {"S": "A"}, "w": {"N": "1"}}]
    assert r.remote_reads == 0  # one read, on this replica's loop


def test_items_all_on_another_replica_send_the_request_there() -> None:
    r = Replica(set())
    with pytest.raises(NotOwner) as err:
        r.run([get("a"), get("b")])
    assert err.value.address == OTHER


def test_items_on_two_replicas_are_read_twice_and_agree() -> None:
    mine = {partition(PKS[0])}
    r = Replica(mine)
    for pk in PKS:
        r.put({**key(pk), "v": {"S": pk}})
    assert {partition(pk) in mine for pk in PKS} == {True, False}
    got = r.run([get(pk) for pk in PKS])
    assert [g["v"]["S"] for g in got] == PKS
    assert r.remote_reads == 2


def test_a_write_between_the_two_reads_cancels_with_transaction_conflict() -> None:
    mine = {partition(PKS[0])}
    r = Replica(mine)
    for pk in PKS:
        r.put({**key(pk), "v": {"S": pk}})
    moved = next(pk for pk in PKS if partition(pk) not in mine)
    where = it.locate(T, key(moved))
    r.between_reads.append((where.key, {**key(moved), "v": {"S": "changed"}}))
    with pytest.raises(TransactionCanceledException) as err:
        r.run([get(pk) for pk in PKS])
    codes = [c.code for c in err.value.cancellation_reasons]
    assert codes == ["TransactionConflict" if pk == moved else "None" for pk in PKS]


def test_more_than_4_mb_of_items_cancels_with_validation_errors() -> None:
    r = Replica(set(range(4)))
    big = "x" * 390_000
    for i in range(11):
        r.put({**key(f"p{i}"), "v": {"S": big}})
    assert len(r.run([get(f"p{i}") for i in range(10)])) == 10  # 3.9 MB
    with pytest.raises(TransactionCanceledException) as err:
        r.run([get(f"p{i}") for i in range(11)])
    assert {c.code for c in err.value.cancellation_reasons} == {"ValidationError"}
    assert len(err.value.cancellation_reasons) == 11


def test_an_item_written_away_and_back_between_the_reads_conflicts_too() -> None:
    mine = {partition(PKS[0])}
    r = Replica(mine)
    for pk in PKS:
        r.put({**key(pk), "v": {"S": pk}})
    moved = next(pk for pk in PKS if partition(pk) not in mine)
    where = it.locate(T, key(moved))
    r.between_reads += [
        (where.key, {**key(moved), "v": {"S": "changed"}}),
        (where.key, {**key(moved), "v": {"S": moved}}),  # the same value as read first
    ]
    with pytest.raises(TransactionCanceledException) as err:
        r.run([get(pk) for pk in PKS])
    codes = [c.code for c in err.value.cancellation_reasons]
    assert codes == ["TransactionConflict" if pk == moved else "None" for pk in PKS]


def test_store_versions_change_with_every_write_and_absent_items_with_deletes() -> None:
    store = PartitionStore(T.name, 0, "pk")
    absent = store.version("k1")
    store.put("k1", {"pk": {"S": "a"}}, item_size)
    first = store.version("k1")
    store.put("k1", {"pk": {"S": "a"}}, item_size)
    assert len({absent, first, store.version("k1")}) == 3
    other_absent = store.version("k2")
    store.delete("k1", item_size)
    assert store.version("k1") != absent  # absent again, but after a delete
    assert store.version("k2") != other_absent  # conservative: any delete moves it
    assert PartitionStore(T.name, 0, "pk").version("k1") != absent  # another owner


def test_an_item_a_write_transaction_holds_cancels_the_read_at_its_place() -> None:
    """On this replica and on the other one alike, an item locked by a TransactWriteItems
    over several replicas is TransactionConflict at its own place in the request."""
    mine = {partition(PKS[0])}
    r = Replica(mine)
    for pk in PKS:
        r.put({**key(pk), "v": {"S": pk}})
    local_pk = PKS[0]
    remote_pk = next(pk for pk in PKS if partition(pk) not in mine)
    for held_pk in (local_pk, remote_pk):
        held = it.locate(T, key(held_pk))

        def locked(table: str, p: int, k: str, held: Any = held) -> bool:
            return (p, k) == (held.partition, held.key)

        async def remote(address: str, gets: list[tg.TransactGet]) -> tg.Snapshot:
            # The other replica reads its part through its own transact_get.
            other = Replica({partition(g.key["pk"]["S"]) for g in gets})
            for g in gets:
                other.put({**g.key, "v": {"S": g.key["pk"]["S"]}})
            planned = tg.plan(table_of, gets)
            return await tg.transact_get(planned, other.owner, other.local, other.remote, locked)

        planned = tg.plan(table_of, [get(pk) for pk in PKS])
        with pytest.raises(TransactionCanceledException) as err:
            asyncio.run(tg.transact_get(planned, r.owner, r.local, remote, locked))
        codes = [c.code for c in err.value.cancellation_reasons]
        assert codes == ["TransactionConflict" if pk == held_pk else "None" for pk in PKS]
