"""TransactWriteItems over the items of several replicas: all or nothing, in one Kafka transaction.

A table partition has one owner, whose writer alone evaluates and writes its
items. A transaction over the partitions of several owners runs thus, with the
replica that received it as the coordinator and the other owners as participants:

1. **Prepare.** Each participant evaluates its actions in its writer, in order
   with its other writes, against its committed items. If every condition holds it
   locks those items (a write or a transaction that touches one is refused with
   TransactionConflict until the lock goes) and answers with the changelog images
   and stream records its actions make; otherwise with its cancellation reasons,
   locking nothing.
2. **Write.** The coordinator evaluates its own actions in its writer and writes
   its records and every participant's into one Kafka transaction of its own.
3. **Confirm.** Once Kafka has acknowledged every record (the transaction still
   open), each participant confirms that it still owns those partitions and holds
   the locks. From then on an owner that takes a partition over restores past these
   records, so its read_committed restore waits for the transaction's outcome.
4. **Commit** the Kafka transaction; then each participant applies its changes to
   its store and drops the locks. Any failure before the commit aborts it and
   releases the locks instead.

Atomicity is Kafka's: every item's records are in the one transaction, which
read_committed readers (restores, streams, GSIs) see whole or not at all, whoever
is SIGKILLed when. A participant that hears neither commit nor abort within
``LOCK_SECONDS`` (its coordinator died) restores the partitions from the changelog,
which tells the outcome: Kafka aborts a transaction its producer left open after
the writer's 10 s transaction timeout, and the restore waits for that.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from confluent_kafka import Consumer

from eventplane.errors import EventplaneError, ServiceUnavailable
from eventplane.errors.tables import CancellationReason, TransactionConflictException
from eventplane.kafka import naming
from eventplane.kafka.clients import consumer_config
from eventplane.observability.logging import get_logger
from eventplane.tables import idempotency as idem
from eventplane.tables import items as it
from eventplane.tables import metrics
from eventplane.tables import transactions as tx
from eventplane.tables.owner import Restored, restore_partition
from eventplane.tables.writer import Change, Record, Staged

if TYPE_CHECKING:
    from eventplane.tables.engine import TableEngine
    from eventplane.tables.store import PartitionStore

_log = get_logger("eventplane.tables.coordinator")

# Past this without a decision a participant asks the changelog for the outcome. The
# restore that does it waits for Kafka to commit the transaction or abort it (at once
# when the coordinator restarts, else after the writer's 10 s transaction timeout), so
# asking early is safe, only costly. A confirmed transaction is about to commit, and
# reads of its partitions wait for the outcome: its coordinator is given less time.
LOCK_SECONDS = 15.0
CONFIRMED_SECONDS = 2.0
DECIDE_TIMEOUT = 5.0

Key = tuple[str, int, str]  # table, partition, canonical key
Part = tuple[str, int]


@dataclass(frozen=True)
class Prepared:
    """A participant's answer to PREPARE."""

    reasons: list[CancellationReason] | None = None  # cancelled: one per action
    replay: bool = False  # the ClientRequestToken already applied this request
    records: list[Record] = field(default_factory=list)


class Peers(Protocol):
    """The calls on the other replicas (``remote.GrpcRemote``)."""

    async def tx_prepare(
        self,
        address: str,
        transaction_id: str,
        actions: list[tx.TransactAction],
        token: str,
        fingerprint: str,
    ) -> Prepared: ...

    async def tx_decide(self, address: str, decision: str, transaction_id: str) -> bool: ...


# --- the coordinator -------------------------------------------------------------------------


