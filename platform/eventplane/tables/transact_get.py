"""TransactGetItems: up to 100 items read as one snapshot, or not at all.

Validation (1-100 gets, one per item, keys that match the schema, projections) happens
before anything is read. The items of partitions one replica owns are read on its event
loop without yielding in between: writes are applied to the stores on that same loop, so
no write (single item or TransactWriteItems) can land half-way through the read. Items
spread over several replicas are read twice, each replica's part as one such snapshot,
with each item's version in its owner's store: if none changed between the two reads, all
items held their values together at the moment between the reads (the double collect of
atomic snapshots). If one changed, a write overlapped the read, and the request is
canceled with TransactionConflict for that item, as DynamoDB cancels a TransactGetItems
that conflicts with a concurrent write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eventplane.errors import ServiceUnavailable, ValidationException
from eventplane.errors.tables import CancellationReason, TransactionCanceledException
from eventplane.tables import expressions as ex
from eventplane.tables import items as it
from eventplane.tables.expr import item_size
from eventplane.tables.model import TableDef
from eventplane.tables.routing import NotOwner
from eventplane.tables.store import PartitionStore

Item = dict[str, Any]
MAX_GETS = 100
MAX_BYTES = 4 * 1024 * 1024

Owner = Callable[[TableDef, int], Awaitable["PartitionStore | str"]]  # store or address
LocalStore = Callable[[str, int], "PartitionStore | None"]
RemoteGet = Callable[[str, "list[TransactGet]"], Awaitable["Snapshot"]]
# Whether a TransactWriteItems over several replicas holds the item (coordinator.py).
Locked = Callable[[str, int, str], bool]


@dataclass(frozen=True)
class TransactGet:
    """One ``Get`` of TransactGetItems, in DynamoDB's shape."""

    table_name: str
    key: Item
    projection_expression: str = ""
    expression_attribute_names: Mapping[str, str] | None = None  # None: not given


@dataclass(frozen=True)
class Snapshot:
    """The items in request order (None: absent) and their versions in their stores."""

    items: list[Item | None]
    versions: list[str]


@dataclass(frozen=True)
class PlannedGet:
    get: TransactGet
    where: it.Located
    project: Callable[[Item], Item]


def plan(table_of: Callable[[str], TableDef], gets: list[TransactGet]) -> list[PlannedGet]:
    """Validate every get (DynamoDB's messages) into located reads, in request order."""
    if len(gets) > MAX_GETS:
        raise ValidationException(
            "1 validation error detected: Value at 'transactItems' failed to satisfy "
            "constraint: Member must have length less than or equal to 100"
        )
    if not gets:
        raise ValidationException(
            "1 validation error detected: Value at 'transactItems' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1"
        )
    planned: list[PlannedGet] = []
    seen: set[tuple[str, str]] = set()
    for g in gets:
        table = table_of(g.table_name)  # ResourceNotFoundException for a missing table
        where = it.locate(table, it.exact_key(table, g.key))
        if (table.name, where.key) in seen:
            raise ValidationException(
                "Transaction request cannot include multiple operations on one item"
            )
        seen.add((table.name, where.key))
        exprs = ex.compile(
            projection=g.projection_expression,
            names=g.expression_attribute_names,
            values=None,
        )
        planned.append(PlannedGet(g, where, ex.projector(exprs)))
    return planned


async def transact_get(
    planned: list[PlannedGet],
    owner: Owner,
    local: LocalStore,
    remote: RemoteGet,
    locked: Locked = lambda table, partition, key: False,
) -> Snapshot:
    """The items in request order, as one snapshot (see the module's docstring).

    NotOwner when another single replica owns every item: the caller forwards the whole
    request there.
    """
    groups: dict[str | None, list[int]] = {}
    for i, p in enumerate(planned):
        found = await owner(p.where.table, p.where.partition)
        groups.setdefault(found if isinstance(found, str) else None, []).append(i)
    if len(groups) == 1 and None not in groups:
        (address,) = groups
        assert address is not None
        raise NotOwner(address)
    if len(groups) == 1:
        snap = read(planned, local, locked)
    else:
        snap = await _collect(planned, groups, local, remote, locked)
        conflicts(snap, await _collect(planned, groups, local, remote, locked))
    check_size(snap.items)
    return snap


