"""The runnable examples in examples/: each run.py, as a user runs it, against a real server.

Every example runs as its own process with EVENTPLANE_ENDPOINT pointing at one server
started for this module, must exit 0, print what it showed, and leave no queue, topic,
bus, function or mapping of its own behind. The server scales retry waits to 1/100
(EVENTPLANE_DELIVERY_TIME_SCALE), so the async example's ~1 and ~2 minute retries take
0.6 and 1.2 s.

The server gets a broker of its own. On the shared test broker, any other server alive
(the session-scoped ``eventplane_server`` of the queue tests stays up until the end of
the session) would be a replica of the same cluster: it would take over part of the
async invocations with real, minute-long retry waits, and poll the queue mapping with
its own MaximumConcurrency pollers.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from eventplane.config import load_settings
from eventplane.kafka.local import LocalKafka
from eventplane.testing import EventplaneProcess, free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def server() -> Iterator[EventplaneProcess]:
    broker = LocalKafka.from_settings(load_settings(), free_port())
    broker.start(fresh=True)
    try:
        process = EventplaneProcess(
            broker.bootstrap, env={"EVENTPLANE_DELIVERY_TIME_SCALE": "0.01"}
        ).start()
        try:
            yield process
        finally:
            process.stop()
    finally:
        broker.stop()
        shutil.rmtree(broker.base, ignore_errors=True)


def run_example(
    server: EventplaneProcess, name: str, *args: str, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTPLANE_")}
    env["EVENTPLANE_ENDPOINT"] = server.endpoint
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name / "run.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def succeeded(server: EventplaneProcess, name: str, *args: str) -> str:
    """Run the example; its output, after checking it exited 0 and left nothing behind."""
    proc = run_example(server, name, *args)
    assert proc.returncode == 0, (
        f"{name} exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n"
        f"{proc.stderr}\n--- server log\n{server.log_tail()}"
    )
    if "--keep" not in args:
        assert leftovers(server) == [], proc.stdout
    return proc.stdout


def leftovers(server: EventplaneProcess) -> list[str]:
    """Resources the examples create (all named example-*) that still exist."""
    with server.client() as ep:
        found = [url.rsplit("/", 1)[-1] for url in ep.queues.list_queues("example-")]
        found += [arn for arn in ep.topics.list_topics() if ":example-" in arn]
        found += [b.name for b in ep.events.list_event_buses(name_prefix="example-")]
        found += [
            f.function_name
            for f in ep.functions.list_functions()
            if f.function_name.startswith("example-")
        ]
        found += [
            m.uuid
            for m in ep.functions.list_event_source_mappings()
            if ":function:example-" in m.function_arn
        ]
    return found


def in_order(output: str, *lines: str) -> None:
    """Each of ``lines`` appears in ``output``, in this order."""
    at = 0
    for line in lines:
        found = output.find(line, at)
        assert found >= 0, f"{line!r} not found (in order) in:\n{output}"
        at = found + len(line)


def test_sync_chain_deploys_invokes_and_reruns(server: EventplaneProcess) -> None:
    # --keep leaves both functions; the rerun then takes the update path and cleans up.
    first = succeeded(server, "sync_chain", "--keep")
    in_order(
        first,
        "deploy B example-chain-pricing: created",
        "deploy A example-chain-checkout: created",
        "A example-chain-checkout  request ",
        "└─ B example-chain-pricing  request ",
        "result: total 43.20 (subtotal 36.00 + tax 7.20)",
        "again: total 43.20",
        "FunctionError ",
        "PricingFailed: example-chain-pricing: ValueError: item mug: quantity must be positive",
        "kept example-chain-checkout and example-chain-pricing",
        "OK: sync chain A -> B completed",
    )
    second = succeeded(server, "sync_chain")
    in_order(
        second,
        "deploy B example-chain-pricing: updated",
        "deploy A example-chain-checkout: updated",
        "result: total 43.20",
        "cleaned up: deleted example-chain-checkout, example-chain-pricing",
        "OK: sync chain A -> B completed",
    )


def test_async_retries_reach_the_destinations_and_the_dlq(server: EventplaneProcess) -> None:
    out = succeeded(server, "async_retries", "--timeout", "60")
    for order in ("o-2001", "o-2002"):
        in_order(out, f"{order} attempt 1", f"{order} attempt 2", f"{order} attempt 3")
    assert "attempt 4" not in out  # MaximumRetryAttempts 2: three attempts in all
    in_order(
        out,
        "invoke (Event) o-2001 fail_times=2: status 202",
        "invoke (Event) o-2002 fail_times=99: status 202",
        "OnSuccess destination",
        "condition Success, approximateInvokeCount 3",
        'responsePayload {"order": "o-2001", "charged": true, "attempt": 3}',
        "OnFailure destination",
        "condition RetriesExhausted, approximateInvokeCount 3",
        "responsePayload PaymentGatewayDown: order o-2002: attempt 3 failed",
        "dead-letter queue",
        'body {"order": "o-2002", "fail_times": 99}',
        "ErrorMessage: order o-2002: attempt 3 failed",
        "cleaned up: deleted example-async-flaky and 3 queues",
        "OK: async retries, destinations and dead-letter queue",
    )


def test_bus_fanout_reaches_three_functions(server: EventplaneProcess) -> None:
    out = succeeded(server, "bus_fanout")
    in_order(
        out,
        "-> 3 function targets",
        "put order.created   o-3001",
        "results (3 lines,",
        "example-bus-billing  o-3001  charged 43.20 EUR to ada@example.com",
        "example-bus-email    o-3001  mailed the confirmation of o-3001 to ada@example.com",
        "example-bus-shipping o-3001  booked 5 item(s) to Berlin",
        "OK: order.created fanned out to billing, shipping and email",
    )
    assert "o-3000  " not in out.split("results (", 1)[1]  # the cancelled order reached no one


def test_queue_batch_processes_50_messages_two_batches_at_a_time(
    server: EventplaneProcess,
) -> None:
    out = succeeded(server, "queue_batch")
    in_order(
        out,
        "sent 50 messages",
        "BatchSize 10, MaximumConcurrency 2, ReportBatchItemFailures",
        "reported failed: [17]",
        "msgs  n=[17]",  # the failed item, alone in a later batch
        "totals: 50 messages sent, 50 processed",
        "51 deliveries: 50 + 1 redelivered",
        "queue now: 0 visible, 0 in flight",
        "OK: 50 messages processed in batches, one partial batch failure retried",
    )
    sizes = [int(s) for s in re.findall(r"t=\s*[\d.]+s\s+(\d+) msgs", out)]
    assert sum(sizes) == 51 and max(sizes) <= 10, out
    peak = int(re.search(r"peak concurrency (\d+)", out).group(1))  # type: ignore[union-attr]
    assert 1 <= peak <= 2, out


def test_sns_sqs_fanout_filters_per_subscription(server: EventplaneProcess) -> None:
    out = succeeded(server, "sns_sqs_fanout")
    audit, eu_large, express = (
        out.split("\naudit got ")[1].split("\neu-large got ")[0],
        out.split("\neu-large got ")[1].split("\nexpress got ")[0],
        out.split("\nexpress got ")[1].split("\ncleaned up")[0],
    )
    assert audit.startswith("4:") and audit.count("envelope: Type Notification") == 4, out
    assert eu_large.startswith("2:") and eu_large.count("raw body ") == 2, out
    assert "o-5001" in eu_large and "o-5004" in eu_large, out
    assert express.startswith("3:") and express.count("envelope: Type Notification") == 3, out
    assert "o-5001" not in express, out
    assert "OK: each queue got exactly the messages its filter policy selects" in out


def test_an_example_without_a_server_fails_with_a_message() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTPLANE_")}
    env["EVENTPLANE_ENDPOINT"] = f"127.0.0.1:{free_port()}"
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "sns_sqs_fanout" / "run.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("FAILED: ServiceUnavailable"), proc.stderr
    assert "Traceback" not in proc.stderr


def test_order_workflow_succeeds_and_fails_cleanly(server: EventplaneProcess) -> None:
    out = succeeded(server, "order_workflow")
    in_order(
        out,
        "o-5001: SUCCEEDED",
        "path: ValidateOrder -> ProcessPayment -> Fulfil -> DecrementStock -> SendNotification"
        " -> OrderSuccess",
        "paid 36.00; stock kettle -1, mug -4; mailed ada@example.com",
        "o-5002: FAILED",
        "path: ValidateOrder -> OrderFailed",
        "error: OrderFailed: ",
        "quantity must be positive",
        "OK: order workflow",
    )
    with server.client() as ep:
        assert [m.name for m in ep.workflows.list_state_machines() if "example-" in m.name] == []


def test_human_approval_answered_from_the_cli(server: EventplaneProcess) -> None:
    out = succeeded(server, "human_approval")
    in_order(out, "o-6001: started", "o-6002: started")
    assert "request: order o-6001 amount 120" in out
    assert "request: order o-6002 amount 9800" in out
    in_order(
        out,
        'o-6001: SUCCEEDED {"order_id":"o-6001","amount":120,"approval":{"by":"ada"}}',
        "o-6002: FAILED OrderRejected: over the approval limit",
        "OK: human approval",
    )


def test_map_items_tolerates_one_failure(server: EventplaneProcess) -> None:
    out = succeeded(server, "map_items")
    in_order(
        out,
        "batch-1: SUCCEEDED",
        "thumbs/a.png",
        "failed: CorruptImage",
        "thumbs/c.png",
        "iterations: 2 succeeded, 1 failed",
        "batch-2: FAILED",
        "BatchRejected: The specified tolerated failure threshold was exceeded",
        "OK: map with tolerated failures",
    )
