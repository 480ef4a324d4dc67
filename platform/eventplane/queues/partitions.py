"""The partitions this replica owns, on the asyncio loop: serve, journal, commit.

Every state change is journaled to the queue's ``.state`` topic and
acknowledged by Kafka (acks=all) *before* the caller is answered, so a new
owner rebuilds exactly what clients were told. Offsets are committed only up
to the lowest undeleted message of each partition.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from eventplane.errors import EventplaneError, ServiceUnavailable
from eventplane.errors.queues import ReceiptHandleIsInvalid
from eventplane.kafka import naming
from eventplane.kafka.clients import ProduceError, Producer
from eventplane.kafka.fifo import sequence_number as sequence_number
from eventplane.observability import stages
from eventplane.observability.logging import get_logger
from eventplane.queues import journal, metrics, models
from eventplane.queues.attempts import AttemptEntry
from eventplane.queues.models import Counts, DedupEntry, Lease, Msg, PartitionState, Record
from eventplane.queues.owner import Adopted, Incoming, OwnerListener
from eventplane.queues.queue_def import QueueDef
from eventplane.queues.writes import OwnWrites

_log = get_logger("eventplane.queues")

Clock = Callable[[], int]
# Above this many undeleted messages in memory a partition stops reading ahead.
WINDOW = 50_000
# How long a delete or visibility change waits for a newly adopted partition's
# owner to read up to the message its receipt names, before answering "retry".
CATCH_UP_WAIT_S = 3.0


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Owned:
    queue: str
    state: PartitionState
    pending: dict[int, Lease] = field(default_factory=dict)  # journal entries ahead of the records
    committed: int = 0
    leased: set[int] = field(default_factory=set)  # offsets with a journal entry to tombstone
    attempts: dict[str, AttemptEntry] = field(default_factory=dict)  # FIFO ReceiveRequestAttemptId


class Pulse:
    """Wakes every long poll waiting on a queue.

    A waiter notes ``generation`` before it looks for messages and passes it to
    ``wait``: a fire that happened in between returns at once instead of being
    missed until the next one.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.generation = 0

    def fire(self) -> None:
        self.generation += 1
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float, since: int | None = None) -> None:
        if since is not None and since != self.generation:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)


