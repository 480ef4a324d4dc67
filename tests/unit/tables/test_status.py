"""DescribeTable's status and counts gathered from the partitions' owners (fakes, no Kafka)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from eventplane.errors import ServiceUnavailable
from eventplane.tables.model import (
    AttributeDefinition,
    CreateTableInput,
    KeySchemaElement,
    TableDef,
    new_table,
)
from eventplane.tables.routing import PartitionStat
from eventplane.tables.status import StatusBoard

SELF = "10.0.0.1:50051"
OTHER = "10.0.0.2:50051"


def table(partitions: int = 4) -> TableDef:
    req = CreateTableInput(
        "things",
        [KeySchemaElement("pk", "HASH")],
        [AttributeDefinition("pk", "S")],
        partitions=partitions,
    )
    return new_table(req, 1_700_000_000_000)


class Directory:
    def __init__(self, owners: dict[int, str]) -> None:
        self.self_address = SELF
        self.owners = owners

    async def members(self) -> set[str]:
        return {SELF, *self.owners.values()}


class Remote:
    """The other replica: its restored partitions, or an error for every call."""

    def __init__(self, stats: list[PartitionStat], fail: bool = False) -> None:
        self.stats = stats
        self.fail = fail
        self.calls: list[str] = []

    async def partition_stats(self, address: str, table_name: str) -> list[PartitionStat]:
        self.calls.append(address)
        if self.fail:
            raise ServiceUnavailable("replica gone")
        return self.stats

    def __getattr__(self, name: str) -> Any:  # the rest of routing.Remote: unused here
        raise AttributeError(name)


def board(owners: dict[int, str], local: list[PartitionStat], remote: Remote) -> StatusBoard:
    return StatusBoard(Directory(owners), lambda name: local, lambda: remote, settle_seconds=0.0)


def test_the_counts_are_the_tables_when_another_replica_owns_some_partitions() -> None:
    remote = Remote([PartitionStat(2, 5, 500), PartitionStat(3, 1, 10)])
    b = board(
        {0: SELF, 1: SELF, 2: OTHER, 3: OTHER},
        [PartitionStat(0, 2, 20), PartitionStat(1, 0, 0)],
        remote,
    )
    s = asyncio.run(b.status(table()))
    assert (s.status, s.item_count, s.size_bytes) == ("ACTIVE", 8, 530)
    assert remote.calls == [OTHER]  # one call per owner, not per partition


def test_a_replica_owning_none_reports_active_from_the_owner() -> None:
    remote = Remote([PartitionStat(0, 3, 30)])
    s = asyncio.run(board({0: OTHER}, [], remote).status(table(1)))
    assert (s.status, s.item_count) == ("ACTIVE", 3)


def test_creating_until_every_partition_is_adopted_then_active_while_partitions_move() -> None:
    owners = {0: SELF, 1: OTHER}
    remote = Remote([])  # assigned to OTHER, not restored there yet
    b = board(owners, [PartitionStat(0, 1, 10)], remote)
    t = table(2)
    assert asyncio.run(b.status(t)).status == "CREATING"
    remote.stats = [PartitionStat(1, 4, 40)]
    assert asyncio.run(b.status(t)).item_count == 5
    # The other replica dies: its partition has no owner for a while. The table stays
    # ACTIVE; the counts cover what has an owner.
    remote.fail = True
    s = asyncio.run(b.status(t))
    assert (s.status, s.item_count) == ("ACTIVE", 1)
    del owners[1]
    assert asyncio.run(b.status(t)).status == "ACTIVE"


def test_a_table_recreated_under_the_same_name_is_creating_until_adopted() -> None:
    owners = {0: SELF}
    b = board(owners, [PartitionStat(0, 0, 0)], Remote([]))
    assert asyncio.run(b.status(table(1))).status == "ACTIVE"
    owners.clear()
    b._local = lambda name: []
    assert asyncio.run(b.status(table(1))).status == "CREATING"  # a new table id


def test_an_explicit_status_is_kept_with_the_counts() -> None:
    s = asyncio.run(
        board({0: SELF}, [PartitionStat(0, 2, 9)], Remote([])).status(table(1), "DELETING")
    )
    assert (s.status, s.item_count, s.size_bytes) == ("DELETING", 2, 9)


def test_updating_while_repartitioning_until_every_new_partition_is_adopted() -> None:
    local = [PartitionStat(0, 1, 10), PartitionStat(1, 1, 10)]
    b = board({0: SELF, 1: SELF}, local, Remote([]))
    t = table(2)
    assert asyncio.run(b.status(t)).status == "ACTIVE"
    moving = dataclasses.replace(t, target_partitions=4)
    assert asyncio.run(b.status(moving)).status == "UPDATING"
    switched = dataclasses.replace(t, partitions=4)
    assert asyncio.run(b.status(switched)).status == "UPDATING"  # 2 and 3 not restored yet
    local += [PartitionStat(2, 0, 0), PartitionStat(3, 1, 10)]
    s = asyncio.run(b.status(switched))
    assert (s.status, s.item_count) == ("ACTIVE", 3)
