"""`eventplane workflow ...`: state machines and executions from the shell.

    eventplane workflow create orders --definition order.asl.json
    eventplane workflow start orders --input '{"id": 7}' --name order-7 --wait
    eventplane workflow history arn:aws:states:local:000000000000:execution:orders:order-7
    eventplane workflow send-task-success "$TOKEN" --output '{"approved": true}'

MACHINE is a state machine name or ARN; EXECUTION an execution ARN. --definition,
--input and --output take JSON text, a file path, or - for stdin. --json prints one
JSON document for scripts; otherwise output is short and human.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from eventplane import arn
from eventplane.cli._support import client as _client
from eventplane.cli._support import describe, listing, report, subcommands, when


def _machine(text: str) -> str:
    return text if text.startswith("arn:") else arn.state_machine_arn(text)


def _document(text: str) -> str:
    """JSON text as given, the contents of a file, or stdin for ``-``."""
    if text == "-":
        return sys.stdin.read()
    if not text.lstrip().startswith(("{", "[", '"')) and Path(text).is_file():
        return Path(text).read_text()
    return text


def cmd_create(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        m = ep.workflows.create_state_machine(
            args.name, _document(args.definition), role_arn=args.role_arn or "", type=args.type
        )
    report(args, m, m.state_machine_arn)
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        m = ep.workflows.update_state_machine(
            _machine(args.machine),
            definition=_document(args.definition) if args.definition else None,
            role_arn=args.role_arn,
        )
    report(args, m, f"{m.state_machine_arn} revision {m.revision_id}")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.workflows.delete_state_machine(_machine(args.machine))
    report(args, {"deleted": args.machine}, f"deleted {args.machine}")
    return 0


def cmd_describe(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        return describe(args, ep.workflows.describe_state_machine(_machine(args.machine)))


def cmd_list(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        machines = ep.workflows.list_state_machines()
    return listing(args, "stateMachines", machines, lambda m: f"{m.name}\t{m.type}")


def cmd_validate(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        r = ep.workflows.validate_state_machine_definition(
            _document(args.definition), type=args.type
        )
    if args.json:
        report(args, r, "")
    else:
        print(r.result)
        for d in r.diagnostics:
            print(f"{d.severity} {d.code} at {d.location}: {d.message}")
    return 0 if r.result == "OK" else 1


def _show_execution(args: argparse.Namespace, e: Any) -> int:
    if args.json:
        return describe(args, e)
    print(f"{e.execution_arn}\t{e.status}")
    if e.output is not None:
        print(e.output)
    if e.error is not None or e.cause is not None:
        print(f"error: {e.error}\ncause: {e.cause}")
    return 0 if e.status in ("RUNNING", "SUCCEEDED") else 1


def cmd_start(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        e = ep.workflows.start_execution(
            _machine(args.machine), _document(args.input), name=args.name
        )
        while args.wait and e.status == "RUNNING":
            time.sleep(0.2)
            e = ep.workflows.describe_execution(e.execution_arn)
    return _show_execution(args, e)


def cmd_start_sync(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        e = ep.workflows.start_sync_execution(
            _machine(args.machine), _document(args.input), name=args.name
        )
    return _show_execution(args, e)


def cmd_stop(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        stopped = ep.workflows.stop_execution(args.execution, error=args.error, cause=args.cause)
    report(args, {"stopDate": stopped}, f"stopped at {when(stopped)}")
    return 0


def cmd_describe_execution(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        return _show_execution(args, ep.workflows.describe_execution(args.execution))


def cmd_executions(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        found = ep.workflows.list_executions(_machine(args.machine), status_filter=args.status)
    return listing(
        args, "executions", found, lambda e: f"{e.execution_arn}\t{e.status}\t{when(e.start_date)}"
    )


def cmd_history(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        events = ep.workflows.get_execution_history(args.execution, reverse_order=args.reverse)

    def line(e: dict[str, Any]) -> str:
        details: dict[str, Any] = next((v for k, v in e.items() if k.endswith("EventDetails")), {})
        name = details.get("name") or details.get("resource") or details.get("error") or ""
        return f"{e['id']:>4} {when(e['timestamp'])} {e['type']} {name}".rstrip()

    return listing(args, "events", events, line)


def cmd_task_success(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.workflows.send_task_success(args.token, _document(args.output))
    report(args, {"sent": "success"}, "sent")
    return 0


def cmd_task_failure(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.workflows.send_task_failure(args.token, error=args.error, cause=args.cause)
    report(args, {"sent": "failure"}, "sent")
    return 0


def cmd_task_heartbeat(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.workflows.send_task_heartbeat(args.token)
    report(args, {"sent": "heartbeat"}, "sent")
    return 0


def register(parser: argparse.ArgumentParser) -> None:
    """Add the `workflow` sub-commands to ``parser`` (the `eventplane workflow` parser)."""
    add, _ = subcommands(parser, "workflow_command")
    types = ("STANDARD", "EXPRESS")

    p = add("create", cmd_create, "create a state machine (prints its ARN)")
    p.add_argument("name")
    p.add_argument("--definition", required=True, help="ASL JSON, a file, or - for stdin")
    p.add_argument("--type", choices=types, default="STANDARD")
    p.add_argument("--role-arn")

    p = add("update", cmd_update, "replace a state machine's definition or role")
    p.add_argument("machine", help="name or ARN")
    p.add_argument("--definition", help="ASL JSON, a file, or - for stdin")
    p.add_argument("--role-arn")

    p = add("delete", cmd_delete, "delete a state machine")
    p.add_argument("machine", help="name or ARN")
    p = add("describe", cmd_describe, "show a state machine")
    p.add_argument("machine", help="name or ARN")
    add("list", cmd_list, "list state machines")

    p = add("validate", cmd_validate, "check a definition (exit 1 when it has errors)")
    p.add_argument("--definition", required=True, help="ASL JSON, a file, or - for stdin")
    p.add_argument("--type", choices=types, default="STANDARD")

    for name, func, text in (
        ("start", cmd_start, "start an execution (prints its ARN and status)"),
        ("start-sync", cmd_start_sync, "run an Express execution and print its output"),
    ):
        p = add(name, func, text)
        p.add_argument("machine", help="name or ARN")
        p.add_argument("--input", default="{}", help="JSON, a file, or - for stdin")
        p.add_argument("--name", help="execution name (default: a UUID)")
        if name == "start":
            p.add_argument("--wait", action="store_true", help="wait for the end")

    p = add("stop", cmd_stop, "abort a running execution")
    p.add_argument("execution", help="execution ARN")
    p.add_argument("--error")
    p.add_argument("--cause")
    p = add("describe-execution", cmd_describe_execution, "show an execution")
    p.add_argument("execution", help="execution ARN")
    p = add("executions", cmd_executions, "list a state machine's executions, newest first")
    p.add_argument("machine", help="name or ARN")
    p.add_argument("--status", choices=("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"))
    p = add("history", cmd_history, "an execution's history events")
    p.add_argument("execution", help="execution ARN")
    p.add_argument("--reverse", action="store_true", help="newest first")

    p = add("send-task-success", cmd_task_success, "complete a callback task")
    p.add_argument("token")
    p.add_argument("--output", required=True, help="JSON, a file, or - for stdin")
    p = add("send-task-failure", cmd_task_failure, "fail a callback task")
    p.add_argument("token")
    p.add_argument("--error")
    p.add_argument("--cause")
    p = add("send-task-heartbeat", cmd_task_heartbeat, "keep a callback task alive")
    p.add_argument("token")
