"""The Kafka side of the restore cache: which topic a file belongs to, and the tail reader.

The tail reader keeps each owned partition's cache file current from the changelog
(read_committed, from where its restore ended), not from the owner's store: a
cross-replica transaction coordinator also writes to these partitions. It runs on the
table owner's thread between polls of the group member, so a file is only ever touched
by that one thread, and a revoked partition's staged records are flushed before the
next restore of it can read the file.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicCollection, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

from eventplane.config import Settings
from eventplane.kafka import naming
from eventplane.kafka.clients import client_config, consumer_config, take
from eventplane.kafka.codec import SCHEMA_HEADER
from eventplane.observability.logging import get_logger
from eventplane.tables import metrics
from eventplane.tables.restore_cache import (
    DEFAULT_DELETE_RETENTION_MS,
    PartitionCache,
    TopicMarker,
    now_ms,
)

_log = get_logger("eventplane.tables.cache_tail")

FLUSH_RECORDS = 5_000  # staged records of one partition that make a flush
FLUSH_SECONDS = 1.0  # and the longest a staged record waits for one
TAKE = 5_000


def topic_marker(admin: AdminClient, topic: str, timeout: float = 10.0) -> TopicMarker:
    """The topic's id and delete.retention.ms (raises KafkaException when unknown)."""
    described = admin.describe_topics(TopicCollection([topic]), request_timeout=timeout)
    topic_id = str(described[topic].result().topic_id)
    retention = DEFAULT_DELETE_RETENTION_MS
    resource = ConfigResource(ResourceType.TOPIC, topic)
    configs = admin.describe_configs([resource], request_timeout=timeout)[resource].result()
    entry = configs.get("delete.retention.ms")
    if entry is not None and entry.value is not None:
        retention = int(entry.value)
    return TopicMarker(topic_id, retention)


def schema_of(headers: Any) -> bytes | None:
    """The codec's schema header of a record (all the cache keeps of its headers)."""
    pairs = headers.items() if isinstance(headers, dict) else (headers or [])
    for k, v in pairs:
        if k == SCHEMA_HEADER:
            return v.encode() if isinstance(v, str) else v
    return None


class CacheTail:
    """Appends what the owned partitions' changelogs receive to their cache files."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._consumer: Consumer | None = None
        self._admin: AdminClient | None = None
        self._files: dict[tuple[str, int], PartitionCache] = {}
        self._caught_up_ms = now_ms()

    def admin(self) -> AdminClient:
        if self._admin is None:
            self._admin = AdminClient(client_config(self._settings))
        return self._admin

    def _reader(self) -> Consumer:
        if self._consumer is None:
            self._consumer = Consumer(
                consumer_config(
                    self._settings,
                    f"{naming.PREFIX}.table-cache.{uuid.uuid4().hex}",
                    # Nothing waits on the tail: fewer fetches, a small fetch buffer.
                    **{"fetch.wait.max.ms": 500, "queued.max.messages.kbytes": 8192},
                )
            )
        return self._consumer

    def follow(self, topic: str, partition: int, cache: PartitionCache, offset: int) -> None:
        """Keep ``cache`` current from ``offset`` on (where its restore ended)."""
        self._files[(topic, partition)] = cache
        try:
            self._reader().incremental_assign([TopicPartition(topic, partition, offset)])
        except KafkaException as exc:
            _log.warning("cannot follow a table partition for its cache", error=str(exc))
            self._files.pop((topic, partition), None)
            cache.close()

    def drop(self, parts: list[tuple[str, int]]) -> None:
        """Flush and stop following (the partitions were revoked)."""
        mine = [p for p in parts if p in self._files]
        if not mine or self._consumer is None:
            return
        started = time.thread_time()
        self._pump(drain=True)
        positions = self._positions(mine)
        for key in mine:
            cache = self._files.pop(key)
            self._flush(key, cache, positions.get(key))
            cache.close()
        try:
            self._consumer.incremental_unassign([TopicPartition(t, p) for t, p in mine])
        except KafkaException as exc:
            _log.debug("unassign failed", error=str(exc))
        metrics.CACHE_CPU.inc(time.thread_time() - started)

    def pump(self) -> None:
        """Take what has arrived; flush the partitions with enough staged or waiting long."""
        if not self._files or self._consumer is None:
            return
        started = time.thread_time()
        self._pump(drain=False)
        due = [
            key
            for key, cache in self._files.items()
            if cache.pending >= FLUSH_RECORDS
            or time.monotonic() - cache.flushed_at >= FLUSH_SECONDS
        ]
        if due:
            positions = self._positions(due)
            for key in due:
                self._flush(key, self._files[key], positions.get(key))
        metrics.CACHE_CPU.inc(time.thread_time() - started)

    def _pump(self, *, drain: bool) -> None:
        """Stage one batch of what has arrived (``drain``: everything fetched so far)."""
        assert self._consumer is not None
        while True:
            before = now_ms()
            batch = take(self._consumer, TAKE, 0)
            for m in batch:
                if m.error():
                    continue
                cache = self._files.get((m.topic() or "", m.partition() or 0))
                if cache is not None:
                    cache.stage(m.key() or b"", m.value(), schema_of(m.headers()))
            if len(batch) < TAKE:
                # Drained: at ``before`` nothing committed lay past what is staged now,
                # so whatever follows was written later (the retention check's clock).
                self._caught_up_ms = before
                return
            if not drain:
                return

    def _positions(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        assert self._consumer is not None
        try:
            got = self._consumer.position([TopicPartition(t, p) for t, p in keys])
        except KafkaException:
            return {}
        return {(tp.topic, tp.partition): tp.offset for tp in got if tp.offset >= 0}

    def _flush(self, key: tuple[str, int], cache: PartitionCache, offset: int | None) -> None:
        if offset is None:  # nothing read yet: the file is as its restore left it
            cache.flushed_at = time.monotonic()
            return
        staged = cache.pending
        if cache.flush(offset, self._caught_up_ms):
            metrics.CACHE_RECORDS_WRITTEN.labels(naming.table_of(key[0])).inc(staged)

    def close(self) -> None:
        self.drop(list(self._files))
        for cache in self._files.values():
            cache.close()
        self._files.clear()
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
