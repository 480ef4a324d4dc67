"""`eventplane workflow` actions for activities and TestState (registered by workflows.py).

    eventplane workflow create-activity approve          # prints its ARN
    eventplane workflow list-activities
    eventplane workflow get-activity-task approve --worker-name me --json   # token + input
    eventplane workflow send-task-success "$TOKEN" --output '{"ok": true}'
    eventplane workflow test-state --definition '{"Type": "Pass", "End": true}' --input '{}'

ACTIVITY is an activity name (the caller's account's) or ARN.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Callable

from eventplane import arn
from eventplane.cli._support import client as _client
from eventplane.cli._support import describe, listing, report


def _activity(text: str) -> str:
    """An ARN as given; a name as an ARN of no account: the caller's account's activity."""
    return text if text.startswith("arn:") else arn.activity_arn(text, "")


def cmd_create_activity(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        a = ep.workflows.create_activity(args.name)
    report(args, a, a.activity_arn)
    return 0


def cmd_describe_activity(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        return describe(args, ep.workflows.describe_activity(_activity(args.activity)))


def cmd_delete_activity(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.workflows.delete_activity(_activity(args.activity))
    report(args, {"deleted": args.activity}, f"deleted {args.activity}")
    return 0


def cmd_list_activities(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        found = ep.workflows.list_activities()
    return listing(args, "activities", found, lambda a: f"{a.name}\t{a.activity_arn}")


def cmd_get_activity_task(args: argparse.Namespace) -> int:
    """Exit 0 with the token (first line) and input (second line); 2 when none came."""
    with _client(args) as ep:
        task = ep.workflows.get_activity_task(
            _activity(args.activity), worker_name=args.worker_name or "", wait_seconds=args.wait
        )
    report(args, task, f"{task.task_token}\n{task.input}" if task else "no task")
    return 0 if task else 2


def cmd_test_state(args: argparse.Namespace, document: Callable[[str], str]) -> int:
    with _client(args) as ep:
        r = ep.workflows.test_state(
            document(args.definition),
            json.loads(document(args.input)),
            role_arn=args.role_arn or "",
            inspection_level=args.inspection_level,
        )
    if args.json:
        report(args, r, "")
    else:
        print(r.status + (f" -> {r.next_state}" if r.next_state else ""))
        if r.output is not None:
            print(r.output)
        if r.error is not None:
            print(f"{r.error}: {r.cause or ''}")
        if r.inspection_data is not None:
            for name, value in dataclasses.asdict(r.inspection_data).items():
                if value is not None:
                    print(f"{name}: {value}")
    return 0 if r.status in ("SUCCEEDED", "CAUGHT_ERROR") else 1


def register(add: Callable[..., argparse.ArgumentParser], document: Callable[[str], str]) -> None:
    """Add the actions through the `workflow` command's ``add``; ``document`` reads
    JSON text, a file, or stdin."""
    p = add("create-activity", cmd_create_activity, "create an activity (prints its ARN)")
    p.add_argument("name")
    p = add("describe-activity", cmd_describe_activity, "show an activity")
    p.add_argument("activity", help="name or ARN")
    p = add("delete-activity", cmd_delete_activity, "delete an activity")
    p.add_argument("activity", help="name or ARN")
    add("list-activities", cmd_list_activities, "list activities")
    p = add(
        "get-activity-task",
        cmd_get_activity_task,
        "wait for an activity task (prints its token and input; exit 2 when none came)",
    )
    p.add_argument("activity", help="name or ARN")
    p.add_argument("--worker-name")
    p.add_argument("--wait", type=float, help="seconds to wait (default 60, as AWS)")
    p = add(
        "test-state",
        lambda args: cmd_test_state(args, document),
        "run one state's definition with an input (exit 1 unless it succeeded or was caught)",
    )
    p.add_argument("--definition", required=True, help="one state's ASL JSON, a file, or -")
    p.add_argument("--input", default="{}", help="JSON, a file, or - for stdin")
    p.add_argument("--inspection-level", choices=("INFO", "DEBUG", "TRACE"), default="INFO")
    p.add_argument("--role-arn")
