"""``take``: a batch off a consumer without waiting out the timeout for a full one.

``Consumer.consume(n, timeout)`` returns early only once it has ``n`` messages, so every
reader that asked for a batch and got fewer (the usual case off a quiet path: one stream
record, one HTTP delivery) waited the whole timeout. ``take`` waits only for the first.
"""

from __future__ import annotations

from typing import Any

from eventplane.kafka.clients import take


class _Consumer:
    def __init__(self, ready: list[str]) -> None:
        self.ready = ready
        self.calls: list[tuple[str, float, int]] = []

    def poll(self, timeout: float) -> Any:
        self.calls.append(("poll", timeout, 1))
        return self.ready.pop(0) if self.ready else None

    def consume(self, n: int, timeout: float) -> list[Any]:
        self.calls.append(("consume", timeout, n))
        out, self.ready = self.ready[:n], self.ready[n:]
        return out


def test_waits_for_the_first_message_only_then_takes_what_is_there() -> None:
    c = _Consumer(["a", "b", "c"])
    assert take(c, 500, 0.2) == ["a", "b", "c"]
    # The timeout goes to the first message; the rest are taken without waiting.
    assert c.calls == [("poll", 0.2, 1), ("consume", 0, 499)]


def test_nothing_there_is_an_empty_batch_after_one_wait() -> None:
    c = _Consumer([])
    assert take(c, 50, 0.2) == []
    assert c.calls == [("poll", 0.2, 1)]


def test_never_more_than_the_limit() -> None:
    c = _Consumer(["a", "b", "c"])
    assert take(c, 2, 0.1) == ["a", "b"]
    assert take(c, 1, 0.1) == ["c"]
    assert [call[0] for call in c.calls] == ["poll", "consume", "poll"]
