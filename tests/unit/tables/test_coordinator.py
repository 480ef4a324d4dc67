"""A participant of cross-replica transactions (``tables/coordinator.py``) over a stand-in
engine: what its locks refuse, what commit and abort leave behind, and when reads wait.
The whole protocol runs on real replicas in tests/integration/tables (test_replicas,
test_durability)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from eventplane.errors import ServiceUnavailable
from eventplane.errors.tables import TransactionConflictException
from eventplane.tables import items as it
from eventplane.tables import transactions as tx
from eventplane.tables.coordinator import Participant, Prepared, coordinate
from eventplane.tables.expr import item_size
from eventplane.tables.model import (
    TableDef,
)
from eventplane.tables.store import PartitionStore
from eventplane.tables.writer import Change, Staged, _groups, _Pending

from .support import things_table

Item = dict[str, Any]


class _Writer:
    """Runs each step at once against the stores, as the real writer does after a commit."""

    def __init__(self, engine: _Engine) -> None:
        self.engine = engine

    async def submit(self, step: Any, **_: Any) -> Any:
        staged = Staged(self.engine.read, guard=self.engine.participant.guard)
        changes, result = step(staged)
        self.engine.apply(changes)
        return result

    def records(self, changes: list[Change]) -> list[Any]:
        return [(c.table.name, c.partition, c.key, b"image", []) for c in changes]


class _Engine:
    def __init__(self) -> None:
        self.table = things_table()
        self.stores = {
            (self.table.name, p): PartitionStore(self.table.name, p, "pk") for p in range(4)
        }
        self.participant = Participant(self)  # type: ignore[arg-type]
        self.writer = _Writer(self)
        self.applied: list[Change] = []

    def get(self, name: str) -> TableDef:
        return self.table

    async def store(self, table: TableDef, partition: int) -> PartitionStore:
        await self.participant.settled(table.name, partition)
        return self.stores[(table.name, partition)]

    def read(self, table: str, partition: int, key: str) -> Item | None:
        return self.stores[(table, partition)].get(key)

    def apply(self, changes: list[Change]) -> None:
        for c in changes:
            store = self.stores.get((c.table.name, c.partition))
            if store is not None and c.new is not None:
                store.put(c.key, c.new, item_size)
            self.applied.append(c)

    def token_anywhere(self, key: str) -> None:
        return None

    def clock(self) -> int:
        return 1_700_000_000_000


def _put(pk: str, v: str, condition: str = "") -> tx.TransactAction:
    return tx.TransactAction(
        "Put",
        "things",
        item={"pk": {"S": pk}, "v": {"S": v}},
        condition_expression=condition,
    )


def _write(engine: _Engine, pk: str, v: str) -> Any:
    _, step = it.put_step(engine.table, it.PutItemInput("things", {"pk": {"S": pk}, "v": {"S": v}}))
    return engine.writer.submit(step)


def _value(engine: _Engine, pk: str) -> str | None:
    where = it.locate(engine.table, {"pk": {"S": pk}})
    item = engine.stores[("things", where.partition)].get(where.key)
    return None if item is None else item["v"]["S"]


def test_prepared_items_refuse_other_writers_until_the_commit_applies_them() -> None:
    asyncio.run(_prepared_items_refuse_other_writers_until_the_commit_applies_them())


async def _prepared_items_refuse_other_writers_until_the_commit_applies_them() -> None:
    engine = _Engine()
    prepared = await engine.participant.prepare("t1", [_put("a", "tx"), _put("b", "tx")], "", "")
    assert prepared.reasons is None and not prepared.replay
    assert len(prepared.records) == 2  # the images the coordinator writes
    assert engine.participant.locked == 2
    assert _value(engine, "a") is None  # nothing is applied before the commit
    with pytest.raises(TransactionConflictException):
        await _write(engine, "a", "other")
    await _write(engine, "c", "free")  # items outside the transaction are not held
    # Another transaction over a held item is cancelled with TransactionConflict for it.
    other = await engine.participant.prepare("t2", [_put("c", "t2"), _put("b", "t2")], "", "")
    assert [r.code for r in other.reasons or ()] == ["None", "TransactionConflict"]
    assert engine.participant.confirm("t1")
    engine.participant.commit("t1")
    assert (_value(engine, "a"), _value(engine, "b"), _value(engine, "c")) == ("tx", "tx", "free")
    assert engine.participant.locked == 0
    await _write(engine, "a", "after")
    assert _value(engine, "a") == "after"


def test_an_abort_releases_the_items_and_applies_nothing() -> None:
    asyncio.run(_an_abort_releases_the_items_and_applies_nothing())


async def _an_abort_releases_the_items_and_applies_nothing() -> None:
    engine = _Engine()
    await engine.participant.prepare("t1", [_put("a", "tx")], "", "")
    engine.participant.abort("t1")
    engine.participant.commit("t1")  # a late commit of a decided transaction: ignored
    assert _value(engine, "a") is None and engine.participant.locked == 0
    assert not engine.participant.confirm("t1")


def test_a_failing_condition_locks_nothing_and_gives_every_reason_in_order() -> None:
    asyncio.run(_a_failing_condition_locks_nothing_and_gives_every_reason_in_order())


async def _a_failing_condition_locks_nothing_and_gives_every_reason_in_order() -> None:
    engine = _Engine()
    await _write(engine, "a", "old")
    prepared = await engine.participant.prepare(
        "t1", [_put("b", "tx"), _put("a", "tx", "attribute_not_exists(pk)")], "", ""
    )
    assert [r.code for r in prepared.reasons or ()] == ["None", "ConditionalCheckFailed"]
    assert prepared.records == [] and engine.participant.locked == 0


def test_a_partition_that_moved_is_not_confirmed_and_its_locks_go() -> None:
    asyncio.run(_a_partition_that_moved_is_not_confirmed_and_its_locks_go())


async def _a_partition_that_moved_is_not_confirmed_and_its_locks_go() -> None:
    engine = _Engine()
    await engine.participant.prepare("t1", [_put("a", "tx")], "", "")
    where = it.locate(engine.table, {"pk": {"S": "a"}})
    engine.participant.relinquished([("things", where.partition)])
    assert not engine.participant.confirm("t1")
    assert engine.participant.locked == 0


def test_reads_wait_while_a_confirmed_transaction_commits() -> None:
    asyncio.run(_reads_wait_while_a_confirmed_transaction_commits())


async def _reads_wait_while_a_confirmed_transaction_commits() -> None:
    engine = _Engine()
    await engine.participant.prepare("t1", [_put("a", "tx")], "", "")
    where = it.locate(engine.table, {"pk": {"S": "a"}})
    # Prepared but not confirmed: the commit cannot have happened, reads go on.
    assert not await engine.participant.settled("things", where.partition)
    assert engine.participant.confirm("t1")
    read = asyncio.create_task(engine.store(engine.table, where.partition))
    await asyncio.sleep(0.01)
    assert not read.done()
    engine.participant.commit("t1")
    store = await asyncio.wait_for(read, 1)
    assert store.get(where.key) is not None  # the read sees the committed item


def test_a_transaction_with_a_commit_check_is_written_alone() -> None:
    loop = asyncio.new_event_loop()
    try:

        def pending(solo: bool) -> _Pending[Any]:
            async def check() -> None:
                return None

            return _Pending(
                lambda s: ([], None), loop.create_future(), None, check if solo else None
            )

        plain, solo = pending(False), pending(True)
        shapes = [[p.solo for p in g] for g in _groups([plain, plain, solo, plain, solo, solo])]
        assert shapes == [[False, False], [True], [False], [True], [True]]
    finally:
        loop.close()


class _Peers:
    """A participant at "B" that prepares, confirms and records the decisions it gets."""

    def __init__(self, confirm: bool = True) -> None:
        self.confirm = confirm
        self.decisions: list[str] = []

    async def tx_prepare(self, address: str, *args: Any) -> Any:
        return Prepared(records=[("eventplane.tbl.things", 1, "b", b"image", [])])

    async def tx_decide(self, address: str, decision: str, transaction_id: str) -> bool:
        self.decisions.append(decision)
        return self.confirm if decision == "TxConfirm" else False


class _CommittingWriter(_Writer):
    """Runs the commit check as the real writer does; ``fail_commit`` makes the Kafka
    commit after it fail."""

    fail_commit = False

    async def submit(self, step: Any, *, foreign: Any = None, before_commit: Any = None) -> Any:
        staged = Staged(self.engine.read, guard=self.engine.participant.guard)
        changes, result = step(staged)
        if before_commit is not None:
            await before_commit()
            if self.fail_commit:
                raise ServiceUnavailable("could not write to Kafka: commit timed out")
        self.engine.apply(changes)
        return result


async def _coordinate(peers: _Peers, fail_commit: bool = False) -> None:
    engine = _Engine()
    writer = _CommittingWriter(engine)
    writer.fail_commit = fail_commit
    engine.writer = writer
    actions = [_put("a", "tx"), _put("b", "tx")]
    steps = tx.plan({"things": engine.table}, actions)
    await coordinate(engine, peers, steps, actions, [None, "B"], "")  # type: ignore[arg-type]


def test_the_coordinator_commits_at_the_participant_once_kafka_has() -> None:
    peers = _Peers()
    asyncio.run(_coordinate(peers))
    assert peers.decisions == ["TxConfirm", "TxCommit"]


def test_a_participant_that_lost_its_partition_aborts_the_transaction() -> None:
    peers = _Peers(confirm=False)
    with pytest.raises(tx.TransactionCanceledException) as err:
        asyncio.run(_coordinate(peers))
    assert [r.code for r in err.value.cancellation_reasons] == ["None", "TransactionConflict"]
    assert peers.decisions == ["TxConfirm", "TxAbort"]


def test_a_failed_commit_after_the_confirm_is_not_announced_as_an_abort() -> None:
    """Kafka may have committed all the same: the participant reads the outcome from its
    changelog rather than drop changes that may be there."""
    peers = _Peers()
    with pytest.raises(ServiceUnavailable):
        asyncio.run(_coordinate(peers, fail_commit=True))
    assert peers.decisions == ["TxConfirm"]
