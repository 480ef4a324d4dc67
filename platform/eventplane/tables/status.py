"""DescribeTable's TableStatus, ItemCount and TableSizeBytes, the same through every replica.

Each partition's items live only in the replica that owns it, so a replica answers for
the table by asking the owners of the partitions it does not hold for their counts (one
forwarded ``PartitionStats`` call per owner). A table is ACTIVE once every partition has
an owner that has restored it; after that it stays ACTIVE here while partitions move
between replicas (DynamoDB does not take a table out of ACTIVE for its own failovers),
and the counts cover the partitions that have an owner at the moment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from eventplane.errors import EventplaneError
from eventplane.observability.logging import get_logger
from eventplane.tables.model import TableDef
from eventplane.tables.routing import PartitionStat, Remote

_log = get_logger("eventplane.tables.status")

__all__ = ["PartitionStat", "StatusBoard", "TableStatus"]


@dataclass(frozen=True)
class TableStatus:
    table: TableDef
    status: str  # CREATING | ACTIVE | DELETING
    item_count: int
    size_bytes: int


class Directory(Protocol):
    """Who owns which partition (``routing.OwnerDirectory``)."""

    self_address: str

    async def owner_of(self, table: str, partition: int) -> str | None: ...


class StatusBoard:
    """The status of tables as this replica reports them, gathered from the owners."""

    def __init__(
        self,
        directory: Directory,
        local: Callable[[str], list[PartitionStat]],
        remote: Callable[[], Remote],
    ) -> None:
        self._directory = directory
        self._local = local  # this replica's restored partitions of a table
        self._remote = remote
        self._active: set[str] = set()  # table ids seen with every partition adopted

    async def status(self, table: TableDef, status: str | None = None) -> TableStatus:
        found = {s.partition: s for s in self._local(table.name)}
        missing = [p for p in range(table.partitions) if p not in found]
        owners = [await self._directory.owner_of(table.name, p) for p in missing]
        addresses = sorted(
            {a for a in owners if a is not None and a != self._directory.self_address}
        )
        if addresses:
            remote = self._remote()
            answers = await asyncio.gather(
                *(remote.partition_stats(a, table.name) for a in addresses),
                return_exceptions=True,
            )
            for address, answer in zip(addresses, answers, strict=True):
                if isinstance(answer, EventplaneError):
                    # That replica's partitions count as not adopted for this answer.
                    _log.info("no partition stats", address=address, error=str(answer))
                    continue
                if isinstance(answer, BaseException):
                    raise answer
                for s in answer:
                    found.setdefault(s.partition, s)
        counted = [found[p] for p in range(table.partitions) if p in found]
        if len(counted) == table.partitions:
            self._active.add(table.table_id)
        if status is None:
            status = "ACTIVE" if table.table_id in self._active else "CREATING"
        return TableStatus(
            table,
            status,
            sum(s.item_count for s in counted),
            sum(s.size_bytes for s in counted),
        )
