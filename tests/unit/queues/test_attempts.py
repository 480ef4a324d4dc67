"""FIFO receive attempts: the journal codec, expiry, and replays by a new owner."""

from __future__ import annotations

import asyncio
from typing import Any

from eventplane.queues import attempts, journal
from eventplane.queues.attempts import AttemptEntry, AttemptJournal
from eventplane.queues.attributes import QueueConfig
from eventplane.queues.journal import JournalState
from eventplane.queues.models import Msg, Record
from eventplane.queues.owner import Adopted, Incoming
from eventplane.queues.partitions import LocalPartitions
from eventplane.queues.queue_def import QueueDef

T0 = 1_000_000
QD = QueueDef("q.fifo", QueueConfig(fifo=True), incarnation=1, updated_ms=T0, tags={})


class Producer:
    """Stands in for Kafka: remembers what was journaled and tombstoned."""

    def __init__(self) -> None:
        self.written: list[tuple[str, Any, dict[str, Any]]] = []
        self.tombstones: list[str] = []

    async def send_many(self, records: Any, **_: Any) -> list[Any]:
        self.written.extend(records)
        return []

    def produce_nowait(self, topic: str, value: Any, *, key: str, partition: int) -> None:
        assert value is None
        self.tombstones.append(key)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def record(body: str) -> Record:
    return Record(message_id=f"id-{body}", body=body, attributes={}, sent_ms=T0, group_id="g")


async def owner(state: JournalState | None = None) -> tuple[LocalPartitions, Producer, Clock]:
    producer, clock = Producer(), Clock()
    local = LocalPartitions(producer, lambda _: QD, clock=clock)  # type: ignore[arg-type]
    await local.adopt(Adopted(QD.name, 0, 0, state or JournalState()))
    local.on_records([Incoming(QD.name, 0, o, record(f"m{o}")) for o in range(3)])
    return local, producer, clock


def replay_journal(producer: Producer) -> JournalState:
    """The journal as a replica adopting the partition reads it back."""
    state = JournalState()
    for _, value, opts in producer.written:
        state.apply(opts["key"], value, opts["headers"])
    for key in producer.tombstones:
        state.apply(key, None, [])
    return state


def test_an_attempt_entry_round_trips_through_the_journal() -> None:
    entry = AttemptEntry(((4, 1), (7, 3)), T0 + 300_000)
    state = JournalState()
    value, headers = attempts.encode_attempt("try-1", entry)
    state.apply(attempts.attempt_key("try-1"), value, headers)
    assert state.attempts == {"try-1": entry}
    state.apply(attempts.attempt_key("try-1"), None, [])  # tombstone
    assert state.attempts == {}


def test_entries_already_expired_at_adoption_are_tombstoned() -> None:
    async def scenario() -> None:
        state = JournalState()
        for attempt_id, expires in (("old", T0), ("live", T0 + 1)):
            value, headers = attempts.encode_attempt(attempt_id, AttemptEntry(((0, 1),), expires))
            state.apply(attempts.attempt_key(attempt_id), value, headers)
        local, producer, _ = await owner(state)
        journal_ = AttemptJournal(local)
        assert await journal_.replay(QD, "old", 30) is None
        journal_.prune()
        assert producer.tombstones == ["a:old"]
        assert set(local.owned[(QD.name, 0)].attempts) == {"live"}

    asyncio.run(scenario())


def test_a_new_owner_replays_what_the_old_one_handed_out() -> None:
    async def scenario() -> None:
        old, producer, _ = await owner()
        got = await old.claim(QD, 2, 30, None)
        assert [m.offset for _, m in got] == [0, 1]
        await AttemptJournal(old).record(QD, "try-1", got)
        keys = [opts["key"] for _, _, opts in producer.written]
        assert keys == ["m:0", "m:1", "a:try-1"]

        # The old owner dies; another adopts the partition from its journal, 10 s later.
        new, new_producer, clock = await owner(replay_journal(producer))
        clock.now = T0 + 10_000
        replayed = await AttemptJournal(new).replay(QD, "try-1", 60)
        assert replayed is not None
        assert [(p, m.offset, m.generation) for p, m in replayed] == [
            (p, m.offset, m.generation) for p, m in got
        ]
        # Renewed: a fresh 60 s from the retry, journaled.
        assert all(m.visible_at == T0 + 70_000 and m.inflight for _, m in replayed)
        assert [opts["key"] for _, _, opts in new_producer.written] == ["m:0", "m:1"]
        # Nothing else went out: the group is still locked by the replayed messages.
        assert await new.claim(QD, 10, 30, None) == []
        assert await AttemptJournal(new).replay(QD, "other", 60) is None

    asyncio.run(scenario())


def test_a_message_received_again_ends_the_replay() -> None:
    async def scenario() -> None:
        local, producer, clock = await owner()
        journal_ = AttemptJournal(local)
        got = await local.claim(QD, 1, 1, None)
        await journal_.record(QD, "try-1", got)
        clock.now = T0 + 2_000  # visibility over: received again by someone else
        again = await local.claim(QD, 1, 30, None)
        assert [m.offset for _, m in again] == [0]
        assert await journal_.replay(QD, "try-1", 30) is None
        assert producer.tombstones == ["a:try-1"]
        assert local.owned[(QD.name, 0)].attempts == {}

    asyncio.run(scenario())


def test_a_deleted_message_ends_the_replay() -> None:
    async def scenario() -> None:
        local, producer, _ = await owner()
        journal_ = AttemptJournal(local)
        got = await local.claim(QD, 1, 30, None)
        await journal_.record(QD, "try-1", got)
        m: Msg = got[0][1]
        await local.delete(QD, 0, m.offset, m.generation)
        assert await journal_.replay(QD, "try-1", 30) is None
        assert producer.tombstones == ["a:try-1"]

    asyncio.run(scenario())


def test_attempts_expire_after_five_minutes() -> None:
    async def scenario() -> None:
        local, producer, clock = await owner()
        journal_ = AttemptJournal(local)
        got = await local.claim(QD, 1, 600, None)
        await journal_.record(QD, "try-1", got)
        clock.now = T0 + attempts.ATTEMPT_TTL_MS - 1
        journal_.prune()
        assert producer.tombstones == []
        assert await journal_.replay(QD, "try-1", 600) is not None
        clock.now = T0 + attempts.ATTEMPT_TTL_MS
        assert await journal_.replay(QD, "try-1", 600) is None
        journal_.prune()
        assert producer.tombstones == ["a:try-1"]
        assert replay_journal(producer).attempts == {}

    asyncio.run(scenario())


def test_the_purge_time_and_mark_are_read_back_with_the_attempts() -> None:
    state = JournalState()
    value, headers = journal.encode_purge(3, T0)
    state.apply(journal.PURGE_KEY, value, headers)
    assert (state.purged_below, state.purged_at_ms) == (3, T0)
