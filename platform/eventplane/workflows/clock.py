"""The clock executions read: wall time plus an offset.

Every due time (Wait, Retry back-off, task and execution timeouts) is computed from
this clock, and timers fire when it reaches them. An offset moves the whole
workflow engine's notion of "now" (``EVENTPLANE_WORKFLOWS_CLOCK_OFFSET_MS``), which
is how a two-day Wait is tested in seconds: the defaults users get are untouched.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

OFFSET_ENV = "EVENTPLANE_WORKFLOWS_CLOCK_OFFSET_MS"


@dataclass(frozen=True, slots=True)
class Clock:
    offset_ms: int = 0

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.offset_ms

    def wall_ms(self, due_ms: int) -> int:
        """The wall-clock time at which this clock shows ``due_ms``."""
        return due_ms - self.offset_ms

    @staticmethod
    def from_env() -> Clock:
        return Clock(int(os.environ.get(OFFSET_ENV, "0") or 0))
