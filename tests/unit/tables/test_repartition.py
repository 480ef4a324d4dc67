"""Repartitioning's pure parts: which counts are accepted, which items move where, the
table after the switch, and the stream shards (spans, parents) of every layout."""

from __future__ import annotations

import dataclasses

import pytest

from eventplane.config import Settings
from eventplane.errors import ResourceNotFound, ValidationException
from eventplane.tables import repartitioner
from eventplane.tables.expr import item_size
from eventplane.tables.keys import canonical_key, partition_of
from eventplane.tables.model import (
    AttributeDefinition,
    CreateTableInput,
    KeySchemaElement,
    Split,
    StreamSpecification,
    TableDef,
    new_table,
)
from eventplane.tables.repartition import (
    LAYOUT_KEY,
    check_partitions,
    children,
    finish,
    moves,
    shard_id,
    shard_span,
    shards,
    start,
)
from eventplane.tables.repartitioner import layout_of, layout_record
from eventplane.tables.store import PartitionStore
from eventplane.tables.table_updates import UpdateTableInput, update_table

NOW_MS = 1_800_000_000_000


def table(partitions: int = 2) -> TableDef:
    return new_table(
        CreateTableInput(
            "orders",
            [KeySchemaElement("id", "HASH")],
            [AttributeDefinition("id", "S")],
            StreamSpecification(True, "NEW_IMAGE"),
            partitions,
        ),
        NOW_MS,
    )


@pytest.mark.parametrize(
    ("current", "requested", "why"),
    [
        (2, 2, "greater than the current"),
        (2, 1, "greater than the current"),
        (2, 3, "multiple of the current"),
        (4, 6, "multiple of the current"),
        (32, 128, "at most 64"),
    ],
)
def test_counts_that_are_refused_name_the_field(current: int, requested: int, why: str) -> None:
    with pytest.raises(ValidationException, match=f"partitions: {requested}.*{why}"):
        check_partitions(table(current), requested)


def test_a_multiple_starts_a_repartition_and_a_second_one_waits() -> None:
    t = update_table(table(2), UpdateTableInput("orders", partitions=6), NOW_MS)
    assert (t.partitions, t.target_partitions) == (2, 6)
    with pytest.raises(ValidationException, match="already being repartitioned"):
        start(t, 12)


def test_partitions_alone_is_an_update() -> None:
    t = update_table(table(1), UpdateTableInput("orders", partitions=4), NOW_MS)
    assert t.target_partitions == 4


def test_each_moved_item_goes_to_the_child_its_key_routes_to() -> None:
    items = [
        (canonical_key({"id": {"S": f"k{i}"}}, ("id",)), {"id": {"S": f"k{i}"}}) for i in range(200)
    ]
    for p in range(2):
        mine = [(k, it) for k, it in items if partition_of(it["id"], 2) == p]
        moved = moves(mine, "id", p, 8)
        stay = {k for k, _ in mine} - set(moved)
        assert moved and stay  # 200 keys: some of each
        for key, to in moved.items():
            item = dict(mine)[key]
            assert to == partition_of(item["id"], 8) and to % 2 == p and to != p
        assert all(partition_of(dict(mine)[k]["id"], 8) == p for k in stay)
    assert children(1, 2, 8) == [1, 3, 5, 7]


def test_finish_routes_by_the_new_count_and_records_where_shards_closed() -> None:
    t = start(table(2), 4)
    done = finish(t, {0: 10, 1: 7}, NOW_MS + 5)
    assert (done.partitions, done.target_partitions) == (4, 0)
    assert done.splits == (Split(2, 4, NOW_MS + 5, (10, 7)),)
    assert done.initial_partitions == 2
    # The definition keeps it through the registry.
    assert TableDef.from_spec(done.name, done.to_spec()) == done
    # A second split's shards begin later than the first's, even on a stuck clock.
    again = finish(start(done, 8), {0: 20, 1: 9, 2: 3, 3: 0}, NOW_MS)
    assert again.splits[1].at_ms == NOW_MS + 6


def test_shards_of_a_table_never_repartitioned_are_its_partitions() -> None:
    spans = shards(table(2))
    assert [(s.shard_id, s.partition, s.start, s.end, s.parent) for s in spans] == [
        (shard_id(NOW_MS, 0), 0, 0, None, ""),
        (shard_id(NOW_MS, 1), 1, 0, None, ""),
    ]


