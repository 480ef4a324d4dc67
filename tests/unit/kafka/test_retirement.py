"""retire_topics deletes only once this process's consumers gave the topics up (bounded)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from eventplane.config import Settings
from eventplane.kafka import retirement
from eventplane.kafka.retirement import Holdings, holders_of, retire_topics

SETTINGS = Settings(kafka_bootstrap="127.0.0.1:1")


@pytest.fixture
def deleted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[float, list[str]]]]:
    calls: list[tuple[float, list[str]]] = []
    monkeypatch.setattr(
        retirement, "delete_topics", lambda _s, names: calls.append((time.monotonic(), names))
    )
    monkeypatch.setattr(retirement, "AdminClient", lambda _conf: object())
    monkeypatch.setattr(retirement, "group_holders", lambda *_a, **_k: [])
    yield calls


def later(seconds: float, action: Any) -> None:
    threading.Timer(seconds, action).start()


def test_a_topic_still_wanted_subscribed_or_assigned_is_held() -> None:
    h = Holdings("test", "g", "c1")
    h.want(["a"])
    assert holders_of(["a"]) == ["c1"]
    h.want([])
    h.subscribed(["a"])
    assert holders_of(["a"]) == ["c1"]
    h.subscribed([])
    h.assigned([("a", 0), ("a", 1)])
    assert holders_of(["a", "b"]) == ["c1"]
    h.revoked([("a", 0)])
    assert holders_of(["a"]) == ["c1"]
    h.revoked([("a", 1)])
    assert holders_of(["a"]) == []


def test_retire_waits_for_the_revocation(deleted: list[tuple[float, list[str]]]) -> None:
    h = Holdings("test", "g", "c2")
    h.subscribed(["t"])
    h.assigned([("t", 0)])

    def drop() -> None:
        h.subscribed([])
        h.revoked([("t", 0)])

    start = time.monotonic()
    later(0.3, drop)
    retire_topics(SETTINGS, ["t"], timeout=10)
    (at, names), *_ = deleted
    assert names == ["t"] and at - start >= 0.3


def test_retire_does_not_wait_for_other_topics(deleted: list[tuple[float, list[str]]]) -> None:
    h = Holdings("test", "g", "c3")
    h.assigned([("other", 0)])
    start = time.monotonic()
    retire_topics(SETTINGS, ["t"], timeout=10)
    assert deleted and deleted[0][0] - start < 1.0
    h.released()


def test_a_consumer_that_never_lets_go_delays_the_delete_but_does_not_stop_it(
    deleted: list[tuple[float, list[str]]],
) -> None:
    h = Holdings("test", "g", "c4")
    h.assigned([("stuck", 0)])
    retire_topics(SETTINGS, ["stuck"], timeout=0.2)
    assert [names for _, names in deleted] == [["stuck"]]
    h.released()
    assert holders_of(["stuck"]) == []


def test_other_members_of_the_group_are_waited_for(
    deleted: list[tuple[float, list[str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = Holdings("test", "the-group", "mine")
    until = time.monotonic() + 0.3
    asked: list[tuple[set[str], set[str]]] = []

    def remote(_admin: object, groups: Any, topics: Any, ignore: Any = ()) -> list[str]:
        asked.append((set(groups), set(ignore)))
        return ["their-replica"] if time.monotonic() < until else []

    monkeypatch.setattr(retirement, "group_holders", remote)
    retire_topics(SETTINGS, ["t"], timeout=10)
    assert deleted and deleted[0][0] >= until
    groups, ignored = asked[0]
    assert "the-group" in groups and mine.client_id in ignored
