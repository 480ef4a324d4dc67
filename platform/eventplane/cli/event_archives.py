"""`eventplane events ...` for archives, replays and the schema registry.

Kept apart from buses, rules, targets and events (``cli/events.py``) as AWS keeps
the resources apart; ``register_archives`` adds these actions to the same parser.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from eventplane.cli import _support as _cli
from eventplane.cli._event_args import _json_text, _timestamp
from eventplane.cli._support import client as _client
from eventplane.cli._support import emit_json as _emit_json
from eventplane.cli._support import report as _report
from eventplane.cli._support import usage as _usage

_STATES = ("STARTING", "RUNNING", "CANCELLING", "COMPLETED", "CANCELLED", "FAILED")
_SCHEMA_TYPES = ("JSONSchemaDraft4", "Avro")

# --- archives ----------------------------------------------------------------------------


def cmd_create_archive(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        archive = ep.events.create_archive(
            args.name,
            args.bus or "default",
            description=args.description,
            event_pattern=args.pattern,
            retention_days=args.retention_days,
        )
    if args.json:
        _emit_json(archive)
    else:
        print(archive.archive_arn)
    return 0


def cmd_describe_archive(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        return _cli.describe(args, ep.events.describe_archive(args.name))


def cmd_list_archives(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        archives = ep.events.list_archives(name_prefix=args.prefix, event_source_arn=args.bus)

    def line(a: Any) -> str:
        return f"{a.archive_name}  {a.state}  {a.event_count} events  {a.event_source_arn}"

    return _cli.listing(args, "archives", archives, line)


def cmd_update_archive(args: argparse.Namespace) -> int:
    if args.description is None and args.pattern is None and args.retention_days is None:
        _usage(args, "give --description, --pattern or --retention-days")
    with _client(args) as ep:
        archive = ep.events.update_archive(
            args.name,
            description=args.description,
            event_pattern=args.pattern,
            retention_days=args.retention_days,
        )
    if args.json:
        _emit_json(archive)
    else:
        print(f"updated archive {archive.archive_name}")
    return 0


def cmd_delete_archive(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.events.delete_archive(args.name)
    _report(args, {"deleted": args.name}, f"deleted archive {args.name}")
    return 0


# --- replays -----------------------------------------------------------------------------


def _replay_state(args: argparse.Namespace, replay: Any) -> int:
    if args.json:
        _emit_json(replay)
    else:
        print(f"replay {replay.replay_name} {replay.state}")
    return 0


def cmd_start_replay(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        replay = ep.events.start_replay(
            args.name,
            args.archive,
            args.start,
            args.end,
            destination_arn=args.destination,
            filter_arns=args.rule,
            description=args.description,
        )
    return _replay_state(args, replay)


def cmd_describe_replay(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        return _cli.describe(args, ep.events.describe_replay(args.name))


def cmd_list_replays(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        replays = ep.events.list_replays(
            name_prefix=args.prefix, state=args.state, event_source_arn=args.archive
        )

    def line(r: Any) -> str:
        return f"{r.replay_name}  {r.state}  {r.events_replayed} events  {r.event_source_arn}"

    return _cli.listing(args, "replays", replays, line)


def cmd_cancel_replay(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        return _replay_state(args, ep.events.cancel_replay(args.name))


# --- schemas -----------------------------------------------------------------------------


def _schema_version(args: argparse.Namespace, schema: Any) -> int:
    if args.json:
        _emit_json(schema)
    else:
        print(f"schema {schema.schema_name} version {schema.version}")
    return 0


def cmd_create_schema(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        schema = ep.events.create_schema(
            args.name,
            args.type,
            args.content,
            source=args.source,
            detail_type=args.detail_type,
            description=args.description,
        )
    return _schema_version(args, schema)


def cmd_update_schema(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        schema = ep.events.update_schema(args.name, args.content, description=args.description)
    return _schema_version(args, schema)


def cmd_describe_schema(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        return _cli.describe(args, ep.events.describe_schema(args.name, version=args.version))


def cmd_list_schemas(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        schemas = ep.events.list_schemas(name_prefix=args.prefix)

    def line(s: Any) -> str:
        return f"{s.schema_name}  v{s.version}  {s.type}"

    return _cli.listing(args, "schemas", schemas, line)


def cmd_delete_schema(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.events.delete_schema(args.name)
    _report(args, {"deleted": args.name}, f"deleted schema {args.name}")
    return 0


def register_archives(
    action: Callable[[str, Any, str], argparse.ArgumentParser],
    bus: Callable[[argparse.ArgumentParser, str], None],
    pattern: Callable[[argparse.ArgumentParser, str], None],
    prefix: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add the archive, replay and schema actions, with the helpers of ``events.register``."""
    p = action("create-archive", cmd_create_archive, "archive a bus's events (prints the ARN)")
    p.add_argument("name")
    bus(p, "the bus whose events are archived (default: the default bus)")
    pattern(p, "only archive the events this matches")
    p.add_argument("--description")
    p.add_argument("--retention-days", type=int, default=0, help="0 (default): indefinitely")
    p = action("update-archive", cmd_update_archive, "change an archive")
    p.add_argument("name")
    pattern(p, "the new pattern")
    p.add_argument("--description")
    p.add_argument("--retention-days", type=int, help="0: indefinitely")
    for name, func, text in (
        ("describe-archive", cmd_describe_archive, "show an archive"),
        ("delete-archive", cmd_delete_archive, "delete an archive and its events"),
    ):
        p = action(name, func, text)
        p.add_argument("name")
    p = action("list-archives", cmd_list_archives, "list archives")
    prefix(p)
    bus(p, "only this bus's archives")

    # replays
    p = action("start-replay", cmd_start_replay, "replay archived events of a time range")
    p.add_argument("name")
    p.add_argument("--archive", required=True, help="archive name or ARN")
    p.add_argument("--start", type=_timestamp, required=True, help="first event time")
    p.add_argument("--end", type=_timestamp, required=True, help="end of the range")
    p.add_argument("--destination", metavar="BUS_ARN", help="default: the archive's bus")
    p.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="RULE_ARN",
        help="only this rule sees the events; repeatable",
    )
    p.add_argument("--description")
    for name, func, text in (
        ("describe-replay", cmd_describe_replay, "show a replay and its progress"),
        ("cancel-replay", cmd_cancel_replay, "stop a replay"),
    ):
        p = action(name, func, text)
        p.add_argument("name")
    p = action("list-replays", cmd_list_replays, "list replays")
    prefix(p)
    p.add_argument("--state", choices=_STATES)
    p.add_argument("--archive", help="only this archive's replays")

    # schemas
    p = action("create-schema", cmd_create_schema, "register a schema")
    p.add_argument("name")
    p.add_argument("--type", required=True, choices=_SCHEMA_TYPES)
    p.add_argument("--content", type=_json_text, required=True, metavar="JSON")
    p.add_argument("--source", help="validate events with this source ...")
    p.add_argument("--detail-type", help="... and this detail-type against it")
    p.add_argument("--description")
    p = action("update-schema", cmd_update_schema, "add a schema version")
    p.add_argument("name")
    p.add_argument("--content", type=_json_text, required=True, metavar="JSON")
    p.add_argument("--description", help="default: unchanged")
    p = action("describe-schema", cmd_describe_schema, "show a schema version")
    p.add_argument("name")
    p.add_argument("--version", type=int, help="default: the latest")
    p = action("list-schemas", cmd_list_schemas, "list schemas")
    prefix(p)
    p = action("delete-schema", cmd_delete_schema, "delete a schema and its versions")
    p.add_argument("name")
