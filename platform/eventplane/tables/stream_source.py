"""The tables side of :mod:`eventplane.messaging.stream_sources`: stream event source
mappings (in functions) read table streams through this adapter, never through the
tables internals. A shard is a partition of the ``.stream`` topic and a position its
Kafka offset, as in :mod:`.streams`.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from confluent_kafka import Consumer, TopicPartition

from eventplane import arn as arns
from eventplane.errors import ResourceNotFound, ValidationException
from eventplane.kafka import naming
from eventplane.kafka.clients import consumer_config
from eventplane.messaging.stream_sources import StreamBatch, StreamRecord
from eventplane.tables import references
from eventplane.tables.model import TableDef, parse_stream_arn
from eventplane.tables.repartition import ShardSpan, shard_span, shards
from eventplane.tables.streams import to_record

if TYPE_CHECKING:
    from eventplane.tables.engine import TableEngine

T = TypeVar("T")
# Blocking Kafka reads of every mapping's shards run here, never on the loop's default
# executor: however many shards are polled, the server's other blocking calls still run.
READ_THREADS = 4


class TableStreamSource:
    """Implements ``StreamSource`` over the engine's stream readers."""

    def __init__(self, engine: TableEngine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._times: Consumer | None = None
        self._pool = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="stream-source")

    async def _blocking(self, call: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, call, *args)

    def _stream(self, arn: str) -> tuple[TableDef, str]:
        try:
            _, label = parse_stream_arn(arn)
        except ValidationException:
            raise ResourceNotFound(f"Stream not found: {arn}") from None
        # The ARN's account's table (names are per account: ``references.py``).
        named = references.of_arn(self._engine.table_owner, arn, arns.Kind.STREAM)
        table = self._engine.lookup(named[0]) if named is not None else None
        if table is None or table.stream_of(label) is None:
            raise ResourceNotFound(f"Requested resource not found: Stream: {arn} not found")
        return table, label

    def shards(self, stream_arn: str) -> list[str]:
        table, _ = self._stream(stream_arn)
        return [s.shard_id for s in shards(table)]

    def lineage(self, stream_arn: str, shard: str) -> tuple[str, int | None]:
        span = self._span(stream_arn, shard)
        return span.parent, span.end

    def _span(self, stream_arn: str, shard: str) -> ShardSpan:
        table, _ = self._stream(stream_arn)
        return shard_span(table, shard)

    def _where(self, stream_arn: str, shard: str) -> tuple[str, int, str]:
        table, label = self._stream(stream_arn)
        return (naming.table_stream_topic(table.name), shard_span(table, shard).partition, label)

    async def bounds(self, stream_arn: str, shard: str) -> tuple[int, int]:
        topic, partition, _ = self._where(stream_arn, shard)
        low, high = await self._blocking(self._engine.readers.watermarks, topic, partition)
        span = self._span(stream_arn, shard)
        return _clamp(span, low), _clamp(span, high)

    async def position_at(self, stream_arn: str, shard: str, timestamp_ms: int) -> int:
        topic, partition, _ = self._where(stream_arn, shard)
        found = await self._blocking(self._offset_at, topic, partition, timestamp_ms)
        return _clamp(self._span(stream_arn, shard), found)

    def _offset_at(self, topic: str, partition: int, timestamp_ms: int) -> int:
        # The end first: a change committed while the time is looked up lands at or after
        # it, so it is never skipped when no change at or after the time is found yet.
        end = self._engine.readers.watermarks(topic, partition)[1]
        with self._lock:
            if self._times is None:
                group = f"{naming.PREFIX}.stream-times.{uuid.uuid4().hex}"
                self._times = Consumer(consumer_config(self._engine.ctx.settings, group))
            found = self._times.offsets_for_times(
                [TopicPartition(topic, partition, timestamp_ms)], timeout=10
            )
        offset = found[0].offset
        return end if offset < 0 else int(offset)  # < 0: none yet, the next one to come

    def generation(self, stream_arn: str, shard: str) -> int:
        topic, partition, _ = self._where(stream_arn, shard)
        return self._engine.stream_signals.generation((topic, partition))

    async def wait(
        self,
        stream_arn: str,
        shard: str,
        since: int,
        timeout: float,
        position: int | None = None,
    ) -> bool:
        table, _ = self._stream(stream_arn)
        span = shard_span(table, shard)
        if span.end is not None and position is not None and position >= span.end:
            await asyncio.sleep(timeout)  # a closed shard read to its end gets nothing more
            return False
        where = (naming.table_stream_topic(table.name), span.partition)
        if position is not None:
            committed = self._engine.stream_signals.committed_end(where, table.created_ms)
            if committed is not None and committed > position:
                # Committed here, and Kafka did not show them to the read in time (a busy
                # broker writes the markers late): read again, not after the poll.
                return True
            # The owner of the partition commits every change to it, so when that is
            # this replica the signal says it all; else another's commits are watched for.
            if (table.name, where[1]) not in self._engine.stores:
                self._engine.stream_watch.watch(where, position)
        return await self._engine.stream_signals.wait(where, since, timeout)

    async def read(self, stream_arn: str, shard: str, position: int, limit: int) -> StreamBatch:
        table, label = self._stream(stream_arn)
        topic = naming.table_stream_topic(table.name)
        span = shard_span(table, shard)
        partition = span.partition
        position = _clamp(span, position)
        # A commit this process made to the shard, woken for: its records are read even
        # if Kafka has not yet written the transaction's markers (stream_signals).
        until = self._engine.stream_signals.committed_end((topic, partition), table.created_ms)
        # Below the trim horizon the reader's consumer resets to the earliest record kept
        # (auto.offset.reset), so no watermark request is spent here on every poll.
        found, next_offset = await self._blocking(
            self._engine.readers.read,
            topic,
            partition,
            position,
            limit,
            lambda rec: rec["stream_label"] == label,
            until,
            span.end,
        )
        read_at = time.time()
        records = [
            StreamRecord(
                offset, to_record(rec, offset), rec["keys"], int(rec["created_ms"]), read_at
            )
            for offset, rec in found
        ]
        following = max(next_offset, position)
        end = self._engine.readers.ends.get((topic, partition))
        if end is not None:
            self._engine.stream_lag.read(table.name, shard, position, following, end)
        return StreamBatch(records, following)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            if self._times is not None:
                self._times.close()
                self._times = None


def _clamp(span: ShardSpan, position: int) -> int:
    """A position of the shard's stream partition, kept within the shard's span."""
    position = max(position, span.start)
    return min(position, span.end) if span.end is not None else position
