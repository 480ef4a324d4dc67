"""The injected clock: engines read ServerContext.clock, tests set the time."""

from __future__ import annotations

import time

from eventplane.functions.invocations import new_invocation
from eventplane.runtime import FixedClock, ServerContext, wall_clock_ms


def test_wall_clock_is_milliseconds_since_the_epoch() -> None:
    before = int(time.time() * 1000)
    now = wall_clock_ms()
    assert before <= now <= int(time.time() * 1000)


def test_fixed_clock_stands_still_until_advanced() -> None:
    clock = FixedClock(1_000)
    assert clock() == clock() == 1_000
    clock.advance(250)
    assert clock() == 1_250


def test_server_context_defaults_to_the_wall_clock() -> None:
    ctx = ServerContext(settings=None, producer=None, registry=None, instance_id="x")  # type: ignore[arg-type]
    assert ctx.clock is wall_clock_ms


def test_an_invocation_is_stamped_with_the_callers_clock() -> None:
    inv = new_invocation("fn", None, b"{}", source="invoke", now_ms=42_000)
    assert inv.first_ms == 42_000
