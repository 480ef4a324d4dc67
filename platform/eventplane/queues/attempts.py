"""FIFO ReceiveRequestAttemptId replays that survive the loss of a replica.

A receive with an attempt id journals, on each partition it took messages
from, which messages (offset and lease generation) it handed out: key
``a:<attempt id>`` → QueueAttempt on the partition's ``.state`` topic, written
before the caller is answered. The partition's owner keeps these entries with
its state; a replica adopting the partition after a crash reads them back with
the leases, so a retry within 5 minutes, on whichever replica owns the
partition by then, renews and returns the same messages with the same receipt
handles (receipt handles are a pure function of queue, partition, offset and
generation). A message deleted, or received again, since ends the replay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventplane.errors import ServiceUnavailable
from eventplane.errors.queues import MessageNotInflight, ReceiptHandleIsInvalid
from eventplane.kafka import codec
from eventplane.observability.logging import get_logger
from eventplane.queues.models import Msg
from eventplane.queues.queue_def import QueueDef

if TYPE_CHECKING:
    from eventplane.queues.partitions import LocalPartitions

_log = get_logger("eventplane.queues")

ATTEMPT = "eventplane.v1.QueueAttempt"
# How long SQS honours a ReceiveRequestAttemptId after the first receive with it.
ATTEMPT_TTL_MS = 5 * 60 * 1000


@dataclass(frozen=True, slots=True)
class AttemptEntry:
    """What one receive with an attempt id took from one partition, in the order returned."""

    receipts: tuple[tuple[int, int], ...]  # (offset, generation)
    expires_ms: int


def attempt_key(attempt_id: str) -> str:
    return f"a:{attempt_id}"


def encode_attempt(attempt_id: str, entry: AttemptEntry) -> tuple[bytes, list[tuple[str, bytes]]]:
    return codec.encode(
        ATTEMPT,
        {
            "attempt_id": attempt_id,
            "expires_ms": entry.expires_ms,
            "receipts": [{"offset": o, "generation": g} for o, g in entry.receipts],
        },
    )


def decode_attempt(rec: Mapping[str, Any]) -> tuple[str, AttemptEntry]:
    """A decoded QueueAttempt record as (attempt id, entry)."""
    receipts = tuple((r["offset"], r["generation"]) for r in rec["receipts"])
    return rec["attempt_id"], AttemptEntry(receipts, rec["expires_ms"])


class AttemptJournal:
    """Journals, replays and expires the attempt entries of this replica's partitions."""

    def __init__(self, local: LocalPartitions) -> None:
        self._local = local

    async def record(self, qd: QueueDef, attempt_id: str, got: list[tuple[int, Msg]]) -> None:
        """Journal what a receive with ``attempt_id`` took, per partition, before answering.

        A journal write that fails does not fail the receive: the messages are
        already leased, so answering them is better than hiding them for a
        visibility timeout; only a retry after a crash would then miss them.
        """
        local = self._local
        by_partition: dict[int, list[tuple[int, int]]] = {}
        for p, m in got:
            by_partition.setdefault(p, []).append((m.offset, m.generation))
        expires = local.clock() + ATTEMPT_TTL_MS
        for p, receipts in by_partition.items():
            entry = AttemptEntry(tuple(receipts), expires)
            try:
                await local.write_journal(
                    qd.name, p, [(attempt_key(attempt_id), encode_attempt(attempt_id, entry))]
                )
            except ServiceUnavailable as exc:
                _log.warning(
                    "could not journal a receive attempt", queue=qd.name, error=exc.message
                )
                continue
            owned = local.owned.get((qd.name, p))
            if owned is not None:
                owned.attempts[attempt_id] = entry

    async def replay(
        self, qd: QueueDef, attempt_id: str, visibility_s: int
    ) -> list[tuple[int, Msg]] | None:
        """The messages an earlier receive with ``attempt_id`` took here, renewed; None if none.

        Every one of them gets a fresh visibility timeout, as a retried receive
        does in SQS. If any was deleted or received again since, the attempt is
        over (forgotten, journal entry tombstoned) and None is returned.
        """
        local = self._local
        now = local.clock()
        found: list[tuple[int, AttemptEntry]] = []
        for p in local.partitions_of(qd.name):
            entry = local.owned[(qd.name, p)].attempts.get(attempt_id)
            if entry is not None and entry.expires_ms > now:
                found.append((p, entry))
        if not found:
            return None
        replayed: list[tuple[int, Msg]] = []
        for p, entry in found:
            for offset, generation in entry.receipts:
                try:
                    await local.change_visibility(qd, p, offset, generation, visibility_s)
                    msg = local.owned[(qd.name, p)].state.lookup(offset, generation)
                except (ReceiptHandleIsInvalid, MessageNotInflight):
                    msg = None
                if msg is None:  # deleted or received again since
                    self._forget(qd.name, [p for p, _ in found], attempt_id)
                    return None
                replayed.append((p, msg))
        return replayed

    def prune(self) -> None:
        """Forget expired attempts and tombstone their journal entries."""
        local = self._local
        now = local.clock()
        for (queue, p), owned in list(local.owned.items()):
            stale = [a for a, e in owned.attempts.items() if e.expires_ms <= now]
            if stale:
                self._forget(queue, [p], *stale)

    def _forget(self, queue: str, partitions: list[int], *attempt_ids: str) -> None:
        local = self._local
        for p in partitions:
            owned = local.owned.get((queue, p))
            if owned is None:
                continue
            for attempt_id in attempt_ids:
                if owned.attempts.pop(attempt_id, None) is not None:
                    local.tombstone(queue, p, attempt_key(attempt_id))
