"""`eventplane events ...`: the EventBuses API from the shell.

    eventplane events create-bus orders
    eventplane events put-rule big-orders --bus orders \\
        --pattern '{"detail": {"total": [{"numeric": [">", 100]}]}}'
    eventplane events put-targets big-orders --bus orders \\
        --target q=arn:aws:sqs:local:000000000000:big-orders --input-path '$.detail' \\
        --max-retries 3 --dlq arn:aws:sqs:local:000000000000:big-orders-dlq
    eventplane events put-events --bus orders --source shop --detail-type OrderPlaced \\
        --detail '{"total": 250}'
    eventplane events test-pattern --pattern @pattern.json --event @event.json && echo match
    eventplane events tag arn:aws:events:local:000000000000:event-bus/orders team=shop
    eventplane events rules-by-target arn:aws:sqs:local:000000000000:big-orders --bus orders
    eventplane events start-replay again --archive orders-all \\
        --start 2024-05-01T00:00:00Z --end 1714600000000

--bus is a bus name or ARN; without it, the `default` bus (list-archives: every
bus). JSON arguments (--pattern, --detail, --event, --entries, --targets,
--input, --input-transformer, --content) take the JSON text, @FILE to read it
from a file, or @- to read it from stdin. Times (--start, --end, --time) are ISO
8601 (naive means UTC) or epoch milliseconds.

put-targets: the input options, --max-retries, --max-age, --dlq and
--message-group-id apply to every --target ID=ARN of that call; configure
targets differently with one call each, or give --targets, a JSON list of
targets with boto3's keys (Id, Arn, Input, InputPath, InputTransformer,
RetryPolicy, DeadLetterConfig, SqsParameters).

put-events: one event from --source, --detail-type, --detail (default {}),
--resource and --time; or up to 10 from --entries, a JSON list with boto3's
keys (Source, DetailType, Detail, Resources, EventBusName, Time, TraceHeader);
--bus then applies to the entries that name no EventBusName.

Exit status: 0 done; 1 an error, or some entries of put-events, put-targets or
remove-targets failed (each is printed); 2 a usage error. test-pattern answers
like grep: prints true or false and exits 0 when the pattern matches, 1 when it
does not, 2 on any error (an invalid pattern, an unreachable server).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from eventplane.cli import _support as _cli
from eventplane.cli._event_args import (
    _json_list,
    _json_object,
    _json_text,
    _object_text,
    _target,
    _timestamp,
)
from eventplane.cli._support import client as _client
from eventplane.cli._support import emit_json as _emit_json
from eventplane.cli._support import key_value as _key_value
from eventplane.cli._support import report as _report
from eventplane.cli._support import subcommands
from eventplane.cli._support import usage as _usage
from eventplane.cli.event_archives import register_archives
from eventplane.errors import EventplaneError

if TYPE_CHECKING:  # the SDK loads when a command runs, not on every `eventplane` start
    from eventplane.client import PutEventsResult, PutTargetsResult

EXIT_FAILED = 1
EXIT_ERROR = 2  # test-pattern only: 1 means "no match" there
_BUS_HELP = "bus name or ARN (default: the default bus)"


# --- output ------------------------------------------------------------------------------


def _targets_outcome(args: argparse.Namespace, result: PutTargetsResult, done: str) -> int:
    if args.json:
        _emit_json(result)
    else:
        for f in result.failed_entries:
            print(f"FAILED {f.target_id}: {f.error_code}: {f.error_message}")
        if not result.failed_entry_count:
            print(done)
    return EXIT_FAILED if result.failed_entry_count else 0


# --- buses -------------------------------------------------------------------------------


def cmd_create_bus(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        arn = ep.events.create_event_bus(
            args.name,
            description=args.description,
            schema_validation=args.schema_validation,
            tags=dict(args.tag),
        )
    _report(args, {"event_bus_arn": arn}, arn)
    return 0


def cmd_describe_bus(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        return _cli.describe(args, ep.events.describe_event_bus(args.name))


def cmd_list_buses(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        buses = ep.events.list_event_buses(name_prefix=args.prefix)
    return _cli.listing(args, "event_buses", buses, lambda b: f"{b.name}  {b.arn}")


def cmd_delete_bus(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.events.delete_event_bus(args.name)
    _report(args, {"deleted": args.name}, f"deleted bus {args.name}")
    return 0


def cmd_put_permission(args: argparse.Namespace) -> int:
    if args.policy is None and (args.statement_id is None or args.principal is None):
        _usage(args, "give --policy, or --statement-id and --principal")
    condition = (
        {"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": args.org_id}
        if args.org_id
        else None
    )
    with _client(args) as ep:
        ep.events.put_permission(
            event_bus_name=args.bus,
            statement_id=args.statement_id,
            principal=args.principal,
            condition=condition,
            policy=args.policy,
        )
    target = args.bus or "default"
    _report(args, {"event_bus_name": target}, f"updated the policy of bus {target}")
    return 0


def cmd_remove_permission(args: argparse.Namespace) -> int:
    if (args.statement_id is None) == (not args.all):
        _usage(args, "give exactly one of --statement-id and --all")
    with _client(args) as ep:
        ep.events.remove_permission(
            event_bus_name=args.bus,
            statement_id=args.statement_id,
            remove_all_permissions=args.all,
        )
    target = args.bus or "default"
    _report(args, {"event_bus_name": target}, f"updated the policy of bus {target}")
    return 0


# --- rules -------------------------------------------------------------------------------


def cmd_put_rule(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        arn = ep.events.put_rule(
            args.name,
            event_pattern=args.pattern,
            schedule_expression=args.schedule,
            state="DISABLED" if args.disabled else "ENABLED",
            description=args.description,
            event_bus_name=args.bus,
            tags=dict(args.tag),
        )
    _report(args, {"rule_arn": arn}, arn)
    return 0


def cmd_describe_rule(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        return _cli.describe(args, ep.events.describe_rule(args.name, event_bus_name=args.bus))


def cmd_list_rules(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        rules = ep.events.list_rules(event_bus_name=args.bus, name_prefix=args.prefix)

    def line(r: Any) -> str:
        what = r.event_pattern or r.schedule_expression or ""
        return f"{r.name}  {r.state}  {what}"

    return _cli.listing(args, "rules", rules, line)


def cmd_rules_by_target(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        names = ep.events.list_rule_names_by_target(args.target_arn, event_bus_name=args.bus)
    if args.json:
        _emit_json({"rule_names": names})
    else:
        print("\n".join(names) or "no rules")
    return 0


def cmd_delete_rule(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.events.delete_rule(args.name, event_bus_name=args.bus, force=args.force)
    _report(args, {"deleted": args.name}, f"deleted rule {args.name}")
    return 0


def cmd_enable_rule(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.events.enable_rule(args.name, event_bus_name=args.bus)
    _report(args, {"rule": args.name, "state": "ENABLED"}, f"enabled rule {args.name}")
    return 0


def cmd_disable_rule(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.events.disable_rule(args.name, event_bus_name=args.bus)
    _report(args, {"rule": args.name, "state": "DISABLED"}, f"disabled rule {args.name}")
    return 0


# --- targets -----------------------------------------------------------------------------

_SHARED_TARGET_OPTIONS = (
    "input",
    "input_path",
    "input_transformer",
    "max_retries",
    "max_age",
    "dlq",
    "message_group_id",
)


def _targets_from_flags(args: argparse.Namespace) -> list[dict[str, Any]]:
    shared: dict[str, Any] = {}
    if args.input is not None:
        shared["Input"] = args.input
    if args.input_path is not None:
        shared["InputPath"] = args.input_path
    if args.input_transformer is not None:
        shared["InputTransformer"] = args.input_transformer
    retry = {}
    if args.max_retries is not None:
        retry["MaximumRetryAttempts"] = args.max_retries
    if args.max_age is not None:
        retry["MaximumEventAgeInSeconds"] = args.max_age
    if retry:
        shared["RetryPolicy"] = retry
    if args.dlq is not None:
        shared["DeadLetterConfig"] = {"Arn": args.dlq}
    if args.message_group_id is not None:
        shared["SqsParameters"] = {"MessageGroupId": args.message_group_id}
    return [{"Id": target_id, "Arn": arn, **shared} for target_id, arn in args.target]


def cmd_put_targets(args: argparse.Namespace) -> int:
    if args.targets is not None:
        given = [o for o in _SHARED_TARGET_OPTIONS if getattr(args, o) is not None]
        if args.target or given:
            flags = ["--target"] if args.target else []
            flags += ["--" + o.replace("_", "-") for o in given]
            _usage(args, f"--targets cannot be combined with {', '.join(flags)}")
        targets: list[Any] = args.targets
    elif args.target:
        targets = _targets_from_flags(args)
    else:
        _usage(args, "give --target ID=ARN (repeatable) or --targets JSON")
    with _client(args) as ep:
        result = ep.events.put_targets(args.rule, targets, event_bus_name=args.bus)
    return _targets_outcome(args, result, f"put {len(targets)} target(s) on rule {args.rule}")


def cmd_remove_targets(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        result = ep.events.remove_targets(
            args.rule, args.ids, event_bus_name=args.bus, force=args.force
        )
    done = f"removed {len(args.ids)} target(s) from rule {args.rule}"
    return _targets_outcome(args, result, done)


def cmd_list_targets(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        targets = ep.events.list_targets_by_rule(args.rule, event_bus_name=args.bus)
    return _cli.listing(args, "targets", targets, lambda t: f"{t.id}  {t.arn}")


# --- events ------------------------------------------------------------------------------

_SINGLE_EVENT_OPTIONS = ("source", "detail_type", "detail", "resource", "time")


def _entries(args: argparse.Namespace) -> list[Any]:
    if args.entries is not None:
        given = [o for o in _SINGLE_EVENT_OPTIONS if getattr(args, o)]
        if given:
            flags = ", ".join("--" + o.replace("_", "-") for o in given)
            _usage(args, f"--entries cannot be combined with {flags}")
        if args.bus is None:
            return list(args.entries)
        # Entries that are not dicts are left for the SDK to reject by position.
        return [{"EventBusName": args.bus, **e} if isinstance(e, dict) else e for e in args.entries]
    missing = [o for o in ("source", "detail_type") if getattr(args, o) is None]
    if missing:
        flags = " and ".join("--" + o.replace("_", "-") for o in missing)
        _usage(args, f"give {flags} (or --entries JSON)")
    entry: dict[str, Any] = {
        "Source": args.source,
        "DetailType": args.detail_type,
        "Detail": args.detail or "{}",
        "Resources": args.resource,
    }
    if args.bus is not None:
        entry["EventBusName"] = args.bus
    if args.time is not None:
        entry["Time"] = args.time
    return [entry]


def _events_outcome(args: argparse.Namespace, result: PutEventsResult) -> int:
    if args.json:
        _emit_json(result)
    else:
        for e in result.entries:
            print(e.event_id if e.event_id else f"FAILED {e.error_code}: {e.error_message}")
    return EXIT_FAILED if result.failed_entry_count else 0


def cmd_put_events(args: argparse.Namespace) -> int:
    entries = _entries(args)
    with _client(args) as ep:
        result = ep.events.put_events(entries)
    return _events_outcome(args, result)


def cmd_test_pattern(args: argparse.Namespace) -> int:
    try:
        with _client(args) as ep:
            matched = ep.events.test_event_pattern(args.pattern, args.event)
    except EventplaneError as exc:
        # Exit 1 means "no match" here, as in grep; an error is 2.
        print(f"eventplane: {exc}", file=sys.stderr)
        return EXIT_ERROR
    _report(args, {"result": matched}, "true" if matched else "false")
    return 0 if matched else EXIT_FAILED


# --- parser ------------------------------------------------------------------------------


def register(parser: argparse.ArgumentParser) -> None:
    """Add the `events` sub-commands to ``parser`` (the `eventplane events` parser)."""
    add, _ = subcommands(parser, "events_command")

    def action(name: str, func: Any, help_text: str) -> argparse.ArgumentParser:
        p = add(name, func, help_text)
        p.set_defaults(usage_error=p.error)  # for _usage
        return p

    def bus(p: argparse.ArgumentParser, help_text: str = _BUS_HELP) -> None:
        p.add_argument("--bus", help=help_text)

    def pattern(p: argparse.ArgumentParser, help_text: str) -> None:
        p.add_argument("--pattern", type=_object_text, metavar="JSON", help=help_text)

    def prefix(p: argparse.ArgumentParser) -> None:
        p.add_argument("--prefix", help="only names that start with this")

    def tag_option(p: argparse.ArgumentParser, help_text: str) -> None:
        p.add_argument(
            "--tag",
            action="append",
            type=_key_value,
            default=[],
            metavar="KEY=VALUE",
            help=help_text,
        )

    # buses
    p = action("create-bus", cmd_create_bus, "create an event bus (prints its ARN)")
    p.add_argument("name")
    p.add_argument("--description")
    p.add_argument(
        "--schema-validation",
        action="store_true",
        help="reject events whose detail does not fit their registered schema",
    )
    tag_option(p, "repeatable")
    p = action("describe-bus", cmd_describe_bus, "show a bus")
    p.add_argument("name", nargs="?", help=_BUS_HELP)
    p = action("list-buses", cmd_list_buses, "list buses")
    prefix(p)
    p = action("delete-bus", cmd_delete_bus, "delete a bus")
    p.add_argument("name", help="bus name or ARN")

    p = action("put-permission", cmd_put_permission, "let another account put events on a bus")
    bus(p)
    p.add_argument("--statement-id", metavar="SID")
    p.add_argument("--principal", help="a 12-digit account id or *")
    p.add_argument("--org-id", metavar="ORG", help="only principals of this organization")
    p.add_argument("--policy", metavar="JSON", help="a whole policy document instead")
    p = action("remove-permission", cmd_remove_permission, "remove a bus policy statement")
    bus(p)
    p.add_argument("--statement-id", metavar="SID")
    p.add_argument("--all", action="store_true", help="remove the whole policy")

    # rules
    p = action("put-rule", cmd_put_rule, "create or replace a rule (prints its ARN)")
    p.add_argument("name")
    pattern(p, "event pattern (a JSON object, @FILE or @-)")
    p.add_argument("--schedule", metavar="EXPR", help="rate(5 minutes) or cron(...)")
    p.add_argument("--disabled", action="store_true", help="create the rule disabled")
    p.add_argument("--description")
    tag_option(p, "repeatable; only when the rule is created (then: tag/untag)")
    bus(p)
    for name, func, text in (
        ("describe-rule", cmd_describe_rule, "show a rule"),
        ("enable-rule", cmd_enable_rule, "let a rule match events again"),
        ("disable-rule", cmd_disable_rule, "stop a rule from matching events"),
    ):
        p = action(name, func, text)
        p.add_argument("name")
        bus(p)
    p = action("delete-rule", cmd_delete_rule, "delete a rule")
    p.add_argument("name")
    p.add_argument("--force", action="store_true", help="even though it still has targets")
    bus(p)
    p = action("list-rules", cmd_list_rules, "list a bus's rules")
    prefix(p)
    bus(p)
    p = action("rules-by-target", cmd_rules_by_target, "list the rules with a given target")
    p.add_argument("target_arn", metavar="TARGET_ARN")
    bus(p)
    _cli.tag_commands(
        action,
        "resource",
        "bus or rule ARN",
        lambda ep, ref, tags: ep.events.tag_resource(ref, tags),
        lambda ep, ref, keys: ep.events.untag_resource(ref, keys),
        lambda ep, ref: ep.events.list_tags_for_resource(ref),
    )

    # targets
    p = action("put-targets", cmd_put_targets, "add or replace targets of a rule")
    p.description = (
        "The input options, --max-retries, --max-age, --dlq and --message-group-id apply "
        "to every --target of the call; for targets configured differently, make one call "
        "each or give --targets. Exits 1 if any target failed."
    )
    p.add_argument("rule")
    bus(p)
    p.add_argument(
        "--target",
        action="append",
        type=_target,
        default=[],
        metavar="ID=ARN",
        help="a target: queue/topic/bus/function/state machine ARN or http(s) URL; repeatable",
    )
    p.add_argument(
        "--targets",
        type=_json_list,
        metavar="JSON",
        help="instead of --target and the options below: a JSON list of boto3-style targets",
    )
    shaping = p.add_mutually_exclusive_group()
    shaping.add_argument("--input", type=_json_text, metavar="JSON", help="constant input")
    shaping.add_argument("--input-path", metavar="PATH", help="JSONPath into the event")
    shaping.add_argument(
        "--input-transformer",
        type=_json_object,
        metavar="JSON",
        help='{"InputPathsMap": {...}, "InputTemplate": "..."}',
    )
    p.add_argument("--max-retries", type=int, metavar="N", help="retry attempts, 0-185")
    p.add_argument("--max-age", type=int, metavar="SECONDS", help="maximum event age, 60-86400")
    p.add_argument("--dlq", metavar="ARN", help="queue ARN for events that cannot be delivered")
    p.add_argument("--message-group-id", help="FIFO queue targets: the message group")

    p = action("remove-targets", cmd_remove_targets, "remove targets from a rule")
    p.add_argument("rule")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--force", action="store_true")
    bus(p)
    p = action("list-targets", cmd_list_targets, "list a rule's targets")
    p.add_argument("rule")
    bus(p)

    # events
    p = action("put-events", cmd_put_events, "send events (prints their ids)")
    p.description = (
        "One event from --source, --detail-type, --detail, --resource and --time, or up to "
        "10 from --entries (--bus then applies to entries without EventBusName). Prints one "
        "line per entry, its event id or why it failed; exits 1 if any failed."
    )
    bus(p)
    p.add_argument("--source")
    p.add_argument("--detail-type")
    p.add_argument("--detail", type=_object_text, metavar="JSON", help="a JSON object (default {})")
    p.add_argument("--resource", action="append", default=[], metavar="ARN", help="repeatable")
    p.add_argument("--time", type=_timestamp, help="the event's time (default: now)")
    p.add_argument(
        "--entries",
        type=_json_list,
        metavar="JSON",
        help="instead of the options above: a JSON list of up to 10 boto3-style entries",
    )
    p = action("test-pattern", cmd_test_pattern, "does a pattern match an event? (exit 0/1)")
    p.description = (
        "Prints true or false. Like grep, exits 0 when the pattern matches the event, "
        "1 when it does not, and 2 on an error (an invalid pattern, an unreachable server)."
    )
    p.add_argument("--pattern", type=_object_text, required=True, metavar="JSON")
    p.add_argument(
        "--event", type=_object_text, required=True, metavar="JSON", help="a whole event envelope"
    )

    register_archives(action, bus, pattern, prefix)