class LocalPartitions(OwnerListener):
    def __init__(
        self,
        producer: Producer,
        lookup: Callable[[str], QueueDef | None],
        clock: Clock = wall_clock_ms,
    ) -> None:
        self._producer = producer
        self._lookup = lookup
        self.clock = clock
        self.owned: dict[tuple[str, int], Owned] = {}
        self._pulses: dict[str, Pulse] = {}
        self._dedup_inflight: dict[tuple[str, int, str], asyncio.Future[tuple[str, str]]] = {}
        self._rotation = 0
        # What this process wrote: a receive here waits until its partitions hold it.
        self.own_writes = OwnWrites(self)

    # --- ownership (called from the owner consumer thread, run on the loop) -------------
    async def adopt(self, a: Adopted) -> None:
        qd = self._lookup(a.queue)
        fifo = qd.config.fifo if qd else a.queue.endswith(".fifo")
        state = PartitionState(a.partition, fifo=fifo, start_offset=a.start_offset)
        state.purged_below = a.journal.purged_below
        state.purged_at = a.journal.purged_at_ms
        state.dedup.update(a.journal.dedup)
        pending = {o: lease for o, lease in a.journal.leases.items() if o >= a.start_offset}
        self.owned[(a.queue, a.partition)] = Owned(
            a.queue,
            state,
            pending,
            a.start_offset,
            set(pending),
            dict(a.journal.attempts),  # expired ones are tombstoned by the next prune
        )

    async def relinquish(self, partitions: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        offsets = {}
        for key in partitions:
            owned = self.owned.pop(key, None)
            if owned is not None:
                offsets[key] = owned.state.low_watermark()
        return offsets

    def on_records(self, records: list[Incoming]) -> None:
        now = self.clock()
        woken: set[str] = set()
        for r in records:
            owned = self.owned.get((r.queue, r.partition))
            if owned is None:
                continue  # revoked meanwhile; the next owner reads it again
            lease = owned.pending.pop(r.offset, None)
            msg = owned.state.add(r.offset, r.record, lease, now)
            if msg is None:
                continue
            msg.adopted_at = adopted_at = time.time()
            if r.dispatched_at is not None:
                stages.observe("dispatch_consume_to_owner_adopt", r.dispatched_at, adopted_at)
            else:
                stages.observe("produce_to_owner_adopt", r.produced_at, adopted_at)
            if owned.state.fifo and r.record.dedup_id:
                qd = self._lookup(r.queue)
                key = dedup_key(r.record, qd.config.deduplication_scope if qd else "queue")
                owned.state.dedup.setdefault(
                    key,
                    DedupEntry(
                        r.record.message_id,
                        sequence_number(r.partition, r.offset),
                        r.record.sent_ms + models.DEDUP_WINDOW_MS,
                    ),
                )
            woken.add(r.queue)
        for q in woken:
            self.pulse(q).fire()

    # --- helpers ------------------------------------------------------------------------
    def pulse(self, queue: str) -> Pulse:
        pulse = self._pulses.get(queue)
        if pulse is None:
            pulse = self._pulses[queue] = Pulse()
        return pulse

    def partitions_of(self, queue: str) -> list[int]:
        return sorted(p for q, p in self.owned if q == queue)

    def _state(self, queue: str, partition: int) -> Owned | None:
        return self.owned.get((queue, partition))

    async def write_journal(
        self,
        queue: str,
        partition: int,
        items: list[tuple[str, tuple[bytes, list[tuple[str, bytes]]] | None]],
    ) -> None:
        """Write journal entries and wait until Kafka has them all."""
        topic = naming.queue_state_topic(queue)
        records = []
        for key, encoded in items:
            value, headers = encoded if encoded is not None else (None, [])
            records.append((topic, value, {"key": key, "headers": headers, "partition": partition}))
        try:
            await self._producer.send_many(records)
        except ProduceError as exc:
            raise ServiceUnavailable(f"could not journal to Kafka: {exc}") from None

    def tombstone(self, queue: str, partition: int, key: str) -> None:
        """Drop a journal entry, without waiting: a lost tombstone only delays compaction."""
        if self._lookup(queue) is not None:  # a deleted queue's journal topic is gone
            topic = naming.queue_state_topic(queue)
            self._producer.produce_nowait(topic, None, key=key, partition=partition)

    # --- receive ------------------------------------------------------------------------
    async def claim(
        self,
        qd: QueueDef,
        max_messages: int,
        visibility_s: int,
        dead_letter: Callable[[QueueDef, list[Msg]], Awaitable[None]] | None,
        *,
        oldest_first: bool = False,
    ) -> list[tuple[int, Msg]]:
        """Lease up to ``max_messages`` from this replica's partitions of the queue.

        Partitions take turns (fair, fast); ``oldest_first`` instead takes the
        oldest sent message across partitions each time (message move tasks).
        """
        parts = self.partitions_of(qd.name)
        if not parts:
            return []
        if oldest_first:
            got: list[tuple[int, Msg]] = []
            while len(got) < max_messages:
                now = self.clock()
                ready = [
                    (sent, p)
                    for p in parts
                    if (sent := self.owned[(qd.name, p)].state.oldest_ready_sent_ms(now))
                    is not None
                ]
                if not ready:
                    break
                _, oldest = min(ready)
                one = await self._claim_from(qd, [oldest], 1, visibility_s, dead_letter)
                if not one:  # it went to the dead-letter queue instead: try again later
                    break
                got.extend(one)
            return got
        self._rotation += 1
        start = self._rotation % len(parts)
        return await self._claim_from(
            qd, parts[start:] + parts[:start], max_messages, visibility_s, dead_letter
        )

    async def _claim_from(
        self,
        qd: QueueDef,
        parts: list[int],
        max_messages: int,
        visibility_s: int,
        dead_letter: Callable[[QueueDef, list[Msg]], Awaitable[None]] | None,
    ) -> list[tuple[int, Msg]]:
        now = self.clock()
        max_rc = qd.config.redrive_policy.max_receive_count if qd.config.redrive_policy else 0
        got: list[tuple[int, Msg]] = []
        for p in parts:
            owned = self.owned[(qd.name, p)]
            self._expire(qd, owned, now)
            claim = owned.state.claim(max_messages - len(got), visibility_s * 1000, now, max_rc)
            if claim.to_dead_letter and dead_letter is not None:
                await self._move_to_dead_letter(qd, owned, claim.to_dead_letter, dead_letter)
            if claim.received:
                try:
                    await self.write_journal(
                        qd.name,
                        p,
                        [
                            (journal.lease_key(m.offset), journal.encode_lease(m.lease()))
                            for m in claim.received
                        ],
                    )
                except ServiceUnavailable:
                    for m in claim.received:
                        owned.state.release(m, self.clock())
                    raise
                owned.leased.update(m.offset for m in claim.received)
                got.extend((p, m) for m in claim.received)
                metrics.RECEIVED.labels(qd.name).inc(len(claim.received))
            if len(got) >= max_messages:
                break
        return got

    async def _move_to_dead_letter(
        self,
        qd: QueueDef,
        owned: Owned,
        msgs: list[Msg],
        dead_letter: Callable[[QueueDef, list[Msg]], Awaitable[None]],
    ) -> None:
        try:
            await dead_letter(qd, msgs)  # produces them to the DLQ (acks=all)
            await self.write_journal(
                qd.name,
                owned.state.partition,
                [
                    (journal.lease_key(m.offset), journal.encode_lease(m.lease(deleted=True)))
                    for m in msgs
                ],
            )
        except Exception as exc:
            _log.warning(
                "move to dead-letter queue failed; will retry", queue=qd.name, error=str(exc)
            )
            for m in msgs:
                owned.state.release(m, self.clock())
            return
        for m in msgs:
            owned.state.remove(m)
        metrics.MOVED_TO_DLQ.labels(qd.name).inc(len(msgs))

    def _expire(self, qd: QueueDef, owned: Owned, now: int) -> None:
        for m in owned.state.expired(now, qd.config.message_retention_period * 1000):
            owned.state.remove(m)

    def release(self, qd: QueueDef, partition: int, msg: Msg) -> None:
        owned = self._state(qd.name, partition)
        if owned is not None:
            owned.state.release(msg, self.clock())
            self.pulse(qd.name).fire()

    # --- delete / visibility -------------------------------------------------------------
    def _owned_or_unavailable(self, qd: QueueDef, partition: int) -> Owned:
        owned = self._state(qd.name, partition)
        if owned is None:
            raise ServiceUnavailable(
                f"partition {partition} of queue {qd.plain} is moving between replicas; retry"
            )
        return owned

    async def _owned_through(self, qd: QueueDef, partition: int, offset: int) -> Owned:
        """The partition, once its owner has read the record at ``offset``.

        A receipt handed out by the previous owner can name a record this
        replica, having just adopted the partition, has not read yet: that
        handle is not invalid, the owner is catching up. Wait for it briefly;
        past that, answer ServiceUnavailable, which clients retry.
        """
        deadline = time.monotonic() + CATCH_UP_WAIT_S
        while True:
            owned = self._owned_or_unavailable(qd, partition)
            if offset < owned.state.next_offset:
                return owned
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ServiceUnavailable(
                    f"partition {partition} of queue {qd.plain} is still being read by its"
                    " new owner; retry"
                )
            await self.pulse(qd.name).wait(min(remaining, 0.1))

    async def delete(self, qd: QueueDef, partition: int, offset: int, generation: int) -> None:
        (outcome,) = await self.delete_many(qd, partition, [(offset, generation)])
        if outcome is not None:
            raise outcome

    async def delete_many(
        self, qd: QueueDef, partition: int, receipts: list[tuple[int, int]]
    ) -> list[EventplaneError | None]:
        """Delete several messages of one partition with one journal write.

        Returns, per receipt, None (deleted, or already deleted: deleting again
        succeeds, as in SQS) or the error for that receipt.
        """
        owned = await self._owned_through(qd, partition, max((o for o, _ in receipts), default=-1))
        outcomes: list[EventplaneError | None] = []
        found: list[Msg] = []
        for offset, generation in receipts:
            try:
                msg = owned.state.lookup(offset, generation)
            except EventplaneError as exc:
                outcomes.append(exc)
                continue
            outcomes.append(None)
            if msg is not None and msg not in found:
                found.append(msg)
        if found:
            await self.write_journal(
                qd.name,
                partition,
                [
                    (journal.lease_key(m.offset), journal.encode_lease(m.lease(deleted=True)))
                    for m in found
                ],
            )
            for m in found:
                owned.state.remove(m)
                owned.leased.add(m.offset)
            metrics.DELETED.labels(qd.name).inc(len(found))
        return outcomes

    async def change_visibility(
        self, qd: QueueDef, partition: int, offset: int, generation: int, timeout_s: int
    ) -> None:
        owned = await self._owned_through(qd, partition, offset)
        msg = owned.state.lookup(offset, generation)
        if msg is None:
            raise ReceiptHandleIsInvalid("The message of this receipt handle was deleted.")
        before = (msg.visible_at, msg.inflight)
        owned.state.change_visibility(msg, timeout_s, self.clock())
        try:
            await self.write_journal(
                qd.name, partition, [(journal.lease_key(offset), journal.encode_lease(msg.lease()))]
            )
        except ServiceUnavailable:
            msg.visible_at, msg.inflight = before  # nothing was promised yet
            raise
        owned.leased.add(offset)
        if timeout_s == 0:
            self.pulse(qd.name).fire()

    # --- FIFO send ------------------------------------------------------------------------
    async def send_fifo(
        self, qd: QueueDef, partition: int, records: list[Record]
    ) -> list[tuple[str, str]]:
        """Produce FIFO messages, in order, except those whose dedup id was seen in 5 minutes.

        Returns (message id, sequence number) per record: the original ones for a
        duplicate. The new records go to Kafka together, then their dedup entries
        are journaled together, before anyone is answered.
        """
        owned = self._owned_or_unavailable(qd, partition)
        scope = qd.config.deduplication_scope
        results: list[tuple[str, str] | None] = [None] * len(records)
        keys = [dedup_key(r, scope) for r in records]
        fresh: list[int] = []
        first_in_batch: dict[str, int] = {}
        repeats: list[tuple[int, int]] = []
        for i, key in enumerate(keys):
            while True:
                existing = owned.state.dedup_get(key, self.clock())
                if existing is not None:
                    results[i] = (existing.message_id, existing.sequence_number)
                    break
                if key in first_in_batch:
                    repeats.append((i, first_in_batch[key]))
                    break
                pending = self._dedup_inflight.get((qd.name, partition, key))
                if pending is None:
                    first_in_batch[key] = i
                    fresh.append(i)
                    break
                with contextlib.suppress(Exception):
                    await asyncio.shield(pending)  # same id being sent: answer like it
        loop = asyncio.get_running_loop()
        flights: dict[int, asyncio.Future[tuple[str, str]]] = {}
        for i in fresh:
            fut: asyncio.Future[tuple[str, str]] = loop.create_future()
            fut.add_done_callback(_retrieve)  # nobody may be waiting on it
            flights[i] = self._dedup_inflight[(qd.name, partition, keys[i])] = fut
        try:
            if fresh:
                await self._produce_fifo(
                    qd, partition, owned, [(i, records[i], keys[i]) for i in fresh], results
                )
            for i in fresh:
                result = results[i]
                assert result is not None  # _produce_fifo filled every fresh slot
                flights[i].set_result(result)
        except BaseException as exc:
            error = exc if isinstance(exc, Exception) else ServiceUnavailable("cancelled")
            for fut in flights.values():
                if not fut.done():
                    fut.set_exception(error)
            raise
        finally:
            for i in fresh:
                self._dedup_inflight.pop((qd.name, partition, keys[i]), None)
        for i, first in repeats:
            results[i] = results[first]
        return [r for r in results if r is not None]

    async def _produce_fifo(
        self,
        qd: QueueDef,
        partition: int,
        owned: Owned,
        items: list[tuple[int, Record, str]],
        results: list[tuple[str, str] | None],
    ) -> None:
        topic = naming.queue_topic(qd.name)
        batch = []
        for _, record, _ in items:
            value, headers = journal.encode_record(record)
            batch.append(
                (topic, value, {"key": record.group_id, "headers": headers, "partition": partition})
            )
        try:
            written = await self._producer.send_many(batch)  # one partition: order is kept
        except ProduceError as exc:
            raise ServiceUnavailable(f"could not write to Kafka: {exc}") from None
        self.own_writes.wrote(qd, written)
        entries = []
        written_at = self.clock()
        for (i, record, key), msg in zip(items, written, strict=True):
            seq = sequence_number(partition, msg.offset() or 0)
            # The window runs on this owner's clock, which also judges it (dedup_get):
            # the sending replica's sent_ms, from a clock behind ours, shortened it.
            entry = DedupEntry(record.message_id, seq, written_at + models.DEDUP_WINDOW_MS)
            entries.append((key, record, entry))
            results[i] = (record.message_id, seq)
        await self.write_journal(
            qd.name,
            partition,
            [
                (journal.dedup_key(key), journal.encode_dedup(record.dedup_id or "", entry))
                for key, record, entry in entries
            ],
        )
        for key, _, entry in entries:
            owned.state.dedup[key] = entry

    # --- purge, counts, maintenance ------------------------------------------------------
    async def purge(self, qd: QueueDef, high_watermarks: dict[int, int]) -> None:
        now = self.clock()
        for p in self.partitions_of(qd.name):
            below = high_watermarks.get(p)
            if below is None:
                continue
            owned = self.owned[(qd.name, p)]
            await self.write_journal(
                qd.name, p, [(journal.PURGE_KEY, journal.encode_purge(below, now))]
            )
            owned.state.purge(below)
            owned.state.purged_at = now

    def last_purge(self, qd: QueueDef) -> int | None:
        """When this replica's partitions of the queue were last purged (ms), as journaled."""
        times = [self.owned[(qd.name, p)].state.purged_at for p in self.partitions_of(qd.name)]
        newest = max(times, default=-1)
        return newest if newest >= 0 else None

    def counts(self, qd: QueueDef) -> Counts:
        now = self.clock()
        total = Counts()
        for p in self.partitions_of(qd.name):
            owned = self.owned[(qd.name, p)]
            owned.state.tick(now)
            total = total + owned.state.counts(now)
        return total

    def expire_retention(self) -> None:
        """Drop messages older than their queue's retention period."""
        now = self.clock()
        for owned in self.owned.values():
            qd = self._lookup(owned.queue)
            if qd is not None:
                self._expire(qd, owned, now)

    def tick(self) -> None:
        """Apply deadlines; wake long polls on queues where something became visible."""
        now = self.clock()
        woken = {o.queue for o in self.owned.values() if o.state.tick(now)}
        for q in woken:
            self.pulse(q).fire()

    def commit_offsets(self) -> dict[tuple[str, int], int]:
        """The offsets to commit: every owned partition's low watermark not yet confirmed.

        The journal entries below an offset are dropped only once Kafka confirmed its
        commit (``committed``). Dropped with the commit lost (a broker paused past the
        session timeout fences the member, whose commits then fail), they let the next
        adoption start from the older offset without them: deleted messages came back.
        """
        moved: dict[tuple[str, int], int] = {}
        now = self.clock()
        for (q, p), owned in self.owned.items():
            expired = owned.state.prune_dedup(now)
            if expired and self._lookup(q) is not None:
                # The compacted journal would keep every deduplication id ever sent,
                # and each adoption would read them all again.
                for key in expired:
                    self._producer.produce_nowait(
                        naming.queue_state_topic(q), None, key=journal.dedup_key(key), partition=p
                    )
            low = owned.state.low_watermark()
            if low > owned.committed:
                moved[(naming.queue_topic(q), p)] = low
        return moved

    def committed(self, offsets: Mapping[tuple[str, int], int]) -> None:
        """Kafka confirmed these commits ((queue, partition) -> offset): tombstone the
        journal entries of the messages below them."""
        for (q, p), offset in offsets.items():
            owned = self.owned.get((q, p))
            if owned is None or offset <= owned.committed:
                continue
            owned.committed = offset
            if self._lookup(q) is None:
                continue  # deleted: its journal topic is gone, nothing to tombstone
            stale = [o for o in owned.leased if o < offset]
            for o in stale:
                owned.leased.discard(o)
                self._producer.produce_nowait(
                    naming.queue_state_topic(q), None, key=journal.lease_key(o), partition=p
                )


def dedup_key(record: Record, scope: str) -> str:
    # messageGroup scope dedups within a group. Queue scope dedups across the queue,
    # which is exact because such FIFO queues have one partition (engine.py).
    if scope == "messageGroup":
        return f"{record.group_id}\x00{record.dedup_id}"
    return record.dedup_id or ""


def _retrieve(fut: asyncio.Future[tuple[str, str]]) -> None:
    if not fut.cancelled():
        fut.exception()


def new_message_id() -> str:
    return str(uuid.uuid4())
