"""Reads from the owned stores: GetItem, Query, Scan, BatchGetItem.

Every read is served from the partition owner's committed items, so it is
strongly consistent whether or not ConsistentRead is set. Paging follows
DynamoDB: Limit counts evaluated items (before the filter), a page stops at
1 MB of evaluated items, and LastEvaluatedKey names the last evaluated item.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eventplane.errors import ValidationException
from eventplane.tables import expressions as ex
from eventplane.tables.expr import item_size
from eventplane.tables.items import Located, exact_key, locate
from eventplane.tables.keys import canonical_key, canonical_value, sort_value
from eventplane.tables.model import TableDef
from eventplane.tables.store import PartitionStore

Item = dict[str, Any]
PAGE_BYTES = 1024 * 1024
# In the order DynamoDB's enum message names them.
SELECTS = ("SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES")
# What "Cannot specify the ProjectionExpression when choosing to get ..." names.
_SELECTED = {
    "ALL_ATTRIBUTES": "ALL_ATTRIBUTES",
    "ALL_PROJECTED_ATTRIBUTES": "ALL_PROJECTED_ATTRIBUTES",
    "COUNT": "only the Count",
}


@dataclass(frozen=True)
class GetItemInput:
    table_name: str
    key: Item
    consistent_read: bool = False
    projection_expression: str = ""
    expression_attribute_names: Mapping[str, str] | None = None  # None: not given


@dataclass(frozen=True)
class QueryInput:
    table_name: str
    key_condition_expression: str = ""
    filter_expression: str = ""
    projection_expression: str = ""
    expression_attribute_names: Mapping[str, str] | None = None  # None: not given
    expression_attribute_values: Mapping[str, Any] | None = None
    scan_index_forward: bool = True
    limit: int = 0
    exclusive_start_key: Item | None = None
    select: str = ""
    index_name: str = ""
    consistent_read: bool = False


@dataclass(frozen=True)
class ScanInput:
    table_name: str
    filter_expression: str = ""
    projection_expression: str = ""
    expression_attribute_names: Mapping[str, str] | None = None  # None: not given
    expression_attribute_values: Mapping[str, Any] | None = None
    limit: int = 0
    exclusive_start_key: Item | None = None
    select: str = ""
    segment: int | None = None
    total_segments: int | None = None
    index_name: str = ""
    consistent_read: bool = False


@dataclass(frozen=True)
class KeysAndAttributes:
    keys: list[Item]
    projection_expression: str = ""
    expression_attribute_names: Mapping[str, str] | None = None  # None: not given
    consistent_read: bool = False


@dataclass(frozen=True)
class Page:
    items: list[Item]
    count: int
    scanned_count: int
    last_evaluated_key: Item | None
    size_bytes: int = 0  # evaluated bytes, toward the 1 MB page limit


def check_limit(limit: int) -> None:
    if limit < 0:
        raise ValidationException(
            "1 validation error detected: Value at 'limit' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1"
        )


def check_select(
    select: str, projection: str, index_name: str = "", *, query: bool = False
) -> bool:
    """Whether only the count is wanted. DynamoDB words these refusals alike for Query
    and Scan, but wraps Query's in its "1 validation error detected: " envelope."""
    if select and select not in SELECTS:
        raise ValidationException(
            f"1 validation error detected: Value '{select}' at 'select' failed to satisfy "
            "constraint: Member must satisfy enum value set: [" + ", ".join(SELECTS) + "]"
        )
    envelope = "1 validation error detected: " if query else ""
    if select == "ALL_PROJECTED_ATTRIBUTES" and not index_name:
        raise ValidationException(
            f"{envelope}ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
        )
    if projection and select in _SELECTED:
        raise ValidationException(
            f"{envelope}Cannot specify the ProjectionExpression when choosing to get "
            f"{_SELECTED[select]}"
        )
    if select == "SPECIFIC_ATTRIBUTES" and not projection:
        raise ValidationException(
            f"{envelope}Must specify the AttributesToGet or ProjectionExpression when "
            "choosing to get SPECIFIC_ATTRIBUTES"
        )
    return select == "COUNT"


def start_key(table: TableDef, key: Item | None) -> Located | None:
    if not key:
        return None
    return locate(table, exact_key(table, key))


