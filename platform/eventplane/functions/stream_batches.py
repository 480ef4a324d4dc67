"""What Lambda does with one batch of stream records: retries, bisection, record age,
partial batch failures, and the record it sends to an OnFailure destination.

Plain logic over two callbacks (invoke the function, discard records to the
destination), so it is unit-testable without Kafka or worker processes:

- a function error retries the batch (``MaximumRetryAttempts``, -1: until the records
  expire), after a short growing pause; nothing after the batch runs meanwhile;
- ``BisectBatchOnFunctionError`` splits a failing batch in two and processes the halves
  in order; splitting does not use up a retry, so a poisoned record ends alone;
- with ``ReportBatchItemFailures`` the function returns ``{"batchItemFailures":
  [{"itemIdentifier": <SequenceNumber>}]}``: the records before the lowest reported one
  are done, the rest is retried (an empty or null list: all done; an unknown, empty or
  null identifier, or a malformed response: the whole batch failed);
- records older than ``MaximumRecordAgeInSeconds`` are not sent to the function again;
- records given up are handed to ``discard`` with Lambda's condition
  (``RetryAttemptsExhausted``, ``RecordAgeExceeded``).
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eventplane.messaging.stream_sources import StreamRecord

RETRY_PAUSE_S = 0.2
MAX_RETRY_PAUSE_S = 10.0
RETRIES_EXHAUSTED = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED = "RecordAgeExceeded"


@dataclass(frozen=True)
class StreamPolicy:
    maximum_retry_attempts: int = -1  # -1: until the records expire
    maximum_record_age_seconds: int = -1  # -1: never too old
    bisect: bool = False
    report_batch_item_failures: bool = False


@dataclass(frozen=True)
class Outcome:
    """One invocation as the batch logic sees it."""

    function_error: str | None  # Handled / Unhandled, or None
    payload: bytes = b""
    request_id: str = ""
    executed_version: str = "$LATEST"

    @property
    def ok(self) -> bool:
        return self.function_error is None


@dataclass(frozen=True)
class Failure:
    """Records given up, and why: what an OnFailure destination hears about."""

    records: list[StreamRecord]
    condition: str
    outcome: Outcome | None
    invocations: int


Invoke = Callable[[list[StreamRecord]], Awaitable[Outcome]]
Discard = Callable[[Failure], Awaitable[None]]


def failed_from(batch: Sequence[StreamRecord], outcome: Outcome, report: bool) -> int | None:
    """The index of the first record to retry; None when the batch succeeded."""
    if not outcome.ok:
        return 0
    if not report:
        return None
    try:
        response = json.loads(outcome.payload) if outcome.payload.strip() else None
    except ValueError:
        return 0
    if response is None:
        return None
    if not isinstance(response, dict):
        return 0
    failures = response.get("batchItemFailures")
    if failures is None:
        return None
    if not isinstance(failures, list):
        return 0
    index = {_sequence(r): i for i, r in enumerate(batch)}
    lowest: int | None = None
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in index:
            return 0
        lowest = index[identifier] if lowest is None else min(lowest, index[identifier])
    return lowest


def _sequence(r: StreamRecord) -> str:
    found = r.record.get("dynamodb", {}).get("SequenceNumber")
    return str(found) if found is not None else str(r.position)


class BatchProcessor:
    def __init__(
        self,
        policy: StreamPolicy,
        invoke: Invoke,
        discard: Discard,
        now_ms: Callable[[], int],
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._policy = policy
        self._invoke = invoke
        self._discard = discard
        self._now_ms = now_ms
        self._pause = pause

    async def process(self, records: list[StreamRecord]) -> None:
        """Returns once every record succeeded or was discarded, in order."""
        policy = self._policy
        pending: deque[tuple[list[StreamRecord], int, int]] = deque([(records, 0, 0)])
        while pending:
            batch, retries, invocations = pending.popleft()
            batch = await self._expire(batch, invocations)
            if not batch:
                continue
            outcome = await self._invoke(batch)
            invocations += 1
            start = failed_from(batch, outcome, policy.report_batch_item_failures)
            if start is None:
                continue
            rest = batch[start:]
            if start == 0 and policy.bisect and len(rest) > 1:
                mid = len(rest) // 2
                pending.appendleft((rest[mid:], retries, invocations))
                pending.appendleft((rest[:mid], retries, invocations))
                continue
            limit = policy.maximum_retry_attempts
            if limit == -1 or retries < limit:
                await self._pause(min(MAX_RETRY_PAUSE_S, RETRY_PAUSE_S * 2**retries))
                pending.appendleft((rest, retries + 1, invocations))
                continue
            await self._discard(Failure(rest, RETRIES_EXHAUSTED, outcome, invocations))

    async def _expire(self, batch: list[StreamRecord], invocations: int) -> list[StreamRecord]:
        age = self._policy.maximum_record_age_seconds
        if age < 0:
            return batch
        oldest_kept = self._now_ms() - age * 1000
        # A shard's records are in time order: the expired ones are a prefix.
        cut = next((i for i, r in enumerate(batch) if r.created_ms >= oldest_kept), len(batch))
        if cut:
            await self._discard(Failure(batch[:cut], RECORD_AGE_EXCEEDED, None, invocations))
        return batch[cut:]


def lanes(records: Sequence[StreamRecord], factor: int) -> list[list[StreamRecord]]:
    """ParallelizationFactor: records split into ``factor`` ordered lanes by item key, so
    the changes of one item stay in order in one lane."""
    if factor <= 1:
        return [list(records)] if records else []
    out: list[list[StreamRecord]] = [[] for _ in range(factor)]
    for r in records:
        out[zlib.crc32(r.item_key.encode()) % factor].append(r)
    return [lane for lane in out if lane]


def batches(records: Sequence[StreamRecord], size: int) -> list[list[StreamRecord]]:
    return [list(records[i : i + size]) for i in range(0, len(records), size)]


def event(records: Sequence[StreamRecord], stream_arn: str) -> dict[str, Any]:
    """The handler's event: the records as DynamoDB Streams shapes them, with
    ``eventSourceARN`` added as Lambda does."""
    return {"Records": [{**r.record, "eventSourceARN": stream_arn} for r in records]}


def _iso(ms: int, millis: bool = False) -> str:
    at = datetime.fromtimestamp(ms / 1000, UTC)
    text = at.isoformat(timespec="milliseconds" if millis else "seconds")
    return text.replace("+00:00", "Z")


def failure_record(
    failure: Failure, *, function_arn: str, stream_arn: str, shard: str, now_ms: int
) -> dict[str, Any]:
    """The record Lambda sends an OnFailure destination for a stream batch given up."""
    first, last = failure.records[0], failure.records[-1]
    context: dict[str, Any] = {
        "requestId": failure.outcome.request_id if failure.outcome else "",
        "functionArn": function_arn,
        "condition": failure.condition,
        "approximateInvokeCount": failure.invocations,
    }
    record: dict[str, Any] = {"requestContext": context}
    if failure.outcome is not None:
        response: dict[str, Any] = {
            "statusCode": 200,
            "executedVersion": failure.outcome.executed_version,
        }
        if failure.outcome.function_error:
            response["functionError"] = failure.outcome.function_error
        record["responseContext"] = response
    record["version"] = "1.0"
    record["timestamp"] = _iso(now_ms, millis=True)
    record["DDBStreamBatchInfo"] = {
        "shardId": shard,
        "startSequenceNumber": _sequence(first),
        "endSequenceNumber": _sequence(last),
        "approximateArrivalOfFirstRecord": _iso(first.created_ms),
        "approximateArrivalOfLastRecord": _iso(last.created_ms),
        "batchSize": len(failure.records),
        "streamArn": stream_arn,
    }
    return record
