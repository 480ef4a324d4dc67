"""An HTTP subscription's worker subscribes to its topic only while the topic is wanted,
and holds it (Holdings) before subscribing, so retire_topics never deletes a topic under
a consumer that is about to subscribe to it (librdkafka aborts the process then)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from eventplane.config import Settings
from eventplane.kafka import naming
from eventplane.kafka.retirement import holders_of
from eventplane.topics import http_worker


class FakeConsumer:
    made: list[FakeConsumer] = []
    worker: Any = None  # the worker under test

    def __init__(self, config: dict[str, Any]) -> None:
        self.subscriptions: list[list[str]] = []
        self.held_when_subscribing: list[bool] = []
        FakeConsumer.made.append(self)

    def subscribe(self, topics: list[str]) -> None:
        self.held_when_subscribing.append(FakeConsumer.worker._client_id in holders_of(topics))
        self.subscriptions.append(topics)

    def poll(self, timeout: float) -> None:
        FakeConsumer.worker.stop()  # one poll, then the loop ends
        return None

    def close(self) -> None:
        pass


@pytest.fixture(autouse=True)
def fake_consumer(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    FakeConsumer.made = []
    monkeypatch.setattr(http_worker, "Consumer", FakeConsumer)
    yield
    FakeConsumer.made = []
    gc.collect()


def _worker() -> Any:
    owner = SimpleNamespace(_settings=Settings())
    sub = SimpleNamespace(sub_id="s1", topic="orders", arn="arn:aws:sns:local:0:orders:s1")
    FakeConsumer.worker = http_worker._Worker(owner, sub)  # type: ignore[arg-type]
    return FakeConsumer.worker


def test_a_running_worker_holds_its_topic_and_subscribes() -> None:
    worker = _worker()
    topic = naming.topic_topic("orders")
    asyncio.run(worker._loop())
    (consumer,) = FakeConsumer.made
    assert consumer.subscriptions == [[topic]]
    assert consumer.held_when_subscribing == [True]
    assert worker._client_id not in holders_of([topic])  # closed: released


def test_a_stopped_worker_never_subscribes_again() -> None:
    worker = _worker()
    worker.stop()  # the subscription (or its topic) was deleted meanwhile
    asyncio.run(worker._loop())
    (consumer,) = FakeConsumer.made
    assert consumer.subscriptions == []
