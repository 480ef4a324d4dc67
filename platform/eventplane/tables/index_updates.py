"""UpdateTable's GlobalSecondaryIndexUpdates: add a GSI (with backfill) or remove one.

``apply_updates`` is pure: the definition to store after the request, with the
new index CREATING (Backfilling) or the removed one DELETING. The change then
completes in the background (``IndexChanges``): the owner of the table's
partition 0 has every partition's owner build the index's entries from its
items (the backfill: a PartitionStats call per replica, which counts, and so
builds, each partition's entries), then stores the index ACTIVE, or drops the
DELETING one. The step is in the registry, so a SIGKILL of that owner moves the
work with partition 0 to the next owner, which finishes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from eventplane.errors import ResourceNotFound, ValidationException
from eventplane.errors.bus import LimitExceeded
from eventplane.observability.logging import get_logger
from eventplane.tables.errors import ResourceInUseException
from eventplane.tables.indexes import (
    MAX_GSIS,
    IndexDef,
    SecondaryIndex,
    check_index,
    check_non_key_total,
    key_attributes,
)
from eventplane.tables.model import AttributeDefinition, TableDef

_log = get_logger("eventplane.tables.index_updates")


@dataclass(frozen=True, slots=True)
class GlobalSecondaryIndexUpdate:
    """One of UpdateTable's GlobalSecondaryIndexUpdates: Create, or Delete (a name)."""

    create: SecondaryIndex | None = None
    delete_index_name: str = ""


def _invalid(text: str) -> ValidationException:
    return ValidationException("One or more parameter values were invalid: " + text)


def apply_updates(
    table: TableDef,
    updates: Sequence[GlobalSecondaryIndexUpdate],
    definitions: Sequence[AttributeDefinition],
) -> TableDef:
    """The definition after the index updates, or DynamoDB's error."""
    if len(updates) > 1:
        raise LimitExceeded(
            "Subscriber limit exceeded: Only 1 online index can be created or deleted "
            "simultaneously per table"
        )
    if any(d.status != "ACTIVE" for d in table.gsis):
        raise ResourceInUseException(
            f"Attempt to change a resource which is still in use: Table is being updated: "
            f"{table.plain_name}"
        )
    (update,) = updates
    if update.create is not None and not update.delete_index_name:
        return _create(table, update.create, definitions)
    if update.delete_index_name and update.create is None:
        return _delete(table, update.delete_index_name)
    raise _invalid("One of Create, Update or Delete must be given in a GlobalSecondaryIndexUpdate")


def _create(
    table: TableDef, idx: SecondaryIndex, definitions: Sequence[AttributeDefinition]
) -> TableDef:
    types = dict(table.attribute_types)
    for d in definitions:
        have = types.get(d.attribute_name)
        if have is not None and have != d.attribute_type:
            raise _invalid(
                f"Cannot change the type of attribute {d.attribute_name} from {have} to "
                f"{d.attribute_type}: it is a key attribute of the table or an index"
            )
        if d.attribute_type not in ("S", "N", "B"):
            raise ValidationException(
                f"1 validation error detected: Value '{d.attribute_type}' at "
                "'attributeDefinitions.member.attributeType' failed to satisfy constraint: "
                "Member must satisfy enum value set: [B, N, S]"
            )
        types[d.attribute_name] = d.attribute_type
    new = check_index(idx, "globalSecondaryIndexes", 1, types)
    if table.index(new.name) is not None:
        raise _invalid(f"Attempting to create an index which already exists: {new.name}")
    if len(table.gsis) >= MAX_GSIS:
        raise _invalid(f"GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSIS}")
    indexes = (*table.indexes, dataclasses.replace(new, status="CREATING", backfilling=True))
    check_non_key_total(indexes)
    if set(types) - key_attributes(table.hash_key, table.range_key, indexes):
        raise _invalid(
            "Number of attributes in KeySchema does not exactly match number of attributes "
            "defined in AttributeDefinitions"
        )
    return dataclasses.replace(table, attribute_types=types, indexes=indexes)


def _delete(table: TableDef, name: str) -> TableDef:
    found = next((d for d in table.gsis if d.name == name), None)
    if found is None:
        raise ResourceNotFound(f"Requested resource not found: Index: {name} not found")
    return _replace(table, dataclasses.replace(found, status="DELETING", backfilling=False))


def _replace(table: TableDef, index: IndexDef) -> TableDef:
    return dataclasses.replace(
        table, indexes=tuple(index if d.name == index.name else d for d in table.indexes)
    )


def finished(table: TableDef) -> TableDef:
    """The definition once its index changes are done: CREATING ones ACTIVE, DELETING
    ones gone (with the attribute definitions only they used)."""
    kept = tuple(
        dataclasses.replace(d, status="ACTIVE", backfilling=False)
        for d in table.indexes
        if d.status != "DELETING"
    )
    used = key_attributes(table.hash_key, table.range_key, kept)
    types = {n: t for n, t in table.attribute_types.items() if n in used}
    return dataclasses.replace(table, indexes=kept, attribute_types=types)


def pending(table: TableDef) -> bool:
    return any(d.status != "ACTIVE" for d in table.gsis)


class IndexChanges:
    """Completes the index changes of the tables whose partition 0 this replica owns."""

    def __init__(
        self,
        lookup: Callable[[str], TableDef | None],
        backfill: Callable[[TableDef], Awaitable[bool]],
        store: Callable[[TableDef], Awaitable[None]],
        *,
        retry_seconds: float = 0.5,
    ) -> None:
        self._lookup = lookup
        self._backfill = backfill  # True once every partition built the table's indexes
        self._store = store
        self._running: dict[str, asyncio.Task[None]] = {}
        self._retry = retry_seconds

    def kick(self, table: TableDef) -> None:
        if pending(table) and table.name not in self._running:
            task = asyncio.create_task(self._finish(table.name), name=f"gsi-{table.name}")
            self._running[table.name] = task
            task.add_done_callback(lambda _: self._running.pop(table.name, None))

    async def _finish(self, name: str) -> None:
        for _ in range(600):
            table = self._lookup(name)
            if table is None or not pending(table):
                return
            try:
                if await self._backfill(table):
                    current = self._lookup(name)
                    if current is not None and current.table_id == table.table_id:
                        await self._store(finished(current))
                    return
            except Exception:  # a replica moving or stopping: try again shortly
                _log.warning("index change not finished yet", table=name, exc_info=True)
            await asyncio.sleep(self._retry)

    async def wait(self, name: str) -> None:
        """Until the change of table ``name`` in progress here (if any) is done."""
        task = self._running.get(name)
        if task is not None:
            await asyncio.wait([task])

    async def stop(self) -> None:
        for task in list(self._running.values()):
            task.cancel()
        for task in list(self._running.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task
