"""Errors of the event bus capability (defined in ``eventplane.errors.bus``, which
imports nothing of the server, so the SDK and every front door share them)."""

from eventplane.errors.bus import (
    IllegalStatus,
    InvalidEventPattern,
    LimitExceeded,
)

__all__ = [
    "IllegalStatus",
    "InvalidEventPattern",
    "LimitExceeded",
]
