"""Async fire-and-forget: retries, OnSuccess/OnFailure destinations and a dead-letter queue.

    .venv/bin/python examples/async_retries/run.py [--timeout SECONDS] [--keep]

Deploys a function that fails its first attempts at an event, sets its async
invoke config (MaximumRetryAttempts 2, OnSuccess and OnFailure destinations are
queues) and a dead-letter queue, then invokes it twice with InvocationType
Event: one event that succeeds on the third attempt, one that always fails.
Prints every attempt as it happens and what reached each destination.

Timing: Lambda retries after about 1 minute, then about 2 minutes, and
`eventplane dev` uses those real waits, so this takes about 3 minutes. A server
started with EVENTPLANE_DELIVERY_TIME_SCALE=0.01 waits 0.6 s and 1.2 s instead
(the integration tests do that), and the example finishes in seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from eventplane.client import Client, Message
from eventplane.errors import EventplaneError

HERE = Path(__file__).resolve().parent
FUNCTION = "example-async-flaky"

EVENTS = {
    "o-2001": {"order": "o-2001", "fail_times": 2},  # fails twice, then succeeds
    "o-2002": {"order": "o-2002", "fail_times": 99},  # fails every attempt
}


def deploy(ep: Client, attempts_dir: str, dlq_arn: str) -> str:
    """Create the function, or update it in place if it exists: rerunnable."""
    environment = {"ATTEMPTS_DIR": attempts_dir}
    try:
        ep.functions.create_function(
            FUNCTION,
            "handler.handler",
            zip_directory=HERE / "flaky",
            environment=environment,
            dead_letter_target_arn=dlq_arn,
        )
        return "created"
    except EventplaneError as err:
        if err.code != "ResourceConflictException":
            raise
    ep.functions.update_function_code(FUNCTION, zip_directory=HERE / "flaky")
    ep.functions.update_function_configuration(
        FUNCTION, handler="handler.handler", environment=environment, dead_letter_target_arn=dlq_arn
    )
    return "updated"


def queue_arn(ep: Client, url: str) -> str:
    return ep.queues.get_queue_attributes(url, ["QueueArn"])["QueueArn"]


def drain(ep: Client, url: str) -> list[Message]:
    """Whatever the queue holds right now (received and deleted)."""
    got = ep.queues.receive_message(
        url, max_number_of_messages=10, wait_time_seconds=0, message_attribute_names=["All"]
    )
    for m in got:
        ep.queues.delete_message(url, m.receipt_handle)
    return got


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--timeout",
        type=float,
        default=300,
        help="seconds to wait for the destinations (default 300: real retry waits take ~3 min)",
    )
    parser.add_argument("--keep", action="store_true", help="leave the function and queues")
    args = parser.parse_args()

    run = uuid.uuid4().hex[:6]
    with Client() as ep, contextlib.ExitStack() as cleanup:
        print(f"eventplane {ep.platform.get_server_info().version} at {ep.target}; run {run}")
        attempts_dir = Path(tempfile.mkdtemp(prefix="eventplane-async-example-"))
        cleanup.callback(print, f"\ncleaned up: deleted {FUNCTION} and 3 queues")
        cleanup.callback(shutil.rmtree, attempts_dir, ignore_errors=True)
        urls = {}
        for name in ("on-success", "on-failure", "dlq"):
            urls[name] = ep.queues.create_queue(f"example-async-{name}-{run}")
            cleanup.callback(ep.queues.delete_queue, urls[name])
        arns = {name: queue_arn(ep, url) for name, url in urls.items()}
        try:
            print(f"deploy {FUNCTION}: {deploy(ep, str(attempts_dir), arns['dlq'])}")
            cleanup.callback(ep.functions.delete_function, FUNCTION)
            ep.functions.put_function_event_invoke_config(
                FUNCTION,
                maximum_retry_attempts=2,
                destination_config={
                    "OnSuccess": {"Destination": arns["on-success"]},
                    "OnFailure": {"Destination": arns["on-failure"]},
                },
            )
            print("  async invoke config: MaximumRetryAttempts 2")
            print(f"    OnSuccess        -> {arns['on-success']}")
            print(f"    OnFailure        -> {arns['on-failure']}")
            print(f"  DeadLetterConfig   -> {arns['dlq']}")

            start, wall_start = time.monotonic(), time.time()
            request_ids = {}
            print()
            for order, event in EVENTS.items():
                r = ep.functions.invoke(FUNCTION, event, invocation_type="Event")
                request_ids[r.request_id] = order
                print(
                    f"invoke (Event) {order} fail_times={event['fail_times']}: "
                    f"status {r.status_code}, request {r.request_id}"
                )
            print(
                "waiting: Lambda retries after ~1 min, then ~2 min (times the server's "
                "EVENTPLANE_DELIVERY_TIME_SCALE)"
            )

            seen_attempts: dict[str, int] = {}
            received: dict[str, list[Message]] = {name: [] for name in urls}
            deadline = start + args.timeout
            while True:
                for log in sorted(attempts_dir.glob("*.log")):
                    lines = log.read_text().splitlines()
                    for n in range(seen_attempts.get(log.stem, 0), len(lines)):
                        attempt = json.loads(lines[n])
                        at = attempt["time"] - wall_start
                        print(f"  t={at:6.1f}s  {attempt['order']} attempt {n + 1}")
                    seen_attempts[log.stem] = len(lines)
                for name, url in urls.items():
                    received[name].extend(drain(ep, url))
                if all(len(received[name]) >= 1 for name in urls):
                    break
                if time.monotonic() > deadline:
                    counts = ", ".join(f"{n}: {len(m)}" for n, m in received.items())
                    raise SystemExit(
                        f"FAILED: timed out after {args.timeout:g}s waiting for the destinations "
                        f"({counts}). On a server with real retry waits this takes ~3 minutes."
                    )
                time.sleep(0.2)
            print(f"all destinations reached after {time.monotonic() - start:.1f}s\n")
            check(received, request_ids)
        finally:
            if args.keep:
                cleanup.pop_all()
                print(f"\nkept {FUNCTION}, {attempts_dir} and the queues example-async-*-{run}")
    print("OK: async retries, destinations and dead-letter queue")
    return 0


def check(received: dict[str, list[Message]], request_ids: dict[str, str]) -> None:
    """Print what reached each destination and check it is what Lambda would send."""
    problems = []

    for name, messages in received.items():
        if len(messages) > 1:  # at least once: possible, and worth seeing
            print(f"note: {name} received {len(messages)} records (a duplicate delivery)")

    ok = received["on-success"][0]
    record = json.loads(ok.body)
    ctx = record["requestContext"]
    print("OnSuccess destination (Lambda's invocation record):")
    print(f"  condition {ctx['condition']}, approximateInvokeCount {ctx['approximateInvokeCount']}")
    print(f"  requestPayload  {json.dumps(record['requestPayload'])}")
    print(f"  responsePayload {json.dumps(record['responsePayload'])}")
    if request_ids.get(ctx["requestId"]) != "o-2001" or ctx["condition"] != "Success":
        problems.append(f"unexpected OnSuccess record: {record}")

    failed = received["on-failure"][0]
    record = json.loads(failed.body)
    ctx = record["requestContext"]
    print("OnFailure destination:")
    print(f"  condition {ctx['condition']}, approximateInvokeCount {ctx['approximateInvokeCount']}")
    print(f"  requestPayload  {json.dumps(record['requestPayload'])}")
    error = record.get("responsePayload") or {}
    print(f"  responsePayload {error.get('errorType')}: {error.get('errorMessage')}")
    if request_ids.get(ctx["requestId"]) != "o-2002" or ctx["condition"] != "RetriesExhausted":
        problems.append(f"unexpected OnFailure record: {record}")

    dead = received["dlq"][0]
    attrs = {k: v.string_value for k, v in dead.message_attributes.items()}
    print("dead-letter queue (the original event, with Lambda's attributes):")
    print(f"  body {dead.body}")
    for key in ("RequestID", "ErrorCode", "ErrorMessage"):
        print(f"  {key}: {attrs.get(key)}")
    if json.loads(dead.body) != EVENTS["o-2002"]:
        problems.append(f"unexpected dead letter: {dead.body}")

    if problems:
        raise SystemExit("FAILED: " + "; ".join(problems))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except EventplaneError as err:
        hint = " (is `eventplane dev` running there?)" if err.code == "ServiceUnavailable" else ""
        sys.exit(f"FAILED: {err}{hint}")
