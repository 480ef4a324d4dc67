"""`eventplane function ...` for concurrency, async-invoke configs and event source mappings.

Kept apart from functions, versions, aliases and invoke (``cli/functions.py``), as
AWS keeps these settings apart; ``register_settings`` adds them to the same parser.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from eventplane.cli import _support as _cli
from eventplane.cli._support import client as _client
from eventplane.cli._support import done as _done
from eventplane.cli._support import report as _report
from eventplane.cli._support import usage as _usage

_REPORT_FAILURES = "ReportBatchItemFailures"

# --- concurrency -------------------------------------------------------------------------


def cmd_put_concurrency(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        n = ep.functions.put_function_concurrency(args.name, args.reserved)
    data = {"function_name": args.name, "reserved_concurrent_executions": n}
    _report(args, data, f"reserved {n} concurrent executions for {args.name}")
    return 0


def cmd_get_concurrency(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        n = ep.functions.get_function_concurrency(args.name)
    data = {"function_name": args.name, "reserved_concurrent_executions": n}
    _report(args, data, "none reserved" if n is None else str(n))
    return 0


def cmd_delete_concurrency(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.functions.delete_function_concurrency(args.name)
    data = {"function_name": args.name, "reserved_concurrent_executions": None}
    _report(args, data, f"removed the reserved concurrency of {args.name}")
    return 0


# --- asynchronous invocation -------------------------------------------------------------


def cmd_put_invoke_config(args: argparse.Namespace) -> int:
    destinations = {}
    if args.on_success is not None:
        destinations["OnSuccess"] = {"Destination": args.on_success}
    if args.on_failure is not None:
        destinations["OnFailure"] = {"Destination": args.on_failure}
    with _client(args) as ep:
        config = ep.functions.put_function_event_invoke_config(
            args.name,
            qualifier=args.qualifier,
            maximum_retry_attempts=args.max_retries,
            maximum_event_age_in_seconds=args.max_age,
            destination_config=destinations,
        )
    return _cli.describe(args, config)


def cmd_update_invoke_config(args: argparse.Namespace) -> int:
    destinations = {}
    if args.on_success is not None:
        destinations["OnSuccess"] = {"Destination": args.on_success}
    if args.on_failure is not None:
        destinations["OnFailure"] = {"Destination": args.on_failure}
    if args.max_retries is None and args.max_age is None and not destinations:
        _usage(args, "give --max-retries, --max-age, --on-success or --on-failure")
    with _client(args) as ep:
        config = ep.functions.update_function_event_invoke_config(
            args.name,
            qualifier=args.qualifier,
            maximum_retry_attempts=args.max_retries,
            maximum_event_age_in_seconds=args.max_age,
            destination_config=destinations,
        )
    return _cli.describe(args, config)


def cmd_list_invoke_configs(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        configs = ep.functions.list_function_event_invoke_configs(args.name)

    def line(c: Any) -> str:
        return (
            f"{c.function_arn}  retries {c.maximum_retry_attempts}  "
            f"max age {c.maximum_event_age_in_seconds}s"
        )

    return _cli.listing(args, "function_event_invoke_configs", configs, line)


def cmd_get_invoke_config(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        config = ep.functions.get_function_event_invoke_config(args.name, qualifier=args.qualifier)
    return _cli.describe(args, config)


def cmd_delete_invoke_config(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.functions.delete_function_event_invoke_config(args.name, qualifier=args.qualifier)
    data = {"deleted": "event-invoke-config", "function_name": args.name}
    _report(args, data, f"deleted the async invoke config of {args.name}")
    return 0


# --- resource-based policy ---------------------------------------------------------------


def cmd_add_permission(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        statement = ep.functions.add_permission(
            args.name,
            args.statement_id,
            args.action,
            args.principal,
            source_arn=args.source_arn,
            source_account=args.source_account,
            principal_org_id=args.principal_org_id,
            qualifier=args.qualifier,
            revision_id=args.revision_id,
        )
    _report(args, statement, json.dumps(statement))
    return 0


def cmd_remove_permission(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.functions.remove_permission(
            args.name, args.statement_id, qualifier=args.qualifier, revision_id=args.revision_id
        )
    data = {"removed": args.statement_id, "function_name": args.name}
    _report(args, data, f"removed statement {args.statement_id} from {args.name}'s policy")
    return 0


def cmd_get_policy(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        policy, revision = ep.functions.get_policy(args.name, qualifier=args.qualifier)
    data = {"policy": policy, "revision_id": revision}
    _report(args, data, json.dumps(policy, indent=2))
    return 0


# --- event source mappings ---------------------------------------------------------------


def _mapping_line(m: Any) -> str:
    return f"{m.uuid}  {m.state}  {m.event_source_arn} -> {m.function_arn}"


def _stream_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The stream-only options given (None: left out), as SDK keyword arguments."""
    return {
        "maximum_retry_attempts": args.max_retries,
        "maximum_record_age_in_seconds": args.max_record_age,
        "bisect_batch_on_function_error": args.bisect,
        "parallelization_factor": args.parallelization,
        "tumbling_window_in_seconds": args.tumbling_window_seconds,
        "destination_config": (
            None if args.on_failure is None else {"OnFailure": {"Destination": args.on_failure}}
        ),
        "filter_criteria": (
            None if args.filter is None else {"Filters": [{"Pattern": f} for f in args.filter]}
        ),
    }


