"""A group member closes its consumer when its topics are all gone, and joins anew after."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from eventplane.kafka import membership
from eventplane.kafka.membership import Membership
from eventplane.kafka.retirement import Holdings

CONFIG = {"group.id": "g", "client.id": "c"}


class FakeConsumer:
    """What librdkafka does here: close() revokes the assignment through on_revoke."""

    made: list[FakeConsumer] = []
    on_subscribe: Any = None  # called as subscribe() begins

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.subscriptions: list[list[str]] = []
        self.callbacks: dict[str, Any] = {}
        self.assignment: list[TopicPartition] = []
        self.closed = False
        self.close_error: KafkaException | None = None
        FakeConsumer.made.append(self)

    def subscribe(self, topics: list[str], **callbacks: Any) -> None:
        if FakeConsumer.on_subscribe is not None:
            FakeConsumer.on_subscribe()
        self.subscriptions.append(topics)
        self.callbacks = callbacks

    def assign_(self, partitions: list[TopicPartition]) -> None:
        self.assignment = partitions
        self.callbacks["on_assign"](self, partitions)

    def close(self) -> None:
        self.callbacks["on_revoke"](self, self.assignment)
        self.assignment = []
        self.closed = True
        if self.close_error is not None:
            raise self.close_error


@pytest.fixture(autouse=True)
def fake_consumer(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    FakeConsumer.made = []
    monkeypatch.setattr(membership, "Consumer", FakeConsumer)
    yield
    # The consumers' callbacks keep this test's Holdings (wanting topics) alive, and every
    # live Holdings counts in retire_topics: let them go.
    FakeConsumer.made = []
    gc.collect()


def member(holdings: Holdings, events: list[str]) -> Membership:
    def on_assign(_c: Any, partitions: list[TopicPartition]) -> None:
        holdings.assigned((tp.topic, tp.partition) for tp in partitions)
        events.append(f"assign {len(partitions)}")

    def on_revoke(_c: Any, partitions: list[TopicPartition]) -> None:
        holdings.revoked((tp.topic, tp.partition) for tp in partitions)
        events.append(f"revoke {len(partitions)}")

    return Membership(
        dict(CONFIG), holdings, on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke
    )


def follow(m: Membership, holdings: Holdings, topics: list[str]) -> None:
    """As the owners and pumps do: want the topics, then follow them."""
    holdings.want(topics)
    m.follow(topics)


def test_no_topics_no_consumer() -> None:
    m = member(Holdings("test", "g", "c"), [])
    m.follow([])
    assert m.consumer is None and FakeConsumer.made == []


def test_the_last_topic_gone_closes_the_consumer_after_revoking_what_it_held() -> None:
    holdings = Holdings("test", "g", "c")
    events: list[str] = []
    m = member(holdings, events)
    follow(m, holdings, ["a", "b"])
    consumer = FakeConsumer.made[0]
    assert consumer.subscriptions == [["a", "b"]]
    assert consumer.config["group.id"] == "g" and "stats_cb" in consumer.config  # lag reported
    consumer.assign_([TopicPartition("a", 0), TopicPartition("b", 0)])
    follow(m, holdings, ["a"])
    assert m.consumer is consumer and consumer.subscriptions[-1] == ["a"]
    assert holdings.holds(["b"])  # still assigned: the group has not revoked it yet

    follow(m, holdings, [])
    assert m.consumer is None and consumer.closed
    assert events == ["assign 2", "revoke 2"]
    assert not holdings.holds(["a", "b"])


def test_a_topic_back_gets_a_fresh_consumer() -> None:
    holdings = Holdings("test", "g", "c")
    m = member(holdings, [])
    follow(m, holdings, ["a"])
    follow(m, holdings, [])
    follow(m, holdings, ["c"])
    first, second = FakeConsumer.made
    assert first.closed and not second.closed
    assert m.consumer is second and second.subscriptions == [["c"]]


def test_a_failed_close_still_lets_go() -> None:
    holdings = Holdings("test", "g", "c")
    m = member(holdings, [])
    follow(m, holdings, ["a"])
    consumer = FakeConsumer.made[0]
    consumer.assign_([TopicPartition("a", 0)])
    consumer.callbacks["on_revoke"] = lambda *_: None  # the revocation never ran
    consumer.close_error = KafkaException(KafkaError(KafkaError._TRANSPORT))
    holdings.want([])  # the resource is gone
    m.leave()
    assert m.consumer is None
    assert not holdings.holds(["a"])


def test_a_topic_no_longer_wanted_is_not_subscribed_to_from_a_stale_list() -> None:
    """The consumer thread acts on a list read before the resource was deleted: the
    deleted topic (retire_topics found no holder and may be deleting it) is left out."""
    holdings = Holdings("test", "g", "c")
    m = member(holdings, [])
    holdings.want(["a", "b"])
    stale = ["a", "b"]
    holdings.want(["a"])  # b's resource deleted
    assert not holdings.holds(["b"])  # retire_topics may delete b now
    m.follow(stale)
    assert FakeConsumer.made[0].subscriptions == [["a"]]
    assert not holdings.holds(["b"]) and holdings.holds(["a"])


def test_a_wanted_topic_is_held_before_the_consumer_subscribes() -> None:
    holdings = Holdings("test", "g", "c")
    m = member(holdings, [])
    holdings.want(["a"])
    seen: list[bool] = []
    FakeConsumer.on_subscribe = lambda: seen.append(holdings.holds(["a"]))
    try:
        m.follow(["a"])
    finally:
        FakeConsumer.on_subscribe = None
    assert seen == [True]
