"""LocalPartitions: a receipt of the previous owner is honoured once the new owner caught up."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from eventplane.errors import ServiceUnavailable
from eventplane.queues import journal as journal_keys
from eventplane.queues import partitions
from eventplane.queues.attributes import QueueConfig
from eventplane.queues.journal import JournalState
from eventplane.queues.models import DedupEntry, Record
from eventplane.queues.owner import Adopted, Incoming
from eventplane.queues.queue_def import QueueDef

T0 = 1_000_000
QD = QueueDef("q", QueueConfig(), incarnation=1, updated_ms=T0, tags={})


class Journal:
    """Stands in for the producer: remembers what was journaled."""

    def __init__(self) -> None:
        self.written: list[tuple[str, Any, dict[str, Any]]] = []

    async def send_many(self, records: Any, **_: Any) -> list[Any]:
        self.written.extend(records)
        return []


def record(body: str) -> Record:
    return Record(message_id=f"id-{body}", body=body, attributes={}, sent_ms=T0)


async def adopted() -> tuple[partitions.LocalPartitions, Journal]:
    journal = Journal()
    owner = partitions.LocalPartitions(journal, lambda _: QD, clock=lambda: T0)  # type: ignore[arg-type]
    await owner.adopt(Adopted("q", 0, 0, JournalState()))
    return owner, journal


def test_a_delete_waits_for_the_new_owner_to_read_the_message() -> None:
    async def scenario() -> None:
        owner, journal = await adopted()
        # The previous owner handed out (offset 1, generation 1); this one is still reading.
        deleting = asyncio.create_task(owner.delete(QD, 0, 1, 1))
        await asyncio.sleep(0)
        assert not deleting.done()
        owner.on_records([Incoming("q", 0, o, record(f"m{o}")) for o in (0, 1)])
        # Not received here yet, so generation 1 is the previous owner's lease (journaled).
        owner.owned[("q", 0)].state.msgs[1].generation = 1
        await asyncio.wait_for(deleting, 2)
        assert [r[2]["key"] for r in journal.written] == ["m:1"]
        assert set(owner.owned[("q", 0)].state.msgs) == {0}

    asyncio.run(scenario())


def test_a_delete_the_owner_cannot_catch_up_with_answers_retry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(partitions, "CATCH_UP_WAIT_S", 0.2)

    async def scenario() -> None:
        owner, journal = await adopted()
        with pytest.raises(ServiceUnavailable, match="new owner; retry"):
            await owner.change_visibility(QD, 0, 5, 1, 10)
        assert journal.written == []

    asyncio.run(scenario())


class TombstoneJournal(Journal):
    def __init__(self) -> None:
        super().__init__()
        self.tombstoned: list[str] = []

    def produce_nowait(self, topic: str, value: Any, *, key: str, partition: int) -> None:
        assert value is None
        self.tombstoned.append(key)


def test_journal_entries_are_dropped_only_once_kafka_confirmed_the_commit() -> None:
    # A commit lost while the tombstones were written (a member fenced after a broker
    # pause) let the next owner start below them without them: deleted messages came back.
    async def scenario() -> None:
        journal = TombstoneJournal()
        owner = partitions.LocalPartitions(journal, lambda _: QD, clock=lambda: T0)  # type: ignore[arg-type]
        await owner.adopt(Adopted("q", 0, 0, JournalState()))
        owner.on_records([Incoming("q", 0, o, record(f"m{o}")) for o in (0, 1, 2)])
        for o in (0, 1):
            owner.owned[("q", 0)].state.msgs[o].generation = 1
            await owner.delete(QD, 0, o, 1)
        topic = next(iter(owner.commit_offsets()))
        assert owner.commit_offsets() == {topic: 2}
        assert journal.tombstoned == []  # asked to commit, not confirmed: entries kept
        owner.committed({("q", 0): 1})
        assert journal.tombstoned == ["m:0"]
        assert owner.commit_offsets() == {topic: 2}  # still unconfirmed: asked again
        owner.committed({("q", 0): 2})
        assert sorted(journal.tombstoned) == ["m:0", "m:1"]
        assert owner.commit_offsets() == {}
        owner.committed({("q", 0): 2})  # a late duplicate confirmation changes nothing
        owner.committed({("gone", 0): 9})  # nor one for a partition no longer owned
        assert sorted(journal.tombstoned) == ["m:0", "m:1"]

    asyncio.run(scenario())


def test_an_expired_deduplication_entry_is_tombstoned_in_the_journal() -> None:
    # Kept forever, every deduplication id ever sent stayed in the compacted journal and
    # each adoption of the partition read them all again.
    async def scenario() -> None:
        journal = TombstoneJournal()
        now = [T0]
        owner = partitions.LocalPartitions(journal, lambda _: QD, clock=lambda: now[0])  # type: ignore[arg-type]
        state = JournalState()
        state.dedup["old"] = DedupEntry("id-old", "1", T0 - 1)
        state.dedup["fresh"] = DedupEntry("id-fresh", "2", T0 + 300_000)
        await owner.adopt(Adopted("q", 0, 0, state))
        owner.commit_offsets()
        assert journal.tombstoned == [journal_keys.dedup_key("old")]
        now[0] = T0 + 300_000
        owner.commit_offsets()
        assert journal.tombstoned == [journal_keys.dedup_key(k) for k in ("old", "fresh")]
        assert owner.owned[("q", 0)].state.dedup == {}

    asyncio.run(scenario())


class FifoJournal(TombstoneJournal):
    """Answers each produce with the offset Kafka would give it."""

    def __init__(self) -> None:
        super().__init__()
        self.next_offset = 0

    async def send_many(self, records: Any, **_: Any) -> list[Any]:
        self.written.extend(records)
        out = []
        for _ in records:
            offset, self.next_offset = self.next_offset, self.next_offset + 1
            out.append(
                type("Msg", (), {"offset": lambda self, o=offset: o, "partition": lambda self: 0})()
            )
        return out


def test_the_deduplication_window_runs_on_the_owners_clock() -> None:
    # A FIFO send accepted by a replica whose clock is 30 minutes behind carries that
    # replica's sent_ms. The owner judged the window on its own clock but started it at
    # sent_ms, so the window was over before it began and a retry was delivered twice.
    fifo = QueueDef("q.fifo", QueueConfig(fifo=True), incarnation=1, updated_ms=T0, tags={})

    async def scenario() -> None:
        now = [T0]
        owner = partitions.LocalPartitions(  # type: ignore[arg-type]
            FifoJournal(), lambda _: fifo, clock=lambda: now[0]
        )
        await owner.adopt(Adopted("q.fifo", 0, 0, JournalState()))

        def sent(message_id: str) -> Record:
            return Record(
                message_id=message_id,
                body="b",
                attributes={},
                sent_ms=T0 - 30 * 60_000,  # the accepting replica's clock
                group_id="g",
                dedup_id="d-1",
            )

        (first,) = await owner.send_fifo(fifo, 0, [sent("m-1")])
        now[0] += 60_000  # a minute later, the client retries with the same id
        (retry,) = await owner.send_fifo(fifo, 0, [sent("m-2")])
        assert retry == first  # the original message id and sequence number: not sent again
        now[0] = T0 + 5 * 60_000  # the window (from the owner's first write) is over
        (later,) = await owner.send_fifo(fifo, 0, [sent("m-3")])
        assert later[0] == "m-3"

    asyncio.run(scenario())
