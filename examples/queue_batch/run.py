"""Queue -> batch processor at a controlled rate (event source mapping).

    .venv/bin/python examples/queue_batch/run.py [--timeout SECONDS] [--keep]

Sends 50 messages to a queue, then maps the queue to a function with BatchSize
10, MaximumConcurrency 2 and ReportBatchItemFailures. The function takes 0.3 s
per batch and reports one message as failed on its first delivery; only that
message stays on the queue and is processed again after the visibility timeout.
Prints every batch and the totals: batches, deliveries, peak concurrency, rate.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from eventplane.client import Client, SendMessageBatchEntry
from eventplane.errors import EventplaneError

HERE = Path(__file__).resolve().parent
FUNCTION = "example-batch-processor"
MESSAGES = 50
FAIL_ONCE = 17  # the message the function reports as failed on its first delivery
BATCH_SIZE = 10
MAX_CONCURRENCY = 2
VISIBILITY_TIMEOUT = 5  # seconds before the failed message is delivered again


def deploy(ep: Client, environment: dict[str, str]) -> str:
    """Create the function, or update it in place if it exists: rerunnable."""
    try:
        ep.functions.create_function(
            FUNCTION, "handler.handler", zip_directory=HERE / "processor", environment=environment
        )
        return "created"
    except EventplaneError as err:
        if err.code != "ResourceConflictException":
            raise
    ep.functions.update_function_code(FUNCTION, zip_directory=HERE / "processor")
    ep.functions.update_function_configuration(
        FUNCTION, handler="handler.handler", environment=environment
    )
    return "updated"


def peak_concurrency(batches: list[dict[str, Any]]) -> int:
    """The most invocations that ran at the same moment."""
    edges = sorted([(b["start"], 1) for b in batches] + [(b["end"], -1) for b in batches])
    running = peak = 0
    for _, step in edges:  # an end sorts before a start at the same instant
        running += step
        peak = max(peak, running)
    return peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=45, help="seconds to wait for the work")
    parser.add_argument("--keep", action="store_true", help="leave the queues and function")
    args = parser.parse_args()

    run = uuid.uuid4().hex[:6]
    with Client() as ep, contextlib.ExitStack() as cleanup:
        print(f"eventplane {ep.platform.get_server_info().version} at {ep.target}; run {run}")
        queue = ep.queues.create_queue(
            f"example-batch-work-{run}", attributes={"VisibilityTimeout": VISIBILITY_TIMEOUT}
        )
        cleanup.callback(print, "\ncleaned up: deleted the mapping, function and queues")
        cleanup.callback(ep.queues.delete_queue, queue)
        results = ep.queues.create_queue(f"example-batch-results-{run}")
        cleanup.callback(ep.queues.delete_queue, results)
        queue_arn = ep.queues.get_queue_attributes(queue, ["QueueArn"])["QueueArn"]
        try:
            print(f"deploy {FUNCTION}: {deploy(ep, {'RESULT_QUEUE': results})}")
            cleanup.callback(ep.functions.delete_function, FUNCTION)
            # A mapping left behind by an interrupted run would compete for messages.
            for stale in ep.functions.list_event_source_mappings(function_name=FUNCTION):
                ep.functions.delete_event_source_mapping(stale.uuid)

            for first in range(1, MESSAGES + 1, 10):
                entries = [
                    SendMessageBatchEntry(str(n), json.dumps({"n": n, "fail_once": n == FAIL_ONCE}))
                    for n in range(first, min(first + 10, MESSAGES + 1))
                ]
                sent = ep.queues.send_message_batch(queue, entries)
                if sent.failed:
                    raise SystemExit(f"FAILED: send_message_batch: {sent.failed}")
            print(
                f"sent {MESSAGES} messages to example-batch-work-{run} (n={FAIL_ONCE} fails once)"
            )

            start = time.time()
            mapping = ep.functions.create_event_source_mapping(
                queue_arn,
                FUNCTION,
                batch_size=BATCH_SIZE,
                maximum_concurrency=MAX_CONCURRENCY,
                function_response_types=["ReportBatchItemFailures"],
            )
            cleanup.callback(ep.functions.delete_event_source_mapping, mapping.uuid)
            print(
                f"mapping {mapping.uuid}: BatchSize {mapping.batch_size}, MaximumConcurrency "
                f"{mapping.maximum_concurrency}, {', '.join(mapping.function_response_types)}\n"
            )

            batches: list[dict[str, Any]] = []
            done: set[int] = set()
            deadline = time.monotonic() + args.timeout
            while len(done) < MESSAGES:
                if time.monotonic() > deadline:
                    missing = sorted(set(range(1, MESSAGES + 1)) - done)
                    raise SystemExit(
                        f"FAILED: {len(done)} of {MESSAGES} messages processed within "
                        f"{args.timeout:g}s; missing {missing}"
                    )
                for m in ep.queues.receive_message(
                    results, max_number_of_messages=10, wait_time_seconds=1
                ):
                    ep.queues.delete_message(results, m.receipt_handle)
                    batch = json.loads(m.body)
                    batches.append(batch)
                    done.update(batch["done"])
                    failed = f"  reported failed: {batch['failed']}" if batch["failed"] else ""
                    print(
                        f"  batch {len(batches):>2}  t={batch['start'] - start:5.2f}s  "
                        f"{batch['size']:>2} msgs  n={sorted(batch['done'] + batch['failed'])}"
                        f"{failed}"
                    )
            elapsed = max(b["end"] for b in batches) - start
            # The mapping deletes a batch's messages once the function returns: just after
            # the last report arrived.
            while True:
                left = ep.queues.get_queue_attributes(
                    queue, ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
                )
                if set(left.values()) == {"0"} or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        finally:
            if args.keep:
                cleanup.pop_all()
                print(f"\nkept {FUNCTION}, its mapping and the queues example-batch-*-{run}")

        deliveries = sum(b["size"] for b in batches)
        peak = peak_concurrency(batches)
        first_pass = [b for b in batches if FAIL_ONCE not in b["done"]]
        first_pass_s = max(b["end"] for b in first_pass) - start
        print(f"\ntotals: {MESSAGES} messages sent, {len(done)} processed")
        print(f"  {len(batches)} batches, largest {max(b['size'] for b in batches)}")
        print(f"  {deliveries} deliveries: {MESSAGES} + {deliveries - MESSAGES} redelivered")
        print(f"  peak concurrency {peak} (MaximumConcurrency {MAX_CONCURRENCY})")
        if peak > MAX_CONCURRENCY:
            # Lambda caps the mapping as a whole; eventplane runs MaximumConcurrency pollers
            # on every replica with the runner role, so a cluster of N runs up to N times it.
            print(
                f"  note: more than {MAX_CONCURRENCY} at once: eventplane applies "
                "MaximumConcurrency per replica, and more than one replica polls this queue"
            )
        print(
            f"  first pass: {sum(b['size'] for b in first_pass)} deliveries in "
            f"{first_pass_s:.1f}s; all done after {elapsed:.1f}s (the retry waits out the "
            f"{VISIBILITY_TIMEOUT}s VisibilityTimeout)"
        )
        print(
            f"  queue now: {left['ApproximateNumberOfMessages']} visible, "
            f"{left['ApproximateNumberOfMessagesNotVisible']} in flight"
        )
        problems = []
        if max(b["size"] for b in batches) > BATCH_SIZE:
            problems.append(f"a batch larger than {BATCH_SIZE}")
        if set(left.values()) != {"0"}:
            problems.append(f"the queue is not empty: {left}")
        if deliveries != MESSAGES + 1:
            problems.append(f"{deliveries} deliveries, expected {MESSAGES + 1}")
        if problems:
            raise SystemExit("FAILED: " + "; ".join(problems))
    print("OK: 50 messages processed in batches, one partial batch failure retried")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except EventplaneError as err:
        hint = " (is `eventplane dev` running there?)" if err.code == "ServiceUnavailable" else ""
        sys.exit(f"FAILED: {err}{hint}")
