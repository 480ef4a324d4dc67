"""Per-partition queue state: the message owns its deadline, the partition owns the in-flight set.

A ``PartitionState`` holds every undeleted message of one Kafka partition above
the committed offset. It is pure: no Kafka, no asyncio, and time is passed in
(``now`` in epoch ms), so visibility, delay and FIFO rules are unit-testable
without sleeping. The owner (owner.py) feeds it records and journal entries,
journals what it returns, and commits ``low_watermark()``.

Standard queues hand out any visible message, oldest first. FIFO queues keep a
deque of offsets per message group; a group is *ready* only when none of its
messages is in flight and its head is visible, so order within a group holds
across redeliveries.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from eventplane.errors import InvalidParameterValue
from eventplane.errors.queues import MessageNotInflight, ReceiptHandleIsInvalid
from eventplane.queues.messages import MessageAttribute

MAX_VISIBILITY_MS = 12 * 3600 * 1000
DEDUP_WINDOW_MS = 5 * 60 * 1000


@dataclass(frozen=True, slots=True)
class Record:
    """What was sent: immutable once written to the queue topic."""

    message_id: str
    body: str
    attributes: Mapping[str, MessageAttribute]
    sent_ms: int
    delay_seconds: int = 0
    group_id: str | None = None
    dedup_id: str | None = None
    source_queue: str | None = None


@dataclass(frozen=True, slots=True)
class Lease:
    """A journaled message state (the QueueLease Avro record)."""

    offset: int
    deleted: bool = False
    receive_count: int = 0
    generation: int = 0
    visible_at_ms: int = 0
    received_at_ms: int = 0
    first_receive_ms: int = 0


@dataclass(frozen=True, slots=True)
class DedupEntry:
    message_id: str
    sequence_number: str
    expires_ms: int


@dataclass(slots=True)
class Msg:
    offset: int
    record: Record
    visible_at: int  # available from then (delay); in flight until then
    inflight: bool = False
    moving: bool = False  # being moved to the dead-letter queue
    receive_count: int = 0
    generation: int = 0
    received_at: int = 0
    first_receive: int = 0
    adopted_at: float = 0.0  # wall clock when the owner took it in; observability only

    def lease(self, *, deleted: bool = False) -> Lease:
        return Lease(
            offset=self.offset,
            deleted=deleted,
            receive_count=self.receive_count,
            generation=self.generation,
            visible_at_ms=self.visible_at if self.inflight else 0,
            received_at_ms=self.received_at,
            first_receive_ms=self.first_receive,
        )


@dataclass
class Claim:
    """The outcome of one receive on one partition."""

    received: list[Msg] = field(default_factory=list)
    to_dead_letter: list[Msg] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Counts:
    visible: int = 0
    not_visible: int = 0
    delayed: int = 0
    oldest_sent_ms: int | None = None

    def __add__(self, other: Counts) -> Counts:
        oldest = [t for t in (self.oldest_sent_ms, other.oldest_sent_ms) if t is not None]
        return Counts(
            self.visible + other.visible,
            self.not_visible + other.not_visible,
            self.delayed + other.delayed,
            min(oldest) if oldest else None,
        )


class PartitionState:
    def __init__(self, partition: int, *, fifo: bool, start_offset: int = 0) -> None:
        self.partition = partition
        self.fifo = fifo
        self.msgs: dict[int, Msg] = {}  # undeleted, in offset order
        self.next_offset = start_offset  # one past the last record seen
        self.purged_below = -1
        self.purged_at = -1  # ms of the newest purge, from the journal
        self.dedup: dict[str, DedupEntry] = {}
        self._timers: list[tuple[int, int]] = []  # (time, offset); stale ones are skipped
        self._ready: dict[int | str, None] = {}  # standard: offsets; FIFO: group ids
        self._groups: dict[str, deque[int]] = {}
        self._group_busy: dict[str, int] = {}

    # --- building ---------------------------------------------------------------------
    def add(self, offset: int, record: Record, lease: Lease | None, now: int) -> Msg | None:
        """A record read from the queue topic, with its journaled state if any."""
        self.next_offset = max(self.next_offset, offset + 1)
        if offset < self.purged_below or (lease is not None and lease.deleted):
            return None
        if offset in self.msgs:
            return self.msgs[offset]
        # Undelayed: visible as soon as it is here. (sent_ms is the accepting replica's
        # clock; one running ahead of this owner's hid every message it took for as long.)
        delay_ms = record.delay_seconds * 1000
        msg = Msg(offset, record, visible_at=record.sent_ms + delay_ms if delay_ms else 0)
        if lease is not None:
            msg.receive_count = lease.receive_count
            msg.generation = lease.generation
            msg.received_at = lease.received_at_ms
            msg.first_receive = lease.first_receive_ms
            if lease.visible_at_ms:
                msg.inflight = True
                msg.visible_at = lease.visible_at_ms
        self.msgs[offset] = msg
        if self.fifo:
            group = record.group_id or ""
            self._groups.setdefault(group, deque()).append(offset)
            if msg.inflight:
                self._group_busy[group] = self._group_busy.get(group, 0) + 1
        self._place(msg, now)
        return msg

    def skip_to(self, offset: int) -> None:
        """Records below ``offset`` were deleted before this owner took over."""
        self.next_offset = max(self.next_offset, offset)

    def purge(self, below: int) -> list[Msg]:
        """Delete every message below ``below``; returns what was removed."""
        self.purged_below = max(self.purged_below, below)
        gone = [m for o, m in self.msgs.items() if o < below]
        for msg in gone:
            self._remove(msg)
        return gone

    # --- time -------------------------------------------------------------------------
    def _place(self, msg: Msg, now: int) -> None:
        if msg.inflight or msg.visible_at > now:
            heapq.heappush(self._timers, (msg.visible_at, msg.offset))
        else:
            self._mark_ready(msg)

    def _mark_ready(self, msg: Msg) -> None:
        if self.fifo:
            self._refresh_group(msg.record.group_id or "")
        else:
            self._ready[msg.offset] = None

    def _refresh_group(self, group: str) -> None:
        offsets = self._groups.get(group)
        if not offsets:
            self._groups.pop(group, None)
            self._group_busy.pop(group, None)
            self._ready.pop(group, None)
            return
        head = self.msgs[offsets[0]]
        # Ready means "nothing of the group is held"; whether the head is
        # visible yet (queue delay) is checked when claiming.
        if self._group_busy.get(group, 0) == 0 and not head.inflight and not head.moving:
            self._ready.setdefault(group, None)
        else:
            self._ready.pop(group, None)

    def tick(self, now: int) -> bool:
        """Apply every deadline up to ``now``; True when something became visible."""
        changed = False
        while self._timers and self._timers[0][0] <= now:
            when, offset = heapq.heappop(self._timers)
            msg = self.msgs.get(offset)
            if msg is None or msg.visible_at != when or msg.moving:
                continue  # deleted, re-leased or moving since: a stale timer
            if msg.inflight:
                msg.inflight = False
                if self.fifo:
                    self._release_group(msg)
            self._mark_ready(msg)
            changed = True
        return changed

    def next_deadline(self) -> int | None:
        return self._timers[0][0] if self._timers else None

    # --- receive ----------------------------------------------------------------------
    def claim(
        self, max_messages: int, visibility_ms: int, now: int, max_receive_count: int = 0
    ) -> Claim:
        """Lease up to ``max_messages`` visible messages, oldest first.

        A message already received ``max_receive_count`` times goes to
        ``to_dead_letter`` instead (marked moving until ``remove``).
        """
        self.tick(now)
        claim = Claim()
        while self._ready and len(claim.received) < max_messages:
            key = next(iter(self._ready))
            del self._ready[key]
            if self.fifo:
                self._claim_group(
                    str(key), max_messages, visibility_ms, now, max_receive_count, claim
                )
            else:
                msg = self.msgs.get(int(key))
                if msg is not None and not msg.inflight and not msg.moving:
                    self._lease(msg, visibility_ms, now, max_receive_count, claim)
        return claim

    def oldest_ready_sent_ms(self, now: int) -> int | None:
        """When the oldest message that could be claimed now was sent (None: nothing ready)."""
        self.tick(now)
        best: int | None = None
        for key in self._ready:
            offset = self._groups[str(key)][0] if self.fifo else int(key)
            msg = self.msgs.get(offset)
            if msg is None or msg.inflight or msg.moving or msg.visible_at > now:
                continue
            if not self.fifo:
                return msg.record.sent_ms  # standard: ready keys are in offset order
            best = msg.record.sent_ms if best is None else min(best, msg.record.sent_ms)
        return best

    def _claim_group(
        self, group: str, limit: int, visibility_ms: int, now: int, max_rc: int, claim: Claim
    ) -> None:
        for i, offset in enumerate(list(self._groups.get(group, ()))):
            if len(claim.received) >= limit:
                break
            msg = self.msgs[offset]
            if msg.inflight or msg.moving:
                break
            if msg.visible_at > now:
                if i == 0:  # a delayed head: come back when it is due
                    heapq.heappush(self._timers, (msg.visible_at, msg.offset))
                break
            self._group_busy[group] = self._group_busy.get(group, 0) + 1
            if not self._lease(msg, visibility_ms, now, max_rc, claim):
                break  # a message bound for the DLQ blocks the group until it is gone

    def _lease(self, msg: Msg, visibility_ms: int, now: int, max_rc: int, claim: Claim) -> bool:
        if max_rc and msg.receive_count >= max_rc:
            msg.moving = True
            claim.to_dead_letter.append(msg)
            return False
        msg.inflight = True
        msg.receive_count += 1
        msg.generation += 1
        msg.received_at = now
        msg.first_receive = msg.first_receive or now
        msg.visible_at = now + visibility_ms
        heapq.heappush(self._timers, (msg.visible_at, msg.offset))
        claim.received.append(msg)
        return True

    def release(self, msg: Msg, now: int) -> None:
        """Undo a lease that never reached the caller (its journal write failed)."""
        if self.msgs.get(msg.offset) is not msg:
            return
        if msg.moving:
            msg.moving = False
        elif msg.inflight:
            msg.inflight = False
            msg.receive_count -= 1
        else:
            return
        if self.fifo:
            self._release_group(msg)
        msg.visible_at = now
        self._mark_ready(msg)

    def _release_group(self, msg: Msg) -> None:
        group = msg.record.group_id or ""
        self._group_busy[group] = max(0, self._group_busy.get(group, 0) - 1)
        self._refresh_group(group)

    # --- delete / visibility ----------------------------------------------------------
    def lookup(self, offset: int, generation: int) -> Msg | None:
        """The message a receipt names; None when it is already deleted."""
        if offset < self.purged_below or (offset not in self.msgs and offset < self.next_offset):
            return None
        msg = self.msgs.get(offset)
        if msg is None:
            raise ReceiptHandleIsInvalid("The input receipt handle is invalid.")
        if msg.generation != generation:
            raise ReceiptHandleIsInvalid(
                "The receipt handle has expired: the message was received again since."
            )
        return msg

    def remove(self, msg: Msg) -> None:
        if self.msgs.get(msg.offset) is msg:
            self._remove(msg)

    def _remove(self, msg: Msg) -> None:
        del self.msgs[msg.offset]
        if not self.fifo:
            self._ready.pop(msg.offset, None)
            return
        group = msg.record.group_id or ""
        offsets = self._groups.get(group)
        if offsets:
            if offsets[0] == msg.offset:
                offsets.popleft()
            else:
                offsets.remove(msg.offset)
        if msg.inflight or msg.moving:
            self._group_busy[group] = max(0, self._group_busy.get(group, 0) - 1)
        self._ready.pop(group, None)
        self._refresh_group(group)

    def change_visibility(self, msg: Msg, timeout_s: int, now: int) -> None:
        self.tick(now)
        if not msg.inflight:
            raise MessageNotInflight("The message referred to is not in flight.")
        deadline = now + timeout_s * 1000
        if deadline - msg.received_at > MAX_VISIBILITY_MS:
            raise InvalidParameterValue(
                f"Value {timeout_s} for parameter VisibilityTimeout is invalid. Reason: Total "
                "VisibilityTimeout for the message is beyond the limit [43200 seconds]."
            )
        msg.visible_at = deadline
        if timeout_s == 0:
            msg.inflight = False
            if self.fifo:
                self._release_group(msg)
            self._mark_ready(msg)
        else:
            heapq.heappush(self._timers, (deadline, msg.offset))

    # --- retention, dedup, counts -----------------------------------------------------
    def expired(self, now: int, retention_ms: int) -> list[Msg]:
        """Messages past the retention period that nobody holds; the caller removes them."""
        limit = now - retention_ms
        return [m for m in self.msgs.values() if m.record.sent_ms <= limit and not m.moving]

    def dedup_get(self, key: str, now: int) -> DedupEntry | None:
        entry = self.dedup.get(key)
        if entry is not None and entry.expires_ms <= now:
            del self.dedup[key]
            return None
        return entry

    def prune_dedup(self, now: int) -> list[str]:
        """Forget the deduplication entries whose 5-minute window has passed; their keys."""
        expired = [k for k, e in self.dedup.items() if e.expires_ms <= now]
        for key in expired:
            del self.dedup[key]
        return expired

    def low_watermark(self) -> int:
        """The offset to commit: everything below it is deleted."""
        return next(iter(self.msgs), self.next_offset)

    def counts(self, now: int) -> Counts:
        visible = not_visible = delayed = 0
        for m in self.msgs.values():
            if m.inflight or m.moving:
                not_visible += 1
            elif m.visible_at > now:
                delayed += 1
            else:
                visible += 1
        oldest = min((m.record.sent_ms for m in self.msgs.values()), default=None)
        return Counts(visible, not_visible, delayed, oldest)
