"""Registry misses catch up with the registry topic's end (registry/store.py catch_up);
while the broker is away that must not block every caller in turn.

The broker side is a stub here (what it answers is the point, not Kafka): the real
catch-up is checked across two replicas in tests/integration/test_read_after_create.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from eventplane.config import Settings
from eventplane.registry import store
from eventplane.registry.store import CATCH_UP_BACKOFF_S, Registry


class Ends:
    """The end-offset consumer: counts queries, fails or answers ``end``."""

    def __init__(self, end: int | None) -> None:
        self.end = end
        self.queries = 0

    def get_watermark_offsets(self, tp: Any, timeout: float) -> tuple[int, int]:
        self.queries += 1
        if self.end is None:
            raise KafkaException(KafkaError(KafkaError._TRANSPORT))
        return 0, self.end


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(store.time, "monotonic", c.monotonic)
    return c


def registry(ends: Ends) -> Registry:
    reg = Registry(Settings(), producer=None)  # type: ignore[arg-type]
    reg._ends = ends  # type: ignore[assignment]  # as start() leaves it
    return reg


def test_a_view_that_has_the_end_catches_up_with_one_query_per_miss(clock: Clock) -> None:
    ends = Ends(end=5)
    reg = registry(ends)
    reg._applied = 4
    assert reg.catch_up()
    clock.now += 0.001
    assert reg.catch_up()
    assert ends.queries == 2  # each miss after the last query started asks again


def test_after_the_broker_failed_a_query_misses_answer_from_the_view_for_a_while(
    clock: Clock,
) -> None:
    ends = Ends(end=None)
    reg = registry(ends)
    assert not reg.catch_up()
    for _ in range(5):
        clock.now += 1.0
        assert not reg.catch_up()
    assert ends.queries == 1  # not one blocking query per miss

    ends.end = 1
    reg._applied = 0
    clock.now += CATCH_UP_BACKOFF_S
    assert reg.catch_up()  # the broker is back: misses catch up again
    assert ends.queries == 2


def test_after_a_catch_up_timed_out_misses_answer_from_the_view_for_a_while(
    clock: Clock,
) -> None:
    ends = Ends(end=10)  # the view never gets there (its follower is stuck)
    reg = registry(ends)
    assert not reg.catch_up(timeout=0.01)
    clock.now += 1.0
    assert not reg.catch_up(timeout=0.01)
    assert ends.queries == 1


def test_authorizing_an_invoke_reads_the_functions_policy_without_a_query(clock: Clock) -> None:
    """A function's resource policy is looked up on every authorized call, and most
    functions have none: that miss must not ask Kafka for the registry's end each time
    (it did, on the event loop: half of what security added to a sync invoke)."""
    from eventplane.functions.permissions import FunctionPermissions

    ends = Ends(end=5)
    reg = registry(ends)
    reg._applied = 4
    permissions = FunctionPermissions(reg, lambda name, qualifier: None)  # type: ignore[arg-type,return-value]
    for _ in range(3):
        assert permissions.text_of("arn:aws:lambda:local:000000000000:function:f") is None
    assert ends.queries == 0
    assert reg.get("function-policy", "f") is None  # an ordinary miss still catches up
    assert ends.queries == 1
