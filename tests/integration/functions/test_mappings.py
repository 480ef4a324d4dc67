"""Queue event source mappings: the SQS event shape, partial batch failures
(ReportBatchItemFailures) and malformed responses."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.testing import eventually

from .support import Queue, Resources, json_lines

pytestmark = pytest.mark.integration

# Longer than a cold first invocation on a busy 2-core machine: with 2 s a batch still
# running became visible again and its succeeded items ran twice (legitimately, as on
# SQS); failed items still come back after it.
VISIBILITY = "6"

COUNTS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]


def _empty(client: Client, queue: Queue) -> bool:
    attributes = client.queues.get_queue_attributes(queue.url, COUNTS)
    return all(attributes[n] == "0" for n in COUNTS)


def _batch_function(res: Resources, state: Path, **environment: str) -> str:
    return res.function("basics.batch", environment={"STATE_DIR": str(state), **environment})


def test_reported_failures_come_back_and_the_rest_is_deleted(
    client: Client, res: Resources, tmp_path: Path
) -> None:
    queue = res.queue("src", VisibilityTimeout=VISIBILITY)
    name = _batch_function(res, tmp_path)
    res.mapping(
        queue,
        name,
        batch_size=10,
        maximum_batching_window_in_seconds=1,
        function_response_types=["ReportBatchItemFailures"],
    )
    bodies = ["ok-1", "fail-1", "ok-2", "ok-3", "fail-2", "ok-4"]
    sent = client.queues.send_message_batch(
        queue.url, [{"id": str(i), "message_body": b} for i, b in enumerate(bodies)]
    )
    assert not sent.failed
    ids = {e.message_id: bodies[int(e.id)] for e in sent.successful}
    failing = {i for i, b in ids.items() if b.startswith("fail")}

    def settled() -> list[dict[str, Any]]:
        records = json_lines(tmp_path / "records.jsonl")
        seen = Counter(r["messageId"] for r in records)
        assert all(seen[i] == 2 for i in failing), seen
        assert _empty(client, queue)
        return records

    records = eventually(settled, timeout=30)

    seen = Counter(r["messageId"] for r in records)
    # Succeeded items were deleted with their batch: each ran exactly once.
    assert {i: seen[i] for i in ids if i not in failing} == {i: 1 for i in ids if i not in failing}
    # Failed items came back (after the visibility timeout) and were then deleted.
    receive_counts = {(r["messageId"], r["attributes"]["ApproximateReceiveCount"]) for r in records}
    assert {(i, "1") for i in failing} | {(i, "2") for i in failing} <= receive_counts
    for r in records:
        assert r["body"] == ids[r["messageId"]]
        assert r["receiptHandle"]
        assert r["eventSource"] == "aws:sqs"
        assert r["eventSourceARN"] == queue.arn
        assert r["md5OfBody"] == hashlib.md5(r["body"].encode()).hexdigest()
        assert {"ApproximateReceiveCount", "SentTimestamp"} <= set(r["attributes"])
    first = [r for r in records if r["messageId"] in failing]
    assert len({r["receiptHandle"] for r in first}) == 4  # a new handle per receive


def test_a_malformed_response_fails_the_whole_batch(
    client: Client, res: Resources, tmp_path: Path
) -> None:
    queue = res.queue("src", VisibilityTimeout=VISIBILITY)
    name = _batch_function(res, tmp_path, MALFORMED="1")
    res.mapping(
        queue,
        name,
        batch_size=10,
        maximum_batching_window_in_seconds=1,
        function_response_types=["ReportBatchItemFailures"],
    )
    sent = client.queues.send_message_batch(
        queue.url, [{"id": str(i), "message_body": f"m{i}"} for i in range(3)]
    )
    ids = {e.message_id for e in sent.successful}
    assert len(ids) == 3

    def settled() -> list[dict[str, Any]]:
        records = json_lines(tmp_path / "records.jsonl")
        seen = Counter(r["messageId"] for r in records)
        assert all(seen[i] >= 2 for i in ids), seen
        assert _empty(client, queue)
        return records

    records = eventually(settled, timeout=30)
    # Every message of the malformed batch came back, none was deleted on first sight.
    for i in ids:
        counts = [
            int(r["attributes"]["ApproximateReceiveCount"]) for r in records if r["messageId"] == i
        ]
        assert counts == list(range(1, len(counts) + 1))


def test_without_item_failure_reports_a_successful_batch_is_deleted(
    client: Client, res: Resources, tmp_path: Path
) -> None:
    """Without ReportBatchItemFailures the response is ignored: a returned failure list
    deletes nothing less."""
    queue = res.queue("src", VisibilityTimeout=VISIBILITY)
    name = _batch_function(res, tmp_path)
    res.mapping(queue, name, batch_size=5)
    client.queues.send_message(queue.url, "fail-but-ignored")
    client.queues.send_message(queue.url, "ok")

    def settled() -> list[dict[str, Any]]:
        records = json_lines(tmp_path / "records.jsonl")
        assert sorted(r["body"] for r in records) == ["fail-but-ignored", "ok"]
        assert _empty(client, queue)
        return records

    eventually(settled, timeout=30)
