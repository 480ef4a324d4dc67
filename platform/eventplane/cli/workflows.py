"""`eventplane workflow ...`: state machines and executions from the shell.

    eventplane workflow create orders --definition order.asl.json
    eventplane workflow start orders --input '{"id": 7}' --name order-7 --wait
    eventplane workflow history arn:aws:states:local:000000000000:execution:orders:order-7
    eventplane workflow show-execution "$EXECUTION_ARN" --graph order-7.svg
    eventplane workflow send-task-success "$TOKEN" --output '{"approved": true}'
    eventplane workflow publish-version orders --description "first release"
    eventplane workflow create-alias PROD --route orders:1=90 --route orders:2=10
    eventplane workflow start orders:PROD --input '{"id": 8}'
    eventplane workflow redrive arn:aws:states:local:000000000000:execution:orders:order-7
    eventplane workflow create-activity approve
    eventplane workflow get-activity-task approve --worker-name me
    eventplane workflow test-state --definition state.json --input '{"id": 7}'

MACHINE is a state machine name (the caller's account's: names are per account) or
ARN (``name:3`` is version 3, ``name:PROD`` an alias); EXECUTION an execution ARN. --definition,
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
from eventplane.cli import workflow_activities
from eventplane.cli._support import client as _client
from eventplane.cli._support import describe, listing, report, subcommands, tag_commands, when


def _machine(text: str) -> str:
    """An ARN as given; a name (``name:N``, ``name:ALIAS``) as an ARN of no account, which
    names the caller's account's machine (names are per account)."""
    return text if text.startswith("arn:") else arn.state_machine_arn(text, "")


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
            args.name,
            _document(args.definition),
            role_arn=args.role_arn or "",
            type=args.type,
            publish=args.publish,
            version_description=args.version_description or "",
        )
    report(args, m, m.state_machine_version_arn or m.state_machine_arn)
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        m = ep.workflows.update_state_machine(
            _machine(args.machine),
            definition=_document(args.definition) if args.definition else None,
            role_arn=args.role_arn,
            publish=args.publish,
            version_description=args.version_description or "",
        )
    text = f"{m.state_machine_arn} revision {m.revision_id}"
    if m.state_machine_version_arn:
        text += f"\npublished {m.state_machine_version_arn}"
    report(args, m, text)
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


def cmd_show_execution(args: argparse.Namespace) -> int:
    """describe-execution's output; with --graph also the state machine as an image."""
    with _client(args) as ep:
        e = ep.workflows.describe_execution(args.execution)
        if args.graph:
            from eventplane.cli.execution_graph import write_graph

            machine = ep.workflows.describe_state_machine(
                e.state_machine_version_arn or e.state_machine_arn
            )
            events = ep.workflows.get_execution_history(args.execution)
            if not write_graph(args.graph, machine.definition, events, e.execution_arn, e.status):
                return 1
    return _show_execution(args, e)


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


