"""kafka/transactional.py: items offered to the pump join its next transaction.

The pump runs on its own thread as in the server; only its Kafka clients are stand-ins
(a consumer whose poll blocks until records are put in it or its timeout passes, and a
transactional producer that records what each transaction held), so what is checked is
the hand-over: order, the transaction an item joins, what happens when it aborts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from eventplane.config import load_settings
from eventplane.kafka import transactional
from eventplane.kafka.transactional import AfterCommit, TransactionalPump
from eventplane.testing import eventually

TOPIC = "inbox"


class Message:
    def __init__(self, value: str, offset: int, partition: int = 0) -> None:
        self._value, self._offset, self._partition = value, offset, partition

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return TOPIC

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def value(self) -> str:
        return self._value

    def headers(self) -> None:
        return None


class FakeConsumer:
    """Poll waits on a condition (no records: the whole timeout), as librdkafka's does."""

    def __init__(self) -> None:
        self.records: list[Message] = []
        self.cond = threading.Condition()
        self.timeouts: list[float] = []
        self.next_offset = 0

    def put(self, value: str) -> None:
        with self.cond:
            self.records.append(Message(value, self.next_offset))
            self.next_offset += 1
            self.cond.notify_all()

    def poll(self, timeout: float) -> Message | None:
        with self.cond:
            self.timeouts.append(timeout)
            if not self.records:
                self.cond.wait(timeout)
            return self.records.pop(0) if self.records else None

    def consume(self, n: int, timeout: float) -> list[Message]:
        with self.cond:
            taken, self.records = self.records[:n], self.records[n:]
            return taken

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(TOPIC, 0)]

    def position(self, tps: list[TopicPartition]) -> list[TopicPartition]:
        return [TopicPartition(TOPIC, 0, self.next_offset)]

    def committed(self, tps: list[TopicPartition], timeout: float) -> list[TopicPartition]:
        return [TopicPartition(TOPIC, 0, 0)]

    def seek(self, tp: TopicPartition) -> None:
        pass

    def consumer_group_metadata(self) -> str:
        return "group-metadata"


class FakeMembership:
    consumer: FakeConsumer | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def follow(self, topics: list[str]) -> None:
        pass

    def leave(self) -> None:
        pass


class FakeProducer:
    """Each transaction's produced values and offsets, once committed."""

    def __init__(self, log: Log) -> None:
        self.log = log
        self.open: list[str] | None = None
        self.offsets: list[TopicPartition] = []
        self.stamps: list[Any] = []

    def begin_transaction(self) -> None:
        self.open, self.offsets = [], []

    def produce(self, topic: str, value: str, **kwargs: Any) -> None:
        assert self.open is not None, "produced outside a transaction"
        self.open.append(value)

    def send_offsets_to_transaction(self, offsets: list[TopicPartition], *args: Any) -> None:
        self.offsets = offsets

    def commit_transaction(self, timeout: float) -> None:
        assert self.open is not None
        with self.log.lock:
            if self.log.fail_commits > 0:
                self.log.fail_commits -= 1
                self.log.aborted.append(self.open)
                self.open = None
                raise KafkaException(KafkaError(KafkaError._TIMED_OUT))
            self.log.committed.append(self.open)
            self.log.offsets.append({(t.partition): t.offset for t in self.offsets})
        self.open = None

    def abort_transaction(self, timeout: float) -> None:
        self.open = None

    def flush(self, timeout: float) -> int:
        return 0


class Log:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.committed: list[list[str]] = []
        self.aborted: list[list[str]] = []
        self.offsets: list[dict[int, int]] = []
        self.after: list[str] = []  # after-commit callbacks, in the order they ran
        self.fail_commits = 0

    def all_committed(self) -> list[str]:
        with self.lock:
            return [v for t in self.committed for v in t]


@pytest.fixture
def consumer(monkeypatch: pytest.MonkeyPatch) -> FakeConsumer:
    c = FakeConsumer()
    FakeMembership.consumer = c
    monkeypatch.setattr(transactional, "Membership", FakeMembership)
    return c


def make_pump(log: Log, *, local: bool = True) -> TransactionalPump:
    def handle(producer: Any, msg: Any) -> list[AfterCommit]:
        producer.produce("out", f"record:{msg.value()}")
        return [lambda: log.after.append(f"record:{msg.value()}")]

    def handle_local(producer: Any, item: str) -> list[AfterCommit]:
        producer.produce("out", f"local:{item}")
        return [lambda: log.after.append(f"local:{item}")]

    pump = TransactionalPump(
        load_settings(),
        group="g",
        name="test-pump",
        instance_id="i",
        handle=handle,
        handle_local=handle_local if local else None,
    )
    pump._producer = lambda transactional_id: FakeProducer(log)  # type: ignore[method-assign,assignment,return-value]
    return pump


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
def pump(consumer: FakeConsumer, log: Log) -> Iterator[TransactionalPump]:
    p = make_pump(log)
    p.subscribe([TOPIC])
    p.start()
    try:
        yield p
    finally:
        p.close()


