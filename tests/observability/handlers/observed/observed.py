"""Handlers the observability test's load invokes: one that answers, one that fails."""

from __future__ import annotations

from typing import Any


def ok(event: Any, context: Any) -> dict[str, Any]:
    return {"echo": event}


def fail(event: Any, context: Any) -> None:
    raise ValueError(f"refused: {event!r}")
