"""The wall clock every engine reads, injected so tests can set the time.

A clock returns milliseconds since the epoch, the unit of every timestamp eventplane
writes to Kafka. Engines take it from ``ServerContext.clock`` (or a constructor
argument); they never call ``time.time()`` themselves, so visibility, schedules,
retention and replays are unit-testable without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], int]
"""Milliseconds since the Unix epoch."""


def wall_clock_ms() -> int:
    """The real time, in whole milliseconds."""
    return int(time.time() * 1000)


class FixedClock:
    """A clock that stands still until told to move, for tests."""

    def __init__(self, now_ms: int = 0) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, ms: int) -> None:
        self.now_ms += ms
