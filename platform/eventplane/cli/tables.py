"""`eventplane table ...`: the Tables API from the shell, items as DynamoDB JSON (as the AWS CLI).

    eventplane table create users --key id:S --stream NEW_AND_OLD_IMAGES
    eventplane table put users '{"id": {"S": "u1"}, "visits": {"N": "1"}}'
    eventplane table update users '{"id": {"S": "u1"}}' 'SET visits = visits + :one' \\
        --values '{":one": {"N": "1"}}'
    eventplane table get users '{"id": {"S": "u1"}}'
    eventplane table query users 'id = :id' --values '{":id": {"S": "u1"}}'
    eventplane table records users            # the stream, every shard from the oldest record
    eventplane table update-ttl users expires # delete items once their `expires` has passed
    eventplane table update-table users --no-stream --deletion-protection on
    eventplane table update-table users --partitions 8   # repartition (a multiple of now)
    eventplane table tag users team=growth    # a table name or its ARN
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

from eventplane import arn
from eventplane.cli._support import client as _client
from eventplane.cli._support import (
    describe,
    emit_json,
    key_value,
    listing,
    subcommands,
    tag_commands,
)


def _json_arg(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None


def _key_arg(text: str) -> tuple[str, str]:
    name, _, kind = text.partition(":")
    if not name or kind not in ("S", "N", "B"):
        raise argparse.ArgumentTypeError(f"expected NAME:TYPE with TYPE S, N or B, got {text!r}")
    return name, kind


_PROJECTIONS = ("ALL", "KEYS_ONLY")


def _index_arg(text: str, *, local: bool = False) -> tuple[Any, list[tuple[str, str]]]:
    """--gsi NAME:HASH:TYPE[:RANGE:TYPE][:PROJECTION] or --lsi NAME:RANGE:TYPE[:PROJECTION]
    (PROJECTION: ALL, KEYS_ONLY or INCLUDE=a,b) as (SecondaryIndex, key definitions); an
    LSI's HASH is the table's, filled in by the caller."""
    from eventplane.client.tables import SecondaryIndex

    parts = text.split(":")
    kind = "ALL"
    attrs: tuple[str, ...] = ()
    if parts and (parts[-1] in _PROJECTIONS or parts[-1].startswith("INCLUDE=")):
        last = parts.pop()
        kind, _, listed = last.partition("=")
        attrs = tuple(a for a in listed.split(",") if a)
    keys = [tuple(parts[i : i + 2]) for i in range(1, len(parts), 2)]
    want = 1 if local else (1, 2)
    if (
        len(parts) < 3
        or len(parts) % 2 == 0
        or len(keys) not in ((want,) if isinstance(want, int) else want)
        or any(len(k) != 2 or not k[0] or k[1] not in ("S", "N", "B") for k in keys)
    ):
        form = "NAME:RANGE:TYPE" if local else "NAME:HASH:TYPE[:RANGE:TYPE]"
        raise argparse.ArgumentTypeError(
            f"expected {form}[:ALL|:KEYS_ONLY|:INCLUDE=a,b], got {text!r}"
        )
    defs = [(k[0], k[1]) for k in keys]
    schema = [(defs[0][0], "RANGE" if local else "HASH")]
    if len(defs) == 2:
        schema.append((defs[1][0], "RANGE"))
    return SecondaryIndex(parts[0], schema, kind, attrs), defs


def _lsi_arg(text: str) -> tuple[Any, list[tuple[str, str]]]:
    return _index_arg(text, local=True)


def _definitions(*groups: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out: dict[str, str] = {}
    for group in groups:
        for name, kind in group:
            if out.setdefault(name, kind) != kind:
                raise SystemExit(f"attribute {name} is given two types: {out[name]} and {kind}")
    return list(out.items())


def _item(raw: Any) -> dict[str, Any]:
    from eventplane.attribute_values import decode_json_item

    return decode_json_item(raw)


def _show(item: dict[str, Any] | None) -> Any:
    from eventplane.attribute_values import encode_json_item

    return encode_json_item(item) if item is not None else None


def _expr_kw(args: argparse.Namespace) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    if getattr(args, "names", None):
        kw["expression_attribute_names"] = args.names
    if getattr(args, "values", None):
        from eventplane.attribute_values import decode_json_value

        kw["expression_attribute_values"] = {
            k: decode_json_value(v) for k, v in args.values.items()
        }
    if getattr(args, "condition", None):
        kw["condition_expression"] = args.condition
    if getattr(args, "return_values", None):
        kw["return_values"] = args.return_values
    return kw


def _print_item(item: dict[str, Any] | None) -> int:
    print(json.dumps(_show(item)) if item is not None else "")
    return 0


def cmd_create(args: argparse.Namespace) -> int:
    keys = [(args.key[0], "HASH")] + ([(args.range[0], "RANGE")] if args.range else [])
    gsis = [i for i, _ in args.gsi]
    lsis = [
        dataclasses.replace(i, key_schema=[(args.key[0], "HASH"), *i.key_schema])
        for i, _ in args.lsi
    ]
    defs = _definitions(
        [args.key] + ([args.range] if args.range else []),
        *(d for _, d in args.gsi + args.lsi),
    )
    with _client(args) as ep:
        desc = ep.tables.create_table(
            args.name,
            key_schema=keys,
            attribute_definitions=defs,
            global_secondary_indexes=gsis,
            local_secondary_indexes=lsis,
            stream_view_type=args.stream,
            partitions=args.partitions,
            deletion_protection_enabled=args.deletion_protection,
            tags=dict(args.tag),
        )
    return describe(args, desc)


def _tagged(ref: str) -> str:
    """The ARN tag calls name a table by; a bare name is made one (of this installation)."""
    return ref if ref.startswith("arn:") else arn.table_arn(ref)


def _throughput_arg(text: str) -> tuple[int, int]:
    read, _, write = text.partition(",")
    try:
        return int(read), int(write)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected READ,WRITE units, got {text!r}") from None


def cmd_update_table(args: argparse.Namespace) -> int:
    stream: bool | None = None
    if args.stream:
        stream = True
    elif args.no_stream:
        stream = False
    protection = None if args.deletion_protection is None else args.deletion_protection == "on"
    updates: list[dict[str, Any]] = []
    defs: list[tuple[str, str]] = []
    if args.create_gsi:
        updates.append({"Create": args.create_gsi[0]})
        defs = args.create_gsi[1]
    if args.delete_gsi:
        updates.append({"Delete": {"IndexName": args.delete_gsi}})
    with _client(args) as ep:
        desc = ep.tables.update_table(
            args.name,
            stream_enabled=stream,
            stream_view_type=args.stream,
            billing_mode=args.billing_mode or "",
            provisioned_throughput=args.throughput,
            deletion_protection_enabled=protection,
            attribute_definitions=defs,
            global_secondary_index_updates=updates,
            partitions=args.partitions or 0,
        )
    return describe(args, desc)


def cmd_update_ttl(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.tables.update_time_to_live(args.table, args.attribute, not args.disable)
        return describe(args, ep.tables.describe_time_to_live(args.table))


def cmd_describe_ttl(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        return describe(args, ep.tables.describe_time_to_live(args.table))


def cmd_describe(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        return describe(args, ep.tables.describe_table(args.name))


def cmd_list(args: argparse.Namespace) -> int:
    names: list[str] = []
    with _client(args) as ep:
        start = ""
        while True:
            page, last = ep.tables.list_tables(start)
            names += page
            if last is None:
                break
            start = last
    return listing(args, "table_names", names, str)


def cmd_delete(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        return describe(args, ep.tables.delete_table(args.name))


def cmd_put(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        old = ep.tables.put_item(args.table, _item(args.item), **_expr_kw(args))
    return _print_item(old) if old is not None else 0


def cmd_get(args: argparse.Namespace) -> int:
    kw: dict[str, Any] = {}
    if args.projection:
        kw["projection_expression"] = args.projection
    if args.names:
        kw["expression_attribute_names"] = args.names
    with _client(args) as ep:
        return _print_item(ep.tables.get_item(args.table, _item(args.key), **kw))


def cmd_update(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        got = ep.tables.update_item(
            args.table, _item(args.key), update_expression=args.update, **_expr_kw(args)
        )
    return _print_item(got) if got is not None else 0


def cmd_delete_item(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        old = ep.tables.delete_item(args.table, _item(args.key), **_expr_kw(args))
    return _print_item(old) if old is not None else 0


def _pages(args: argparse.Namespace, fetch: Any) -> int:
    items: list[Any] = []
    start = None
    while True:
        page = fetch(start)
        items += [_show(i) for i in page.items]
        start = page.last_evaluated_key
        if start is None or not args.all:
            break
    if args.json:
        emit_json({"items": items, "last_evaluated_key": _show(start)})
    else:
        for i in items:
            print(json.dumps(i))
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    kw = _expr_kw(args)
    if args.filter:
        kw["filter_expression"] = args.filter
    if args.index:
        kw["index_name"] = args.index
    with _client(args) as ep:
        return _pages(
            args,
            lambda start: ep.tables.query(
                args.table,
                args.key_condition,
                exclusive_start_key=start,
                scan_index_forward=not args.backward,
                limit=args.limit,
                **kw,
            ),
        )


def cmd_scan(args: argparse.Namespace) -> int:
    kw = _expr_kw(args)
    if args.filter:
        kw["filter_expression"] = args.filter
    if args.index:
        kw["index_name"] = args.index
    with _client(args) as ep:
        return _pages(
            args,
            lambda start: ep.tables.scan(
                args.table, exclusive_start_key=start, limit=args.limit, **kw
            ),
        )


def cmd_records(args: argparse.Namespace) -> int:
    """Every record of the table's stream, shard by shard, one JSON object per line."""
    with _client(args) as ep:
        arn = ep.tables.describe_table(args.table).latest_stream_arn
        if not arn:
            print(f"table {args.table} has no stream")
            return 1
        kind = "LATEST" if args.latest else "TRIM_HORIZON"
        for shard in ep.tables.describe_stream(arn).shards:
            it = ep.tables.get_shard_iterator(arn, shard.shard_id, kind)
            while it:  # a closed shard (stream switched off) ends without a next iterator
                page = ep.tables.get_records(it)
                for r in page.records:
                    print(json.dumps(r))
                if not page.records:
                    break
                it = page.next_shard_iterator
    return 0