def test_after_splits_parents_close_and_each_child_names_its_one_parent() -> None:
    t = finish(start(table(2), 4), {0: 10, 1: 7}, NOW_MS + 5)
    t = finish(start(t, 8), {0: 30, 1: 17, 2: 4, 3: 2}, NOW_MS + 9)
    spans = {s.shard_id: s for s in shards(t)}
    assert len(spans) == 2 + 4 + 8
    first = [shard_id(NOW_MS, p) for p in range(2)]
    second = [shard_id(NOW_MS + 5, p) for p in range(4)]
    third = [shard_id(NOW_MS + 9, p) for p in range(8)]
    assert [spans[s].end for s in first] == [10, 7]
    assert [(spans[s].start, spans[s].end, spans[s].parent) for s in second] == [
        (10, 30, first[0]),  # the same stream partition carries on where the parent closed
        (7, 17, first[1]),
        (0, 4, first[0]),  # a new stream partition starts at its beginning
        (0, 2, first[1]),
    ]
    assert [spans[s].parent for s in third] == [second[q % 4] for q in range(8)]
    assert [spans[s].start for s in third] == [30, 17, 4, 2, 0, 0, 0, 0]
    assert all(spans[s].end is None for s in third)
    # Listed parents before children.
    order = [s.shard_id for s in shards(t)]
    assert all(order.index(spans[s].parent) < order.index(s) for s in second + third)


def test_an_unknown_shard_is_not_found() -> None:
    with pytest.raises(ResourceNotFound):
        shard_span(table(2), shard_id(NOW_MS, 2))
    with pytest.raises(ResourceNotFound):
        shard_span(table(2), "shardId-nope")


def test_layout_records_round_trip_and_default() -> None:
    assert layout_of(layout_record(8), 2) == 8
    assert layout_of(None, 2) == 2
    assert layout_of({"partitions": {"N": "x"}}, 4) == 4
    assert LAYOUT_KEY.startswith("#")  # never an item's canonical key


def test_a_table_stored_before_repartitioning_existed_loads_without_splits() -> None:
    spec = table(2).to_spec()
    del spec["target_partitions"], spec["splits"]
    t = TableDef.from_spec("orders", spec)
    assert (t.target_partitions, t.splits) == (0, ())
    assert dataclasses.replace(t, partitions=2).initial_partitions == 2


class _Participant:
    def holds_partition(self, table: str, partition: int) -> bool:
        return False


class _Engine:
    def __init__(self, store: PartitionStore) -> None:
        self.stores = {(store.table, store.partition): store}
        self.participant = _Participant()
        self.settings = Settings(tables_repartition_chunk=3)


def test_a_big_partition_moves_in_chunks_and_is_moving_until_the_last() -> None:
    t = start(table(1), 2)
    store = PartitionStore("orders", 0, "id", layout=1)
    items = {f"k{i}": {"id": {"S": f"k{i}"}} for i in range(20)}
    store.load({canonical_key(v, ("id",)): v for v in items.values()}, item_size)
    leaving = {k for k, v in items.items() if partition_of(v["id"], 2) == 1}
    assert len(leaving) > 6
    r = repartitioner.Repartitioner(_Engine(store))  # type: ignore[arg-type]
    step = r._step(t, 0)
    arrived: dict[int, set[str]] = {}
    layouts: list[int] = []
    while store.layout < 2:
        changes, moved = step(None)
        assert moved <= 3
        r._plans[("orders", 0)].done += moved  # what _move does once the chunk committed
        for c in changes:
            if c.key == LAYOUT_KEY:
                arrived.setdefault(c.partition, set())
                if c.partition == 0:
                    store.layout = layout_of(c.new, store.layout)
                    layouts.append(store.layout)
            elif c.new is None:
                assert c.partition == 0
                store.delete(c.key, item_size)
            else:
                assert c.partition == 1 and all(ch.migrated for ch in changes)
                arrived.setdefault(1, set()).add(c.new["id"]["S"])
    assert arrived[1] == leaving
    assert layouts[-1] == 2 and set(layouts[:-1]) == {repartitioner.MOVING}
    assert {store.get(canonical_key(v, ("id",))) is not None for v in items.values()} == {
        True,
        False,
    }
    assert len(store) == 20 - len(leaving)