async def coordinate(
    engine: TableEngine,
    peers: Peers,
    steps: list[tuple[it.Located, it.Step]],
    actions: list[tx.TransactAction],
    owners: list[str | None],  # per step: the owning replica's address, None for this one
    token: str,
) -> bool:
    """Run a transaction whose items several replicas own; True: a token replay."""
    transaction_id = uuid.uuid4().hex
    fingerprint = idem.fingerprint(actions) if token else ""
    remote: dict[str, list[int]] = {}
    for i, address in enumerate(owners):
        if address is not None:
            remote.setdefault(address, []).append(i)
    local = [i for i, address in enumerate(owners) if address is None]
    held: list[str] = []  # participants that locked their items
    committed = False
    confirmed = False  # past this, a failure leaves the outcome to the Kafka commit
    try:
        answers = await asyncio.gather(
            *(
                peers.tx_prepare(
                    address, transaction_id, [actions[i] for i in idx], token, fingerprint
                )
                for address, idx in remote.items()
            ),
            return_exceptions=True,
        )
        held = [
            a
            for a, r in zip(remote, answers, strict=True)
            if isinstance(r, Prepared) and r.reasons is None and not r.replay
        ]
        for r in answers:
            if isinstance(r, BaseException):
                raise r
        prepared = [r for r in answers if isinstance(r, Prepared)]
        if any(r.replay for r in prepared):
            return True
        reasons = [CancellationReason("None") for _ in steps]
        for idx, r in zip(remote.values(), prepared, strict=True):
            for i, reason in zip(idx, r.reasons or (), strict=False):
                reasons[i] = reason
        step = _local_step(engine, [steps[i] for i in local], local, reasons, token, fingerprint)
        if tx.cancelled(reasons):
            await engine.writer.submit(step)  # for the local reasons; it cancels, writes nothing
        else:

            async def confirm() -> None:
                nonlocal confirmed
                await _confirm(peers, transaction_id, remote, held, len(steps))
                confirmed = True

            await engine.writer.submit(
                step, foreign=[rec for r in prepared for rec in r.records], before_commit=confirm
            )
        committed = True
        return False
    except _Replay:
        return True
    finally:
        if held and (committed or not confirmed):
            decision = "TxCommit" if committed else "TxAbort"
            await _decide(peers, decision, transaction_id, held)
        elif held:
            # The commit itself failed: Kafka may have committed all the same, so an
            # abort could leave a participant serving items from before a transaction
            # that happened. Each one reads the outcome from its changelog instead
            # (CONFIRMED_SECONDS after its confirm).
            _log.warning(
                "transaction commit failed after the confirm; participants resolve it",
                transaction=transaction_id,
            )


class _Replay(EventplaneError):
    """This replica's partitions hold the request's token: nothing is to be written."""

    code = "Replay"


def _local_step(
    engine: TableEngine,
    steps: list[tuple[it.Located, it.Step]],
    indexes: list[int],
    reasons: list[CancellationReason],
    token: str,
    fingerprint: str,
) -> Callable[[Staged], tuple[list[Change], None]]:
    """The coordinator's own actions, merged into the whole request's reasons."""

    def evaluate(staged: Staged) -> tuple[list[Change], None]:
        changes, mine = tx.evaluate(steps, staged)
        merged = list(reasons)
        for i, reason in zip(indexes, mine, strict=True):
            merged[i] = reason
        if tx.cancelled(merged):
            raise tx.cancel(merged)
        return changes, None

    if not token:
        return evaluate
    partitions = list(
        {(w.table.name, w.partition): (w.table, w.partition) for w, _ in steps}.values()
    )
    wrapped = idem.idempotent_step(
        evaluate, token, fingerprint, partitions, engine.token_anywhere, engine.clock
    )

    def step(staged: Staged) -> tuple[list[Change], None]:
        changes, replay = wrapped(staged)
        if replay:
            raise _Replay("the request's ClientRequestToken was spent on it already")
        return changes, None

    return step


async def _confirm(
    peers: Peers, transaction_id: str, remote: dict[str, list[int]], held: list[str], size: int
) -> None:
    answers = await asyncio.gather(
        *(peers.tx_decide(a, "TxConfirm", transaction_id) for a in held), return_exceptions=True
    )
    lost = {a for a, ok in zip(held, answers, strict=True) if ok is not True}
    if lost:
        # A partition moved (or its owner is gone) since PREPARE: the new owner does not
        # know the locks, so the transaction must not commit.
        reasons = [CancellationReason("None") for _ in range(size)]
        for a in lost:
            for i in remote[a]:
                reasons[i] = CancellationReason(
                    "TransactionConflict", "The item's partition moved during the transaction"
                )
        raise tx.cancel(reasons)


async def _decide(peers: Peers, decision: str, transaction_id: str, held: list[str]) -> None:
    answers = await asyncio.gather(
        *(
            asyncio.wait_for(peers.tx_decide(a, decision, transaction_id), DECIDE_TIMEOUT)
            for a in held
        ),
        return_exceptions=True,
    )
    for address, answer in zip(held, answers, strict=True):
        if isinstance(answer, BaseException):
            # The participant learns the outcome from its changelog after LOCK_SECONDS.
            _log.warning(
                "transaction decision not delivered",
                transaction=transaction_id,
                decision=decision,
                replica=address,
                error=str(answer),
            )


