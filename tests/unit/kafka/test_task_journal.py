"""The due-time task consumer's journal of finished tasks (commit metadata)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from confluent_kafka import TopicPartition

from eventplane.config import Settings
from eventplane.kafka import tasks
from eventplane.kafka.tasks import TaskConsumer, TaskTopic, decode_finished, encode_finished


class _Consumer:
    def __init__(self) -> None:
        self.commits: list[list[TopicPartition]] = []

    def commit(self, *, offsets: list[TopicPartition], asynchronous: bool) -> None:
        self.commits.append(offsets)


def _consumer() -> TaskConsumer[Any]:
    async def run(task: Any) -> None:
        return None

    tasks: TaskTopic[Any] = TaskTopic("t", "g", "n", decode=lambda v, h: v, due_ms=lambda t: 0)
    return TaskConsumer(Settings(), tasks, instance_id="i", run=run)


@pytest.mark.parametrize(
    ("base", "runs"),
    [
        (0, []),
        (0, [(0, 0)]),
        (17, [(18, 18), (20, 25), (1000, 5000)]),
        (123_456_789, [(123_456_790, 123_456_799), (223_456_790, 223_456_790)]),
    ],
)
def test_finished_runs_survive_the_round_trip(base: int, runs: list[tuple[int, int]]) -> None:
    assert decode_finished(base, encode_finished(base, runs)) == runs


def test_runs_beyond_the_metadata_limit_are_left_out_not_mangled() -> None:
    runs = [(10 * i, 10 * i + 3) for i in range(1, 5000)]
    metadata = encode_finished(0, runs)
    assert len(metadata) <= tasks.MAX_METADATA
    decoded = decode_finished(0, metadata)
    assert 100 < len(decoded) < len(runs)
    assert decoded == runs[: len(decoded)]


@pytest.mark.parametrize("metadata", [None, "", "something else", "t1,zz", "t1,1+x+2"])
def test_metadata_it_did_not_write_means_nothing_was_skipped(metadata: str | None) -> None:
    assert decode_finished(5, metadata) == []


def test_a_waiting_task_holds_back_only_itself() -> None:
    """Offset 3 waits for its due time; 4..6 finished: the commit says so."""
    consumer = _consumer()
    consumer._pending[0] = {1: True, 2: True, 3: False, 4: True, 5: True, 6: True}
    kafka = _Consumer()
    consumer._commit(kafka)
    (tp,) = kafka.commits[-1]
    assert tp.offset == 3
    assert decode_finished(tp.offset, tp.metadata) == [(4, 6)]


def test_the_next_owner_skips_what_was_journaled_and_keeps_it_journaled() -> None:
    consumer = _consumer()
    consumer._skip[0] = decode_finished(3, encode_finished(3, [(4, 6), (9, 9)]))
    assert tasks._take(consumer._skip[0], 3) is False
    assert tasks._take(consumer._skip[0], 4) is True
    assert tasks._take(consumer._skip[0], 5) is True
    # 3 is still open, 4 and 5 were read and skipped, 6 and 9 not read yet.
    consumer._pending[0] = {3: False, 4: True, 5: True}
    kafka = _Consumer()
    consumer._commit(kafka)
    (tp,) = kafka.commits[-1]
    assert tp.offset == 3
    assert decode_finished(tp.offset, tp.metadata) == [(4, 6), (9, 9)]


def test_all_finished_commits_past_the_last() -> None:
    consumer = _consumer()
    consumer._pending[2] = {7: True, 8: True}
    kafka = _Consumer()
    consumer._commit(kafka)
    (tp,) = kafka.commits[-1]
    assert (tp.partition, tp.offset, tp.metadata) == (2, 9, "")
    assert consumer._pending[2] == {}


class _Message:
    def __init__(self, partition: int, offset: int, value: str) -> None:
        self._p, self._o, self._v = partition, offset, value

    def error(self) -> None:
        return None

    def partition(self) -> int:
        return self._p

    def offset(self) -> int:
        return self._o

    def value(self) -> str:
        return self._v

    def headers(self) -> list[Any]:
        return []


def test_a_replayed_task_written_back_later_runs_only_once() -> None:
    """Offsets 5 and 7 are one task (7 its retry): after a takeover only 7 runs."""
    asyncio.run(_replay())


async def _replay() -> None:
    ran: list[str] = []

    async def run(task: str) -> None:
        ran.append(task)

    tasks: TaskTopic[str] = TaskTopic(
        "t",
        "g",
        "n",
        decode=lambda v, h: v,
        due_ms=lambda t: 0,
        identity=lambda t: t.split("#")[0],
    )
    consumer = TaskConsumer(Settings(), tasks, instance_id="i", run=run)
    consumer._recovering[0] = 9
    consumer._held[0] = {}
    for offset, value in ((5, "a#1"), (6, "b#1"), (7, "a#2")):
        consumer._accept(_Message(0, offset, value))
    assert ran == [] and consumer._pending[0] == {5: True, 6: False, 7: False}
    consumer._accept(_Message(0, 8, "c#1"))  # the end of the replay: held tasks start
    for _ in range(5):
        await asyncio.sleep(0)
    assert sorted(ran) == ["a#2", "b#1", "c#1"]
    assert consumer._recovering == {} and all(consumer._pending[0].values())
