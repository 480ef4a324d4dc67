"""Event bus fan-out: one order.created event reaches three functions.

    .venv/bin/python examples/bus_fanout/run.py [--timeout SECONDS] [--keep]

Creates a bus, a rule matching detail-type "order.created", and three functions
(billing, shipping, email) as the rule's targets; each function writes one line
to a result queue. Puts an order.created event (and an order.cancelled event no
rule matches) and prints the three results.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import uuid
from pathlib import Path

from eventplane.client import Client
from eventplane.errors import EventplaneError

HERE = Path(__file__).resolve().parent
FUNCTIONS = {name: f"example-bus-{name}" for name in ("billing", "shipping", "email")}
RULE = "order-created"

ORDER = {
    "order_id": "o-3001",
    "customer": "ada@example.com",
    "total": 43.2,
    "currency": "EUR",
    "ship_to": "Berlin",
    "items": [{"sku": "kettle", "qty": 1}, {"sku": "mug", "qty": 4}],
}


def deploy(ep: Client, name: str, folder: Path, environment: dict[str, str]) -> tuple[str, str]:
    """Create the function, or update it in place if it exists; (how, ARN)."""
    try:
        fn = ep.functions.create_function(
            name, "handler.handler", zip_directory=folder, environment=environment, timeout=10
        )
        return "created", fn.function_arn
    except EventplaneError as err:
        if err.code != "ResourceConflictException":
            raise
    ep.functions.update_function_code(name, zip_directory=folder)
    fn = ep.functions.update_function_configuration(
        name, handler="handler.handler", environment=environment, timeout=10
    )
    return "updated", fn.function_arn


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for results")
    parser.add_argument("--keep", action="store_true", help="leave the bus, functions and queue")
    args = parser.parse_args()

    run = uuid.uuid4().hex[:6]
    bus = f"example-orders-{run}"
    with Client() as ep, contextlib.ExitStack() as cleanup:
        print(f"eventplane {ep.platform.get_server_info().version} at {ep.target}; run {run}")
        results = ep.queues.create_queue(f"example-bus-results-{run}")
        cleanup.callback(print, f"\ncleaned up: deleted bus {bus}, 3 functions, the result queue")
        cleanup.callback(ep.queues.delete_queue, results)
        try:
            arns = {}
            for short, name in FUNCTIONS.items():
                how, arns[short] = deploy(ep, name, HERE / short, {"RESULT_QUEUE": results})
                cleanup.callback(ep.functions.delete_function, name)
                print(f"deploy {name}: {how}")
            ep.events.create_event_bus(bus)
            cleanup.callback(ep.events.delete_event_bus, bus)
            pattern = {"detail-type": ["order.created"]}
            ep.events.put_rule(RULE, event_bus_name=bus, event_pattern=pattern)
            cleanup.callback(ep.events.delete_rule, RULE, event_bus_name=bus, force=True)
            put = ep.events.put_targets(
                RULE,
                [{"Id": short, "Arn": arn} for short, arn in arns.items()],
                event_bus_name=bus,
            )
            if put.failed_entry_count:
                raise SystemExit(f"FAILED: put_targets: {put}")
            print(f"bus {bus}: rule {RULE} {json.dumps(pattern)} -> 3 function targets")

            start = time.monotonic()
            sent = ep.events.put_events(
                [
                    {
                        "Source": "shop",
                        "DetailType": "order.created",
                        "Detail": ORDER,
                        "EventBusName": bus,
                    },
                    {
                        "Source": "shop",
                        "DetailType": "order.cancelled",  # matches no rule: reaches nobody
                        "Detail": {"order_id": "o-3000"},
                        "EventBusName": bus,
                    },
                ]
            )
            if sent.failed_entry_count:
                raise SystemExit(f"FAILED: put_events: {sent}")
            created_id = sent.entries[0].event_id
            print(f"\nput order.created   {ORDER['order_id']}  event {created_id}")
            print(f"put order.cancelled o-3000  event {sent.entries[1].event_id} (no rule matches)")

            lines = []
            deadline = start + args.timeout
            while len(lines) < len(FUNCTIONS):
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"FAILED: {len(lines)} of {len(FUNCTIONS)} results within "
                        f"{args.timeout:g}s: {lines}"
                    )
                for m in ep.queues.receive_message(
                    results, max_number_of_messages=10, wait_time_seconds=1
                ):
                    lines.append(json.loads(m.body))
                    ep.queues.delete_message(results, m.receipt_handle)
            elapsed = time.monotonic() - start
            # Anything else (the cancelled event, a duplicate) would show up now.
            for m in ep.queues.receive_message(
                results, max_number_of_messages=10, wait_time_seconds=2
            ):
                lines.append(json.loads(m.body))

            print(f"\nresults ({len(lines)} lines, {elapsed:.1f}s after PutEvents):")
            for line in sorted(lines, key=lambda x: x["function"]):
                print(f"  {line['function']:<20} {line['order_id']}  {line['did']}")
            problems = [x for x in lines if x["event_id"] != created_id]
            got = sorted(x["function"] for x in lines)
            if problems or got != sorted(FUNCTIONS.values()):
                raise SystemExit(
                    f"FAILED: expected one line from each of {list(FUNCTIONS.values())}"
                )
        finally:
            if args.keep:
                cleanup.pop_all()
                print(f"\nkept bus {bus}, the functions and queue example-bus-results-{run}")
    print("OK: order.created fanned out to billing, shipping and email")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except EventplaneError as err:
        hint = " (is `eventplane dev` running there?)" if err.code == "ServiceUnavailable" else ""
        sys.exit(f"FAILED: {err}{hint}")
