"""StreamWatch with a stand-in consumer: a reader waiting on a shard another replica
writes is woken by the first record Kafka shows at or after its position, not by its
next poll; the watch then ends, and a watch no reader renews is forgotten."""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import Callable
from typing import Any

from eventplane.config import Settings
from eventplane.tables import stream_watch as sw
from eventplane.tables.stream_signals import ShardSignals
from eventplane.tables.stream_watch import StreamWatch

from .support import Message

SHARD = ("eventplane.tbl.things.stream", 2)


class FakeConsumer:
    """Records the assignments; ``poll`` hands out what the test commits, from an
    assigned partition at or after its assigned offset, as a consumer would."""

    def __init__(self) -> None:
        self.log: list[tuple[str, tuple[str, int], int | None]] = []
        self.assigned: dict[tuple[str, int], int] = {}
        self.committed: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self.closed = False

    def incremental_assign(self, tps: list[Any]) -> None:
        for tp in tps:
            self.assigned[(tp.topic, tp.partition)] = tp.offset
            self.log.append(("assign", (tp.topic, tp.partition), tp.offset))

    def incremental_unassign(self, tps: list[Any]) -> None:
        for tp in tps:
            self.assigned.pop((tp.topic, tp.partition), None)
            self.log.append(("unassign", (tp.topic, tp.partition), None))

    def poll(self, timeout: float) -> Message | None:
        try:
            m = self.committed.get(timeout=timeout)
        except queue.Empty:
            return None
        start = self.assigned.get((m.topic(), m.partition()))
        return m if start is not None and m.offset() >= start else None

    def close(self) -> None:
        self.closed = True


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.01)


def _watch() -> tuple[StreamWatch, ShardSignals, FakeConsumer]:
    signals = ShardSignals()
    consumer = FakeConsumer()
    return StreamWatch(Settings(), signals, lambda: consumer), signals, consumer


def test_a_record_another_replica_committed_wakes_the_waiting_reader() -> None:
    async def main() -> None:
        watch, signals, consumer = _watch()
        try:
            since = signals.generation(SHARD)
            waiting = asyncio.create_task(signals.wait(SHARD, since, 3600))
            watch.watch(SHARD, 7)
            await until(lambda: SHARD in consumer.assigned)
            assert consumer.assigned[SHARD] == 7  # from the reader's position
            consumer.committed.put(Message(*SHARD, 7))
            assert await waiting is True  # long before the hour is up
            await until(lambda: SHARD not in consumer.assigned)  # the watch ended with it
            assert watch.watching() == set()
        finally:
            watch.close()
        assert consumer.closed

    asyncio.run(main())


def test_records_below_the_position_or_on_other_shards_wake_no_one() -> None:
    async def main() -> None:
        watch, signals, consumer = _watch()
        try:
            watch.watch(SHARD, 7)
            await until(lambda: SHARD in consumer.assigned)
            watch.seen(SHARD, 6)
            watch.seen((SHARD[0], 3), 9)
            assert signals.generation(SHARD) == 0 and watch.watching() == {SHARD}
            watch.seen(SHARD, 8)
            assert signals.generation(SHARD) == 1 and watch.watching() == set()
        finally:
            watch.close()

    asyncio.run(main())


def test_two_readers_of_a_shard_are_watched_from_the_lower_position() -> None:
    async def main() -> None:
        watch, _, consumer = _watch()
        try:
            watch.watch(SHARD, 9)
            watch.watch(SHARD, 4)
            watch.watch(SHARD, 12)
            await until(lambda: consumer.assigned.get(SHARD) == 4)
            assert [e for e in consumer.log if e[0] == "assign"][-1] == ("assign", SHARD, 4)
        finally:
            watch.close()

    asyncio.run(main())


def test_a_watch_no_reader_renews_is_forgotten() -> None:
    async def main() -> None:
        watch, _, consumer = _watch()
        other = (SHARD[0], 0)
        try:
            watch.watch(SHARD, 1)
            await until(lambda: SHARD in consumer.assigned)
            offset, _ = watch._wanted[SHARD]
            watch._wanted[SHARD] = (offset, time.monotonic() - sw.FORGET_S - 1)
            watch.watch(other, 5)  # any reader's wait sweeps what went stale
            await until(lambda: SHARD not in consumer.assigned and other in consumer.assigned)
            assert watch.watching() == {other}
        finally:
            watch.close()

    asyncio.run(main())