def paginate(
    table: TableDef,
    candidates: Iterable[tuple[str, Item]],
    *,
    limit: int,
    keep: Callable[[Item], bool],
    project: Callable[[Item], Item],
    count_only: bool,
    bytes_used: int = 0,
    last_key: Callable[[Item], Item] | None = None,
) -> Page:
    """Evaluate items in order until Limit or 1 MB; filter and project what is kept.

    ``bytes_used``: what earlier parts of the same page (other partitions) evaluated;
    ``last_key``: LastEvaluatedKey of an item (default: its table key).
    """
    key_of = last_key or (lambda item: {n: item[n] for n in table.key_names})
    items: list[Item] = []
    count = scanned = 0
    size = bytes_used
    last: Item | None = None
    stopped = False
    for _, item in candidates:
        if stopped:
            return Page(items, count, scanned, last, size)
        scanned += 1
        size += item_size(item)
        last = key_of(item)
        if keep(item):
            count += 1
            if not count_only:
                items.append(project(item))
        if (limit and scanned >= limit) or size >= PAGE_BYTES:
            stopped = True
    # DynamoDB returns LastEvaluatedKey whenever a page stopped early, even if nothing
    # follows; when the items ran out first there is none.
    return Page(items, count, scanned, last if stopped else None, size)


def merge(first: Page, then: Page) -> Page:
    """Two consecutive parts of one page (``then`` counted ``first``'s bytes already)."""
    return Page(
        first.items + then.items,
        first.count + then.count,
        first.scanned_count + then.scanned_count,
        then.last_evaluated_key,
        then.size_bytes,
    )


def scan_order(
    table: TableDef,
    stores: list[PartitionStore],
    start: Located | None,
    segment: int | None,
    total: int | None,
) -> Iterable[tuple[str, Item]]:
    """Partitions in order, each by canonical key, resuming after ``start``."""
    for store in stores:
        if start is not None and store.partition < start.partition:
            continue
        for key, item in store.scan():
            if start is not None and store.partition == start.partition and key <= start.key:
                continue
            if (
                total is not None
                and segment is not None
                and (zlib.crc32(key.encode()) % total != segment)
            ):
                continue
            yield key, item


def check_segments(segment: int | None, total: int | None) -> None:
    if segment is None and total is None:
        return
    if segment is None or total is None:
        raise ValidationException(
            "The TotalSegments parameter is required but was not present in the request when "
            "Segment parameter is present"
            if total is None
            else "The Segment parameter is required but was not present in the request when "
            "parameter TotalSegments is present"
        )
    if not 1 <= total <= 1_000_000:
        bound = "greater than or equal to 1" if total < 1 else "less than or equal to 1000000"
        raise ValidationException(
            f"1 validation error detected: Value '{total}' at 'totalSegments' failed to satisfy "
            f"constraint: Member must have value {bound}"
        )
    if not 0 <= segment < total:
        raise ValidationException(
            f"The Segment parameter is zero-based and must be less than parameter TotalSegments: "
            f"Segment: {segment} is not less than TotalSegments: {total}"
        )


def query_order(
    table: TableDef,
    store: PartitionStore,
    keys: ex.KeyRange,
    forward: bool,
    start: Located | None,
) -> list[tuple[str, Item]]:
    """Items with the partition-key value, in range-key order, after ``start``."""
    group = store.with_hash(canonical_value(keys.hash_value))
    rk = table.range_key
    if rk is not None:
        group.sort(key=lambda kv: sort_value(kv[1][rk]), reverse=not forward)
    out = [(k, i) for k, i in group if rk is None or keys.range_matches(i.get(rk))]
    if start is not None:
        if rk is None:
            return []
        pivot = sort_value(start.keys[rk])
        out = [
            (k, i)
            for k, i in out
            if (sort_value(i[rk]) > pivot if forward else sort_value(i[rk]) < pivot)
        ]
    return out


def key_string(table: TableDef, item: Item) -> str:
    return canonical_key({n: item[n] for n in table.key_names}, table.key_names)


BatchGetPart = tuple[TableDef, KeysAndAttributes, Callable[[Item], Item], list[Located]]


def plan_batch_get(
    table_of: Callable[[str], TableDef], request_items: Mapping[str, KeysAndAttributes]
) -> list[BatchGetPart]:
    """Validate BatchGetItem (1-100 keys, no duplicates, keys of the schema) before reading."""
    total = sum(len(k.keys) for k in request_items.values())
    if total == 0:
        raise ValidationException(
            "1 validation error detected: Value at 'requestItems' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1"
        )
    if total > 100:
        raise ValidationException("Too many items requested for the BatchGetItem call")
    planned: list[BatchGetPart] = []
    for name, ka in request_items.items():
        table = table_of(name)
        exprs = ex.compile(
            projection=ka.projection_expression,
            names=ka.expression_attribute_names,
            values=None,
        )
        located = [locate(table, exact_key(table, k)) for k in ka.keys]
        if len({w.key for w in located}) != len(located):
            raise ValidationException("Provided list of item keys contains duplicates")
        planned.append((table, ka, ex.projector(exprs), located))
    return planned
