"""TumblingWindowInSeconds: stateful stream processing, as Lambda does it for DynamoDB
Streams.

Every record belongs to one window of the mapping's length, aligned to the epoch, by the
time its change was made (``created_ms``). Within a window of one shard the function is
invoked with the usual ``Records`` plus ``window`` (``start``/``end``), ``state`` (what
it returned as ``{"state": {...}}`` last time in this window; ``{}`` at first),
``shardId``, ``eventSourceARN``, ``isFinalInvokeForWindow`` and
``isWindowTerminatedEarly``. A response without a ``state`` object is a failed
invocation (retried like any other). When the window is over (a record of a later window
arrives, or the clock passes its end while the shard is caught up) the function is
invoked once more with no records, the window's state and ``isFinalInvokeForWindow``
true; it is retried until it succeeds, blocking the shard as Lambda does. A state over
1 MB ends the window early: a final invocation with ``isWindowTerminatedEarly`` true,
then the same window goes on with a fresh state.

The open window (start and state) is kept with the shard's checkpoint, so a restart or
a new owner resumes it with the state of the last chunk checkpointed.

Plain logic over an ``invoke`` callback and an injected clock, so it is unit-testable.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eventplane.functions.stream_batches import MAX_RETRY_PAUSE_S, RETRY_PAUSE_S, Outcome, event
from eventplane.messaging.stream_sources import StreamRecord

MAX_STATE_BYTES = 1024 * 1024
MISSING_STATE = "Unhandled"  # what a response without ``state`` counts as


@dataclass
class Window:
    """One shard's open window and the state the function built in it."""

    start_ms: int
    end_ms: int
    state: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"start_ms": self.start_ms, "end_ms": self.end_ms, "state": self.state}

    @staticmethod
    def from_json(data: dict[str, Any] | None) -> Window | None:
        if not data:
            return None
        return Window(int(data["start_ms"]), int(data["end_ms"]), dict(data.get("state") or {}))


def window_of(created_ms: int, seconds: int) -> tuple[int, int]:
    """The [start, end) in ms of the window a record made at ``created_ms`` falls in."""
    length = seconds * 1000
    start = created_ms - created_ms % length
    return start, start + length


def by_window(records: Sequence[StreamRecord], seconds: int) -> list[list[StreamRecord]]:
    """Consecutive runs of records of one window, in order."""
    out: list[list[StreamRecord]] = []
    current: int | None = None
    for r in records:
        start = window_of(r.created_ms, seconds)[0]
        if start != current or not out:
            out.append([])
            current = start
        out[-1].append(r)
    return out


def state_of(payload: bytes) -> dict[str, Any] | None:
    """The ``state`` object of a response, or None when it has none."""
    try:
        response = json.loads(payload) if payload.strip() else None
    except ValueError:
        return None
    if not isinstance(response, dict):
        return None
    found = response.get("state")
    return found if isinstance(found, dict) else None


def _iso(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


def window_event(
    records: Sequence[StreamRecord],
    *,
    stream_arn: str,
    shard: str,
    window: Window,
    final: bool = False,
    early: bool = False,
) -> dict[str, Any]:
    """The handler's event within a tumbling window."""
    return {
        **event(records, stream_arn),
        "window": {"start": _iso(window.start_ms), "end": _iso(window.end_ms)},
        "state": window.state,
        "shardId": shard,
        "eventSourceARN": stream_arn,
        "isFinalInvokeForWindow": final,
        "isWindowTerminatedEarly": early,
    }


Run = Callable[[bytes], Awaitable[Outcome]]


class Tumbler:
    """The open window of one shard of one mapping."""

    def __init__(
        self,
        seconds: int,
        *,
        stream_arn: str,
        shard: str,
        run: Run,
        now_ms: Callable[[], int],
        window: Window | None = None,
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.seconds = seconds
        self._arn = stream_arn
        self._shard = shard
        self._run = run
        self._now_ms = now_ms
        self._pause = pause
        self.window = window

    async def enter(self, record: StreamRecord) -> None:
        """Before a record's batch: the open window ends first if the record is of a
        later one."""
        start, end = window_of(record.created_ms, self.seconds)
        if self.window is not None and self.window.start_ms != start:
            await self._final(early=False)
        if self.window is None:
            self.window = Window(start, end)

    async def invoke(self, batch: Sequence[StreamRecord]) -> Outcome:
        """One batch of the open window; its response's ``state`` becomes the window's."""
        assert self.window is not None, "enter() opens the window first"
        body = window_event(batch, stream_arn=self._arn, shard=self._shard, window=self.window)
        outcome = await self._run(json.dumps(body).encode())
        if not outcome.ok:
            return outcome
        state = state_of(outcome.payload)
        if state is None:
            return Outcome(MISSING_STATE, outcome.payload, outcome.request_id)
        self.window.state = state
        if len(json.dumps(state)) > MAX_STATE_BYTES:
            await self._final(early=True)
            self.window = Window(*window_of(batch[-1].created_ms, self.seconds))
        return outcome

    async def close_if_over(self) -> bool:
        """With the shard caught up: the final invocation once the clock passed the end."""
        if self.window is None or self._now_ms() < self.window.end_ms:
            return False
        await self._final(early=False)
        return True

    async def _final(self, *, early: bool) -> None:
        """Retried until it succeeds: the shard waits, as on Lambda."""
        assert self.window is not None
        body = window_event(
            [],
            stream_arn=self._arn,
            shard=self._shard,
            window=self.window,
            final=True,
            early=early,
        )
        payload = json.dumps(body).encode()
        attempt = 0
        while not (await self._run(payload)).ok:
            await self._pause(min(MAX_RETRY_PAUSE_S, RETRY_PAUSE_S * 2**attempt))
            attempt += 1
        self.window = None
