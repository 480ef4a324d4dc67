"""Throttle: a flooding logger keeps its news without the flood."""

from __future__ import annotations

import logging

from eventplane.observability.logging import Throttle


def record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("eventplane.kafka", logging.WARNING, __file__, 1, msg, args, None)


def test_a_repeated_line_passes_burst_times_per_window_then_says_how_many_were_left_out() -> None:
    now = [0.0]
    throttle = Throttle(
        lambda r: r.getMessage().split(" ")[0], burst=3, window=10, clock=lambda: now[0]
    )
    passed = [
        throttle.filter(record("%s [%s] %s", "OFFSET", "c#1", f"reset {i}")) for i in range(8)
    ]
    assert passed == [True, True, True, False, False, False, False, False]
    assert throttle.filter(record("PARTDEL [c#1] other facility"))  # its own budget
    now[0] = 10.0
    first = record("%s [%s] %s", "OFFSET", "c#1", "reset 9")
    assert throttle.filter(first)
    assert first.getMessage() == "OFFSET [c#1] reset 9 (5 similar lines left out before this)"
    second = record("%s [%s] %s", "OFFSET", "c#1", "reset 10")
    assert throttle.filter(second) and "left out" not in second.getMessage()