def test_offered_items_are_handed_over_in_order_and_run_their_callbacks_after_commit(
    pump: TransactionalPump, log: Log
) -> None:
    for item in ("a", "b", "c"):
        pump.offer(item)
    eventually(lambda: log.all_committed() == ["local:a", "local:b", "local:c"], timeout=10)
    eventually(lambda: log.after == ["local:a", "local:b", "local:c"], timeout=10)


def test_a_transaction_with_only_local_items_carries_the_members_positions(
    pump: TransactionalPump, consumer: FakeConsumer, log: Log
) -> None:
    """So a member the group fenced cannot commit a step it took from a local item."""
    consumer.put("r0")
    eventually(lambda: log.all_committed() == ["record:r0"], timeout=10)
    pump.offer("a")
    eventually(lambda: log.all_committed() == ["record:r0", "local:a"], timeout=10)
    assert log.offsets == [{0: 1}, {0: 1}]


def test_local_items_go_before_the_records_of_the_same_transaction(
    pump: TransactionalPump, consumer: FakeConsumer, log: Log
) -> None:
    with consumer.cond:  # the pump's poll cannot return until both are in
        pump.offer("a")
        consumer.records.append(Message("r0", 0))
        consumer.next_offset = 1
    eventually(lambda: log.all_committed() == ["local:a", "record:r0"], timeout=10)
    assert ["local:a", "record:r0"] in log.committed  # one transaction


def test_an_aborted_item_joins_the_next_transaction_and_its_callback_runs_once(
    pump: TransactionalPump, log: Log
) -> None:
    with log.lock:
        log.fail_commits = 1
    pump.offer("a")
    eventually(lambda: log.all_committed() == ["local:a"], timeout=10)
    pump.offer("b")
    eventually(lambda: log.all_committed() == ["local:a", "local:b"], timeout=10)
    assert log.aborted == [["local:a"]]
    assert log.after == ["local:a", "local:b"]


def test_while_an_item_is_expected_the_pump_waits_for_it_not_in_kafkas_poll(
    consumer: FakeConsumer, log: Log, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kafka's poll cannot be woken from another thread: while an item is expected the
    pump only looks for records (poll without waiting) and waits on its own queue, which
    ``offer`` wakes: with a slice of a minute the item is taken up at once all the same."""
    monkeypatch.setattr(transactional, "LOCAL_WAIT_SLICE_S", 60.0)
    monkeypatch.setattr(transactional, "LOCAL_ACTIVE_S", 0.0)
    pump = make_pump(log)
    waiting = threading.Event()

    class Queue(threading.Condition):
        def wait(self, timeout: float | None = None) -> bool:
            waiting.set()
            return super().wait(timeout)

    pump._local_lock = Queue()
    pump.subscribe([TOPIC])
    pump.start()
    try:
        pump.expect()
        eventually(waiting.is_set, timeout=10)
        pump.offer("a")
        eventually(lambda: log.all_committed() == ["local:a"], timeout=10)
        with consumer.cond:
            consumer.timeouts.clear()
        eventually(lambda: len(consumer.timeouts) >= 2, timeout=10)
        # nothing expected any more: back to polls that wait for records
        assert all(t > 0 for t in consumer.timeouts[1:])
        consumer.put("r0")
        eventually(lambda: log.all_committed() == ["local:a", "record:r0"], timeout=10)
    finally:
        pump.close()


def test_for_a_moment_after_an_offer_the_pump_waits_on_its_queue_not_in_kafkas_poll(
    consumer: FakeConsumer, log: Log, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Starts come in bursts no one announces with ``expect``: after an item was offered,
    the pump keeps polling Kafka without waiting (so the next offer is taken up at once)
    until LOCAL_ACTIVE_S passed, then waits in Kafka's poll again."""
    monkeypatch.setattr(transactional, "LOCAL_ACTIVE_S", 60.0)
    pump = make_pump(log)
    pump.subscribe([TOPIC])
    pump.start()
    try:
        pump.offer("a")
        eventually(lambda: log.all_committed() == ["local:a"], timeout=10)
        with consumer.cond:
            consumer.timeouts.clear()
        eventually(lambda: len(consumer.timeouts) >= 3, timeout=10)
        assert all(t == 0 for t in consumer.timeouts)
        pump.offer("b")
        eventually(lambda: log.all_committed() == ["local:a", "local:b"], timeout=10)
        with pump._local_lock:
            pump._active_until = 0.0  # the moment passed
        with consumer.cond:
            consumer.timeouts.clear()
        eventually(lambda: len(consumer.timeouts) >= 3, timeout=10)
        assert all(t > 0 for t in consumer.timeouts[1:])
    finally:
        pump.close()


def test_items_no_transaction_took_are_returned_by_close(
    monkeypatch: pytest.MonkeyPatch, log: Log
) -> None:
    FakeMembership.consumer = None  # never a member: no transaction
    monkeypatch.setattr(transactional, "Membership", FakeMembership)
    p = make_pump(log)
    p.start()
    p.offer("a")
    p.offer("b")
    assert p.close() == ["a", "b"]
    assert log.committed == []


def test_a_pump_without_a_local_handler_refuses_items(log: Log) -> None:
    with pytest.raises(RuntimeError):
        make_pump(log, local=False).offer("a")
