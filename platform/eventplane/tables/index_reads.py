"""Query and Scan over a secondary index, from the partition owners' stores.

An LSI shares the table's partition key, so all its entries for one key value sit
in one partition: its owner answers alone, strongly consistent, as DynamoDB does.

A GSI's entries are spread over every table partition (an item stays in the
partition of its table key). Each owner keeps, per GSI, its items grouped by
index partition-key value (``store.py``); a query asks every owner for its
candidates in index order (index range key, then table key: a total order, so
duplicates of an index key page exactly) and merges them. The answer is never older
than the table, which DynamoDB's eventual consistency allows; ConsistentRead is
refused as on DynamoDB, so clients keep to the contract they will meet there.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from eventplane.errors import ValidationException
from eventplane.tables import expressions as ex
from eventplane.tables.expr import item_size
from eventplane.tables.indexes import IndexDef
from eventplane.tables.items import exact_key
from eventplane.tables.keys import canonical_value, sort_value
from eventplane.tables.model import TableDef
from eventplane.tables.reads import PAGE_BYTES
from eventplane.tables.store import PartitionStore

Item = dict[str, Any]
Position = tuple[Any, ...]


def resolve(table: TableDef, name: str, consistent_read: bool, select: str) -> IndexDef:
    """The index a Query or Scan names, or DynamoDB's ValidationException."""
    index = table.index(name)
    if index is None or index.status == "DELETING":
        raise ValidationException(f"The table does not have the specified index: {name}")
    if index.is_global:
        if consistent_read:
            raise ValidationException(
                "Consistent reads are not supported on global secondary indexes"
            )
        if index.status == "CREATING":
            raise ValidationException(
                f"Cannot read from backfilling global secondary index: {name}"
            )
        if select == "ALL_ATTRIBUTES" and index.projection.projection_type != "ALL":
            raise ValidationException(
                "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not "
                f"supported for global secondary index {name} because its projection type is "
                "not ALL"
            )
    return index


def key_schema(table: TableDef, index: IndexDef) -> list[tuple[str, str]]:
    return [(n, table.attribute_types[n]) for n in index.key_names]


def position(table: TableDef, index: IndexDef, item: Mapping[str, Any]) -> Position:
    """An entry's place in the index: index range key, then the table key."""
    rk = index.range_key
    head: Position = (sort_value(item[rk]),) if rk is not None else ()
    return head + tuple(sort_value(item[n]) for n in table.key_names)


def last_key(table: TableDef, index: IndexDef) -> Callable[[Item], Item]:
    """LastEvaluatedKey of an index read: the table key and the index key."""
    names = list(dict.fromkeys(table.key_names + index.key_names))
    return lambda item: {n: item[n] for n in names}


def start_position(table: TableDef, index: IndexDef, key: Item | None) -> Position | None:
    """ExclusiveStartKey of an index read: the table key attributes plus the index's."""
    if not key:
        return None
    names = set(table.key_names) | set(index.key_names)
    if set(key) != names:
        raise ValidationException(
            "The provided starting key is invalid: The provided key element does not match "
            "the schema"
        )
    exact_key(table, {n: key[n] for n in table.key_names})
    for n in index.key_names:
        value = key[n]
        if not isinstance(value, Mapping) or next(iter(value), "") != table.attribute_types[n]:
            raise ValidationException(
                "The provided starting key is invalid: The provided key element does not "
                "match the schema"
            )
    return position(table, index, key)


def query_candidates(
    table: TableDef,
    index: IndexDef,
    stores: Iterable[PartitionStore],
    keys: ex.KeyRange,
    forward: bool,
    start: Position | None,
    limit: int,
) -> list[Item]:
    """The entries of these partitions with the query's index key, in index order after
    ``start``, at most what one page can evaluate (``limit`` items or 1 MB)."""
    hv = canonical_value(keys.hash_value)
    found: list[tuple[Position, Item]] = []
    for store in stores:
        if index.is_global:
            group = store.gsi_group(index.name, index.key_names, hv)
        else:
            group = [i for _, i in store.with_hash(hv) if index.range_key in i]
        for item in group:
            if index.range_key is not None and not keys.range_matches(item.get(index.range_key)):
                continue
            pos = position(table, index, item)
            if start is not None and (pos <= start if forward else pos >= start):
                continue
            found.append((pos, item))
    found.sort(key=lambda pi: pi[0], reverse=not forward)
    return _cap(table, index, [i for _, i in found], limit)


def _cap(table: TableDef, index: IndexDef, items: list[Item], limit: int) -> list[Item]:
    """Cut where a page would stop at the latest, counting the bytes the page counts
    (the projected entry's), so a merge of several owners' parts pages exactly."""
    out: list[Item] = []
    size = 0
    for item in items:
        out.append(item)
        size += item_size(index.project(item, table.key_names))
        if (limit and len(out) >= limit) or size >= PAGE_BYTES:
            break
    return out


def merge(table: TableDef, index: IndexDef, parts: list[list[Item]], forward: bool) -> list[Item]:
    """Several owners' candidate lists (each in index order) as one list in index order."""
    return list(
        heapq.merge(*parts, key=lambda item: position(table, index, item), reverse=not forward)
    )