def cmd_create_mapping(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        mapping = ep.functions.create_event_source_mapping(
            args.source,
            args.function,
            enabled=False if args.disabled else None,
            batch_size=args.batch_size,
            maximum_batching_window_in_seconds=args.window,
            function_response_types=[_REPORT_FAILURES] if args.report_batch_item_failures else [],
            maximum_concurrency=args.max_concurrency,
            starting_position=args.starting_position,
            starting_position_timestamp=args.starting_timestamp,
            **_stream_settings(args),
        )
    return _done(args, mapping, mapping.uuid)


def cmd_update_mapping(args: argparse.Namespace) -> int:
    types = None
    if args.report_batch_item_failures is not None:
        types = [_REPORT_FAILURES] if args.report_batch_item_failures else []
    stream = _stream_settings(args)
    given = (
        args.function,
        args.enabled,
        args.batch_size,
        args.window,
        types,
        args.max_concurrency,
        *stream.values(),
    )
    if all(v is None for v in given):
        _usage(
            args,
            "give --function, --enabled, --disabled, --batch-size, --window, "
            "--[no-]report-batch-item-failures, --max-concurrency or a stream setting",
        )
    with _client(args) as ep:
        mapping = ep.functions.update_event_source_mapping(
            args.uuid,
            function_name=args.function,
            enabled=args.enabled,
            batch_size=args.batch_size,
            maximum_batching_window_in_seconds=args.window,
            function_response_types=types,
            maximum_concurrency=args.max_concurrency,
            **stream,
        )
    return _done(args, mapping, _mapping_line(mapping))


def cmd_get_mapping(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        return _cli.describe(args, ep.functions.get_event_source_mapping(args.uuid))


def cmd_list_mappings(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        mappings = ep.functions.list_event_source_mappings(
            event_source_arn=args.source, function_name=args.function
        )
    return _cli.listing(args, "event_source_mappings", mappings, _mapping_line)


def cmd_delete_mapping(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        mapping = ep.functions.delete_event_source_mapping(args.uuid)
    return _done(args, mapping, f"deleted mapping {mapping.uuid}")


def register_settings(
    action: Callable[[str, Any, str], argparse.ArgumentParser],
    qualifier: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add the concurrency, invoke-config and mapping actions to the `function` parser."""

    def mapping_settings(p: argparse.ArgumentParser) -> None:
        p.add_argument("--batch-size", type=int, metavar="N", help="1-10000 (FIFO 1-10)")
        p.add_argument(
            "--window", type=int, metavar="SECONDS", help="batching window, 0-300 (not FIFO)"
        )
        p.add_argument(
            "--max-concurrency", type=int, metavar="N", help="queues: invocations at once, 2-1000"
        )
        p.add_argument(
            "--filter",
            action="append",
            metavar="PATTERN",
            help="an event pattern (JSON) records must match; repeat for more (OR)",
        )
        stream = p.add_argument_group("table streams")
        stream.add_argument(
            "--max-retries", type=int, metavar="N", help="-1 (until records expire) .. 10000"
        )
        stream.add_argument(
            "--max-record-age", type=int, metavar="SECONDS", help="-1 (no limit) or 60-604800"
        )
        stream.add_argument(
            "--bisect",
            action=argparse.BooleanOptionalAction,
            help="split a failing batch in two and retry the halves",
        )
        stream.add_argument("--parallelization", type=int, metavar="N", help="1-10 per shard")
        stream.add_argument(
            "--tumbling-window-seconds",
            type=int,
            metavar="N",
            help="0-900: carry the function's returned state within windows of N seconds",
        )
        stream.add_argument(
            "--on-failure", metavar="ARN", help="queue or topic told about batches given up"
        )

    p = action("put-concurrency", cmd_put_concurrency, "reserve concurrent executions")
    p.add_argument("name")
    p.add_argument("--reserved", type=int, required=True, metavar="N", help="0 stops invocations")
    for name, func, text in (
        ("get-concurrency", cmd_get_concurrency, "show the reserved concurrency"),
        ("delete-concurrency", cmd_delete_concurrency, "remove the reserved concurrency"),
    ):
        p = action(name, func, text)
        p.add_argument("name")

    # asynchronous invocation
    p = action("put-invoke-config", cmd_put_invoke_config, "configure async invocations")
    p.description = "Replaces the whole config: what is left out takes its default."
    p.add_argument("name")
    qualifier(p)
    p.add_argument("--max-retries", type=int, metavar="N", help="0-2 (default 2)")
    p.add_argument(
        "--max-age", type=int, metavar="SECONDS", help="maximum event age, 60-21600 (default)"
    )
    p.add_argument("--on-success", metavar="ARN", help="queue, topic, bus or function ARN")
    p.add_argument("--on-failure", metavar="ARN", help="queue, topic, bus or function ARN")
    p = action("update-invoke-config", cmd_update_invoke_config, "change an async invoke config")
    p.description = (
        "Only what is given changes (put-invoke-config replaces the whole config); "
        'a destination given as "" is removed.'
    )
    p.add_argument("name")
    qualifier(p)
    p.add_argument("--max-retries", type=int, metavar="N", help="0-2")
    p.add_argument("--max-age", type=int, metavar="SECONDS", help="maximum event age, 60-21600")
    for flag in ("--on-success", "--on-failure"):
        p.add_argument(flag, metavar="ARN", help='queue, topic, bus or function ARN; "": none')
    p = action(
        "list-invoke-configs",
        cmd_list_invoke_configs,
        "list the async invoke configs of a function, its versions and aliases",
    )
    p.add_argument("name")
    for name, func, text in (
        ("get-invoke-config", cmd_get_invoke_config, "show the async invocation config"),
        ("delete-invoke-config", cmd_delete_invoke_config, "remove the async invocation config"),
    ):
        p = action(name, func, text)
        p.add_argument("name")
        qualifier(p)

    # resource-based policy
    p = action("add-permission", cmd_add_permission, "let another principal invoke the function")
    p.add_argument("name")
    qualifier(p)
    p.add_argument("--statement-id", required=True, metavar="SID")
    p.add_argument("--action", default="lambda:InvokeFunction", help="default %(default)s")
    p.add_argument(
        "--principal",
        required=True,
        help="*, an account id, an IAM ARN or a service principal (events.amazonaws.com)",
    )
    p.add_argument("--source-arn", metavar="ARN", help="only calls coming from this resource")
    p.add_argument("--source-account", metavar="ACCOUNT")
    p.add_argument("--principal-org-id", metavar="ORG")
    p.add_argument("--revision-id", metavar="ID", help="refuse unless the policy is at this one")
    p = action("remove-permission", cmd_remove_permission, "remove a policy statement")
    p.add_argument("name")
    qualifier(p)
    p.add_argument("--statement-id", required=True, metavar="SID")
    p.add_argument("--revision-id", metavar="ID", help="refuse unless the policy is at this one")
    p = action("get-policy", cmd_get_policy, "show the function's resource-based policy")
    p.add_argument("name")
    qualifier(p)

    # event source mappings
    p = action(
        "create-mapping", cmd_create_mapping, "invoke a function with queue or table stream batches"
    )
    p.add_argument("--source", required=True, metavar="ARN", help="a queue or table stream ARN")
    p.add_argument("--function", required=True, metavar="NAME", help="function name or ARN")
    mapping_settings(p)
    p.add_argument(
        "--starting-position",
        choices=("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"),
        help="table streams (required there)",
    )
    p.add_argument(
        "--starting-timestamp", type=float, metavar="EPOCH_SECONDS", help="with AT_TIMESTAMP"
    )
    p.add_argument("--disabled", action="store_true", help="create it paused")
    p.add_argument(
        "--report-batch-item-failures",
        action="store_true",
        help="the function returns {batchItemFailures: [...]}; only those messages stay",
    )
    p = action("update-mapping", cmd_update_mapping, "change a mapping")
    p.add_argument("uuid")
    p.add_argument("--function", metavar="NAME", help="invoke this function instead")
    mapping_settings(p)
    state = p.add_mutually_exclusive_group()
    state.add_argument("--enabled", dest="enabled", action="store_const", const=True)
    state.add_argument("--disabled", dest="enabled", action="store_const", const=False)
    p.add_argument(
        "--report-batch-item-failures",
        action=argparse.BooleanOptionalAction,
        help="turn partial batch failure reports on (or off, with --no-...)",
    )
    for name, func, text in (
        ("get-mapping", cmd_get_mapping, "show a mapping"),
        ("delete-mapping", cmd_delete_mapping, "delete a mapping"),
    ):
        p = action(name, func, text)
        p.add_argument("uuid")
    p = action("list-mappings", cmd_list_mappings, "list event source mappings")
    p.add_argument("--source", metavar="QUEUE_ARN", help="only this queue's")
    p.add_argument("--function", metavar="NAME", help="only this function's")
