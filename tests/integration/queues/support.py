"""Helpers shared by the queue tests."""

from __future__ import annotations

import time
from typing import Any

from eventplane.client import Client, Message
from eventplane.testing import eventually

COUNT_NAMES = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


def counts(client: Client, url: str) -> tuple[int, int, int]:
    """(visible, not visible, delayed)."""
    a = client.queues.get_queue_attributes(url, COUNT_NAMES)
    visible, not_visible, delayed = (int(a[n]) for n in COUNT_NAMES)
    return visible, not_visible, delayed


def expect_counts(
    client: Client, url: str, *, visible: int = 0, not_visible: int = 0, delayed: int = 0
) -> None:
    def check() -> bool:
        assert counts(client, url) == (visible, not_visible, delayed)
        return True

    eventually(check, timeout=10)


def receive_all(client: Client, url: str, n: int, **kwargs: Any) -> list[Message]:
    """Receive until ``n`` messages arrived (a standard queue may split them over receives)."""
    got: list[Message] = []
    deadline = time.monotonic() + 15
    while len(got) < n and time.monotonic() < deadline:
        got += client.queues.receive_message(
            url, max_number_of_messages=min(10, n - len(got)), wait_time_seconds=2, **kwargs
        )
    assert len(got) == n, f"received {len(got)} of {n} messages"
    return got
