"""Pieces every `eventplane <capability> ...` command shares: flags, argument types, output."""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, fields, is_dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:  # the SDK loads when a command runs, not on every `eventplane` start
    from eventplane.client import Client

# `name=Type:value`: Type is only read as a type when it is one, so values
# that contain ':' (URLs) still work without naming the type.
_TYPED_VALUE = re.compile(r"^(String|Number|Binary)(\.[^:]+)?:(.*)$", re.DOTALL)
CLIENT_TIMEOUT = 30.0


def key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def read_arg(arg: str) -> str:
    """An argument's text: as given, from a file (``@FILE``), or from stdin (``@-``)."""
    if arg == "@-":
        return sys.stdin.read()
    if arg.startswith("@"):
        try:
            with open(arg[1:], encoding="utf-8") as f:
                return f.read()
        except OSError as exc:
            raise argparse.ArgumentTypeError(f"cannot read {arg[1:]}: {exc.strerror}") from None
    return arg


def message_attribute(text: str) -> tuple[str, dict[str, Any]]:
    """``name=[Type:]value`` as a boto3-style attribute, which the SDK accepts."""
    name, sep, rest = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=[Type:]VALUE, got {text!r}")
    m = _TYPED_VALUE.match(rest)
    if m is None:
        return name, {"DataType": "String", "StringValue": rest}
    data_type = m.group(1) + (m.group(2) or "")
    value = m.group(3)
    if m.group(1) != "Binary":
        return name, {"DataType": data_type, "StringValue": value}
    try:
        return name, {"DataType": data_type, "BinaryValue": base64.b64decode(value, validate=True)}
    except binascii.Error:
        raise argparse.ArgumentTypeError(
            f"attribute {name!r}: a Binary value must be base64, got {value!r}"
        ) from None


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def emit_json(value: Any) -> None:
    print(json.dumps(_plain(value), indent=2, sort_keys=True))


def report(args: argparse.Namespace, data: Any, text: str) -> None:
    """``data`` as JSON with --json, else the one-line ``text``."""
    if args.json:
        emit_json(data)
    else:
        print(text)


def done(args: argparse.Namespace, value: Any, text: str) -> int:
    """``report``, then exit status 0."""
    report(args, value, text)
    return 0


def usage(args: argparse.Namespace, message: str) -> NoReturn:
    """A combination of arguments argparse cannot check itself: its usage error, exit 2.

    The action's parser put its ``error`` in ``args.usage_error``.
    """
    args.usage_error(message)
    raise SystemExit(2)  # not reached: ArgumentParser.error exits


def client(args: argparse.Namespace) -> Client:
    from eventplane.client import Client

    return Client(args.endpoint, token=getattr(args, "token", None), timeout=CLIENT_TIMEOUT)


def client_flags() -> argparse.ArgumentParser:
    flags = argparse.ArgumentParser(add_help=False)
    flags.add_argument(
        "--endpoint", help="host:port (default $EVENTPLANE_ENDPOINT or 127.0.0.1:50051)"
    )
    flags.add_argument("--token", help="bearer token (default $EVENTPLANE_TOKEN)")
    flags.add_argument("--json", action="store_true", help="JSON output for scripts")
    return flags


def subcommands(
    parser: argparse.ArgumentParser, dest: str
) -> tuple[Callable[..., argparse.ArgumentParser], Any]:
    """``(add, sub)`` for the actions of one capability command.

    ``add(name, func, help_text, within=sub)`` makes an action that takes the
    client flags (--endpoint, --json) and runs ``func(args)``; ``sub`` (its
    ``add_parser``) makes a group whose own sub-parsers go in ``within``.
    """
    common = [client_flags()]
    sub = parser.add_subparsers(dest=dest, required=True, metavar="ACTION")

    def add(
        name: str,
        func: Callable[[argparse.Namespace], int],
        help_text: str,
        within: Any = sub,
    ) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = within.add_parser(name, help=help_text, parents=common)
        p.set_defaults(func=func)
        return p

    return add, sub


def tag_commands(
    add: Callable[..., argparse.ArgumentParser],
    noun: str,
    ref_help: str,
    tag: Callable[[Client, str, dict[str, str]], None],
    untag: Callable[[Client, str, list[str]], None],
    list_tags: Callable[[Client, str], dict[str, str]],
) -> None:
    """The ``tag``, ``untag`` and ``tags`` actions of a taggable resource (a ``noun``)."""

    def cmd_tag(args: argparse.Namespace) -> int:
        ref, tags = getattr(args, noun), dict(args.pairs)
        with client(args) as ep:
            tag(ep, ref, tags)
        return done(args, {noun: ref, "tags": tags}, f"tagged {ref} with {', '.join(sorted(tags))}")

    def cmd_untag(args: argparse.Namespace) -> int:
        ref = getattr(args, noun)
        with client(args) as ep:
            untag(ep, ref, args.keys)
        return done(
            args, {noun: ref, "removed": args.keys}, f"removed {', '.join(args.keys)} from {ref}"
        )

    def cmd_tags(args: argparse.Namespace) -> int:
        with client(args) as ep:
            tags = list_tags(ep, getattr(args, noun))
        if args.json:
            emit_json(tags)
        else:
            print("\n".join(f"{k}={v}" for k, v in sorted(tags.items())) or "no tags")
        return 0

    p = add("tag", cmd_tag, f"add or overwrite {noun} tags")
    p.add_argument(noun, help=ref_help)
    p.add_argument("pairs", nargs="+", type=key_value, metavar="KEY=VALUE")
    p = add("untag", cmd_untag, f"remove {noun} tags")
    p.add_argument(noun, help=ref_help)
    p.add_argument("keys", nargs="+", metavar="KEY")
    p = add("tags", cmd_tags, f"print a {noun}'s tags")
    p.add_argument(noun, help=ref_help)


def when(ms: int) -> str:
    """Epoch milliseconds as ISO 8601 UTC."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def show(value: Any) -> None:
    """A result dataclass as ``field: value`` lines: nested parts inline, absent fields left
    out, ``*_ms`` times also in ISO 8601, mappings as ``k=v``, sequences joined."""
    assert is_dataclass(value)
    for f in fields(value):
        v = getattr(value, f.name)
        if is_dataclass(v):
            show(v)
            continue
        if v is None or v == () or v == "" or v == {}:
            continue
        if f.name.endswith("_ms") and isinstance(v, int) and v > 0:
            v = f"{when(v)} ({v})"
        elif isinstance(v, dict):
            v = ", ".join(f"{k}={v[k]}" for k in sorted(v))
        elif isinstance(v, tuple):
            v = ", ".join(str(item) for item in v)
        print(f"{f.name}: {v}")


def describe(args: argparse.Namespace, value: Any) -> int:
    """One result: JSON with --json, else ``show``."""
    if args.json:
        emit_json(value)
    else:
        show(value)
    return 0


def listing(
    args: argparse.Namespace, key: str, items: list[Any], line: Callable[[Any], str]
) -> int:
    """A list result: ``{key: [...]}`` with --json, else one ``line(item)`` per item."""
    if args.json:
        emit_json({key: items})
    else:
        for item in items:
            print(line(item))
    return 0
