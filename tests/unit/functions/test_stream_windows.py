"""TumblingWindowInSeconds with an injected clock: window arithmetic, the state carried
from batch to batch within a window, the final invocation at its end, a fresh state in
the next window, a response without state failing, validation, and the stream reader
resuming an open window (and its state) from the checkpoint."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from eventplane.functions.errors import InvalidParameterValueException
from eventplane.functions.models import MappingDef
from eventplane.functions.stream_batches import Outcome
from eventplane.functions.stream_windows import (
    MISSING_STATE,
    Tumbler,
    Window,
    by_window,
    state_of,
    window_event,
    window_of,
)
from eventplane.messaging.stream_sources import StreamRecord

from .test_stream_runner import (
    SHARD,
    STREAM,
    FakeCheckpoints,
    FakeStream,
    Result,
    drive,
    runner,
)

W0 = 1_800_000_000_000  # a window start: a multiple of 60 s, in ms


def rec(position: int, created_ms: int) -> StreamRecord:
    body = {"eventName": "INSERT", "dynamodb": {"SequenceNumber": f"{position:021d}"}}
    return StreamRecord(position, body, "k", created_ms)


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


class Counting:
    """A handler adding each batch's record count to ``state["count"]``."""

    def __init__(self, fail_final: int = 0, answer: Any = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.fail_final = fail_final
        self.answer = answer

    async def __call__(self, payload: bytes) -> Outcome:
        event = json.loads(payload)
        self.events.append(event)
        if event["isFinalInvokeForWindow"] and self.fail_final:
            self.fail_final -= 1
            return Outcome("Unhandled", b'{"errorMessage": "boom"}')
        if self.answer is not None:
            return Outcome(None, json.dumps(self.answer).encode())
        count = event["state"].get("count", 0) + len(event["Records"])
        return Outcome(None, json.dumps({"state": {"count": count}}).encode())


async def no_pause(seconds: float) -> None:
    return None


def tumbler(run: Counting, clock: Clock, seconds: int = 60, **kw: Any) -> Tumbler:
    return Tumbler(
        seconds, stream_arn=STREAM, shard=SHARD, run=run, now_ms=clock, pause=no_pause, **kw
    )


def test_windows_are_aligned_to_the_epoch() -> None:
    assert window_of(W0, 60) == (W0, W0 + 60_000)
    assert window_of(W0 + 59_999, 60) == (W0, W0 + 60_000)
    assert window_of(W0 + 60_000, 60) == (W0 + 60_000, W0 + 120_000)
    runs = by_window([rec(0, W0), rec(1, W0 + 1), rec(2, W0 + 60_000), rec(3, W0 + 61_000)], 60)
    assert [[r.position for r in run] for run in runs] == [[0, 1], [2, 3]]


def test_the_event_has_lambdas_window_fields() -> None:
    body = window_event(
        [rec(0, W0)], stream_arn=STREAM, shard=SHARD, window=Window(W0, W0 + 60_000, {"a": 1})
    )
    assert body["window"] == {"start": "2027-01-15T08:00:00Z", "end": "2027-01-15T08:01:00Z"}
    assert body["state"] == {"a": 1} and body["shardId"] == SHARD
    assert body["eventSourceARN"] == STREAM and body["Records"][0]["eventSourceARN"] == STREAM
    assert body["isFinalInvokeForWindow"] is False and body["isWindowTerminatedEarly"] is False


def test_state_is_carried_within_a_window_then_a_final_invoke_and_a_fresh_state() -> None:
    run, clock = Counting(), Clock(W0 + 1000)
    t = tumbler(run, clock)

    async def main() -> None:
        for batch in ([rec(0, W0), rec(1, W0 + 1)], [rec(2, W0 + 2)]):
            await t.enter(batch[0])
            assert (await t.invoke(batch)).ok
        assert not await t.close_if_over()  # the window is still open
        await t.enter(rec(3, W0 + 60_000))  # a record of the next window ends it
        await t.invoke([rec(3, W0 + 60_000)])

    asyncio.run(main())
    states = [e["state"] for e in run.events]
    assert states == [{}, {"count": 2}, {"count": 3}, {}]
    final = run.events[2]
    assert final["isFinalInvokeForWindow"] is True and final["Records"] == []
    assert not any(e["isFinalInvokeForWindow"] for e in run.events[:2] + run.events[3:])
    assert t.window == Window(W0 + 60_000, W0 + 120_000, {"count": 1})


def test_the_clock_passing_the_end_closes_the_window() -> None:
    run, clock = Counting(fail_final=2), Clock(W0 + 1000)
    t = tumbler(run, clock)

    async def main() -> None:
        await t.enter(rec(0, W0))
        await t.invoke([rec(0, W0)])
        clock.now = W0 + 60_000
        assert await t.close_if_over()

    asyncio.run(main())
    finals = [e for e in run.events if e["isFinalInvokeForWindow"]]
    # A failing final invocation is retried until it succeeds, with the same state.
    assert len(finals) == 3 and all(e["state"] == {"count": 1} for e in finals)
    assert t.window is None


def test_a_response_without_state_is_a_failed_invocation() -> None:
    run = Counting(answer={"batchItemFailures": []})
    t = tumbler(run, Clock(W0))

    async def main() -> Outcome:
        await t.enter(rec(0, W0))
        return await t.invoke([rec(0, W0)])

    outcome = asyncio.run(main())
    assert outcome.function_error == MISSING_STATE
    assert t.window is not None and t.window.state == {}
    assert state_of(b"null") is None and state_of(b'{"state": {"a": 1}}') == {"a": 1}


def test_a_state_over_1_mb_ends_the_window_early() -> None:
    run = Counting(answer={"state": {"big": "x" * (1024 * 1024)}})
    t = tumbler(run, Clock(W0))

    async def main() -> None:
        await t.enter(rec(0, W0))
        await t.invoke([rec(0, W0)])

    asyncio.run(main())
    final = run.events[-1]
    assert final["isFinalInvokeForWindow"] and final["isWindowTerminatedEarly"]
    assert t.window == Window(W0, W0 + 60_000, {})  # the same window, a fresh state


def test_tumbling_window_is_validated_and_stream_only() -> None:
    def build(**kw: Any) -> MappingDef:
        return MappingDef.build("m-1", STREAM, "fn", starting_position="LATEST", **kw)

    assert build(tumbling_window_seconds=900).stream.tumbling_window_seconds == 900  # type: ignore[union-attr]
    for bad in (-1, 901):
        with pytest.raises(InvalidParameterValueException) as err:
            build(tumbling_window_seconds=bad)
        assert "TumblingWindowInSeconds" in err.value.message
    queue = "arn:aws:sqs:local:000000000000:q"
    with pytest.raises(InvalidParameterValueException) as err:
        MappingDef.build("m-2", queue, "fn", tumbling_window_seconds=30)
    assert "TumblingWindowInSeconds" in err.value.message
    m = build(tumbling_window_seconds=30)
    assert m.stream is not None and m.stream.to_spec()["tumbling_window_seconds"] == 30
    changed = m.update(last_modified="now", tumbling_window_seconds=0).stream
    assert changed is not None and changed.tumbling_window_seconds == 0
    kept = m.update(last_modified="now", batch_size=5).stream
    assert kept is not None and kept.tumbling_window_seconds == 30


class WindowCheckpoints(FakeCheckpoints):
    def __init__(self, saved: dict[str, int] | None = None, windows: Any = None) -> None:
        super().__init__(saved)
        self.windows: dict[str, Any] = dict(windows or {})

    def window(self, mapping_uuid: str, shard: str) -> Any:
        return self.windows.get(f"{mapping_uuid}/{shard}")

    async def save(  # type: ignore[override]
        self, mapping_uuid: str, shard: str, position: int, window: Any = None, *, root: str = ""
    ) -> None:
        await super().save(mapping_uuid, shard, position)
        self.windows[f"{mapping_uuid}/{shard}"] = window


def test_the_reader_resumes_an_open_window_with_its_checkpointed_state() -> None:
    stream = FakeStream([rec(p, W0 + p) for p in range(6)])
    key = f"m-1/{SHARD}"
    saved = Window(W0, W0 + 60_000, {"count": 4}).to_json()
    cps = WindowCheckpoints({key: 4}, {key: saved})
    events: list[dict[str, Any]] = []

    def handle(positions: list[int]) -> Result:
        return Result()

    r = runner(stream, cps, handle)

    async def run(mapping: MappingDef, payload: bytes) -> Any:
        event = json.loads(payload)
        events.append(event)
        count = event["state"].get("count", 0) + len(event["Records"])
        return Result(payload=json.dumps({"state": {"count": count}}).encode())

    r._run = run
    r._clock = lambda: W0 + 30_000  # type: ignore[assignment]
    m = MappingDef.build(
        "m-1",
        STREAM,
        "fn",
        starting_position="TRIM_HORIZON",
        batch_size=10,
        tumbling_window_seconds=60,
        created_ms=W0,
    )
    drive(r, m, lambda: cps.saved.get(key) == 6)
    assert [e["state"] for e in events] == [{"count": 4}]
    assert cps.windows[key]["state"] == {"count": 6}  # kept with the checkpoint

    # Past the window's end with the shard caught up: the final invocation, then no window.
    r._clock = lambda: W0 + 60_000  # type: ignore[assignment]
    drive(r, m, lambda: cps.windows.get(key) is None)
    final = events[-1]
    assert final["isFinalInvokeForWindow"] is True and final["state"] == {"count": 6}
