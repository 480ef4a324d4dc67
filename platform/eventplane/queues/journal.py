"""Encoding of queue records and lease-journal entries (Avro, schemas/queue_*.avsc).

Journal keys on eventplane.q.<queue>.state (compacted, co-partitioned with the
queue topic): ``m:<offset>`` → QueueLease, ``d:<dedup key>`` → QueueDedup,
``purge`` → QueuePurge, ``a:<attempt id>`` → QueueAttempt (attempts.py).
Compaction keeps only the newest entry per key; a lease of a message below the
committed offset is tombstoned, and so are a deduplication entry whose 5-minute window
has passed and an expired attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from eventplane.kafka import codec
from eventplane.queues.attempts import ATTEMPT, AttemptEntry, decode_attempt
from eventplane.queues.messages import MessageAttribute
from eventplane.queues.models import DedupEntry, Lease, Record

MESSAGE = "eventplane.v1.QueueMessage"
LEASE = "eventplane.v1.QueueLease"
DEDUP = "eventplane.v1.QueueDedup"
PURGE = "eventplane.v1.QueuePurge"

Headers = list[tuple[str, bytes]]


def encode_record(r: Record) -> tuple[bytes, Headers]:
    return codec.encode(
        MESSAGE,
        {
            "message_id": r.message_id,
            "body": r.body,
            "attributes": [
                {
                    "name": name,
                    "data_type": a.data_type,
                    "string_value": a.string_value,
                    "binary_value": a.binary_value,
                }
                for name, a in r.attributes.items()
            ],
            "sent_ms": r.sent_ms,
            "delay_seconds": r.delay_seconds,
            "group_id": r.group_id,
            "dedup_id": r.dedup_id,
            "source_queue": r.source_queue,
        },
    )


def decode_record(value: bytes, headers: Sequence[tuple[str, bytes | None]]) -> Record:
    name, rec = codec.decode(value, headers)
    if name != MESSAGE:
        raise codec.CodecError(f"expected a {MESSAGE}, got {name}")
    return Record(
        message_id=rec["message_id"],
        body=rec["body"],
        attributes={
            a["name"]: MessageAttribute(a["data_type"], a["string_value"], a["binary_value"])
            for a in rec["attributes"]
        },
        sent_ms=rec["sent_ms"],
        delay_seconds=rec["delay_seconds"],
        group_id=rec["group_id"],
        dedup_id=rec["dedup_id"],
        source_queue=rec["source_queue"],
    )


def lease_key(offset: int) -> str:
    return f"m:{offset}"


def dedup_key(key: str) -> str:
    return f"d:{key}"


PURGE_KEY = "purge"


def encode_lease(lease: Lease) -> tuple[bytes, Headers]:
    # By hand: dataclasses.asdict deep-copies and was a visible share of the hot path.
    return codec.encode(
        LEASE,
        {
            "offset": lease.offset,
            "deleted": lease.deleted,
            "receive_count": lease.receive_count,
            "generation": lease.generation,
            "visible_at_ms": lease.visible_at_ms,
            "received_at_ms": lease.received_at_ms,
            "first_receive_ms": lease.first_receive_ms,
        },
    )


def encode_dedup(dedup_id: str, entry: DedupEntry) -> tuple[bytes, Headers]:
    return codec.encode(DEDUP, {"dedup_id": dedup_id, **asdict(entry)})


def encode_purge(below: int, now: int) -> tuple[bytes, Headers]:
    return codec.encode(PURGE, {"below_offset": below, "purged_at_ms": now})


@dataclass
class JournalState:
    """Everything one partition's journal says, as read at take-over."""

    leases: dict[int, Lease] = field(default_factory=dict)
    dedup: dict[str, DedupEntry] = field(default_factory=dict)
    purged_below: int = -1
    # When the newest purge ran (ms), so PurgeQueue's once-a-minute rule holds across
    # replicas and restarts.
    purged_at_ms: int = -1
    # FIFO ReceiveRequestAttemptId → what that receive took from this partition.
    attempts: dict[str, AttemptEntry] = field(default_factory=dict)

    def apply(self, key: str, value: bytes | None, headers: Any) -> None:
        if value is None:  # tombstone
            if key.startswith("m:"):
                self.leases.pop(int(key[2:]), None)
            elif key.startswith("d:"):
                self.dedup.pop(key[2:], None)
            elif key.startswith("a:"):
                self.attempts.pop(key[2:], None)
            return
        name, rec = codec.decode(value, headers)
        if name == LEASE:
            lease = Lease(**rec)
            self.leases[lease.offset] = lease
        elif name == DEDUP:
            dedup_id = rec.pop("dedup_id")
            self.dedup[key[2:] if key.startswith("d:") else dedup_id] = DedupEntry(**rec)
        elif name == PURGE:
            self.purged_below = max(self.purged_below, rec["below_offset"])
            self.purged_at_ms = max(self.purged_at_ms, rec["purged_at_ms"])
        elif name == ATTEMPT:
            attempt_id, entry = decode_attempt(rec)
            self.attempts[attempt_id] = entry
