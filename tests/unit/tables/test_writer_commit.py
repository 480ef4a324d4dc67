"""The table writer's commit with a stand-in producer: what it retries, what it aborts,
and a commit of unknown outcome, whose partitions must be read again from the changelog.
(The writer's path on a real broker is what every tables integration test exercises.)"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from eventplane.config import Settings
from eventplane.errors import ServiceUnavailable
from eventplane.kafka.lanes import TransactionLanes
from eventplane.tables import items as it
from eventplane.tables.model import (
    StreamSpecification,
)
from eventplane.tables.writer import CommitUncertain, Writer, _Pending

from .support import things_table

TABLE = things_table(StreamSpecification(False, ""))


def _error(**flags: bool) -> KafkaException:
    return KafkaException(KafkaError(KafkaError._TIMED_OUT, "commit timed out", **flags))


class FakeProducer:
    def __init__(self, commit_errors: list[KafkaException]) -> None:
        self.commit_errors = commit_errors
        self.calls: list[str] = []

    def begin_transaction(self) -> None:
        self.calls.append("begin")

    def produce(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append("produce")

    def commit_transaction(self, timeout: float) -> None:
        self.calls.append("commit")
        if self.commit_errors:
            raise self.commit_errors.pop(0)

    def abort_transaction(self, timeout: float) -> None:
        self.calls.append("abort")


def _run(commit_errors: list[KafkaException]) -> tuple[Any, FakeProducer, list[Any], list[Any]]:
    applied: list[Any] = []
    uncertain: list[Any] = []
    producer = FakeProducer(commit_errors)
    replacements: list[FakeProducer] = []

    async def go() -> Any:
        writer = Writer(
            Settings(),
            lambda table, partition, key: None,
            lambda changes, ends: applied.extend(changes),
            lambda: 1_700_000_000_000,
            uncertain=uncertain.append,
        )

        def new_producer(transactional_id: str) -> FakeProducer:
            if not replacements:
                replacements.append(producer)
                return producer
            replacements.append(FakeProducer([]))
            return replacements[-1]

        writer._lanes = TransactionLanes(new_producer, "t", count=1)  # type: ignore[arg-type]
        where, step = it.put_step(TABLE, it.PutItemInput("things", {"pk": {"S": "a"}}))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await writer._write_group([_Pending(step, future)])
        return future.exception() or future.result(), where

    (outcome, where) = asyncio.run(go())
    return (outcome, where), producer, applied, uncertain


def test_a_retriable_commit_error_is_retried_and_the_write_applied() -> None:
    (outcome, _), producer, applied, uncertain = _run([_error(retriable=True)])
    assert producer.calls.count("commit") == 2 and "abort" not in producer.calls
    assert not isinstance(outcome, Exception) and len(applied) == 1 and uncertain == []


def test_an_error_that_needs_an_abort_aborts_and_nothing_is_uncertain() -> None:
    (outcome, _), producer, applied, uncertain = _run([_error(txn_requires_abort=True)])
    assert isinstance(outcome, ServiceUnavailable) and not isinstance(outcome, CommitUncertain)
    assert producer.calls[-1] == "abort" and applied == [] and uncertain == []


@pytest.mark.parametrize("flags", [{}, {"retriable": True}, {"fatal": True}])
def test_a_commit_of_unknown_outcome_has_its_partitions_read_again(flags: dict[str, bool]) -> None:
    """An abort after a commit that may have happened would be wrong, and so would the
    store as it is: the writer names the partitions to restore instead."""
    (outcome, where), producer, applied, uncertain = _run([_error(**flags)] * 3)
    assert isinstance(outcome, CommitUncertain) and outcome.retriable
    assert "abort" not in producer.calls and applied == []
    assert uncertain == [{("things", where.partition)}]
