"""Stream mapping batch logic with a fake function: retries, bisection, record age,
partial batch failures, lanes, the OnFailure record, and the settings' validation."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from eventplane.errors import EventplaneError
from eventplane.functions.models import MappingDef
from eventplane.functions.stream_batches import (
    RECORD_AGE_EXCEEDED,
    RETRIES_EXHAUSTED,
    BatchProcessor,
    Failure,
    Outcome,
    StreamPolicy,
    batches,
    event,
    failure_record,
    lanes,
)
from eventplane.messaging.stream_sources import StreamRecord

STREAM = "arn:aws:dynamodb:local:000000000000:table/t/stream/2026-01-01T00:00:00.000"
QUEUE = "arn:aws:sqs:local:000000000000:q"
NOW = 1_000_000_000


def rec(i: int, key: str | None = None, created_ms: int = NOW) -> StreamRecord:
    seq = f"{i:021d}"
    body = {"eventName": "INSERT", "dynamodb": {"SequenceNumber": seq, "Keys": {}}}
    return StreamRecord(i, body, key or f"k{i}", created_ms)


class FakeFunction:
    """Fails every batch holding a poisoned position; optionally reports instead."""

    def __init__(self, poisoned: set[int], report: bool = False, heal_after: int = 0) -> None:
        self.poisoned = poisoned
        self.report = report
        self.heal_after = heal_after  # the poison works this many times, then heals
        self.calls: list[list[int]] = []
        self.finished: list[int] = []

    async def __call__(self, batch: list[StreamRecord]) -> Outcome:
        positions = [r.position for r in batch]
        self.calls.append(positions)
        healed = self.heal_after and len(self.calls) > self.heal_after
        bad = [p for p in positions if p in self.poisoned and not healed]
        if not bad:
            self.finished += positions
            return Outcome(None, b"null", "req")
        if self.report:
            first = positions.index(min(bad))
            self.finished += positions[:first]
            items = [{"itemIdentifier": f"{p:021d}"} for p in bad]
            return Outcome(None, json.dumps({"batchItemFailures": items}).encode(), "req")
        return Outcome("Unhandled", b'{"errorMessage": "poison"}', "req")


def run(
    records: list[StreamRecord], fn: FakeFunction, now: int = NOW, **policy: Any
) -> tuple[list[Failure], list[float]]:
    failures: list[Failure] = []
    pauses: list[float] = []

    async def discard(f: Failure) -> None:
        failures.append(f)

    async def pause(s: float) -> None:
        pauses.append(s)

    processor = BatchProcessor(StreamPolicy(**policy), fn, discard, lambda: now, pause)
    asyncio.run(processor.process(records))
    return failures, pauses


def test_a_successful_batch_is_one_invocation() -> None:
    fn = FakeFunction(set())
    failures, _ = run([rec(i) for i in range(4)], fn)
    assert fn.calls == [[0, 1, 2, 3]] and failures == []


def test_retries_then_the_batch_is_given_up_whole_without_bisect() -> None:
    fn = FakeFunction({2})
    failures, pauses = run([rec(i) for i in range(4)], fn, maximum_retry_attempts=2)
    assert fn.calls == [[0, 1, 2, 3]] * 3
    assert len(pauses) == 2 and pauses[0] < pauses[1]  # growing pauses between retries
    assert [([r.position for r in f.records], f.condition) for f in failures] == [
        ([0, 1, 2, 3], RETRIES_EXHAUSTED)
    ]
    assert failures[0].invocations == 3 and failures[0].outcome is not None


def test_bisect_isolates_the_poisoned_record_and_keeps_order() -> None:
    fn = FakeFunction({5})
    failures, _ = run([rec(i) for i in range(8)], fn, maximum_retry_attempts=1, bisect=True)
    assert fn.finished == [0, 1, 2, 3, 4, 6, 7]
    assert fn.calls == [
        [0, 1, 2, 3, 4, 5, 6, 7],
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [4, 5],
        [4],
        [5],
        [5],  # the one retry: splitting did not use it up
        [6, 7],
    ]
    assert [[r.position for r in f.records] for f in failures] == [[5]]


def test_a_failure_that_heals_is_retried_until_it_succeeds() -> None:
    fn = FakeFunction({1}, heal_after=3)
    failures, pauses = run([rec(i) for i in range(3)], fn)  # -1: retry until records expire
    assert failures == [] and len(fn.calls) == 4 and fn.finished == [0, 1, 2]
    assert len(pauses) == 3


def test_reported_failures_retry_from_the_lowest_failed_record() -> None:
    fn = FakeFunction({3, 1}, report=True, heal_after=1)
    failures, _ = run(
        [rec(i) for i in range(5)], fn, report_batch_item_failures=True, maximum_retry_attempts=3
    )
    assert fn.calls == [[0, 1, 2, 3, 4], [1, 2, 3, 4]]
    assert fn.finished == [0, 1, 2, 3, 4] and failures == []


@pytest.mark.parametrize(
    "payload",
    [
        b'{"batchItemFailures": [{"itemIdentifier": "nope"}]}',
        b'{"batchItemFailures": [{"itemIdentifier": ""}]}',
        b'{"batchItemFailures": [{"itemIdentifier": null}]}',
        b'{"batchItemFailures": "x"}',
        b"[1]",
        b"not json",
    ],
)
def test_a_malformed_report_fails_the_whole_batch(payload: bytes) -> None:
    calls: list[int] = []

    async def fn(batch: list[StreamRecord]) -> Outcome:
        calls.append(len(batch))
        return Outcome(None, payload)

    failures: list[Failure] = []

    async def discard(f: Failure) -> None:
        failures.append(f)

    async def pause(s: float) -> None:
        return None

    policy = StreamPolicy(maximum_retry_attempts=0, report_batch_item_failures=True)
    asyncio.run(BatchProcessor(policy, fn, discard, lambda: NOW, pause).process([rec(0), rec(1)]))
    assert calls == [2] and len(failures[0].records) == 2


@pytest.mark.parametrize("payload", [b"", b"null", b"{}", b'{"batchItemFailures": []}'])
def test_an_empty_report_means_every_record_succeeded(payload: bytes) -> None:
    async def fn(batch: list[StreamRecord]) -> Outcome:
        return Outcome(None, payload)

    async def discard(f: Failure) -> None:
        raise AssertionError("nothing fails")

    policy = StreamPolicy(maximum_retry_attempts=0, report_batch_item_failures=True)
    asyncio.run(BatchProcessor(policy, fn, discard, lambda: NOW).process([rec(0), rec(1)]))


def test_records_older_than_the_maximum_age_are_discarded_without_invoking() -> None:
    fn = FakeFunction(set())
    old, fresh = NOW - 120_000, NOW - 10_000
    records = [rec(0, created_ms=old), rec(1, created_ms=old), rec(2, created_ms=fresh)]
    failures, _ = run(records, fn, maximum_record_age_seconds=60)
    assert fn.calls == [[2]]
    assert [([r.position for r in f.records], f.condition) for f in failures] == [
        ([0, 1], RECORD_AGE_EXCEEDED)
    ]


def test_lanes_keep_each_items_changes_in_order() -> None:
    records = [rec(i, key=f"item{i % 3}") for i in range(12)]
    split = lanes(records, 4)
    assert sorted(r.position for lane in split for r in lane) == list(range(12))
    for lane in split:
        assert [r.position for r in lane] == sorted(r.position for r in lane)
    for key in ("item0", "item1", "item2"):
        assert sum(any(r.item_key == key for r in lane) for lane in split) == 1
    assert lanes(records, 1) == [records]
    assert [len(b) for b in batches(records, 5)] == [5, 5, 2]


def test_event_and_failure_record_shapes() -> None:
    records = [rec(3), rec(4)]
    ev = event(records, STREAM)
    assert [r["eventSourceARN"] for r in ev["Records"]] == [STREAM, STREAM]
    assert ev["Records"][0]["dynamodb"]["SequenceNumber"] == f"{3:021d}"
    failure = Failure(records, RETRIES_EXHAUSTED, Outcome("Unhandled", b"", "rid", "$LATEST"), 3)
    out = failure_record(failure, function_arn="arn:fn", stream_arn=STREAM, shard="s-1", now_ms=NOW)
    assert out["requestContext"] == {
        "requestId": "rid",
        "functionArn": "arn:fn",
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 3,
    }
    assert out["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    info = out["DDBStreamBatchInfo"]
    assert info["shardId"] == "s-1" and info["streamArn"] == STREAM and info["batchSize"] == 2
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (f"{3:021d}", f"{4:021d}")
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")
    assert out["version"] == "1.0" and out["timestamp"].endswith("Z")


# --- settings --------------------------------------------------------------------------


def build(source: str = STREAM, **kw: Any) -> MappingDef:
    return MappingDef.build("u", source, "fn", **kw)


def test_stream_defaults() -> None:
    m = build(starting_position="TRIM_HORIZON")
    assert m.stream is not None and m.batch_size == 100 and m.queue == ""
    assert (m.stream.maximum_retry_attempts, m.stream.maximum_record_age_seconds) == (-1, -1)
    assert m.stream.parallelization_factor == 1 and not m.stream.bisect_batch_on_function_error
    # A stream batch over 10 needs no batching window (a queue's does).
    assert build(starting_position="LATEST", batch_size=500).batch_size == 500


@pytest.mark.parametrize(
    ("kw", "code", "words"),
    [
        ({}, "InvalidParameterValueException", "StartingPosition is required"),
        ({"starting_position": "X"}, "ValidationException", "'startingPosition'"),
        ({"starting_position": "AT_TIMESTAMP"}, "InvalidParameterValueException", "Timestamp"),
        (
            {"starting_position": "LATEST", "maximum_retry_attempts": 10_001},
            "ValidationException",
            "maximumRetryAttempts",
        ),
        (
            {"starting_position": "LATEST", "maximum_record_age_seconds": 59},
            "InvalidParameterValueException",
            "MaximumRecordAgeInSeconds",
        ),
        (
            {"starting_position": "LATEST", "maximum_record_age_seconds": 604_801},
            "ValidationException",
            "maximumRecordAgeInSeconds",
        ),
        (
            {"starting_position": "LATEST", "parallelization_factor": 0},
            "ValidationException",
            "parallelizationFactor",
        ),
        (
            {"starting_position": "LATEST", "on_failure": "arn:aws:events:local:0:event-bus/b"},
            "InvalidParameterValueException",
            "OnFailure",
        ),
        (
            {"starting_position": "LATEST", "filters": ['{"a": "not a list"}']},
            "InvalidParameterValueException",
            "filter pattern",
        ),
        (
            {"starting_position": "LATEST", "filters": ["{}"] * 6},
            "InvalidParameterValueException",
            "Filters",
        ),
        (
            {"starting_position": "LATEST", "maximum_concurrency": 5},
            "InvalidParameterValueException",
            "ScalingConfig",
        ),
    ],
)
def test_stream_settings_are_refused_with_lambdas_codes(
    kw: dict[str, Any], code: str, words: str
) -> None:
    with pytest.raises(EventplaneError) as err:
        build(**kw)
    assert err.value.code == code
    assert words in err.value.message


def test_a_queue_mapping_keeps_its_filters() -> None:
    m = build(QUEUE, filters=['{"body": {"kind": ["keep"]}}'])
    assert m.stream is None and m.filter_patterns == ('{"body": {"kind": ["keep"]}}',)
    assert m.update(last_modified="x", batch_size=5).filters == m.filters
    assert m.update(last_modified="x", filters=[]).filters == ()
    with pytest.raises(EventplaneError) as err:
        build(QUEUE, filters=["{"])
    assert err.value.code == "InvalidParameterValueException"


def test_a_queue_refuses_stream_settings() -> None:
    with pytest.raises(EventplaneError) as err:
        build(QUEUE, starting_position="LATEST")
    assert err.value.code == "InvalidParameterValueException"
    assert "StartingPosition" in err.value.message
    assert build(QUEUE).stream is None


def test_settings_round_trip_through_the_registry_spec_and_update() -> None:
    from eventplane.registry import Resource

    m = build(
        starting_position="AT_TIMESTAMP",
        starting_position_timestamp_ms=5000,
        maximum_retry_attempts=3,
        bisect_batch_on_function_error=True,
        parallelization_factor=2,
        on_failure=QUEUE,
        filters=['{"eventName": ["INSERT"]}'],
        created_ms=7,
    )
    spec = json.loads(json.dumps(m.to_spec()))  # as the registry stores it
    again = MappingDef.from_resource(Resource("event-source-mapping", "u", spec, 1, 0, 0))
    assert again == m
    changed = again.update(last_modified="x", maximum_retry_attempts=5, on_failure="")
    assert changed.stream is not None
    assert changed.stream.maximum_retry_attempts == 5 and changed.stream.on_failure is None
    assert changed.stream.starting_position == "AT_TIMESTAMP"
    assert changed.stream.filters == ('{"eventName": ["INSERT"]}',)
