"""DynamoDB Streams on the ``.stream`` topic: records, shards, iterators, reads.

A shard is a partition of the stream topic; a record's SequenceNumber is its
Kafka offset (zero-padded, so it also sorts as text), which increases per
shard. Only committed transactions are read (read_committed), so a change
appears exactly when its item image does, once.

Shard iterators are opaque, HMAC-signed tokens naming the table's stream, the
shard and the next offset, valid for 15 minutes as in DynamoDB Streams.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue as stdlib_queue
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from confluent_kafka import OFFSET_INVALID, Consumer, KafkaError, KafkaException, TopicPartition

from eventplane import arn as arns
from eventplane.config import Settings
from eventplane.errors import ValidationException
from eventplane.kafka import codec, naming
from eventplane.kafka.clients import SEQUENTIAL_READER, consumer_config, take
from eventplane.observability import stages
from eventplane.tables.errors import ExpiredIteratorException
from eventplane.tables.expr.values import encode_json_item, item_size
from eventplane.tables.owner import message_headers

if TYPE_CHECKING:
    from eventplane.tables.writer import Change

SCHEMA = "eventplane.v1.TableStreamRecord"
ITERATOR_TTL_MS = 15 * 60 * 1000
MAX_RECORDS = 1000
MAX_BYTES = 1024 * 1024
# A read waits this long for its first records (they are committed, or about to be),
# then this long for each next batch: what follows them (at most the commit marker, which
# librdkafka steps over) is already in the log.
FIRST_WAIT_S = 0.1
FOLLOW_WAIT_S = 0.005
# Who made a change the service made itself (TTL deletions), as DynamoDB Streams says it.
SERVICE_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
ITERATOR_TYPES = ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")


def encode_change(change: Change, now_ms: int, event_id: str) -> tuple[bytes, Any]:
    view = change.table.stream.stream_view_type
    new = change.new if view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") else None
    old = change.old if view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") else None
    name = "INSERT" if change.old is None else "REMOVE" if change.new is None else "MODIFY"
    dumps = _dumps
    # SizeBytes: the size of the record's images, by DynamoDB's item-size rules.
    size = item_size(change.keys) + (item_size(new) if new else 0) + (item_size(old) if old else 0)
    return codec.encode(
        SCHEMA,
        {
            "event_id": event_id,
            "event_name": name,
            "created_ms": now_ms,
            "keys": dumps(change.keys),
            "new_image": dumps(new) if new is not None else None,
            "old_image": dumps(old) if old is not None else None,
            "size_bytes": size,
            "view_type": view,
            "stream_label": change.table.stream_label,
            "user_identity": (
                json.dumps(SERVICE_IDENTITY, separators=(",", ":")) if change.by_service else None
            ),
        },
    )


def _dumps(item: Any) -> str:
    return json.dumps(encode_json_item(item), separators=(",", ":"), ensure_ascii=False)


def sequence_number(offset: int) -> str:
    return f"{offset:021d}"


def offset_of(sequence: str, field: str = "SequenceNumber") -> int:
    if not (sequence.isascii() and sequence.isdigit()) or len(sequence) > 40:
        raise ValidationException(f"Invalid {field}: {sequence!r}")
    return int(sequence)


def to_record(rec: dict[str, Any], offset: int) -> dict[str, Any]:
    """The record exactly as DynamoDB Streams shapes it."""
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": rec["created_ms"] // 1000,
        "Keys": json.loads(rec["keys"]),
    }
    if rec["new_image"] is not None:
        dynamodb["NewImage"] = json.loads(rec["new_image"])
    if rec["old_image"] is not None:
        dynamodb["OldImage"] = json.loads(rec["old_image"])
    dynamodb["SequenceNumber"] = sequence_number(offset)
    dynamodb["SizeBytes"] = rec["size_bytes"]
    dynamodb["StreamViewType"] = rec["view_type"]
    out: dict[str, Any] = {
        "eventID": rec["event_id"].replace("-", ""),
        "eventName": rec["event_name"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": arns.identity().region,
        "dynamodb": dynamodb,
    }
    if rec.get("user_identity"):
        out["userIdentity"] = json.loads(rec["user_identity"])
    return out


def _watermarks(c: Consumer, tp: TopicPartition) -> tuple[int, int]:
    """A partition's (low, high), learning first of a partition a repartition added since
    the consumer last fetched metadata."""
    try:
        low, high = c.get_watermark_offsets(tp, timeout=10, cached=False)
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError._UNKNOWN_PARTITION:
            raise
        c.list_topics(tp.topic, timeout=10)
        low, high = c.get_watermark_offsets(tp, timeout=10, cached=False)
    return int(low), int(high)


# --- iterators ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Iterator:
    table: str
    label: str
    partition: int
    offset: int
    issued_ms: int
    shard: str = ""  # the shard id (a span of the partition after a repartition)


class IteratorSigner:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(f"tables-iterators:{secret}".encode()).digest()

    def sign(self, it: Iterator) -> str:
        body = json.dumps(
            [it.table, it.label, it.partition, it.offset, it.issued_ms, it.shard],
            separators=(",", ":"),
        ).encode()
        mac = hmac.new(self._key, body, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(body + mac).decode().rstrip("=")

    def open(self, token: str, now_ms: int) -> Iterator:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            body, mac = raw[:-16], raw[-16:]
            good = hmac.compare_digest(hmac.new(self._key, body, hashlib.sha256).digest()[:16], mac)
            if not good:
                raise ValueError("forged")
            fields = json.loads(body)
            it = Iterator(
                str(fields[0]),
                str(fields[1]),
                int(fields[2]),
                int(fields[3]),
                int(fields[4]),
                str(fields[5]) if len(fields) > 5 else "",
            )
        except (ValueError, TypeError, IndexError, KeyError):
            raise ValidationException("Invalid ShardIterator") from None
        if now_ms - it.issued_ms > ITERATOR_TTL_MS:
            raise ExpiredIteratorException(
                "Iterator expired. The iterator was created at time "
                f"{it.issued_ms} while right now the time is {now_ms}"
            )
        return it


# --- reading ---------------------------------------------------------------------------------


class StreamReaders:
    """A small pool of unassigned consumers; each read assigns one to a shard at an offset."""

    def __init__(self, settings: Settings, size: int = 4) -> None:
        self._settings = settings
        self._pool: stdlib_queue.SimpleQueue[Consumer] = stdlib_queue.SimpleQueue()
        self._all: list[Consumer] = []
        self._size = size
        # Each shard's end (high watermark) as the last read found it: stream lag.
        self.ends: dict[tuple[str, int], int] = {}

    def _take(self) -> Consumer:
        try:
            return self._pool.get_nowait()
        except stdlib_queue.Empty:
            c = Consumer(
                consumer_config(
                    self._settings,
                    f"{naming.PREFIX}.stream-reader.{uuid.uuid4().hex}",
                    # One read after another, each on its shard: see SEQUENTIAL_READER.
                    # At the default wait, one table write in three waited 50-80 ms more
                    # before its stream mapping saw it.
                    **SEQUENTIAL_READER,
                )
            )
            self._all.append(c)
            return c

    def close(self) -> None:
        for c in self._all:
            c.close()

    def watermarks(self, topic: str, partition: int) -> tuple[int, int]:
        c = self._take()
        try:
            try:
                low, high = _watermarks(c, TopicPartition(topic, partition))
            except KafkaException as exc:
                if exc.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                    return 0, 0
                raise
            return int(low), int(high)
        finally:
            self._pool.put(c)

    def read(
        self,
        topic: str,
        partition: int,
        offset: int,
        limit: int,
        keep: Callable[[dict[str, Any]], bool],
        until: int | None = None,
        stop: int | None = None,
    ) -> tuple[list[tuple[int, dict[str, Any]]], int]:
        """Committed records from ``offset``: up to ``limit`` records or 1 MB, as far as the
        shard's current end, or as far as ``until`` (records known to be committed, whose
        transaction markers may not be written yet: waited for, a few fetches at most),
        never at or past ``stop`` (a closed shard's end). Returns them with the offset to
        continue from."""
        c = self._take()
        tp = TopicPartition(topic, partition)
        out: list[tuple[int, dict[str, Any]]] = []
        try:
            _, high = _watermarks(c, tp)
            self.ends[(topic, partition)] = int(high)
            if until is not None and until > high:
                high = until
            if stop is not None and stop < high:
                high = stop
            if offset >= high:
                return out, offset
            c.assign([TopicPartition(topic, partition, offset)])
            size = 0
            next_offset = offset
            idle = 0
            while len(out) < limit and size < MAX_BYTES and idle < 3:
                # Once records came, the rest up to ``high`` (the commit marker after them,
                # at most) is already there: wait briefly, not a whole fetch wait, for it.
                wait = FOLLOW_WAIT_S if next_offset > offset else FIRST_WAIT_S
                batch = take(c, min(500, limit - len(out)), wait)
                if not batch:
                    pos = c.position([tp])[0].offset
                    if pos != OFFSET_INVALID:
                        next_offset = max(next_offset, pos)
                    if next_offset >= high:
                        break
                    idle += 1
                    continue
                for m in batch:
                    value, at = m.value(), m.offset()
                    if m.error() or value is None or at is None:
                        continue
                    headers = message_headers(m)
                    if stop is not None and at >= stop:
                        return out, max(offset, stop)
                    _, rec = codec.decode(value, headers)
                    next_offset = at + 1
                    if not keep(rec):
                        continue
                    out.append((at, rec))
                    written_at = stages.stamp_of(headers, stages.PRODUCED_AT)
                    stages.observe("table_write_to_stream_read", written_at, time.time())
                    size += rec["size_bytes"]
                    if len(out) >= limit or size >= MAX_BYTES:
                        break
                # A transaction's commit marker takes the offset after its records: the
                # position passes it once the fetch that brought them is processed, so
                # the end is often known now, without waiting for another fetch.
                pos = c.position([tp])[0].offset
                if pos != OFFSET_INVALID and pos >= high and len(out) < limit and size < MAX_BYTES:
                    next_offset = max(next_offset, pos)
                    break
            return out, next_offset
        finally:
            c.unassign()
            self._pool.put(c)
