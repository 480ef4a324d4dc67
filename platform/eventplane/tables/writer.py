"""The owner's write path: evaluate against the store, then one Kafka transaction, then answer.

Every write on this replica goes through one ``Writer``. Writes that arrive while
a transaction is in flight are grouped: each is evaluated in arrival order
against the committed items plus the changes staged before it in the group (so
a condition sees the write before it), and the whole group's changelog images
and stream records are written in ONE Kafka transaction. Only after the commit
are the stores updated and the callers answered; if the transaction fails,
nothing of it is visible (read_committed) and every caller of the group gets
the retriable ServiceUnavailable.

The transactional ids are stable per replica address, so a restarted replica
fences its predecessor and aborts the transaction it left open at once. Two of
them are used in turn (kafka/lanes.py), so a transaction never waits on the
markers of the one before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, NoReturn, TypeVar

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka import Producer as RawProducer

from eventplane.config import Settings
from eventplane.errors import EventplaneError, ServiceUnavailable
from eventplane.errors.tables import ItemCollectionSizeLimitExceededException
from eventplane.kafka import codec, naming
from eventplane.kafka.clients import client_config
from eventplane.kafka.lanes import TransactionLanes
from eventplane.observability import stages
from eventplane.observability.logging import get_logger
from eventplane.tables import item_collections as ic
from eventplane.tables.indexes import type_mismatch
from eventplane.tables.model import TableDef
from eventplane.tables.owner import encode_item
from eventplane.tables.store import TOKEN_PREFIX
from eventplane.tables.streams import encode_change

_log = get_logger("eventplane.tables.writer")

T = TypeVar("T")
Item = dict[str, Any]

TOKEN_SCHEMA = "eventplane.v1.TableRequestToken"
# Commit attempts on errors librdkafka calls retriable (a timeout, a coordinator moving).
COMMIT_ATTEMPTS = 3


class CommitUncertain(ServiceUnavailable):
    """The commit failed in a way that leaves its outcome unknown: Kafka may have
    committed. The stores of the partitions written must be read again from the
    changelog (the writer's ``uncertain`` callback)."""


@dataclass(frozen=True)
class Change:
    """One item's new image (None: deleted) in one owned partition.

    A change whose key starts with ``TOKEN_PREFIX`` is not an item but a
    ClientRequestToken record (``idempotency.py``): it goes to the changelog, in
    the same transaction as the items it vouches for, and never to the stream.
    """

    table: TableDef
    partition: int
    key: str  # canonical key
    keys: Item  # the key attributes
    old: Item | None
    new: Item | None
    by_service: bool = False  # a TTL deletion: the stream record names the service
    # Moved by a repartition (``repartition.py``): changelog only, never streamed, and
    # not a write of the item (the item is the same, in another partition).
    migrated: bool = False

    @property
    def is_token(self) -> bool:
        return self.key.startswith(TOKEN_PREFIX)


class Staged:
    """What a write sees while it is evaluated: committed items plus earlier staged changes."""

    def __init__(
        self,
        read: Callable[[str, int, str], Item | None],
        collection: Callable[[ic.CollectionKey], int] | None = None,
        limit: int = ic.DEFAULT_LIMIT_BYTES,
        guard: Callable[[str, int, str], None] | None = None,
    ) -> None:
        self._read = read
        # Raises for an item another replica's transaction holds (``coordinator.py``).
        self._guard = guard
        self._overlay: dict[tuple[str, int, str], Item | None] = {}
        self._collection = collection or (lambda _key: 0)
        self._limit = limit
        self._grown: dict[ic.CollectionKey, int] = {}

    def get(self, table: str, partition: int, key: str) -> Item | None:
        k = (table, partition, key)
        if self._guard is not None:
            self._guard(table, partition, key)
        if k in self._overlay:
            return self._overlay[k]
        return self._read(table, partition, key)

    def over_collection_limit(self, changes: list[Change]) -> bool:
        """Whether these changes, after the staged ones, grow an LSI table's item
        collection past the limit."""
        return ic.exceeds(self._collection, self._grown, changes, self._limit)

    def stage(self, changes: list[Change]) -> None:
        for c in changes:
            self._overlay[(c.table.name, c.partition, c.key)] = c.new
            grown = None if c.is_token else ic.growth(c.table, c.old, c.new)
            if grown is not None:
                key = (c.table.name, c.partition, grown[0])
                self._grown[key] = self._grown.get(key, 0) + grown[1]


Prepare = Callable[[Staged], tuple[list[Change], T]]


Record = tuple[str, int, str, bytes | None, Any]  # topic, partition, key, value, headers
# Per (topic, partition) a commit wrote to: the offset after its last record there.
Ends = dict[tuple[str, int], int]


@dataclass
class _Pending(Generic[T]):
    prepare: Prepare[T]
    future: asyncio.Future[T]
    # A cross-replica transaction (``coordinator.py``): the records of the other
    # replicas' items, and the check that runs once every record is written and before
    # the commit. Such a write goes in a Kafka transaction of its own.
    foreign: list[Record] | None = None
    before_commit: Callable[[], Awaitable[None]] | None = None

    @property
    def solo(self) -> bool:
        return self.before_commit is not None


class Writer:
    def __init__(
        self,
        settings: Settings,
        read: Callable[[str, int, str], Item | None],
        apply: Callable[[list[Change], Ends], None],
        clock: Callable[[], int],
        *,
        collection: Callable[[ic.CollectionKey], int] | None = None,
        guard: Callable[[str, int, str], None] | None = None,
        uncertain: Callable[[set[tuple[str, int]]], None] | None = None,
        check: Callable[[Change], None] | None = None,
    ) -> None:
        self._settings = settings
        self._read = read
        self._guard = guard
        # Raises for a change routed by a partition count its partition no longer follows
        # (a repartition moved the items meanwhile), evaluated in order with the move.
        self._check = check
        # Told which partitions a write of unknown outcome touched (CommitUncertain).
        self._uncertain = uncertain
        self._collection = collection
        self._collection_limit = settings.tables_item_collection_limit_bytes
        self._apply = apply
        self._clock = clock
        self._pending: list[_Pending[Any]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lanes: TransactionLanes[RawProducer] | None = None

    async def start(self) -> None:
        self._lanes = await asyncio.to_thread(
            TransactionLanes,
            self._new_producer,
            f"{naming.PREFIX}-tables-{self._settings.advertise}",
        )
        self._task = asyncio.create_task(self._run(), name="tables-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for p in self._pending:
            if not p.future.done():
                p.future.set_exception(ServiceUnavailable("the server is stopping; retry"))
        for producer in self._lanes or []:
            await asyncio.to_thread(producer.flush, 5)

    async def submit(
        self,
        prepare: Prepare[T],
        *,
        foreign: list[Record] | None = None,
        before_commit: Callable[[], Awaitable[None]] | None = None,
    ) -> T:
        """Evaluate ``prepare`` in order with the other writes, commit its changes, answer.

        With ``before_commit`` the write is a transaction of its own: ``foreign`` records
        go into it too, and ``before_commit`` runs once every record is acknowledged; if
        it raises, the transaction is aborted and the caller gets that error.
        """
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(prepare, future, foreign, before_commit))
        self._wake.set()
        return await future

    async def refresh(self, topics: list[str]) -> None:
        """Learn the topics' partitions now: a produce to a partition added since the
        producer last fetched metadata (every few minutes) fails as unknown at once."""
        for producer in self._lanes or []:
            for topic in topics:
                await asyncio.to_thread(producer.list_topics, topic, 10)

    def _new_producer(self, transactional_id: str) -> RawProducer:
        producer = RawProducer(
            client_config(
                self._settings,
                **{
                    "transactional.id": transactional_id,
                    "acks": "all",
                    "enable.idempotence": True,
                    "linger.ms": 1,
                    "compression.type": "lz4",
                    "message.max.bytes": 8 * 1024 * 1024,
                    # A dead owner's open transaction holds back every read_committed
                    # reader of its partitions (restores, streams) until it times out.
                    "transaction.timeout.ms": 10000,
                    "message.timeout.ms": 9000,
                    "retry.backoff.ms": 5,
                    "retry.backoff.max.ms": 100,
                },
            )
        )
        producer.init_transactions(30)
        return producer

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            pending, self._pending = self._pending, []
            for group in _groups(pending):
                try:
                    await self._write_group(group)
                except Exception:  # never let one group stop the writer
                    _log.exception("table write group failed")
                    for p in group:
                        if not p.future.done():
                            p.future.set_exception(ServiceUnavailable("the write failed; retry"))

    async def _write_group(self, group: list[_Pending[Any]]) -> None:
        staged = Staged(self._read, self._collection, self._collection_limit, self._guard)
        done: list[tuple[_Pending[Any], Any]] = []
        changes: list[Change] = []
        for p in group:
            if p.future.done():
                continue
            try:
                mine, result = p.prepare(staged)
                for c in mine:
                    if self._check is not None:
                        self._check(c)
                    if c.new is not None and c.table.indexes and not c.is_token and not c.migrated:
                        type_mismatch(c.table.indexes, c.table.attribute_types, c.new)
                if staged.over_collection_limit(mine):
                    raise ItemCollectionSizeLimitExceededException(ic.MESSAGE)
            except EventplaneError as exc:
                p.future.set_exception(exc)
                continue
            staged.stage(mine)
            changes.extend(mine)
            done.append((p, result))
        solo = group[0] if len(group) == 1 and group[0].solo else None
        foreign = (solo.foreign or []) if solo is not None and done else []
        if changes or foreign:
            written_at = time.time()
            records = self._records(changes, written_at) + foreign
            ends: Ends = {}
            try:
                await self._commit(records, solo.before_commit if solo is not None else None, ends)
            except EventplaneError as exc:
                if isinstance(exc, CommitUncertain) and self._uncertain is not None:
                    self._uncertain({(c.table.name, c.partition) for c in changes})
                for p, _ in done:
                    if not p.future.done():
                        p.future.set_exception(exc)
                return
            self._apply(changes, ends)
            committed_at = time.time()
            for c in changes:
                if c.table.stream.stream_enabled and not c.is_token:
                    stages.observe("table_write_to_commit", written_at, committed_at)
        for p, result in done:
            if not p.future.done():
                p.future.set_result(result)

    def records(self, changes: list[Change]) -> list[Record]:
        """The changelog images and stream records of ``changes``, as the writer writes
        them (a participant of a cross-replica transaction hands them to its coordinator)."""
        return self._records(changes)

    def _records(self, changes: list[Change], written_at: float | None = None) -> list[Record]:
        """``written_at`` (wall clock) stamps the stream records: the per-hop stages."""
        now = self._clock()
        stamp = stages.stamp(stages.PRODUCED_AT, written_at)
        out: list[Record] = []
        for c in changes:
            topic = naming.table_topic(c.table.name)
            if c.new is None:
                out.append((topic, c.partition, c.key, None, []))
            elif c.is_token:
                value, headers = codec.encode(TOKEN_SCHEMA, c.new)
                out.append((topic, c.partition, c.key, value, headers))
                continue
            else:
                value, headers = encode_item(c.new, now)
                out.append((topic, c.partition, c.key, value, headers))
            if c.table.stream.stream_enabled and not c.is_token and not c.migrated:
                value, headers = encode_change(c, now, str(uuid.uuid4()))
                out.append(
                    (
                        naming.table_stream_topic(c.table.name),
                        c.partition,
                        c.key,
                        value,
                        [*headers, stamp],
                    )
                )
        return out

    async def _commit(
        self,
        records: list[Record],
        before_commit: Callable[[], Awaitable[None]] | None,
        ends: Ends,
    ) -> None:
        if before_commit is None:
            await asyncio.to_thread(self._transact, records, ends=ends)
            return
        await asyncio.to_thread(self._transact, records, False, ends=ends)
        try:
            await before_commit()
        except BaseException:
            await asyncio.to_thread(self._abort)
            raise
        await asyncio.to_thread(self._transact, [], True, False)

    def _abort(self) -> None:
        lanes = self._lanes
        assert lanes is not None
        try:
            lanes.current.abort_transaction(30)
        except KafkaException as exc:
            _log.warning("table transaction abort failed", error=exc.args[0].str())
            lanes.renew()  # fencing aborts what was left open

    def _transact(
        self,
        records: list[Record],
        commit: bool = True,
        begin: bool = True,
        ends: Ends | None = None,
    ) -> None:
        """Write ``records`` in a transaction and commit it; without ``commit``, stop
        once every record is acknowledged (the transaction stays open). ``ends`` gets,
        per partition written, the offset after its last record (from the delivery
        reports, served before the commit returns). A transaction begins on the next
        lane; one left open (``commit`` False) is finished on the same."""
        lanes = self._lanes
        assert lanes is not None
        producer = lanes.advance() if begin else lanes.current

        def delivered(error: Any, message: Any) -> None:
            if error is None and ends is not None:
                where = (message.topic(), message.partition())
                ends[where] = max(ends.get(where, 0), message.offset() + 1)

        try:
            if begin:
                producer.begin_transaction()
            learnt: set[str] = set()
            for topic, partition, key, value, headers in records:
                while True:
                    try:
                        producer.produce(
                            topic,
                            value,
                            key=key.encode(),
                            partition=partition,
                            headers=headers,
                            on_delivery=delivered,
                        )
                        break
                    except BufferError:
                        producer.poll(0.01)
                    except KafkaException as exc:
                        # A partition a repartition added since the producer last
                        # fetched metadata (another replica's, in a cross-replica
                        # transaction): learn it once, then produce again.
                        if exc.args[0].code() != KafkaError._UNKNOWN_PARTITION or topic in learnt:
                            raise
                        learnt.add(topic)
                        producer.list_topics(topic, 10)
            if not commit:
                if producer.flush(30) > 0:
                    self._abort()
                    raise ServiceUnavailable("could not write to Kafka in time; retry")
                return
        except KafkaException as exc:
            self._failed(producer, exc)
        self._commit_transaction(producer)

    def _commit_transaction(self, producer: RawProducer) -> None:
        """Commit, retrying what librdkafka says may be retried. An error that needs an
        abort means nothing was committed; any other leaves the outcome unknown
        (CommitUncertain): Kafka may have committed all the same."""
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            try:
                producer.commit_transaction(30)
                return
            except KafkaException as exc:
                error = exc.args[0]
                if error.retriable() and attempt < COMMIT_ATTEMPTS:
                    _log.warning("table transaction commit retried", error=error.str())
                    continue
                if error.txn_requires_abort():
                    self._failed(producer, exc)
                _log.warning("table transaction commit: outcome unknown", error=error.str())
                self._renew()  # fences what it left, if anything
                raise CommitUncertain(
                    f"could not learn whether Kafka committed the write: {error.str()}"
                ) from None

    def _failed(self, producer: RawProducer, exc: KafkaException) -> NoReturn:
        """Abort what is open (nothing of it was committed) and raise ServiceUnavailable."""
        error = exc.args[0]
        _log.warning("table transaction failed", error=error.str())
        try:
            if not error.fatal():
                producer.abort_transaction(30)
            else:
                raise KafkaException(error)
        except KafkaException:
            self._renew()  # fenced or broken: start over
        raise ServiceUnavailable(f"could not write to Kafka: {error.str()}") from None

    def _renew(self) -> None:
        assert self._lanes is not None
        self._lanes.renew()


def _groups(pending: list[_Pending[Any]]) -> list[list[_Pending[Any]]]:
    """Consecutive writes grouped into one transaction each; a solo write alone."""
    groups: list[list[_Pending[Any]]] = []
    for p in pending:
        if p.solo or not groups or groups[-1][0].solo:
            groups.append([p])
        else:
            groups[-1].append(p)
    return groups
