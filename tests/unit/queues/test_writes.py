"""OwnWrites: a receive waits until this replica's partitions hold what it just wrote."""

from __future__ import annotations

import asyncio
from typing import Any

from eventplane.queues.attributes import QueueConfig
from eventplane.queues.partitions import Pulse
from eventplane.queues.queue_def import QueueDef
from eventplane.queues.writes import OwnWrites

QD = QueueDef("q", QueueConfig(), incarnation=1, updated_ms=0, tags={})


class Written:
    def __init__(self, partition: int, offset: int) -> None:
        self._p, self._o = partition, offset

    def partition(self) -> int:
        return self._p

    def offset(self) -> int:
        return self._o


class State:
    def __init__(self) -> None:
        self.next_offset = 0


class Owned:
    def __init__(self) -> None:
        self.state = State()


class Partitions:
    """Stands in for LocalPartitions: partition 0 owned here, partition 1 elsewhere."""

    def __init__(self) -> None:
        self.owned: dict[tuple[str, int], Any] = {("q", 0): Owned()}
        self._pulse = Pulse()

    def pulse(self, queue: str) -> Pulse:
        return self._pulse

    def read(self, offset: int) -> None:
        self.owned[("q", 0)].state.next_offset = offset + 1
        self._pulse.fire()


def test_a_receive_waits_for_the_owner_to_read_this_replicas_write() -> None:
    async def run() -> list[str]:
        parts = Partitions()
        writes = OwnWrites(parts)  # type: ignore[arg-type]
        events: list[str] = []
        writes.wrote(QD, [Written(0, 5), Written(1, 9)])  # partition 1: another owner's

        async def receive() -> None:
            await writes.caught_up(QD, timeout=5)
            events.append("receive")

        task = asyncio.create_task(receive())
        await asyncio.sleep(0.02)
        parts.read(4)  # not yet the written record
        await asyncio.sleep(0.02)
        events.append("read 5")
        parts.read(5)
        await task
        return events

    assert asyncio.run(run()) == ["read 5", "receive"]


def test_the_wait_is_bounded_and_a_new_incarnation_starts_over() -> None:
    async def run() -> tuple[bool, bool]:
        parts = Partitions()
        writes = OwnWrites(parts)  # type: ignore[arg-type]
        writes.wrote(QD, [Written(0, 5)])
        again = QueueDef("q", QueueConfig(), incarnation=2, updated_ms=0, tags={})
        fresh = await _returns_within(writes.caught_up(again, timeout=5), 0.5)
        bounded = await _returns_within(writes.caught_up(QD, timeout=0.1), 1.0)
        return fresh, bounded

    assert asyncio.run(run()) == (True, True)


async def _returns_within(call: Any, seconds: float) -> bool:
    try:
        await asyncio.wait_for(call, seconds)
    except TimeoutError:
        return False
    return True