def read(
    planned: list[PlannedGet],
    local: LocalStore,
    locked: Locked = lambda table, partition, key: False,
) -> Snapshot:
    """Every item from this replica's stores, in one go: no await, so no write between.

    An item a write transaction over several replicas holds cancels the read with
    TransactionConflict for it, as DynamoDB cancels a TransactGetItems that conflicts
    with an ongoing TransactWriteItems."""
    held = [locked(p.where.table.name, p.where.partition, p.where.key) for p in planned]
    if any(held):
        raise canceled(
            [
                CancellationReason("TransactionConflict", "Transaction is ongoing for the item")
                if h
                else CancellationReason("None")
                for h in held
            ]
        )
    stores = [local(p.where.table.name, p.where.partition) for p in planned]
    items: list[Item | None] = []
    versions: list[str] = []
    for p, store in zip(planned, stores, strict=True):
        if store is None:
            raise ServiceUnavailable(
                f"partition {p.where.partition} of table {p.where.table.name} moved; retry"
            )
        item = store.get(p.where.key)
        items.append(p.project(item) if item is not None else None)
        versions.append(store.version(p.where.key))
    return Snapshot(items, versions)


async def _collect(
    planned: list[PlannedGet],
    groups: dict[str | None, list[int]],
    local: LocalStore,
    remote: RemoteGet,
    locked: Locked,
) -> Snapshot:
    """One read of every item: each replica's part as its own snapshot, concurrently."""
    items: list[Item | None] = [None] * len(planned)
    versions = [""] * len(planned)

    async def part(address: str, index: list[int]) -> None:
        try:
            got = await remote(address, [planned[i].get for i in index])
        except TransactionCanceledException as exc:
            if any(r.code == "TransactionConflict" for r in exc.cancellation_reasons):
                raise _widened(exc, index, len(planned)) from None
            check_size([None] * len(planned), over=True)  # its part alone is over 4 MB
            raise
        put(index, got)

    def put(index: list[int], got: Snapshot) -> None:
        if len(got.items) != len(index) or len(got.versions) != len(index):
            raise ServiceUnavailable("a replica answered a part of the transaction partly; retry")
        for i, item, version in zip(index, got.items, got.versions, strict=True):
            items[i] = item
            versions[i] = version

    mine = groups.get(None, [])
    try:
        put(mine, read([planned[i] for i in mine], local, locked))
    except TransactionCanceledException as exc:
        raise _widened(exc, mine, len(planned)) from None
    await asyncio.gather(*(part(a, index) for a, index in groups.items() if a is not None))
    return Snapshot(items, versions)


def _widened(
    exc: TransactionCanceledException, index: list[int], size: int
) -> TransactionCanceledException:
    """A part's cancellation as the whole request's: its reasons at its items' places."""
    reasons = [CancellationReason("None") for _ in range(size)]
    for i, reason in zip(index, exc.cancellation_reasons, strict=False):
        reasons[i] = reason
    return canceled(reasons)


def check_size(items: list[Item | None], *, over: bool = False) -> None:
    """DynamoDB cancels a TransactGetItems whose items add up to more than 4 MB."""
    if over or sum(item_size(i) for i in items if i is not None) > MAX_BYTES:
        raise canceled(
            [
                CancellationReason(
                    "ValidationError",
                    "Transaction size has exceeded the maximum allowed size of 4 MB",
                )
                for _ in items
            ]
        )


def conflicts(first: Snapshot, second: Snapshot) -> None:
    """Two reads of the same items must agree, or a write overlapped them."""
    if first == second:
        return
    raise canceled(
        [
            CancellationReason("None")
            if a == b and va == vb
            else CancellationReason("TransactionConflict", "Transaction is ongoing for the item")
            for a, b, va, vb in zip(
                first.items, second.items, first.versions, second.versions, strict=True
            )
        ]
    )


def canceled(reasons: list[CancellationReason]) -> TransactionCanceledException:
    return TransactionCanceledException(
        "Transaction cancelled, please refer cancellation reasons for specific reasons ["
        + ", ".join(r.code for r in reasons)
        + "]",
        reasons,
    )
