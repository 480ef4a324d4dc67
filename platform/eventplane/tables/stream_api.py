"""The DynamoDB Streams actions over a table's ``.stream`` topic.

Any replica serves them: stream reads need no owner, only Kafka.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from eventplane import arn as arns
from eventplane.errors import ResourceNotFound, ValidationException
from eventplane.kafka import naming
from eventplane.security.accounts import listing_account
from eventplane.tables import metrics, references
from eventplane.tables.errors import TrimmedDataAccessException
from eventplane.tables.model import TableDef, page_limit, parse_stream_arn, stream_arn
from eventplane.tables.repartition import ShardSpan, shard_span, shards
from eventplane.tables.streams import (
    ITERATOR_TYPES,
    MAX_RECORDS,
    Iterator,
    IteratorSigner,
    StreamReaders,
    offset_of,
    sequence_number,
    to_record,
)


@dataclass(frozen=True)
class StreamSummary:
    stream_arn: str
    table_name: str
    stream_label: str


@dataclass(frozen=True)
class ShardInfo:
    shard_id: str
    starting_sequence_number: str
    # "" while the shard is open; set once a repartition closed it or its stream is off
    ending_sequence_number: str
    parent_shard_id: str = ""  # the shard its keys came from (a repartition's child)


@dataclass(frozen=True)
class StreamDescription:
    table: TableDef
    stream_arn: str
    stream_label: str
    status: str
    view_type: str
    shards: list[ShardInfo]
    last_evaluated_shard_id: str | None


@dataclass(frozen=True)
class RecordsPage:
    records: list[dict[str, Any]]
    next_shard_iterator: str


class StreamsApi:
    def __init__(
        self,
        tables: Any,  # () -> list[TableDef]
        lookup: Any,  # (name) -> TableDef | None
        readers: StreamReaders,
        signer: IteratorSigner,
        clock: Any,
    ) -> None:
        self._tables = tables
        self._lookup = lookup
        self._readers = readers
        self._signer = signer
        self._clock = clock

    def list_streams(
        self, table_name: str, limit: int, exclusive_start: str
    ) -> tuple[list[StreamSummary], str | None]:
        limit = page_limit(limit, 100)
        account = listing_account()  # the caller's account's tables' streams
        found = [
            StreamSummary(stream_arn(t.plain_name, label, t.account), t.plain_name, label)
            for t in self._tables()
            if (not table_name or t.plain_name == table_name) and account in (None, t.account)
            for label in dict.fromkeys(
                [p.label for p in t.past_streams] + ([t.stream_label] if t.stream_label else [])
            )
        ]
        found.sort(key=lambda s: s.stream_arn)
        if exclusive_start:
            found = [s for s in found if s.stream_arn > exclusive_start]
        page = found[:limit]
        return page, (page[-1].stream_arn if len(found) > limit else None)

    def _owner(self, name: str) -> str | None:
        table = self._lookup(name)
        return table.account if table is not None else None

    def _table_of(self, arn: str) -> tuple[TableDef, str, str, bool]:
        """(table, label, view type, enabled) of a stream ARN: the table's latest stream
        or one switched off within its retention."""
        _, label = parse_stream_arn(arn)
        # The ARN's account's table (names are per account: ``references.py``).
        named = references.of_arn(self._owner, arn, arns.Kind.STREAM)
        table = self._lookup(named[0]) if named is not None else None
        found = table.stream_of(label) if table is not None else None
        if table is None or found is None:
            raise ResourceNotFound(f"Requested resource not found: Stream: {arn} not found")
        return table, label, found[0], found[1]

    async def describe_stream(
        self, arn: str, limit: int, exclusive_start_shard_id: str
    ) -> StreamDescription:
        limit = page_limit(limit, 100)
        table, label, view, enabled = self._table_of(arn)
        topic = naming.table_stream_topic(table.name)
        found = []
        for span in shards(table):
            low, high = await asyncio.to_thread(self._readers.watermarks, topic, span.partition)
            start = max(span.start, low)
            if span.end is not None:  # closed by a repartition: its children carry on
                ending = sequence_number(max(span.end - 1, start))
            elif not enabled and high > start:
                # A stream switched off gets no more records: its shards are closed, as
                # DynamoDB closes them, and end at or after their last record.
                ending = sequence_number(high - 1)
            else:
                ending = ""
            found.append(ShardInfo(span.shard_id, sequence_number(start), ending, span.parent))
        if exclusive_start_shard_id:
            ids = [sh.shard_id for sh in found]
            if exclusive_start_shard_id not in ids:
                raise ResourceNotFound(
                    "Requested resource not found: Shard: "
                    f"{exclusive_start_shard_id} does not exist"
                )
            found = found[ids.index(exclusive_start_shard_id) + 1 :]
        shards_ = found
        page = shards_[:limit]
        return StreamDescription(
            table,
            stream_arn(table.plain_name, label, table.account),
            label,
            "ENABLED" if enabled else "DISABLED",
            view,
            page,
            page[-1].shard_id if len(shards_) > limit else None,
        )

    async def get_shard_iterator(
        self, arn: str, shard: str, iterator_type: str, sequence: str
    ) -> str:
        table, label, _, _ = self._table_of(arn)
        span = shard_span(table, shard)
        partition = span.partition
        if iterator_type not in ITERATOR_TYPES:
            raise ValidationException(
                f"1 validation error detected: Value '{iterator_type}' at 'shardIteratorType' "
                "failed to satisfy constraint: Member must satisfy enum value set: ["
                + ", ".join(ITERATOR_TYPES)
                + "]"
            )
        topic = naming.table_stream_topic(table.name)
        low, high = await asyncio.to_thread(self._readers.watermarks, topic, partition)
        # A shard is a span of its stream partition (``repartition.py``).
        low = max(low, span.start)
        if span.end is not None:
            high = min(high, span.end)
        if iterator_type == "TRIM_HORIZON":
            offset = low
        elif iterator_type == "LATEST":
            offset = high
        else:
            if not sequence:
                raise ValidationException(
                    "The SequenceNumber parameter is required for shard iterator type "
                    f"{iterator_type}"
                )
            at = offset_of(sequence)
            if at < low:
                raise TrimmedDataAccessException(
                    f"Sequence number {sequence} is below the trim horizon of shard {shard}"
                )
            # A shard's StartingSequenceNumber (DescribeStream) stays valid while the shard
            # is still empty: its first record will carry it.
            if at >= high and at != low:
                raise ValidationException(
                    f"Invalid SequenceNumber {sequence} for shard {shard}: beyond the last "
                    "record of the shard"
                )
            offset = at if iterator_type == "AT_SEQUENCE_NUMBER" else at + 1
        return self._signer.sign(
            Iterator(table.name, label, partition, offset, self._clock(), span.shard_id)
        )

    async def get_records(self, token: str, limit: int) -> RecordsPage:
        it = self._signer.open(token, self._clock())
        limit = page_limit(limit, MAX_RECORDS)
        table = self._lookup(it.table)
        if table is None or table.stream_of(it.label) is None:
            raise ResourceNotFound(
                f"Requested resource not found: Stream of table {it.table} not found"
            )
        topic = naming.table_stream_topic(table.name)
        span = _span_of(table, it)
        low, _ = await asyncio.to_thread(self._readers.watermarks, topic, it.partition)
        if it.offset < low:
            raise TrimmedDataAccessException(
                "The operation attempted to read past the oldest stream record in a shard."
            )
        found, next_offset = await asyncio.to_thread(
            self._readers.read,
            topic,
            it.partition,
            it.offset,
            limit,
            lambda rec: rec["stream_label"] == it.label,
            stop=span.end,
        )
        records = [to_record(rec, offset) for offset, rec in found]
        metrics.STREAM_RECORDS_READ.labels(table.name).inc(len(records))
        found_stream = table.stream_of(it.label)
        end = self._readers.ends.get((topic, it.partition))
        closed = found_stream is not None and not found_stream[1]
        if span.end is not None:
            closed, end = True, span.end  # a parent shard: its children have the rest
        if closed and end is not None and next_offset >= end:
            # A closed shard read to its end: no NextShardIterator, as on DynamoDB.
            return RecordsPage(records, "")
        following = Iterator(
            it.table, it.label, it.partition, next_offset, self._clock(), span.shard_id
        )
        return RecordsPage(records, self._signer.sign(following))


def _span_of(table: TableDef, it: Iterator) -> ShardSpan:
    """The shard an iterator reads. An iterator issued before shards had spans (no shard
    id) reads the partition's shard of the table's first layout, or its open one."""
    if it.shard:
        return shard_span(table, it.shard)
    spans = [s for s in shards(table) if s.partition == it.partition]
    return next(
        (s for s in spans if s.start <= it.offset and (s.end is None or it.offset < s.end)),
        spans[-1],
    )
