"""The moving parts of a repartition (the rules are in ``repartition.py``).

Every replica moves the items of the old partitions it owns, each in one write of its
writer; the owner of partition 0 then switches the table to the new count. Both are
driven by the table definition (``target_partitions``) and resumed by whichever
replica owns a partition after a move or a restart, so nothing depends on the replica
that took the UpdateTable staying up.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventplane.errors import EventplaneError, ServiceUnavailable
from eventplane.kafka import naming
from eventplane.kafka.clients import grow_topics
from eventplane.observability.logging import get_logger
from eventplane.tables import metrics
from eventplane.tables.model import KIND
from eventplane.tables.repartition import LAYOUT_KEY, children, finish, moves
from eventplane.tables.writer import Change, Staged

if TYPE_CHECKING:
    from eventplane.tables.engine import TableEngine
    from eventplane.tables.model import TableDef
    from eventplane.tables.store import PartitionStore

_log = get_logger("eventplane.tables.repartition")

Item = dict[str, Any]
POLL_SECONDS = 0.2  # how often the finisher looks whether every partition has moved
# The layout a partition's record names while its items are moving (some moved, some
# not): the partition serves no table until the move is done.
MOVING = 0
MAX_BACKOFF_SECONDS = 2.0


def layout_record(partitions: int) -> Item:
    return {"partitions": {"S": str(partitions)}}


def layout_of(record: Item | None, default: int) -> int:
    """The partition count a restored partition's layout record names (else ``default``)."""
    if not record:
        return default
    try:
        return int(record["partitions"]["S"])
    except (KeyError, TypeError, ValueError):
        return default


def repartitioning(table: str) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"table {table} is being repartitioned and this partition is moving; retry"
    )


async def _solo() -> None:
    """Makes a write a transaction of its own: no other write is staged with the move."""


@dataclass
class _Plan:
    """What a partition's move has left, worked out once from its store: after the first
    chunk the partition is MOVING and takes no writes, so only the move changes it."""

    store: PartitionStore
    moving: list[tuple[str, int]]  # (key, partition it goes to)
    done: int = 0


