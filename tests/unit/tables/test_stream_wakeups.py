"""A stream reader woken by a commit in this process reads that commit's records, even
while Kafka has not yet written the transaction's markers (the last stable offset still
stops before them): the writer learns the records' offsets from its delivery reports,
the engine leaves them with the shard's wake-up, and the read waits for them instead of
answering empty and sleeping until the next commit or poll."""

from __future__ import annotations

import asyncio
from typing import Any

from confluent_kafka import OFFSET_INVALID

from eventplane.config import Settings
from eventplane.kafka import naming
from eventplane.kafka.lanes import TransactionLanes
from eventplane.tables import items as it
from eventplane.tables.repartition import shard_id
from eventplane.tables.stream_signals import ShardSignals
from eventplane.tables.stream_source import TableStreamSource
from eventplane.tables.streams import StreamReaders, encode_change
from eventplane.tables.writer import Change, Ends, Writer, _Pending

from .support import Message, things_table

TABLE = things_table()
STREAM = naming.table_stream_topic("things")


def _record(offset: int) -> Message:
    keys = {"pk": {"S": f"k{offset}"}}
    where = it.locate(TABLE, keys)
    value, headers = encode_change(
        Change(TABLE, where.partition, where.key, keys, None, keys), 1_700_000_000_500, "e"
    )
    return Message(STREAM, 0, offset, value, list(headers))


class LaggingConsumer:
    """A read_committed consumer just after a commit: the last stable offset is still
    ``stable``; the committed record at ``stable`` arrives with the second fetch (once the
    markers are written), the commit marker after it moves the position past both."""

    def __init__(self, stable: int) -> None:
        self.stable = stable
        self.fetches = 0
        self.assigned: int | None = None
        self._pending: list[Message] = []

    def get_watermark_offsets(self, tp: Any, timeout: float, cached: bool) -> tuple[int, int]:
        return 0, self.stable

    def assign(self, tps: list[Any]) -> None:
        self.assigned = tps[0].offset

    def unassign(self) -> None:
        self.assigned = None

    def poll(self, timeout: float) -> Message | None:
        self.fetches += 1
        if self.fetches == 2:
            self.assigned = self.stable + 2  # the record and its commit marker
            return _record(self.stable)
        return None

    def consume(self, limit: int, timeout: float) -> list[Message]:
        return []

    def position(self, tps: list[Any]) -> list[Any]:
        class At:
            offset = self.assigned if self.assigned is not None else OFFSET_INVALID

        return [At()]


def _readers(consumer: LaggingConsumer) -> StreamReaders:
    readers = StreamReaders(Settings())
    readers._pool.put(consumer)  # type: ignore[arg-type]
    return readers


def test_a_read_up_to_a_commit_it_was_woken_for_waits_for_the_records_to_be_visible() -> None:
    consumer = LaggingConsumer(stable=5)
    found, following = _readers(consumer).read(STREAM, 0, 5, 100, lambda rec: True, until=6)
    assert [offset for offset, _ in found] == [5]
    assert following == 7  # past the commit marker


def test_a_read_with_no_commit_to_wait_for_answers_at_the_last_stable_offset() -> None:
    consumer = LaggingConsumer(stable=5)
    found, following = _readers(consumer).read(STREAM, 0, 5, 100, lambda rec: True)
    assert (found, following, consumer.fetches) == ([], 5, 0)


def test_the_shard_signal_keeps_the_latest_commits_end_for_the_topics_life() -> None:
    signals = ShardSignals()
    shard = (STREAM, 0)
    assert signals.committed_end(shard, 1) is None
    signals.notify(shard, 6, 1)
    signals.notify(shard, 9, 1)
    assert signals.committed_end(shard, 1) == 9
    signals.notify(shard)  # a commit whose offsets this process does not know
    assert signals.committed_end(shard, 1) == 9 and signals.generation(shard) == 3
    # The table deleted and created again: its new topic's offsets start over.
    assert signals.committed_end(shard, 2) is None
    signals.notify(shard, 1, 2)
    assert signals.committed_end(shard, 2) == 1


class DeliveringProducer:
    """Serves the delivery reports of a transaction's records when it commits, as
    librdkafka's commit (a flush) does."""

    def __init__(self) -> None:
        self.offsets: dict[tuple[str, int], int] = {}
        self.reports: list[tuple[Any, Message]] = []

    def begin_transaction(self) -> None:
        return None

    def produce(self, topic: str, value: Any, *, partition: int, **kwargs: Any) -> None:
        offset = self.offsets.get((topic, partition), 10)
        self.offsets[(topic, partition)] = offset + 1
        self.reports.append((kwargs["on_delivery"], Message(topic, partition, offset)))

    def commit_transaction(self, timeout: float) -> None:
        for callback, message in self.reports:
            callback(None, message)
        self.reports.clear()


def test_the_writer_hands_the_committed_records_ends_to_apply() -> None:
    applied: list[Ends] = []

    async def go() -> int:
        writer = Writer(
            Settings(),
            lambda table, partition, key: None,
            lambda changes, ends: applied.append(dict(ends)),
            lambda: 1_700_000_000_000,
        )
        writer._lanes = TransactionLanes(lambda _: DeliveringProducer(), "t")  # type: ignore[arg-type]
        where, step = it.put_step(TABLE, it.PutItemInput("things", {"pk": {"S": "a"}}))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await writer._write_group([_Pending(step, future)])
        future.result()
        return where.partition

    partition = asyncio.run(go())
    # One changelog image and one stream record, each the first at offset 10.
    assert applied == [{(naming.table_topic("things"), partition): 11, (STREAM, partition): 11}]


class FakeEngine:
    """What TableStreamSource.wait uses of the engine."""

    def __init__(self, owned: bool) -> None:
        self.stream_signals = ShardSignals()
        self.stores: dict[tuple[str, int], object] = {("things", 2): object()} if owned else {}
        self.watched: list[tuple[tuple[str, int], int]] = []
        self.stream_watch = self

    def watch(self, shard: tuple[str, int], position: int) -> None:
        self.watched.append((shard, position))

    def lookup(self, name: str) -> Any:
        return TABLE if name == "things" else None

    def table_owner(self, name: str) -> str | None:
        return TABLE.account if name == "things" else None


def _wait(engine: FakeEngine, position: int) -> bool:
    source = TableStreamSource(engine)  # type: ignore[arg-type]
    shard = shard_id(TABLE.created_ms, 2)
    since = engine.stream_signals.generation((STREAM, 2))
    try:
        return asyncio.run(
            asyncio.wait_for(source.wait(TABLE.stream_arn, shard, since, 0.0, position), 30)
        )
    finally:
        source.close()


def test_a_reader_behind_a_commit_made_here_reads_again_instead_of_waiting() -> None:
    """The read gave up before Kafka showed the commit's records: no poll is waited out."""
    engine = FakeEngine(owned=True)
    engine.stream_signals.notify((STREAM, 2), 8, TABLE.created_ms)
    assert _wait(engine, 6) is True
    assert _wait(engine, 8) is False  # read up to it: nothing more to wait for


def test_only_a_shard_another_replica_writes_is_watched() -> None:
    mine, theirs = FakeEngine(owned=True), FakeEngine(owned=False)
    assert _wait(mine, 4) is False and mine.watched == []
    assert _wait(theirs, 4) is False and theirs.watched == [((STREAM, 2), 4)]
