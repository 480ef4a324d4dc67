"""Raising a live table's partition count (UpdateTable ``partitions``): the pure rules.

The changelog and stream topics gain partitions (Kafka topics can); an item's
partition stays CRC-32 of its partition key modulo the count, so when N becomes
k*N the items of partition ``p`` go to ``p``, ``p+N``, ... ``p+(k-1)N`` and every new
partition has exactly one parent, as a DynamoDB shard split has. The steps:

1. UpdateTable checks the count, adds the topic partitions and stores the table with
   ``target_partitions`` (TableStatus UPDATING); keys still route by the old count.
2. Each old partition's owner moves its items in its writer, in order with its other
   writes: ONE Kafka transaction holds a tombstone in the old partition and the image
   in the new one for every item that moves, plus a ``LAYOUT_KEY`` record in the old
   partition and each child naming the new count. The stream partition's end at that
   moment (nothing else of the partition is in flight) is where its shard closes.
3. The owner of partition 0 waits until every old partition has moved, then stores the
   table with the new count and a ``Split`` (the closing offsets). The children are
   restored only now, so their owners read what was moved to them.

A partition whose items follow another count than the table its replica knows
(``layout`` of the store) is refused with the retriable ServiceUnavailable, so a
request routed by a stale count never reads or writes the wrong partition.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eventplane.errors import ResourceNotFound, ValidationException
from eventplane.tables.keys import partition_of
from eventplane.tables.model import MAX_PARTITIONS, Split, TableDef

__all__ = [
    "LAYOUT_KEY",
    "ShardSpan",
    "check_partitions",
    "finish",
    "moves",
    "shard_id",
    "shard_span",
    "shards",
    "start",
]

# The changelog key of a partition's layout record ({"partitions": {"N": "8"}}): not an
# item, never streamed; a restore takes the count its items follow from it.
LAYOUT_KEY = "#layout"

Item = dict[str, Any]


def check_partitions(table: TableDef, requested: int) -> None:
    """A new partition count: more than now, a multiple of it, at most MAX_PARTITIONS."""
    current = table.partitions
    field = "partitions"
    if table.target_partitions:
        raise ValidationException(
            f"Table {table.plain_name} is already being repartitioned to "
            f"{table.target_partitions} partitions"
        )
    if requested <= current:
        raise ValidationException(
            f"Invalid value for {field}: {requested}; it must be greater than the current "
            f"partition count {current} (partitions can only be added)"
        )
    if requested % current:
        raise ValidationException(
            f"Invalid value for {field}: {requested}; it must be a multiple of the current "
            f"partition count {current}, so that each new shard has one parent"
        )
    if requested > MAX_PARTITIONS:
        raise ValidationException(
            f"Invalid value for {field}: {requested}; it must be at most {MAX_PARTITIONS}"
        )


def start(table: TableDef, requested: int) -> TableDef:
    check_partitions(table, requested)
    return dataclasses.replace(table, target_partitions=requested)


def moves(
    items: Iterable[tuple[str, Item]], hash_key: str, partition: int, partitions: int
) -> dict[str, int]:
    """The keys of ``partition``'s items that belong elsewhere under ``partitions``, with
    the partition each goes to."""
    out: dict[str, int] = {}
    for key, item in items:
        to = partition_of(item[hash_key], partitions)
        if to != partition:
            out[key] = to
    return out


def children(partition: int, old: int, new: int) -> list[int]:
    """The partitions of the new layout whose keys come from ``partition``."""
    return list(range(partition, new, old))


def finish(table: TableDef, offsets: Mapping[int, int], at_ms: int) -> TableDef:
    """The table once every old partition has moved its items: keys route by the new
    count, and the old layout's stream shards close at ``offsets``."""
    old, new = table.partitions, table.target_partitions
    last = table.splits[-1].at_ms if table.splits else table.created_ms
    split = Split(old, new, max(at_ms, last + 1), tuple(offsets[p] for p in range(old)))
    return dataclasses.replace(
        table, partitions=new, target_partitions=0, splits=(*table.splits, split)
    )


# --- stream shards ----------------------------------------------------------------------


def shard_id(created_ms: int, partition: int) -> str:
    """DynamoDB's shard-id shape (shardId-<20 digits>-<8 hex>): the time the layout began
    and the stream partition."""
    return f"shardId-{created_ms:020d}-{partition:08x}"


@dataclass(frozen=True)
class ShardSpan:
    """A shard: records ``start`` <= offset < ``end`` (None: open) of a stream partition."""

    shard_id: str
    partition: int
    start: int
    end: int | None
    parent: str  # "" for a shard of the layout the table was created with
    epoch_ms: int  # when its layout began


def shards(table: TableDef) -> list[ShardSpan]:
    """Every shard of the table's stream, parents before their children."""
    epochs = [(table.created_ms, table.initial_partitions)] + [
        (s.at_ms, s.to_partitions) for s in table.splits
    ]
    out: list[ShardSpan] = []
    for e, (ms, count) in enumerate(epochs):
        before = table.splits[e - 1] if e > 0 else None
        after = table.splits[e] if e < len(table.splits) else None
        for q in range(count):
            begin = 0
            parent = ""
            if before is not None:
                parent = shard_id(epochs[e - 1][0], q % before.from_partitions)
                if q < before.from_partitions:
                    begin = before.offsets[q]
            end = after.offsets[q] if after is not None else None
            out.append(ShardSpan(shard_id(ms, q), q, begin, end, parent, ms))
    return out


def shard_span(table: TableDef, shard: str) -> ShardSpan:
    found = next((s for s in shards(table) if s.shard_id == shard), None)
    if found is None:
        raise ResourceNotFound(f"Requested resource not found: Shard: {shard} does not exist")
    return found
