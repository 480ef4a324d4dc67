"""Standard starts the owner takes itself (``owner.Owner.offer_start``).

The owner's pump is not started: each test plays the pump's part (``_handle_local`` in
a transaction, then ``_committed`` or ``_aborted`` and the after-commit callbacks), with
a producer that records what the transaction held. What is checked is that a start is
answered only once its step committed, and that every start the owner does not apply is
handed back to the caller (None) for the inbox path.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from eventplane.config import load_settings
from eventplane.kafka import naming
from eventplane.workflows import records
from eventplane.workflows.clock import Clock
from eventplane.workflows.model import Start
from eventplane.workflows.owner import HandedStart, Owner
from eventplane.workflows.starts import inbox_partition

MACHINE = "arn:aws:states:local:000000000000:stateMachine:m"
ARN = "arn:aws:states:local:000000000000:execution:m:e"
DEFINITION = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


class Producer:
    def __init__(self) -> None:
        self.records: list[tuple[str, bytes]] = []

    def produce(self, topic: str, value: bytes, **kwargs: Any) -> None:
        self.records.append((topic, kwargs["key"]))


def make_owner(*held: int) -> tuple[Owner, list[HandedStart]]:
    ctx = SimpleNamespace(settings=load_settings(), registry=None, instance_id="i")
    owner = Owner(ctx, Clock())  # type: ignore[arg-type]
    offered: list[HandedStart] = []
    owner._pump.offer = offered.append  # type: ignore[method-assign]
    owner._status_event = lambda *args: None  # type: ignore[method-assign]
    owner._held = frozenset(held)
    return owner, offered


def start(arn: str = ARN, text: str = '{"a":1}') -> records.InboxRecord:
    return records.InboxRecord(arn, Start(text), MACHINE, DEFINITION)


def transact(owner: Owner, handed: HandedStart, *, commit: bool = True) -> Producer:
    producer = Producer()
    after = owner._handle_local(producer, handed)
    if commit:
        owner._committed()
        for callback in after:
            callback()
    else:
        owner._aborted()
    return producer


def test_a_start_is_answered_with_its_state_once_its_step_committed() -> None:
    owner, offered = make_owner(3)
    done = owner.offer_start(start(), 3)
    assert done is not None and [h.record.execution_arn for h in offered] == [ARN]
    producer = Producer()
    after = owner._handle_local(producer, offered[0])
    # journaled in this transaction: the step record, keyed by the execution
    assert (naming.WF_HISTORY, ARN.encode()) in producer.records
    assert not done.done()  # nothing promised before the commit
    owner._committed()
    for callback in after:
        callback()
    state = done.result(0)
    assert state is not None
    assert (state.execution_arn, state.status, state.input) == (ARN, "SUCCEEDED", {"a": 1})
    assert owner._owned[ARN].state is state


def test_an_aborted_start_is_taken_again_and_answered_once() -> None:
    owner, offered = make_owner(0)
    done = owner.offer_start(start(), 0)
    assert done is not None
    transact(owner, offered[0], commit=False)
    assert not done.done() and ARN not in owner._owned
    transact(owner, offered[0])  # the pump hands the item over again
    assert done.result(0) is not None and done.result(0).execution_arn == ARN


def test_a_partition_the_owner_does_not_hold_is_not_offered() -> None:
    owner, offered = make_owner(1, 2)
    assert owner.offer_start(start(), 5) is None
    assert offered == []


def test_a_start_whose_partition_moved_before_its_transaction_goes_to_the_inbox() -> None:
    owner, offered = make_owner(4)
    done = owner.offer_start(start(), 4)
    owner._revoked([(naming.WF_INBOX, 4)])
    producer = transact(owner, offered[0])
    assert done is not None and done.result(0) is None
    assert producer.records == [] and ARN not in owner._owned


def test_the_same_name_again_goes_the_inbox_way_and_changes_nothing() -> None:
    """An execution of that name exists: the caller compares inputs against the view
    (same input: the same execution; other input: ExecutionAlreadyExists)."""
    owner, offered = make_owner(0)
    first = owner.offer_start(start(), 0)
    transact(owner, offered[0])
    assert first is not None and first.result(0) is not None
    again = owner.offer_start(start(text='{"b":2}'), 0)
    producer = transact(owner, offered[1])
    assert again is not None and again.result(0) is None
    assert producer.records == []
    assert owner._owned[ARN].state.input == {"a": 1}


def test_a_caller_that_gave_up_is_not_started_for() -> None:
    owner, offered = make_owner(0)
    done = owner.offer_start(start(), 0)
    assert done is not None and done.cancel()
    assert transact(owner, offered[0]).records == []
    assert ARN not in owner._owned


def test_starts_offered_while_closing_go_to_the_inbox() -> None:
    owner, offered = make_owner(0)
    owner._closing = True
    assert owner.offer_start(start(), 0) is None
    assert offered == []


def test_the_partition_is_the_one_kafkas_default_partitioner_picks() -> None:
    """librdkafka's consistent_random: CRC-32 of the key modulo the partition count (the
    integration test tests/integration/workflows/test_starts.py checks it on a broker)."""
    assert inbox_partition("abc", 8) == 0x352441C2 % 8
    assert {inbox_partition(f"{ARN}{i}", 8) for i in range(64)} == set(range(8))