# --- the participant -------------------------------------------------------------------------


@dataclass
class _Lock:
    keys: set[Key]
    stores: dict[Part, PartitionStore]  # as at PREPARE: a partition readopted since is not ours
    changes: list[Change]
    expiry: asyncio.Task[None] | None = None
    confirmed: bool = False
    resolving: bool = False
    settled: asyncio.Event = field(default_factory=asyncio.Event)


class Participant:
    """This replica's side of other replicas' transactions: locks, and their outcome."""

    def __init__(self, engine: TableEngine) -> None:
        self._engine = engine
        self._locked: dict[Key, str] = {}  # item -> transaction id
        self._held: dict[str, _Lock] = {}
        self._frozen: set[Part] = set()  # partitions being restored after an orphan
        self._resyncs: set[asyncio.Task[None]] = set()

    def guard(self, table: str, partition: int, key: str) -> None:
        """Raised in the writer for items a transaction holds (``Staged.get``)."""
        if (table, partition) in self._frozen:
            raise ServiceUnavailable(
                f"partition {partition} of table {table} is being restored; retry"
            )
        if (table, partition, key) in self._locked:
            raise TransactionConflictException()

    @property
    def locked(self) -> int:
        return len(self._locked)

    def holds(self, table: str, partition: int, key: str) -> bool:
        """Whether a transaction holds the item (TransactGetItems cancels over it)."""
        return (table, partition, key) in self._locked

    def holds_partition(self, table: str, partition: int) -> bool:
        """Whether a transaction holds any item of the partition (a repartition waits)."""
        return any(k[0] == table and k[1] == partition for k in self._locked)

    async def settled(self, table: str, partition: int) -> bool:
        """Wait while a confirmed transaction holds items of the partition: its coordinator
        is committing, and a read must not see the items from before a commit that was
        already acknowledged. True if it waited (the store may have been restored anew)."""
        waited = False
        while True:
            pending = [
                lock
                for lock in self._held.values()
                if lock.confirmed and (table, partition) in lock.stores
            ]
            if not pending:
                return waited
            waited = True
            await pending[0].settled.wait()

    async def prepare(
        self, transaction_id: str, actions: list[tx.TransactAction], token: str, fingerprint: str
    ) -> Prepared:
        engine = self._engine
        tables = {a.table_name: engine.get(a.table_name) for a in actions}
        steps = tx.plan(tables, actions)
        for where, _ in steps:
            await engine.store(where.table, where.partition)  # a forwarded call: never sent on
        partitions = list(
            {(w.table.name, w.partition): (w.table, w.partition) for w, _ in steps}.values()
        )
        inner: Callable[[Staged], tuple[list[Change], Any]] = tx.transaction_step(steps)
        if token:
            inner = idem.idempotent_step(
                inner, token, fingerprint, partitions, engine.token_anywhere, engine.clock
            )

        def step(staged: Staged) -> tuple[list[Change], Prepared]:
            try:
                changes, replay = inner(staged)
            except tx.TransactionCanceledException as exc:
                return [], Prepared(reasons=exc.cancellation_reasons)
            if replay:
                return [], Prepared(replay=True)
            keys = {(w.table.name, w.partition, w.key) for w, _ in steps}
            for k in keys:  # later writes in this very group see the locks already
                self._locked[k] = transaction_id
            stores = {(t.name, p): engine.stores[(t.name, p)] for t, p in partitions}
            self._held[transaction_id] = _Lock(keys, stores, changes)
            return [], Prepared(records=engine.writer.records(changes))

        try:
            answer = await engine.writer.submit(step)
        except BaseException:
            self._release(transaction_id)  # the group it was in did not commit
            raise
        if transaction_id in self._held:
            self._expire_after(transaction_id, LOCK_SECONDS)
        return answer

    def confirm(self, transaction_id: str) -> bool:
        lock = self._held.get(transaction_id)
        held = (
            lock is not None
            and not lock.resolving
            and all(self._engine.stores.get(k) is s for k, s in lock.stores.items())
        )
        if held:
            assert lock is not None
            lock.confirmed = True
            self._expire_after(transaction_id, CONFIRMED_SECONDS)
        return held

    def _expire_after(self, transaction_id: str, seconds: float) -> None:
        lock = self._held[transaction_id]
        if lock.expiry is not None:
            lock.expiry.cancel()
        lock.expiry = asyncio.create_task(
            self._expire(transaction_id, seconds), name="tables-tx-lock"
        )

    def commit(self, transaction_id: str) -> None:
        lock = self._held.get(transaction_id)
        if lock is None or lock.resolving:
            return
        self._release(transaction_id)
        stores = self._engine.stores
        self._engine.apply(
            [
                c
                for c in lock.changes
                if stores.get((c.table.name, c.partition))
                is lock.stores[(c.table.name, c.partition)]
            ]
        )

    def abort(self, transaction_id: str) -> None:
        lock = self._held.get(transaction_id)
        if lock is not None and not lock.resolving:
            self._release(transaction_id)

    def relinquished(self, partitions: list[Part]) -> None:
        """The partitions went to another replica: so did the say over their locks."""
        gone = set(partitions)
        for transaction_id, lock in list(self._held.items()):
            if gone & set(lock.stores) and not lock.resolving:
                self._release(transaction_id)

    async def stop(self) -> None:
        for lock in list(self._held.values()):
            if lock.expiry is not None:
                lock.expiry.cancel()
        self._held.clear()
        self._locked.clear()

    def _release(self, transaction_id: str) -> None:
        lock = self._held.pop(transaction_id, None)
        if lock is None:
            return
        for k in lock.keys:
            if self._locked.get(k) == transaction_id:
                del self._locked[k]
        lock.settled.set()
        if lock.expiry is not None and lock.expiry is not asyncio.current_task():
            lock.expiry.cancel()

    async def _expire(self, transaction_id: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        lock = self._held.get(transaction_id)
        if lock is None:
            return
        lock.resolving = True
        metrics.CROSS_REPLICA.labels("resolved_from_changelog").inc()
        _log.warning(
            "no decision for a transaction: restoring its partitions from the changelog",
            transaction=transaction_id,
            partitions=sorted(lock.stores),
        )
        try:
            await self._restore(lock.stores)
        except Exception:
            _log.exception("restoring after an undecided transaction failed")
        finally:
            self._frozen.difference_update(lock.stores)
            self._release(transaction_id)

    def resync(self, parts: set[Part]) -> None:
        """Partitions whose last write has an unknown outcome (the writer's
        ``CommitUncertain``): frozen at once, so no write is evaluated against a store that
        may lack a committed change, then rebuilt from the changelog."""
        stores = {k: s for k in parts if (s := self._engine.stores.get(k)) is not None}
        if not stores:
            return
        self._frozen.update(stores)
        metrics.UNCERTAIN_COMMITS.inc()
        _log.warning(
            "a write's commit has an unknown outcome: restoring its partitions",
            partitions=sorted(stores),
        )

        async def run() -> None:
            try:
                await self._restore(stores)
            except Exception:
                _log.exception("restoring after a commit of unknown outcome failed")
            finally:
                self._frozen.difference_update(stores)

        task = asyncio.get_running_loop().create_task(run(), name="tables-resync")
        self._resyncs.add(task)
        task.add_done_callback(self._resyncs.discard)

    async def _restore(self, stores: dict[Part, PartitionStore]) -> None:
        """Rebuild the partitions from the changelog, which holds the outcome."""
        engine = self._engine
        self._frozen.update(stores)
        # Every write already past the freeze is committed once this step answers, so
        # the restore below reads it back.
        await engine.writer.submit(lambda staged: ([], None))
        for (table, partition), store in stores.items():
            if engine.stores.get((table, partition)) is not store:
                continue  # moved meanwhile: its new owner restored it
            items = await asyncio.to_thread(_read_partition, engine, table, partition)
            if engine.stores.get((table, partition)) is store:
                await engine.adopt(Restored(table, partition, items))


def _read_partition(engine: TableEngine, table: str, partition: int) -> dict[str, Any]:
    reader = Consumer(
        consumer_config(engine.settings, f"{naming.PREFIX}.table-restore.{uuid.uuid4().hex}")
    )
    try:
        return restore_partition(reader, naming.table_topic(table), partition)
    finally:
        with contextlib.suppress(Exception):
            reader.close()