def _expressions(p: argparse.ArgumentParser, *, condition: bool = True) -> None:
    if condition:
        p.add_argument("--condition", help="ConditionExpression")
    p.add_argument("--names", type=_json_arg, help='ExpressionAttributeNames, {"#n": "name"}')
    p.add_argument("--values", type=_json_arg, help="ExpressionAttributeValues (DynamoDB JSON)")


def register(parser: argparse.ArgumentParser) -> None:
    """Add the `table` sub-commands to ``parser`` (the `eventplane table` parser)."""
    add, _ = subcommands(parser, "table_command")

    p = add("create", cmd_create, "create a table")
    p.add_argument("name")
    p.add_argument("--key", type=_key_arg, required=True, metavar="NAME:TYPE", help="hash key")
    p.add_argument("--range", type=_key_arg, metavar="NAME:TYPE", help="range (sort) key")
    p.add_argument(
        "--stream",
        choices=("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"),
        help="turn the stream on with this view type",
    )
    p.add_argument("--partitions", type=int, default=0, help="Kafka partitions (default 4)")
    p.add_argument(
        "--gsi",
        type=_index_arg,
        action="append",
        default=[],
        metavar="NAME:HASH:TYPE[:RANGE:TYPE][:PROJECTION]",
        help="a global secondary index (PROJECTION: ALL, KEYS_ONLY or INCLUDE=a,b); repeatable",
    )
    p.add_argument(
        "--lsi",
        type=_lsi_arg,
        action="append",
        default=[],
        metavar="NAME:RANGE:TYPE[:PROJECTION]",
        help="a local secondary index (the table's hash key, another range key); repeatable",
    )

    p.add_argument(
        "--deletion-protection", action="store_true", help="refuse DeleteTable until switched off"
    )
    p.add_argument(
        "--tag", action="append", type=key_value, default=[], metavar="KEY=VALUE", help="repeatable"
    )

    p = add("describe", cmd_describe, "describe a table")
    p.add_argument("name")

    p = add(
        "update-table",
        cmd_update_table,
        "change a table's stream, billing, protection, GSIs or partition count",
    )
    p.add_argument("name")
    on_off = p.add_mutually_exclusive_group()
    on_off.add_argument(
        "--stream",
        choices=("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"),
        help="turn a new stream on with this view type",
    )
    on_off.add_argument("--no-stream", action="store_true", help="turn the stream off")
    p.add_argument("--billing-mode", choices=("PAY_PER_REQUEST", "PROVISIONED"))
    p.add_argument(
        "--throughput", type=_throughput_arg, metavar="READ,WRITE", help="provisioned units"
    )
    p.add_argument("--deletion-protection", choices=("on", "off"))
    p.add_argument(
        "--partitions",
        type=int,
        help="raise the partition count to this multiple of the current one (the table is "
        "UPDATING while its items move; the stream's shards split)",
    )
    gsi = p.add_mutually_exclusive_group()
    gsi.add_argument(
        "--create-gsi",
        type=_index_arg,
        metavar="NAME:HASH:TYPE[:RANGE:TYPE][:PROJECTION]",
        help="add a global secondary index (backfilled from the table's items)",
    )
    gsi.add_argument("--delete-gsi", metavar="NAME", help="remove a global secondary index")

    p = add("update-ttl", cmd_update_ttl, "enable (or --disable) time to live on an attribute")
    p.add_argument("table")
    p.add_argument("attribute", help="the attribute holding the expiry (epoch seconds)")
    p.add_argument("--disable", action="store_true", help="disable TTL instead")
    p = add("describe-ttl", cmd_describe_ttl, "the table's time-to-live status")
    p.add_argument("table")
    add("list", cmd_list, "list table names")
    p = add("delete", cmd_delete, "delete a table and its items")
    p.add_argument("name")
    tag_commands(
        add,
        "table",
        "table name or ARN",
        lambda ep, ref, tags: ep.tables.tag_resource(_tagged(ref), tags),
        lambda ep, ref, keys: ep.tables.untag_resource(_tagged(ref), keys),
        lambda ep, ref: ep.tables.list_tags_of_resource(_tagged(ref)),
    )

    p = add("put", cmd_put, "put an item (DynamoDB JSON)")
    p.add_argument("table")
    p.add_argument("item", type=_json_arg)
    p.add_argument("--return-values", choices=("NONE", "ALL_OLD"))
    _expressions(p)

    p = add("get", cmd_get, "get an item by key (prints nothing if absent)")
    p.add_argument("table")
    p.add_argument("key", type=_json_arg)
    p.add_argument("--projection", help="ProjectionExpression")
    p.add_argument("--names", type=_json_arg, help="ExpressionAttributeNames")

    p = add("update", cmd_update, "update an item with an UpdateExpression")
    p.add_argument("table")
    p.add_argument("key", type=_json_arg)
    p.add_argument("update", help="UpdateExpression")
    p.add_argument(
        "--return-values",
        default="ALL_NEW",
        choices=("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"),
    )
    _expressions(p)

    p = add("delete-item", cmd_delete_item, "delete an item by key")
    p.add_argument("table")
    p.add_argument("key", type=_json_arg)
    p.add_argument("--return-values", choices=("NONE", "ALL_OLD"))
    _expressions(p)

    for name, func, helptext in (
        ("query", cmd_query, "items of one partition-key value (KeyConditionExpression)"),
        ("scan", cmd_scan, "every item"),
    ):
        p = add(name, func, helptext)
        p.add_argument("table")
        if name == "query":
            p.add_argument("key_condition", help="KeyConditionExpression")
            p.add_argument("--backward", action="store_true", help="descending sort key")
        p.add_argument("--filter", help="FilterExpression")
        p.add_argument("--index", help="read this secondary index (IndexName)")
        p.add_argument("--limit", type=int, default=0, help="items evaluated per page")
        p.add_argument("--all", action="store_true", help="follow every page")
        _expressions(p, condition=False)

    p = add("records", cmd_records, "print the table's stream records (JSON lines)")
    p.add_argument("table")
    p.add_argument("--latest", action="store_true", help="only records written from now on")
