"""Partition ownership for tables: a consumer group decides which replica serves which partition.

This mirrors ``queues/owner.py`` (the queue mechanism is bound to queue records
and lease journals, so it is not reused as is): every replica runs one member of
``eventplane.table-owners`` subscribed to the changelog topics of every table.
When Kafka assigns it a partition, the member restores the partition's items
from the compacted changelog (read_committed, to its end) and hands them to the
loop; from then on the owner is the partition's only writer, so the member
pauses the partition instead of reading its own writes back. On revocation the
store is dropped; a crashed owner's partitions go to a survivor, which restores
the same items from the same changelog.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import json
import queue as stdlib_queue
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from confluent_kafka import (
    OFFSET_INVALID,
    Consumer,
    KafkaError,
    KafkaException,
    TopicPartition,
)

from eventplane.config import Settings
from eventplane.kafka import codec, naming
from eventplane.kafka.clients import SEQUENTIAL_READER, consumer_config, take
from eventplane.kafka.codec import SCHEMA_HEADER
from eventplane.kafka.groups import owner_group_config
from eventplane.kafka.membership import Membership
from eventplane.kafka.retirement import Holdings
from eventplane.observability.logging import get_logger
from eventplane.tables import metrics
from eventplane.tables.cache_tail import CacheTail, schema_of, topic_marker
from eventplane.tables.expr.values import decode_json_item, decode_json_value, encode_json_item
from eventplane.tables.restore_cache import CacheDir, PartitionCache, TopicMarker, now_ms

_log = get_logger("eventplane.tables.owner")

Item = dict[str, Any]
ITEM_SCHEMA = "eventplane.v1.TableItem"
_CONVERTED = frozenset(("B", "BS", "M", "L"))  # the JSON forms decode_json_value changes
CACHE_FLUSH_RECORDS = 50_000  # staged records of a restore that make a cache flush
# How long a restore waits for a transaction open below the log's end (a dead writer's,
# aborted by the broker within the writers' 10 s transaction timeout plus its check
# interval) before it reads only to the stable end.
OPEN_TRANSACTION_WAIT_S = 45.0


@dataclass
class Restored:
    """A partition handed to this replica, with every item its changelog holds."""

    table: str
    partition: int
    items: dict[str, Item]  # canonical key -> item


class OwnerListener:
    """What the loop side implements (the table engine's partitions)."""

    async def adopt(self, restored: Restored) -> None:
        raise NotImplementedError

    async def relinquish(self, partitions: list[tuple[str, int]]) -> None:
        raise NotImplementedError


class TableOwners:
    """The replica's member of eventplane.table-owners, on its own thread."""

    def __init__(
        self,
        settings: Settings,
        listener: OwnerListener,
        loop: asyncio.AbstractEventLoop,
        *,
        advertise: str,
        instance_id: str,
        exists: Callable[[str], bool],
        ready: Callable[[str, int], bool] = lambda _t, _p: True,
    ) -> None:
        self._settings = settings
        self._listener = listener
        self._loop = loop
        self._exists = exists  # is the table still defined? (registry, thread-safe)
        # May the partition be restored now? A partition a repartition adds waits until
        # the table routes keys to it (repartition.py): these are adopted once it may.
        self._ready = ready
        self._deferred: list[TopicPartition] = []
        self.client_id = f"eventplane-table-owner|{advertise}|{instance_id}"
        self._topics: list[str] = []
        self._subscribe: stdlib_queue.SimpleQueue[list[str]] = stdlib_queue.SimpleQueue()
        self.holdings = Holdings("table-owner", naming.TABLE_OWNERS_GROUP, self.client_id)
        self._to_pause: list[TopicPartition] = []
        # The restore cache (off without a folder): files only this thread touches.
        self._cache_dir = CacheDir(settings.tables_cache_dir) if settings.tables_cache_dir else None
        self._tail = CacheTail(settings)
        self._followed: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="table-owner", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def subscribe(self, topics: list[str]) -> None:
        if sorted(topics) != self._topics:
            self._topics = sorted(topics)
            self.holdings.want(self._topics)
            self._subscribe.put(list(self._topics))

    def close(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    # --- the consumer thread ---------------------------------------------------------
    def _run(self) -> None:
        reader = Consumer(
            consumer_config(  # restores one adopted partition after another
                self._settings,
                f"{naming.PREFIX}.table-restore.{uuid.uuid4().hex}",
                **SEQUENTIAL_READER,
            )
        )
        # Asks only for a partition's log end past open transactions (read_partition).
        self._log_ends = Consumer(
            consumer_config(
                self._settings,
                f"{naming.PREFIX}.table-restore-ends.{uuid.uuid4().hex}",
                **{"isolation.level": "read_uncommitted"},
            )
        )

        def on_assign(c: Consumer, partitions: list[TopicPartition]) -> None:
            self.holdings.assigned((tp.topic, tp.partition) for tp in partitions)
            for tp in partitions:
                if not self._ready(naming.table_of(tp.topic), tp.partition):
                    self._deferred.append(TopicPartition(tp.topic, tp.partition))
                elif self._adopt(reader, tp):
                    self._to_pause.append(TopicPartition(tp.topic, tp.partition))

        def on_revoke(c: Consumer, partitions: list[TopicPartition]) -> None:
            gone = {(tp.topic, tp.partition) for tp in partitions}
            self._deferred = [tp for tp in self._deferred if (tp.topic, tp.partition) not in gone]
            fut = asyncio.run_coroutine_threadsafe(
                self._listener.relinquish(
                    [(naming.table_of(tp.topic), tp.partition) for tp in partitions]
                ),
                self._loop,
            )
            try:
                fut.result(timeout=30)
            except Exception:
                _log.exception("relinquish failed")
            finally:
                self._tail.drop([(tp.topic, tp.partition) for tp in partitions])
                self.holdings.revoked((tp.topic, tp.partition) for tp in partitions)

        member = Membership(
            consumer_config(
                self._settings,
                naming.TABLE_OWNERS_GROUP,
                **{
                    "client.id": self.client_id,
                    **owner_group_config(self._settings, naming.TABLE_OWNERS_GROUP),
                    "topic.metadata.refresh.interval.ms": 1000,
                },
            ),
            self.holdings,
            on_assign=on_assign,
            on_revoke=on_revoke,
            on_lost=on_revoke,
        )
        try:
            self._loop_forever(member, reader)
        except Exception:
            _log.exception("table owner consumer crashed")
        finally:
            member.leave()
            reader.close()
            self._log_ends.close()
            self._tail.close()

    def _adopt_deferred(self, reader: Consumer) -> None:
        waiting, self._deferred = self._deferred, []
        for tp in waiting:
            if not self._ready(naming.table_of(tp.topic), tp.partition):
                self._deferred.append(tp)
            elif self._adopt(reader, tp):
                self._to_pause.append(tp)

    def _loop_forever(self, member: Membership, reader: Consumer) -> None:
        while not self._stop.is_set():
            while True:
                try:
                    topics = self._subscribe.get_nowait()
                except stdlib_queue.Empty:
                    break
                member.follow(topics)  # with no table left, leaves the group
                self._forget_deleted(topics)
            consumer = member.consumer
            if consumer is None:
                time.sleep(0.05)
                continue
            # Polling keeps the membership alive; the records are this replica's own
            # writes (the partitions are paused once adopted), so they are dropped.
            msg = consumer.poll(0.1)
            self._tail.pump()
            if self._deferred:
                self._adopt_deferred(reader)
            err = msg.error() if msg is not None else None
            if err is not None and err.code() not in (
                KafkaError._PARTITION_EOF,
                KafkaError.UNKNOWN_TOPIC_OR_PART,
            ):
                _log.warning("table owner consumer", error=err.str())
            if self._to_pause:
                pause, self._to_pause = self._to_pause, []
                try:
                    consumer.pause(pause)
                except KafkaException as exc:
                    _log.debug("pause failed", error=str(exc))

    def _forget_deleted(self, topics: list[str]) -> None:
        """Remove the cache files of tables deleted while this replica ran."""
        gone, self._followed = self._followed - set(topics), set(topics)
        if self._cache_dir is not None:
            for topic in gone:
                self._cache_dir.forget(topic)

    def _cache_for(self, topic: str, partition: int) -> tuple[PartitionCache, TopicMarker] | None:
        if self._cache_dir is None:
            return None
        try:
            marker = topic_marker(self._tail.admin(), topic)
        except KafkaException as exc:
            _log.warning("restore without the cache: topic not described", error=str(exc))
            return None
        return self._cache_dir.open(topic, partition), marker

    def _read(
        self,
        reader: Consumer,
        tp: TopicPartition,
        cache: PartitionCache | None,
        marker: TopicMarker | None,
    ) -> PartitionRead | None:
        """The partition's items; None when its table went or the server stops first."""
        table = naming.table_of(tp.topic)
        # Serving a partition without all of its items would answer "not found" for
        # items that exist and let conditions pass that must fail: retry the restore
        # until it reads (the group keeps this member alive) or the server stops.
        delay = 0.2
        while True:
            try:
                return read_partition(
                    reader,
                    tp.topic,
                    tp.partition,
                    cache=cache,
                    marker=marker,
                    log_ends=self._log_ends,
                )
            except (KafkaException, TimeoutError) as exc:
                if _unknown_partition(exc):
                    # Added by a repartition since this consumer last fetched metadata.
                    with contextlib.suppress(KafkaException):
                        reader.list_topics(tp.topic, timeout=5)
                    time.sleep(0.05)
                    continue
                if self._stop.is_set() or not self._exists(table):
                    _log.info("partition of a deleted table not adopted", table=table)
                    if cache is not None:
                        cache.close()
                    return None
                _log.warning(
                    "cannot restore table partition yet; retrying",
                    table=table,
                    partition=tp.partition,
                    error=str(exc),
                )
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _adopt(self, reader: Consumer, tp: TopicPartition) -> bool:
        table = naming.table_of(tp.topic)
        started = time.monotonic()
        cached = self._cache_for(tp.topic, tp.partition)
        cache, marker = cached if cached is not None else (None, None)
        with gc_paused():
            read = self._read(reader, tp, cache, marker)
            if read is None:
                return False
            read_s = time.monotonic() - started
            fut = asyncio.run_coroutine_threadsafe(
                self._listener.adopt(Restored(table, tp.partition, read.items)), self._loop
            )
            fut.result(timeout=60)
        seconds = time.monotonic() - started
        metrics.RESTORE_SECONDS.labels(table, read.cache).observe(seconds)
        metrics.RESTORE_RECORDS.labels(table, "cache").inc(read.from_cache)
        metrics.RESTORE_RECORDS.labels(table, "changelog").inc(read.from_log)
        if cache is not None:
            self._tail.follow(tp.topic, tp.partition, cache, read.next_offset)
        _log.info(
            "table partition adopted",
            table=table,
            partition=tp.partition,
            items=len(read.items),
            cache=read.cache,
            from_cache=read.from_cache,
            from_changelog=read.from_log,
            read_seconds=round(read_s, 3),
            restore_seconds=round(seconds, 3),
        )
        return True


def _unknown_partition(exc: BaseException) -> bool:
    return isinstance(exc, KafkaException) and exc.args[0].code() == KafkaError._UNKNOWN_PARTITION


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a restore builds millions of objects that all
    live on: each collection the allocations trigger would walk them again (a quarter
    of a 1,000,000-item restore's time). Items hold no cycles; refcounting frees them."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@dataclass
class PartitionRead:
    """What a restore read: the items, where from, and the offset it ended at."""

    items: dict[str, Item]
    cache: str = "off"  # hit | miss | off (see metrics.RESTORE_SECONDS)
    from_cache: int = 0  # records taken from the cache file
    from_log: int = 0  # records read from the changelog in Kafka
    next_offset: int = 0  # where a tail reader carries on


def restore_partition(
    reader: Consumer, topic: str, partition: int, timeout: float = 120.0
) -> dict[str, Item]:
    """Every live item of one changelog partition, read (read_committed) to its end."""
    return read_partition(reader, topic, partition, timeout=timeout).items


def read_partition(
    reader: Consumer,
    topic: str,
    partition: int,
    *,
    cache: PartitionCache | None = None,
    marker: TopicMarker | None = None,
    timeout: float = 120.0,
    log_ends: Consumer | None = None,
) -> PartitionRead:
    """Every live item of one changelog partition, read (read_committed) to its end.

    The end is where read_committed readers stop when the restore starts: the last
    stable offset, below any transaction still open. A transaction a dead writer left
    open (a replica SIGKILLed mid-write) holds it there until the broker aborts it, and
    records committed after it by other writers (a repartition's moves into a new
    partition, a cross-replica transaction's coordinator) lie past it. With ``log_ends``
    (a read_uncommitted consumer: the log's own end) the restore first waits, up to
    ``OPEN_TRANSACTION_WAIT_S``, until no transaction open when it started holds the end
    back, so it reads everything committed by then.
    With a ``cache`` (of the topic ``marker`` names) the items it holds come from the
    file and only the changelog past its offset is read; the file is brought up to
    the end on the way (restore_cache.py says when it is not trusted).
    """
    if marker is None:
        cache = None
    # Taken before the watermarks: whatever lies past them was written after this.
    synced = now_ms()
    tp = TopicPartition(topic, partition)
    try:
        low, high = reader.get_watermark_offsets(tp, timeout=10, cached=False)
    except KafkaException as exc:
        if exc.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
            return PartitionRead({})
        raise
    if log_ends is not None:
        high = _past_open_transactions(reader, log_ends, tp, high)
    read = PartitionRead({}, next_offset=max(low, 0))
    start = max(low, 0)
    if cache is not None and marker is not None:
        read.cache = "miss"
        offset = cache.resume(marker, low, high, synced)
        if offset is not None:
            try:
                read.from_cache = _load_cached(cache, read.items)
                read.cache, start = "hit", offset
            except (sqlite3.Error, ValueError) as exc:
                cache.discard(exc)
                read.items, read.from_cache = {}, 0
                cache.resume(marker, low, high, synced)
    read.next_offset = start
    if high > start:
        read.next_offset = _read_log(reader, tp, start, high, read, cache, timeout)
    if cache is not None:
        cache.flush(read.next_offset, synced)
    return read


def _log_end(log_ends: Consumer, tp: TopicPartition) -> int:
    """The partition's log end (read_uncommitted), learning a partition a repartition
    added since this consumer last fetched metadata."""
    try:
        return int(log_ends.get_watermark_offsets(tp, timeout=10, cached=False)[1])
    except KafkaException as exc:
        if not _unknown_partition(exc):
            raise
        log_ends.list_topics(tp.topic, timeout=5)
        return int(log_ends.get_watermark_offsets(tp, timeout=10, cached=False)[1])


def _past_open_transactions(
    reader: Consumer, log_ends: Consumer, tp: TopicPartition, stable: int
) -> int:
    """The read_committed end once the transactions open below the log's end (when
    asked) are committed or aborted; ``stable`` as it was if they outlast the wait (a
    warning: what was committed past them is read on the next restore)."""
    try:
        end = _log_end(log_ends, tp)
    except KafkaException as exc:
        _log.warning("restore without the log's end", topic=tp.topic, error=str(exc))
        return stable
    if stable >= end:
        return stable
    _log.info(
        "restore waits for a transaction left open",
        topic=tp.topic,
        partition=tp.partition,
        stable=stable,
        end=end,
    )
    started = time.monotonic()
    deadline = started + OPEN_TRANSACTION_WAIT_S
    while time.monotonic() < deadline:
        time.sleep(0.1)
        _, now = reader.get_watermark_offsets(tp, timeout=10, cached=False)
        if now >= end:
            _log.info(
                "open transaction resolved",
                topic=tp.topic,
                partition=tp.partition,
                seconds=round(time.monotonic() - started, 3),
            )
            return int(now)
    _log.warning(
        "restore past an open transaction gave up waiting",
        topic=tp.topic,
        partition=tp.partition,
        stable=stable,
        end=end,
    )
    return stable


def _load_cached(cache: PartitionCache, items: dict[str, Item]) -> int:
    count = 0
    for key, value, schema in cache.rows():
        items[key.decode()] = decode_record(value, [(SCHEMA_HEADER, schema)])
        count += 1
    return count


def _read_log(
    reader: Consumer,
    tp: TopicPartition,
    start: int,
    high: int,
    read: PartitionRead,
    cache: PartitionCache | None,
    timeout: float,
) -> int:
    items = read.items
    reader.assign([TopicPartition(tp.topic, tp.partition, start)])
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"restoring {tp.topic}[{tp.partition}] took over {timeout:g}s")
            batch = take(reader, 1000, 0.2)
            for m in batch:
                if m.error():
                    continue
                read.from_log += 1
                raw_key = m.key() or b""
                key = raw_key.decode()
                value = m.value()
                headers = message_headers(m)
                if value is None:
                    items.pop(key, None)
                else:
                    items[key] = decode_record(value, headers)
                if cache is not None:
                    cache.stage(raw_key, value, schema_of(headers))
            pos = reader.position([tp])[0].offset
            if cache is not None and cache.pending >= CACHE_FLUSH_RECORDS and pos >= 0:
                # Bounded memory; not trusted (synced 0) until a flush reaches the end.
                cache.flush(pos, 0)
            if pos != OFFSET_INVALID and pos >= high:
                return int(pos)
    finally:
        reader.unassign()


def message_headers(m: Any) -> list[tuple[str, bytes | None]]:
    raw = m.headers() or []
    pairs = raw.items() if isinstance(raw, dict) else raw
    return [(k, v.encode() if isinstance(v, str) else v) for k, v in pairs]


def encode_item(item: Item, written_ms: int) -> tuple[bytes, list[tuple[str, bytes]]]:
    text = json.dumps(encode_json_item(item), separators=(",", ":"), ensure_ascii=False)
    return codec.encode(ITEM_SCHEMA, {"item": text, "written_ms": written_ms})


def decode_item(value: bytes, headers: list[tuple[str, bytes | None]]) -> Item:
    _, rec = codec.decode(value, headers)
    return decode_json_item(json.loads(rec["item"]))


def decode_record(value: bytes, headers: list[tuple[str, bytes | None]]) -> Item:
    """A changelog record: an item, or (another schema) a ClientRequestToken record as is."""
    if _item_fingerprint() in (v for k, v in headers if k == SCHEMA_HEADER):
        text = _item_text(value)
    else:
        schema, rec = codec.decode(value, headers)
        if schema != ITEM_SCHEMA:
            return dict(rec)
        text = rec["item"]
    # json.loads made every value's dict afresh: only binaries (base64 text) and the
    # values holding them need converting; the rest are kept as they are (a restore
    # decodes every record of the partition).
    item: Item = json.loads(text)
    for name, raw in item.items():
        for kind in raw:
            if kind in _CONVERTED:
                item[name] = decode_json_value(raw)
            break
    return item


@functools.cache
def _item_fingerprint() -> bytes:
    return codec.fingerprint_of(ITEM_SCHEMA)


def _item_text(value: bytes) -> str:
    """The ``item`` field of a TableItem record, read without the generic Avro reader (a
    third of a restore's decoding): the first field, an Avro string, is its byte length
    as a zig-zag varint, then its UTF-8 bytes."""
    n = shift = pos = 0
    while True:
        b = value[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        if b < 0x80:
            break
        shift += 7
    length = (n >> 1) ^ -(n & 1)
    if length < 0 or pos + length > len(value):
        raise codec.CodecError("a TableItem record whose item field is cut short")
    return value[pos : pos + length].decode()
