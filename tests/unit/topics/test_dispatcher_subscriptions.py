"""The fan-out dispatcher's per-topic subscription cache: built once, rebuilt on change."""

from __future__ import annotations

from typing import Any

from eventplane.config import Settings
from eventplane.registry import Resource
from eventplane.topics.attributes import SubscriptionConfig
from eventplane.topics.dispatcher import FanoutDispatcher
from eventplane.topics.models import SUBSCRIPTION


class FakeRegistry:
    def __init__(self) -> None:
        self.resources: dict[str, Resource] = {}
        self.listeners: list[Any] = []
        self.finds = 0

    def find(self, kind: str, prefix: str = "") -> list[Resource]:
        self.finds += 1
        return [r for r in self.resources.values() if r.kind == kind and r.name.startswith(prefix)]

    def get(self, kind: str, name: str) -> Resource | None:
        r = self.resources.get(name)
        return r if r is not None and r.kind == kind else None

    def subscribe(self, listener: Any) -> None:
        self.listeners.append(listener)

    def put_subscription(self, topic: str, sub_id: str, queue: str) -> None:
        config = SubscriptionConfig(protocol="sqs", endpoint=queue)
        spec = {"topic": topic, "id": sub_id, "config": config.to_spec()}
        name = f"{topic}:{sub_id}"
        self.resources[name] = Resource(SUBSCRIPTION, name, spec, 1, 0, 0)
        for listener in self.listeners:
            listener(SUBSCRIPTION, name, self.resources[name])


def dispatcher(registry: FakeRegistry) -> FanoutDispatcher:
    return FanoutDispatcher(Settings(), registry, instance_id="t")  # type: ignore[arg-type]


def test_subscriptions_are_read_once_per_change_of_the_topic() -> None:
    registry = FakeRegistry()
    registry.put_subscription("orders", "a", "q1")
    d = dispatcher(registry)
    first = d._subscriptions("orders")
    assert [s.config.endpoint for s in first] == ["q1"]
    assert d._subscriptions("orders") is first  # no registry scan per message
    assert registry.finds == 1

    registry.put_subscription("orders", "b", "q2")
    assert sorted(s.config.endpoint for s in d._subscriptions("orders")) == ["q1", "q2"]
    registry.put_subscription("audit", "c", "q3")  # another topic's change keeps this cache
    finds = registry.finds
    d._subscriptions("orders")
    assert registry.finds == finds


def test_a_change_during_a_rebuild_is_seen_at_the_next_message() -> None:
    registry = FakeRegistry()
    d = dispatcher(registry)
    original_find = registry.find

    def racing_find(kind: str, prefix: str = "") -> list[Resource]:
        found = original_find(kind, prefix)
        if not found:  # the subscription arrives right after the scan
            registry.put_subscription("orders", "a", "q1")
        return found

    registry.find = racing_find  # type: ignore[method-assign]
    assert d._subscriptions("orders") == []
    registry.find = original_find  # type: ignore[method-assign]
    assert [s.config.endpoint for s in d._subscriptions("orders")] == ["q1"]
