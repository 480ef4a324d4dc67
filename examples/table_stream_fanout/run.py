"""A profile function writes to a table; the table's stream fans each change out to three
functions (DynamoDB Streams -> Lambda event source mappings).

    .venv/bin/python examples/table_stream_fanout/run.py [--timeout SECONDS] [--keep]

Creates a table with a NEW_AND_OLD_IMAGES stream and deploys four functions: ``profile``
(writes profiles), and ``cache``, ``search`` and ``analytics``, each fed by its own
event source mapping on the stream. analytics' mapping has a FilterCriteria that lets
only INSERT records through. Invokes profile to create three users, change one's plan
and delete another, then prints what each stream consumer saw, and checks that every
consumer got each user's changes in order.
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

from eventplane.client import Client
from eventplane.errors import EventplaneError

HERE = Path(__file__).resolve().parent
CONSUMERS = ("cache", "search", "analytics")
# analytics counts sign-ups only: the mapping drops every other record before invoking.
FILTERS: dict[str, dict[str, Any]] = {
    "analytics": {"Filters": [{"Pattern": json.dumps({"eventName": ["INSERT"]})}]}
}
CHANGES: list[dict[str, Any]] = [
    {"action": "put", "user_id": "u-1", "name": "Ada", "email": "ada@example.com", "plan": "free"},
    {"action": "put", "user_id": "u-2", "name": "Bob", "email": "bob@example.com", "plan": "pro"},
    {"action": "put", "user_id": "u-3", "name": "Cy", "email": "cy@example.com", "plan": "free"},
    {"action": "put", "user_id": "u-1", "name": "Ada", "email": "ada@example.com", "plan": "pro"},
    {"action": "delete", "user_id": "u-2"},
]
EXPECTED = {
    "cache": 5,  # every change evicts
    "search": 5,  # every change re-indexes (or drops)
    "analytics": 3,  # INSERTs only
}


def deploy(ep: Client, name: str, folder: str, environment: dict[str, str]) -> str:
    """Create the function, or update it in place if it exists: rerunnable."""
    try:
        ep.functions.create_function(
            name, "handler.handler", zip_directory=HERE / folder, environment=environment
        )
        return "created"
    except EventplaneError as err:
        if err.code != "ResourceConflictException":
            raise
    ep.functions.update_function_code(name, zip_directory=HERE / folder)
    ep.functions.update_function_configuration(name, environment=environment)
    return "updated"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=45, help="seconds to wait for the work")
    parser.add_argument("--keep", action="store_true", help="leave the table, queue, functions")
    args = parser.parse_args()

    run = uuid.uuid4().hex[:6]
    table = f"example-profiles-{run}"
    with Client() as ep, contextlib.ExitStack() as cleanup:
        print(f"eventplane {ep.platform.get_server_info().version} at {ep.target}; run {run}")
        desc = ep.tables.create_table(
            table,
            key_schema=[("user_id", "HASH")],
            attribute_definitions=[("user_id", "S")],
            stream_view_type="NEW_AND_OLD_IMAGES",
            partitions=2,
        )
        stream = desc.latest_stream_arn
        cleanup.callback(print, "\ncleaned up: deleted the mappings, functions, queue and table")
        cleanup.callback(ep.tables.delete_table, table)
        results = ep.queues.create_queue(f"example-stream-results-{run}")
        cleanup.callback(ep.queues.delete_queue, results)
        print(f"table {table}: stream {stream}")
        try:
            profile = "example-profile"
            print(f"deploy {profile}: {deploy(ep, profile, 'profile', {'TABLE': table})}")
            cleanup.callback(ep.functions.delete_function, profile)
            for consumer in CONSUMERS:
                name = f"example-{consumer}"
                print(f"deploy {name}: {deploy(ep, name, consumer, {'RESULT_QUEUE': results})}")
                cleanup.callback(ep.functions.delete_function, name)
                # A mapping left behind by an interrupted run would read the stream too.
                for stale in ep.functions.list_event_source_mappings(function_name=name):
                    ep.functions.delete_event_source_mapping(stale.uuid)
                mapping = ep.functions.create_event_source_mapping(
                    stream,
                    name,
                    starting_position="LATEST",
                    batch_size=10,
                    filter_criteria=FILTERS.get(consumer),
                )
                cleanup.callback(ep.functions.delete_event_source_mapping, mapping.uuid)
                filtered = " (INSERT only)" if consumer in FILTERS else ""
                print(f"  mapping {mapping.uuid}: stream -> {name}{filtered}")

            print()
            start = time.time()
            for change in CHANGES:
                result = ep.functions.invoke(profile, payload=change)
                print(f"invoke {profile} {json.dumps(change)} -> {result.payload.decode()}")

            seen: dict[str, list[list[Any]]] = {c: [] for c in CONSUMERS}
            deadline = time.monotonic() + args.timeout
            print()
            while any(len(seen[c]) < n for c, n in EXPECTED.items()):
                if time.monotonic() > deadline:
                    got = {c: len(v) for c, v in seen.items()}
                    raise SystemExit(f"FAILED: within {args.timeout:g}s got {got}, want {EXPECTED}")
                for m in ep.queues.receive_message(
                    results, max_number_of_messages=10, wait_time_seconds=1
                ):
                    ep.queues.delete_message(results, m.receipt_handle)
                    report = json.loads(m.body)
                    seen[report["function"]] += report["records"]
                    changes = ", ".join(f"{r[0]} {r[1]}" for r in report["records"])
                    print(
                        f"  t={time.time() - start:5.2f}s  {report['function']:<9} "
                        f"{report['action']:<5} {changes}"
                    )
        finally:
            if args.keep:
                cleanup.pop_all()
                print(f"\nkept table {table}, the functions, mappings and queue")

        problems = []
        for consumer, records in seen.items():
            if len(records) != EXPECTED[consumer]:
                problems.append(f"{consumer} saw {len(records)} records, want {EXPECTED[consumer]}")
            for user in ("u-1", "u-2", "u-3"):
                seqs = [int(r[2]) for r in records if r[1] == user]
                if seqs != sorted(seqs):
                    problems.append(f"{consumer} saw {user}'s changes out of order")
        events = [r[0] for r in seen["search"] if r[1] == "u-1"]
        if events != ["INSERT", "MODIFY"]:
            problems.append(f"search saw u-1 as {events}")
        if {r[0] for r in seen["analytics"]} != {"INSERT"}:
            problems.append("analytics saw more than INSERTs")
        print(
            f"\nsearch index ops: {len(seen['search'])}, cache evictions: {len(seen['cache'])}, "
            f"sign-ups counted: {len(seen['analytics'])} "
            f"({sorted(r[3] for r in seen['analytics'])})"
        )
        if problems:
            raise SystemExit("FAILED: " + "; ".join(problems))
    print("OK: 5 profile changes fanned out from the table stream to 3 functions, in order")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except EventplaneError as err:
        hint = " (is `eventplane dev` running there?)" if err.code == "ServiceUnavailable" else ""
        sys.exit(f"FAILED: {err}{hint}")
