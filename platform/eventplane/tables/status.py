"""DescribeTable's TableStatus, ItemCount and TableSizeBytes, the same through every replica.

Each partition's items live only in the replica that owns it, so a replica answers for
the table by asking the other replicas of the owner group for the counts of the
partitions they have restored (one forwarded ``PartitionStats`` call each). A table is
ACTIVE once every partition has an owner that has restored it; after that it stays ACTIVE
here while partitions move between replicas (DynamoDB does not take a table out of
ACTIVE for its own failovers). A partition in the middle of a move is waited for a
moment; past that the counts cover the partitions that have an owner.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from eventplane.errors import EventplaneError
from eventplane.observability.logging import get_logger
from eventplane.tables.model import TableDef
from eventplane.tables.routing import PartitionStat, Remote

_log = get_logger("eventplane.tables.status")

__all__ = ["PartitionStat", "StatusBoard", "TableStatus"]

SETTLE_SECONDS = 3.0  # how long a DescribeTable waits for a partition that is moving
RETRY_SECONDS = 0.2


@dataclass(frozen=True)
class TableStatus:
    table: TableDef
    status: str  # CREATING | ACTIVE | UPDATING | DELETING
    item_count: int
    size_bytes: int
    indexes: dict[str, tuple[int, int]] = field(default_factory=dict)  # (items, bytes)
    partitions_counted: int = 0  # partitions whose owner answered for these counts


class Directory(Protocol):
    """The replicas of the owner group (``routing.OwnerDirectory``)."""

    self_address: str

    async def members(self) -> set[str]: ...


class StatusBoard:
    """The status of tables as this replica reports them, gathered from the owners."""

    def __init__(
        self,
        directory: Directory,
        local: Callable[[str], list[PartitionStat]],
        remote: Callable[[], Remote],
        *,
        settle_seconds: float = SETTLE_SECONDS,
    ) -> None:
        self._directory = directory
        self._local = local  # this replica's restored partitions of a table
        self._remote = remote
        self._settle = settle_seconds
        # Per table id, the largest partition count seen with every partition adopted: a
        # table repartitioned is UPDATING until each partition of its new count is.
        self._active: dict[str, int] = {}

    async def status(
        self, table: TableDef, status: str | None = None, *, wait: bool = True
    ) -> TableStatus:
        """The table's status and counts. A partition without a restored owner (being
        moved between replicas) is waited for a moment (``wait``), then left out."""
        deadline = time.monotonic() + (self._settle if wait else 0.0)
        while True:
            found = await self._gather(table)
            if len(found) == table.partitions or time.monotonic() >= deadline:
                break
            await asyncio.sleep(RETRY_SECONDS)
        counted = list(found.values())
        if len(counted) == table.partitions:
            seen = self._active.get(table.table_id, 0)
            self._active[table.table_id] = max(seen, table.partitions)
        if status is None:
            complete = self._active.get(table.table_id, 0)
            if table.target_partitions or 0 < complete < table.partitions:
                status = "UPDATING"
            else:
                status = "ACTIVE" if complete else "CREATING"
        indexes: dict[str, tuple[int, int]] = {}
        for s in counted:
            for name, (n, size) in s.indexes.items():
                have = indexes.get(name, (0, 0))
                indexes[name] = (have[0] + n, have[1] + size)
        return TableStatus(
            table,
            status,
            sum(s.item_count for s in counted),
            sum(s.size_bytes for s in counted),
            indexes,
            len(counted),
        )

    async def partitions(self, table: TableDef) -> dict[int, PartitionStat]:
        """The figures of every partition that has a restored owner now."""
        return await self._gather(table)

    async def _gather(self, table: TableDef) -> dict[int, PartitionStat]:
        """Every adopted partition's counts: this replica's, then the other members'.

        Every member is asked, not only the owners the directory names: the directory
        is refreshed about once a second and may name a partition's previous owner.
        """
        found = {s.partition: s for s in self._local(table.name)}
        if len(found) == table.partitions:
            return found
        others = sorted(await self._directory.members() - {self._directory.self_address})
        if others:
            remote = self._remote()
            answers = await asyncio.gather(
                *(remote.partition_stats(a, table.name) for a in others),
                return_exceptions=True,
            )
            for address, answer in zip(others, answers, strict=True):
                if isinstance(answer, EventplaneError):
                    # That replica's partitions count as not adopted for this answer.
                    _log.info("no partition stats", address=address, error=str(answer))
                    continue
                if isinstance(answer, BaseException):
                    raise answer
                for s in answer:
                    found.setdefault(s.partition, s)
        return {p: s for p, s in found.items() if 0 <= p < table.partitions}
