"""What authentication and authorization remember between calls, bounded.

Each memo is a plain dict read on every call; when it is full it starts again rather
than track what was used least (the hot entries are back after one call each).
"""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def remember(memo: dict[K, V], key: K, value: V, limit: int) -> None:
    """``memo[key] = value``, emptying ``memo`` first when it holds ``limit`` entries."""
    if len(memo) >= limit:
        memo.clear()
    memo[key] = value