def cmd_map_runs(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        found = ep.workflows.list_map_runs(args.execution)
    return listing(args, "mapRuns", found, lambda r: f"{r['mapRunArn']}\t{when(r['startDate'])}")


def cmd_map_run_executions(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        found = ep.workflows.list_executions(map_run_arn=args.map_run, status_filter=args.status)
    return listing(
        args,
        "executions",
        found,
        lambda e: f"{e.execution_arn}\t{e.status}\t{e.redrive_count}\t{when(e.start_date)}",
    )


def cmd_describe_map_run(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        return describe(args, ep.workflows.describe_map_run(args.map_run))


def cmd_update_map_run(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.workflows.update_map_run(
            args.map_run,
            max_concurrency=args.max_concurrency,
            tolerated_failure_count=args.tolerated_failure_count,
            tolerated_failure_percentage=args.tolerated_failure_percentage,
        )
    report(args, {}, "updated")
    return 0


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


def _route(text: str) -> tuple[str, int]:
    """``VERSION=WEIGHT``: a version (``name:N`` or its ARN) and its share (0-100)."""
    version, sep, weight = text.rpartition("=")
    if not sep or not version or not (weight.isascii() and weight.isdigit()):
        raise argparse.ArgumentTypeError(f"expected VERSION=WEIGHT, got {text!r}")
    return _machine(version), int(weight)


def cmd_publish_version(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        v = ep.workflows.publish_state_machine_version(
            _machine(args.machine), description=args.description, revision_id=args.revision_id
        )
    report(args, v, v.state_machine_version_arn)
    return 0


def cmd_list_versions(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        found = ep.workflows.list_state_machine_versions(_machine(args.machine))
    return listing(
        args,
        "stateMachineVersions",
        found,
        lambda v: f"{v.state_machine_version_arn}\t{when(v.creation_date)}",
    )


def cmd_delete_version(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.workflows.delete_state_machine_version(_machine(args.version))
    report(args, {"deleted": args.version}, f"deleted {args.version}")
    return 0


def cmd_create_alias(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        a = ep.workflows.create_state_machine_alias(
            args.name, args.route, description=args.description or ""
        )
    report(args, a, a.state_machine_alias_arn)
    return 0


def cmd_describe_alias(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        return describe(args, ep.workflows.describe_state_machine_alias(_machine(args.alias)))


def cmd_update_alias(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        a = ep.workflows.update_state_machine_alias(
            _machine(args.alias), description=args.description, routing_configuration=args.route
        )
    routes = ", ".join(f"{e.state_machine_version_arn}={e.weight}" for e in a.routing_configuration)
    report(args, a, f"{a.state_machine_alias_arn} -> {routes}")
    return 0


def cmd_delete_alias(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.workflows.delete_state_machine_alias(_machine(args.alias))
    report(args, {"deleted": args.alias}, f"deleted {args.alias}")
    return 0


def cmd_list_aliases(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        found = ep.workflows.list_state_machine_aliases(_machine(args.machine))
    return listing(
        args,
        "stateMachineAliases",
        found,
        lambda a: f"{a.state_machine_alias_arn}\t{when(a.creation_date)}",
    )


def cmd_redrive(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        date = ep.workflows.redrive_execution(args.execution)
        e = ep.workflows.describe_execution(args.execution)
        while args.wait and e.status == "RUNNING":
            time.sleep(0.2)
            e = ep.workflows.describe_execution(args.execution)
    if not args.wait:
        report(args, {"redriveDate": date}, f"redriven at {when(date)}")
        return 0
    return _show_execution(args, e)


def register(parser: argparse.ArgumentParser) -> None:
    """Add the `workflow` sub-commands to ``parser`` (the `eventplane workflow` parser)."""
    add, _ = subcommands(parser, "workflow_command")
    types = ("STANDARD", "EXPRESS")

    p = add("create", cmd_create, "create a state machine (prints its ARN)")
    p.add_argument("name")
    p.add_argument("--definition", required=True, help="ASL JSON, a file, or - for stdin")
    p.add_argument("--type", choices=types, default="STANDARD")
    p.add_argument("--role-arn")
    p.add_argument("--publish", action="store_true", help="also publish version 1")
    p.add_argument("--version-description")

    p = add("update", cmd_update, "replace a state machine's definition or role")
    p.add_argument("machine", help="name or ARN")
    p.add_argument("--definition", help="ASL JSON, a file, or - for stdin")
    p.add_argument("--role-arn")
    p.add_argument("--publish", action="store_true", help="also publish a version")
    p.add_argument("--version-description")

    tag_commands(
        add,
        "resource",
        "a state machine's name or ARN, or an activity's ARN",
        lambda ep, ref, tags: ep.workflows.tag_resource(_machine(ref), tags),
        lambda ep, ref, keys: ep.workflows.untag_resource(_machine(ref), keys),
        lambda ep, ref: ep.workflows.list_tags_for_resource(_machine(ref)),
    )

    p = add("publish-version", cmd_publish_version, "publish a version (prints its ARN)")
    p.add_argument("machine", help="name or ARN")
    p.add_argument("--description")
    p.add_argument("--revision-id", help="publish only if this is still the revision")
    p = add("list-versions", cmd_list_versions, "list a state machine's versions, newest first")
    p.add_argument("machine", help="name or ARN")
    p = add("delete-version", cmd_delete_version, "delete a version no alias routes to")
    p.add_argument("version", help="name:N or a version ARN")

    route_help = "VERSION=WEIGHT (name:N or ARN, 0-100); once or twice, weights sum to 100"
    p = add("create-alias", cmd_create_alias, "create an alias (prints its ARN)")
    p.add_argument("name", help="the alias name (letters, digits, - _ .; not only digits)")
    p.add_argument("--route", type=_route, action="append", required=True, help=route_help)
    p.add_argument("--description")
    p = add("describe-alias", cmd_describe_alias, "show an alias and its routing")
    p.add_argument("alias", help="name:ALIAS or an alias ARN")
    p = add("update-alias", cmd_update_alias, "change an alias's routing or description")
    p.add_argument("alias", help="name:ALIAS or an alias ARN")
    p.add_argument("--route", type=_route, action="append", help=route_help)
    p.add_argument("--description")
    p = add("delete-alias", cmd_delete_alias, "delete an alias")
    p.add_argument("alias", help="name:ALIAS or an alias ARN")
    p = add("list-aliases", cmd_list_aliases, "list a machine's aliases (or a version's)")
    p.add_argument("machine", help="name, ARN, or name:N for the aliases routing to it")

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
    p = add("show-execution", cmd_show_execution, "show an execution (--graph: as an image)")
    p.add_argument("execution", help="execution ARN")
    p.add_argument("--graph", metavar="FILE", help="write the path taken to FILE.svg or FILE.png")
    p = add("executions", cmd_executions, "list a state machine's executions, newest first")
    p.add_argument("machine", help="name or ARN")
    p.add_argument("--status", choices=("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"))
    p = add("redrive", cmd_redrive, "restart a failed, timed out or aborted execution")
    p.add_argument("execution", help="execution ARN")
    p.add_argument("--wait", action="store_true", help="wait for the end")
    p = add("history", cmd_history, "an execution's history events")
    p.add_argument("execution", help="execution ARN")
    p.add_argument("--reverse", action="store_true", help="newest first")

    p = add("map-runs", cmd_map_runs, "list the Map Runs (Distributed Maps) of an execution")
    p.add_argument("execution", help="execution ARN")
    p = add(
        "map-run-executions",
        cmd_map_run_executions,
        "list a Map Run's child executions, newest first (status, redrive count)",
    )
    p.add_argument("map_run", help="Map Run ARN")
    p.add_argument(
        "--status",
        choices=("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"),
        help="PENDING_REDRIVE: those waiting to run again in the run's redrive",
    )
    p = add("describe-map-run", cmd_describe_map_run, "show a Map Run and its counts")
    p.add_argument("map_run", help="Map Run ARN")
    p = add("update-map-run", cmd_update_map_run, "change a running Map Run's limits")
    p.add_argument("map_run", help="Map Run ARN")
    p.add_argument("--max-concurrency", type=int)
    p.add_argument("--tolerated-failure-count", type=int)
    p.add_argument("--tolerated-failure-percentage", type=float)

    p = add("send-task-success", cmd_task_success, "complete a callback task")
    p.add_argument("token")
    p.add_argument("--output", required=True, help="JSON, a file, or - for stdin")
    p = add("send-task-failure", cmd_task_failure, "fail a callback task")
    p.add_argument("token")
    p.add_argument("--error")
    p.add_argument("--cause")
    p = add("send-task-heartbeat", cmd_task_heartbeat, "keep a callback task alive")
    p.add_argument("token")

    workflow_activities.register(add, _document)
