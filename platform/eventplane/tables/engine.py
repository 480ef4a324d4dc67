"""TableEngine: the tables capability behind its front doors (gRPC, gateway, CLI).

Control plane: table definitions in the registry (kind ``table``), and per
table a compacted changelog topic plus a co-partitioned stream topic (24 h).
Data plane: every item lives in one partition (CRC-32 of its partition key);
the replica that owns the partition (``owner.py``) serves its reads from the
restored store and its writes through the transactional ``Writer``. Names are per
account: all is keyed by a table's internal name, the doors' ``internal`` (``references``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

from eventplane import arn as arns
from eventplane.errors import EventplaneError, ServiceUnavailable
from eventplane.kafka import naming
from eventplane.kafka.clients import TopicSpec, ensure_topics
from eventplane.kafka.retirement import retire_topics
from eventplane.observability.logging import get_logger
from eventplane.runtime import ServerContext
from eventplane.security.accounts import caller_account, listing_account, owner_of
from eventplane.tables import idempotency as idem
from eventplane.tables import item_collections, metrics, references, ttl
from eventplane.tables import items as it
from eventplane.tables import table_updates as tu
from eventplane.tables import transact_get as tg
from eventplane.tables import transactions as tx
from eventplane.tables.coordinator import Participant, coordinate
from eventplane.tables.errors import ValidationException
from eventplane.tables.expr import item_size
from eventplane.tables.index_updates import IndexChanges
from eventplane.tables.model import (
    KIND,
    STREAM_RETENTION_MS,
    CreateTableInput,
    TableDef,
    TimeToLive,
    list_tables_page,
    new_table,
)
from eventplane.tables.owner import OwnerListener, Restored, TableOwners
from eventplane.tables.repartition import LAYOUT_KEY
from eventplane.tables.repartitioner import Repartitioner, layout_of, repartitioning
from eventplane.tables.routing import (
    FORWARDED,
    NotOwner,
    OwnerDirectory,
    PartitionStat,
    Remote,
    forward_token,
)
from eventplane.tables.status import StatusBoard, TableStatus
from eventplane.tables.store import TOKEN_PREFIX, PartitionStore
from eventplane.tables.stream_lag import StreamLag
from eventplane.tables.stream_signals import Shard, ShardSignals
from eventplane.tables.stream_watch import StreamWatch
from eventplane.tables.streams import IteratorSigner, StreamReaders
from eventplane.tables.table_reads import TableReads, index_stats
from eventplane.tables.tags import TableTags
from eventplane.tables.writer import Change, Writer

_log = get_logger("eventplane.tables")

T = TypeVar("T")
Item = dict[str, Any]

OWNER_WAIT_SECONDS = 10.0


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


class TableEngine(TableReads, TableTags, OwnerListener):
    def __init__(self, ctx: ServerContext, clock: Callable[[], int] = wall_clock_ms) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.clock = clock
        self.stores: dict[tuple[str, int], PartitionStore] = {}
        self._adopted = asyncio.Event()
        # This replica's side of other replicas' cross-replica transactions (its locks).
        self.participant = Participant(self)
        self.writer = Writer(
            ctx.settings,
            self._read,
            self.apply,
            clock,
            collection=self._collection_bytes,
            guard=self.participant.guard,
            uncertain=self.participant.resync,
            check=lambda change: self.repartitioner.check(change),
        )
        self.repartitioner = Repartitioner(self)
        self.readers = StreamReaders(ctx.settings)
        self.stream_lag = StreamLag(clock)
        # Stream readers in this process wait on these instead of polling (stream_source).
        self.stream_signals = ShardSignals()
        self.stream_watch = StreamWatch(ctx.settings, self.stream_signals)
        self.signer = IteratorSigner(ctx.settings.receipt_secret)
        self._owners: TableOwners | None = None
        self.directory = OwnerDirectory(ctx.settings, ctx.settings.advertise)
        self.forward_token = forward_token(ctx.settings.receipt_secret)
        self.remote: Remote | None = None  # set by the service: calls to other replicas
        self._loop: asyncio.AbstractEventLoop | None = None
        self._collector: metrics.TableCollector | None = None
        self.board = StatusBoard(self.directory, self.partition_stats, self._remote)
        self.sweeper = ttl.Sweeper(
            lambda: [(t, p, s) for (t, p), s in list(self.stores.items())],
            self.lookup,
            self.writer.submit,
            clock,
        )
        self._sweeping: asyncio.Task[None] | None = None
        self.index_changes = IndexChanges(self.lookup, self._backfilled, self.put_def)

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        # The writer first: its transactional id fences a previous incarnation of this
        # replica and aborts what it left open, which the restores below wait for.
        await self.writer.start()
        self._owners = TableOwners(
            self.settings,
            self,
            self._loop,
            advertise=self.settings.advertise,
            instance_id=self.ctx.instance_id,
            exists=lambda t: self.ctx.registry.get(KIND, t) is not None,
            ready=self.repartitioner.ready,
        )
        self.ctx.registry.subscribe(self._on_registry_change)
        self._sync_subscription()
        self._owners.start()
        self._collector = metrics.register(self._rows, self.stream_lag.rows)
        self._sweeping = asyncio.create_task(
            self.sweeper.run(ttl.sweep_seconds()), name="tables-ttl-sweep"
        )

    async def stop(self) -> None:
        await self.index_changes.stop()
        await self.repartitioner.stop()
        if self._sweeping is not None:
            self._sweeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeping
        if self._owners is not None:
            await asyncio.to_thread(self._owners.close)
        await self.participant.stop()
        await self.writer.stop()
        if self.remote is not None:
            await self.remote.close()
        await asyncio.to_thread(self.readers.close)
        await asyncio.to_thread(self.stream_watch.close)
        if self._collector is not None:
            metrics.unregister(self._collector)

    def _on_registry_change(self, kind: str, name: str, resource: Any) -> None:
        if kind == KIND and self._loop is not None:  # on the registry's thread
            self._loop.call_soon_threadsafe(self._sync_subscription)

    def _sync_subscription(self) -> None:
        defined = {t.name for t in self.tables()}
        # A table deleted through another replica stops being served and counted here at
        # once, not only when the group revokes its partitions.
        for key in [k for k in self.stores if k[0] not in defined]:
            self.stores.pop(key, None)
        for lagging, _, _ in self.stream_lag.rows():
            if lagging not in defined:
                self.stream_lag.forget(lagging)
        if self._owners is not None:
            self._owners.subscribe([naming.table_topic(t) for t in sorted(defined)])
        for table in self.tables():
            live = {d.name for d in table.gsis if d.status != "DELETING"}
            for (name, p), store in list(self.stores.items()):
                if name == table.name:
                    store.keep_indexes(live)
                    if p == 0:
                        self.index_changes.kick(table)
        self.repartitioner.kick()

    async def _backfilled(self, table: TableDef) -> bool:
        """Whether every partition's owner has built the table's GSIs: counting a
        partition's index entries (PartitionStats) builds them."""
        status = await self.status(table)
        return status.partitions_counted == table.partitions

    async def put_def(self, table: TableDef) -> None:
        await asyncio.to_thread(self.ctx.registry.put, KIND, table.name, table.to_spec())

    def _rows(self) -> list[tuple[str, int, int]]:
        """Items and bytes per table of the partitions this replica owns: each partition
        has one owner, so the replicas' gauges add up to the table's."""
        rows: dict[str, list[int]] = {}
        for (table, _), store in list(self.stores.items()):
            row = rows.setdefault(table, [0, 0])
            row[0] += len(store)
            row[1] += store.size_bytes
        return [(t, c, s) for t, (c, s) in rows.items()]

    # --- ownership (called from the owner thread, run on the loop) ---------------------
    async def adopt(self, restored: Restored) -> None:
        table = self.lookup(restored.table)
        if table is None:
            return
        layout = layout_of(restored.items.pop(LAYOUT_KEY, None), table.initial_partitions)
        store = PartitionStore(
            table.name,
            restored.partition,
            table.hash_key,
            item_collections.weigher(table),
            layout=layout,
        )
        store.load(restored.items, item_size)
        if restored.partition >= table.initial_partitions:  # a repartition added it
            await self.writer.refresh(
                [naming.table_topic(table.name), naming.table_stream_topic(table.name)]
            )
        self.stores[(table.name, restored.partition)] = store
        if restored.partition == 0:
            self.index_changes.kick(table)  # finish what a previous owner left
        self._adopted.set()
        self._adopted = asyncio.Event()
        self.repartitioner.kick()

    async def relinquish(self, partitions: list[tuple[str, int]]) -> None:
        for key in partitions:
            self.stores.pop(key, None)
        self.participant.relinquished(partitions)

    async def owner(
        self, table: TableDef, partition: int, *, may_forward: bool | None = None
    ) -> PartitionStore | str:
        """The local store of a partition, or the address of the replica that owns it.

        Waits for an adoption in progress. A forwarded request is served here or not
        at all: it is never sent on again (two replicas with stale views could
        otherwise pass it back and forth).
        """
        forwarded = FORWARDED.get() if may_forward is None else not may_forward
        deadline = time.monotonic() + OWNER_WAIT_SECONDS
        while True:
            store = self.stores.get((table.name, partition))
            if store is not None:
                if await self.participant.settled(table.name, partition):
                    continue  # a transaction was committing: look again
                if store.layout != table.partitions:
                    raise repartitioning(table.name)
                return store
            if not forwarded:
                address = await self.directory.owner_of(table.name, partition)
                if address is not None and address != self.directory.self_address:
                    return address
            left = deadline - time.monotonic()
            if left <= 0:
                raise ServiceUnavailable(
                    f"partition {partition} of table {table.name} has no owner yet; retry"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._adopted.wait(), min(left, 0.25))

    async def store(self, table: TableDef, partition: int) -> PartitionStore:
        """The local store of a partition; NotOwner names the replica to forward to."""
        found = await self.owner(table, partition)
        if isinstance(found, str):
            raise NotOwner(found)
        return found

    def _read(self, table: str, partition: int, key: str) -> Item | None:
        store = self.stores.get((table, partition))
        if store is None:
            raise ServiceUnavailable(f"partition {partition} of table {table} moved; retry")
        if key.startswith(TOKEN_PREFIX):
            return store.tokens.get(key)
        return store.get(key)

    def _collection_bytes(self, key: tuple[str, int, str]) -> int:
        store = self.stores.get((key[0], key[1]))
        return store.collection_bytes(key[2]) if store is not None else 0

    def apply(self, changes: list[Change], ends: Mapping[Shard, int] | None = None) -> None:
        """Committed changes into the stores of this replica's partitions. ``ends``: per
        partition the commit wrote, the offset after its last record, when known (the
        writer's; a cross-replica transaction's coordinator wrote its own records)."""
        streamed: dict[Shard, int] = {}
        for c in changes:
            store = self.stores.get((c.table.name, c.partition))
            if c.migrated:  # a repartition's move: the item leaves; the count it follows
                if store is not None and c.key == LAYOUT_KEY and c.new is not None:
                    store.layout = layout_of(c.new, store.layout)
                elif store is not None and c.new is None:
                    store.delete(c.key, item_size)
                continue
            if c.is_token:
                if store is not None and c.new is None:
                    store.tokens.pop(c.key, None)
                elif store is not None and c.new is not None:
                    store.tokens[c.key] = c.new
                continue
            if store is not None:
                if c.new is None:
                    store.delete(c.key, item_size)
                else:
                    store.put(c.key, c.new, item_size)
            metrics.WRITES.labels(c.table.name).inc()
            if c.table.stream.stream_enabled:
                streamed[(naming.table_stream_topic(c.table.name), c.partition)] = (
                    c.table.created_ms
                )
        for shard, epoch in streamed.items():  # committed: the stream records are there
            self.stream_signals.notify(shard, (ends or {}).get(shard), epoch)

    # --- definitions ------------------------------------------------------------------------
    def lookup(self, name: str) -> TableDef | None:
        r = self.ctx.registry.get(KIND, name)
        return TableDef.from_spec(r.name, r.spec) if r is not None else None

    def get(self, name: str) -> TableDef:
        table = self.lookup(name)
        if table is None:
            raise references.not_found(name)
        return table

    def table_owner(self, name: str) -> str | None:
        """The account of the table of internal name ``name`` (None: no such table)."""
        r = self.ctx.registry.get(KIND, name)
        return owner_of(r.spec) if r is not None else None

    def internal(self, ref: str) -> str:
        """The internal name of the table a request's TableName names (``references``)."""
        return references.resolve(self.table_owner, ref)

    def tables(self) -> list[TableDef]:
        return [TableDef.from_spec(r.name, r.spec) for r in self.ctx.registry.find(KIND)]

    def partition_stats(self, table_name: str) -> list[PartitionStat]:
        """Counts of the table's partitions this replica has restored (and so serves)."""
        table = self.lookup(table_name)
        return [
            PartitionStat(p, len(s), s.size_bytes, index_stats(table, s), s.layout)
            for (t, p), s in sorted(self.stores.items())
            if t == table_name and table is not None
        ]

    async def status(
        self, table: TableDef, status: str | None = None, *, wait: bool = True
    ) -> TableStatus:
        return await self.board.status(table, status, wait=wait)

    async def create_table(self, req: CreateTableInput) -> TableStatus:
        table = replace(new_table(req, self.clock()), account=caller_account())
        # Names are per account: only the caller's tables count (``references.new_name``).
        named = references.new_name(self.table_owner, table.name, table.account)
        table = replace(table, name=named)
        specs = [
            TopicSpec(
                naming.table_topic(table.name),
                table.partitions,
                {"cleanup.policy": "compact", "min.compaction.lag.ms": "60000"},
            ),
            TopicSpec(
                naming.table_stream_topic(table.name),
                table.partitions,
                {"cleanup.policy": "delete", "retention.ms": str(STREAM_RETENTION_MS)},
            ),
        ]
        await asyncio.to_thread(ensure_topics, self.settings, specs)
        await asyncio.to_thread(self.ctx.registry.put, KIND, table.name, table.to_spec())
        # A table is ACTIVE once every partition has an owner (this replica or another)
        # that restored it: wait a little for that, so a put right after create is served
        # at once; past the wait the answer is CREATING, as DynamoDB's usually is.
        deadline = time.monotonic() + OWNER_WAIT_SECONDS
        while True:
            status = await self.status(table, wait=False)
            if status.status == "ACTIVE" or time.monotonic() >= deadline:
                return status
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._adopted.wait(), 0.2)

    async def describe_table(self, name: str) -> TableStatus:
        return await self.status(self.get(name))

    def list_tables(self, start: str, limit: int) -> tuple[list[str], str | None]:
        """The caller's account's tables (every account's for the platform's own calls)."""
        account = listing_account()
        mine = [t.plain_name for t in self.tables() if account in (None, t.account)]
        return list_tables_page(mine, start, limit)

    def owner_of(self, arn: str) -> str | None:
        """The account the table (or its stream) ``arn`` names belongs to; None: no such
        table (authorization's lookup: the registry's view, no parse of the definition)."""
        found = references.of_arn(self.table_owner, arn, arns.Kind.TABLE, arns.Kind.STREAM)
        return self.table_owner(found[0]) if found is not None else None

    async def update_table(self, req: tu.UpdateTableInput) -> TableStatus:
        table = self.get(req.table_name)
        new = tu.update_table(table, req, self.clock())
        if new.target_partitions and not table.target_partitions:
            await self.repartitioner.begin(table, new.target_partitions)
        await asyncio.to_thread(self.ctx.registry.put, KIND, new.name, new.to_spec())
        return await self.status(new)

    async def update_time_to_live(self, name: str, spec: TimeToLive) -> TimeToLive:
        """Enable or disable TTL; the owners' sweeps pick it up from the registry."""
        new = tu.update_time_to_live(self.get(name), spec)
        await asyncio.to_thread(self.ctx.registry.put, KIND, new.name, new.to_spec())
        return spec

    def describe_time_to_live(self, name: str) -> TimeToLive:
        return self.get(name).ttl

    async def delete_table(self, name: str) -> TableStatus:
        table = self.get(name)
        if table.deletion_protection:
            raise ValidationException(
                "Resource cannot be deleted as it is currently protected against deletion. "
                "Disable deletion protection first."
            )
        result = await self.status(table, "DELETING", wait=False)
        await asyncio.to_thread(self.ctx.registry.delete, KIND, name)
        for key in [k for k in self.stores if k[0] == name]:
            self.stores.pop(key, None)
        await asyncio.to_thread(
            retire_topics,
            self.settings,
            [naming.table_topic(name), naming.table_stream_topic(name)],
        )
        return result

    # --- single-item writes -------------------------------------------------------------------
    async def _write(self, where: it.Located, step: it.Step) -> it.WriteResult:
        await self.store(where.table, where.partition)
        try:
            return await self.writer.submit(step)
        except EventplaneError as exc:
            if exc.code == "ConditionalCheckFailedException":
                metrics.CONDITIONAL_FAILURES.labels(where.table.name).inc()
            elif exc.code == "TransactionConflictException":
                metrics.TRANSACTION_CONFLICTS.labels(where.table.name).inc()
            raise

    async def put_item(self, req: it.PutItemInput) -> it.WriteResult:
        return await self._write(*it.put_step(self.get(req.table_name), req))

    async def update_item(self, req: it.UpdateItemInput) -> it.WriteResult:
        return await self._write(*it.update_step(self.get(req.table_name), req))

    async def delete_item(self, req: it.DeleteItemInput) -> it.WriteResult:
        return await self._write(*it.delete_step(self.get(req.table_name), req))

    async def batch_write_item(
        self, request_items: dict[str, list[it.BatchWrite]]
    ) -> dict[str, list[it.BatchWrite]]:
        """Write every request; returns the unprocessed ones (none: a failure raises).

        The requests of this replica's partitions go in one transaction; those of
        other replicas' partitions are sent to their owners, one batch per owner.
        """
        tables = {name: self.get(name) for name in request_items}
        writes = it.batch_write_steps(tables, request_items)
        local: list[tuple[it.Located, Item | None]] = []
        remote: dict[str, dict[str, list[it.BatchWrite]]] = {}
        for where, new in writes:
            found = await self.owner(where.table, where.partition)
            if isinstance(found, str):
                entry = (
                    it.BatchWrite(item=new) if new is not None else it.BatchWrite(key=where.keys)
                )
                remote.setdefault(found, {}).setdefault(where.table.name, []).append(entry)
            else:
                local.append((where, new))
        sent = [self._remote().batch_write(address, w) for address, w in remote.items()]
        if local:
            await self.writer.submit(it.batch_step(local))
        await asyncio.gather(*sent)
        return {}

    def _remote(self) -> Remote:
        if self.remote is None:
            raise ServiceUnavailable("this replica cannot reach the other replicas")
        return self.remote

    # --- transactions ---------------------------------------------------------------------
    async def transact_write_items(
        self, actions: list[tx.TransactAction], client_request_token: str = ""
    ) -> bool:
        """All or nothing, in one Kafka transaction of the replica owning every item.
        Returns True when a ClientRequestToken made it a replay (nothing written)."""
        if client_request_token:
            idem.check_token(client_request_token)
        tables = {a.table_name: self.get(a.table_name) for a in actions}
        steps = tx.plan(tables, actions)
        owners = [await self._owner_name(w.table, w.partition) for w, _ in steps]
        if set(owners) != {None}:
            if len(set(owners)) == 1:
                (address,) = set(owners)
                assert address is not None
                raise NotOwner(address)
            return await self._coordinate(steps, actions, owners, client_request_token)
        step = tx.transaction_step(steps)
        touched = {(w.table.name, w.partition): (w.table, w.partition) for w, _ in steps}
        if client_request_token:
            step = idem.idempotent_step(
                step,
                client_request_token,
                idem.fingerprint(actions),
                list(touched.values()),
                self.token_anywhere,
                self.clock,
            )
        try:
            replay = await self.writer.submit(step)
        except tx.TransactionCanceledException as exc:
            _count_cancelled(actions, exc)
            raise
        if replay:
            for t in tables:
                metrics.IDEMPOTENT_REPLAYS.labels(t).inc()
        return bool(replay)

    async def _coordinate(
        self,
        steps: list[tuple[it.Located, it.Step]],
        actions: list[tx.TransactAction],
        owners: list[str | None],
        token: str,
    ) -> bool:
        """A transaction over the items of several replicas (``coordinator.py``)."""
        touched = {a.table_name for a in actions}
        try:
            replay = await coordinate(self, self._remote(), steps, actions, owners, token)
        except tx.TransactionCanceledException as exc:
            metrics.CROSS_REPLICA.labels("cancelled").inc()
            _count_cancelled(actions, exc)
            raise
        except EventplaneError:
            metrics.CROSS_REPLICA.labels("failed").inc()
            raise
        metrics.CROSS_REPLICA.labels("replayed" if replay else "committed").inc()
        if replay:
            for t in touched:
                metrics.IDEMPOTENT_REPLAYS.labels(t).inc()
        return replay

    def token_anywhere(self, key: str) -> dict[str, Any] | None:
        """A token record in any partition this replica owns (a different request under
        the same token may touch other items than the first did)."""
        for store in list(self.stores.values()):
            found = store.tokens.get(key)
            if found is not None:
                return found
        return None

    async def transact_get_items(self, gets: list[tg.TransactGet]) -> tg.Snapshot:
        """The items in request order as one snapshot (None: no such item)."""
        planned = tg.plan(self.get, gets)
        try:
            snap = await tg.transact_get(
                planned,
                self.owner,
                lambda table, partition: self.stores.get((table, partition)),
                lambda address, part: self._remote().transact_get(address, part),
                self.participant.holds,
            )
        except tx.TransactionCanceledException as exc:
            conflicted = {
                p.where.table.name
                for p, r in zip(planned, exc.cancellation_reasons, strict=False)
                if r.code == "TransactionConflict"
            }
            for t in conflicted:
                metrics.TRANSACTION_CONFLICTS.labels(t).inc()
            raise
        for p in planned:
            metrics.READS.labels(p.where.table.name).inc()
        return snap

    async def _owner_name(self, table: TableDef, partition: int) -> str | None:
        found = await self.owner(table, partition)
        return found if isinstance(found, str) else None


def _count_cancelled(
    actions: list[tx.TransactAction], exc: tx.TransactionCanceledException
) -> None:
    for t in {a.table_name for a in actions}:
        metrics.TRANSACTIONS_CANCELED.labels(t).inc()
    conflicted = {
        a.table_name
        for a, r in zip(actions, exc.cancellation_reasons, strict=False)
        if r.code == "TransactionConflict"
    }
    for t in conflicted:
        metrics.TRANSACTION_CONFLICTS.labels(t).inc()