class Repartitioner:
    def __init__(self, engine: TableEngine) -> None:
        self._engine = engine
        self._moving: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._finishing: dict[str, asyncio.Task[None]] = {}
        self._plans: dict[tuple[str, int], _Plan] = {}

    async def begin(self, table: TableDef, target: int) -> None:
        """UpdateTable's part before the definition is stored: the topics' new partitions
        (the owners move items there as soon as they see the definition)."""
        engine = self._engine
        await asyncio.to_thread(
            grow_topics,
            engine.settings,
            {naming.table_topic(table.name): target, naming.table_stream_topic(table.name): target},
        )
        metrics.REPARTITIONS.labels(table.name, "started").inc()
        _log.info(
            "repartition started",
            table=table.name,
            from_partitions=table.partitions,
            to_partitions=target,
        )

    def ready(self, table_name: str, partition: int) -> bool:
        """Whether a partition may be restored now (owner thread): a partition a
        repartition adds is restored once the table routes keys to it, so its restore
        reads every item moved there."""
        r = self._engine.ctx.registry.get(KIND, table_name)
        return r is None or partition < int(r.spec.get("partitions") or 0)

    def check(self, change: Change) -> None:
        """In the writer: a change routed by another count than its partition follows."""
        if change.migrated:
            return
        store = self._engine.stores.get((change.table.name, change.partition))
        if store is not None and store.layout != change.table.partitions:
            raise repartitioning(change.table.name)

    def kick(self) -> None:
        """Start what this replica owes the tables being repartitioned (on the loop)."""
        engine = self._engine
        for table in engine.tables():
            target = table.target_partitions
            if not target:
                continue
            for (name, p), store in list(engine.stores.items()):
                if name != table.name:
                    continue
                if store.layout < target and (name, p) not in self._moving:
                    self._moving[(name, p)] = asyncio.create_task(
                        self._move(name, p), name=f"tables-repartition-{name}-{p}"
                    )
                if p == 0 and name not in self._finishing:
                    self._finishing[name] = asyncio.create_task(
                        self._finish(name), name=f"tables-repartition-finish-{name}"
                    )

    async def stop(self) -> None:
        tasks = [*self._moving.values(), *self._finishing.values()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- one old partition's move ---------------------------------------------------------
    async def _move(self, name: str, partition: int) -> None:
        engine = self._engine
        delay = 0.1
        started = time.monotonic()
        total = 0
        try:
            while True:
                table = engine.lookup(name)
                store = engine.stores.get((name, partition))
                if (
                    table is None
                    or not table.target_partitions
                    or store is None
                    or store.layout >= table.target_partitions
                ):
                    return
                try:
                    await engine.writer.refresh(
                        [naming.table_topic(name), naming.table_stream_topic(name)]
                    )
                    moved = await engine.writer.submit(
                        self._step(table, partition), foreign=[], before_commit=_solo
                    )
                    plan = self._plans.get((name, partition))
                    if plan is not None:
                        plan.done += moved
                except EventplaneError as exc:
                    self._plans.pop((name, partition), None)  # made again from the store
                    _log.info(
                        "repartition move retried",
                        table=name,
                        partition=partition,
                        error=str(exc),
                    )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, MAX_BACKOFF_SECONDS)
                    continue
                metrics.REPARTITION_ITEMS_MOVED.labels(name).inc(moved)
                total += moved
                delay = 0.1
                if store.layout >= table.target_partitions:
                    _log.info(
                        "repartition: partition moved",
                        table=name,
                        partition=partition,
                        to_partitions=table.target_partitions,
                        items_moved=total,
                        seconds=round(time.monotonic() - started, 3),
                    )
        finally:
            self._moving.pop((name, partition), None)
            self._plans.pop((name, partition), None)

    def _step(self, table: TableDef, partition: int) -> Any:
        engine = self._engine
        target = table.target_partitions

        def prepare(_staged: Staged) -> tuple[list[Change], int]:
            store = engine.stores.get((table.name, partition))
            if store is None:
                raise ServiceUnavailable(f"partition {partition} of {table.name} moved")
            if store.layout >= target:
                return [], 0
            if engine.participant.holds_partition(table.name, partition):
                raise ServiceUnavailable("a transaction holds items of the partition")
            changes: list[Change] = []
            plan = self._plans.get((table.name, partition))
            if plan is None or plan.store is not store:
                found = moves(store.entries(), table.hash_key, partition, target)
                plan = self._plans[(table.name, partition)] = _Plan(store, list(found.items()))
            size = engine.settings.tables_repartition_chunk
            chunk = plan.moving[plan.done : plan.done + size]
            rest = plan.done + size < len(plan.moving)
            for key, to in chunk:
                item = store.get(key)
                if item is None:  # cannot happen while MOVING; never write a hole
                    raise ServiceUnavailable(f"item {key} left partition {partition} meanwhile")
                keys = {k: item[k] for k in table.key_names if k in item}
                changes.append(Change(table, partition, key, keys, item, None, migrated=True))
                changes.append(Change(table, to, key, keys, None, item, migrated=True))
            # Until the last chunk the partition is MOVING (a restore after a crash
            # serves none of it and carries on moving); the last names the new count
            # in the partition and each child.
            done = not rest
            for child in children(partition, table.partitions, target) if done else [partition]:
                record = layout_record(target if done else MOVING)
                changes.append(Change(table, child, LAYOUT_KEY, {}, None, record, migrated=True))
            return changes, len(chunk)

        return prepare

    # --- the switch to the new count ----------------------------------------------------------
    async def _finish(self, name: str) -> None:
        engine = self._engine
        try:
            while True:
                table = engine.lookup(name)
                if table is None or not table.target_partitions:
                    return
                if (name, 0) not in engine.stores:
                    return  # partition 0's next owner finishes
                try:
                    found = await engine.board.partitions(table)
                except EventplaneError as exc:
                    _log.info("repartition: partitions not counted", table=name, error=str(exc))
                    found = {}
                moved = [p for p, s in found.items() if s.layout == table.target_partitions]
                if len(moved) == table.partitions:
                    await self._switch(table)
                    return
                await asyncio.sleep(POLL_SECONDS)
        finally:
            self._finishing.pop(name, None)

    async def _switch(self, table: TableDef) -> None:
        """Every old partition has moved its items and takes no writes until the table
        routes by the new count: each stream partition's end now is where its shard closes."""
        engine = self._engine
        topic = naming.table_stream_topic(table.name)
        offsets: dict[int, int] = {}
        for p in range(table.partitions):
            _, high = await asyncio.to_thread(engine.readers.watermarks, topic, p)
            offsets[p] = high
        new = finish(table, offsets, engine.clock())
        await engine.put_def(new)
        metrics.REPARTITIONS.labels(table.name, "done").inc()
        _log.info(
            "repartition done",
            table=table.name,
            from_partitions=table.partitions,
            to_partitions=new.partitions,
            shard_ends=offsets,
        )
