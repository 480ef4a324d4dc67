"""`eventplane queue ...`: the Queues API from the shell.

    eventplane queue create orders --attribute VisibilityTimeout=60
    echo '{"id": 1}' | eventplane queue send orders --attribute kind=String:new
    eventplane queue receive orders --wait 20 --delete
    eventplane queue redrive start orders-dlq --rate 50
    eventplane queue tag orders team=shop env=dev

QUEUE is a queue name or URL. --json prints one JSON document for scripts
(binary attribute values as base64); otherwise output is short and human.
"""

from __future__ import annotations

import argparse
import base64
import sys
from typing import TYPE_CHECKING

from eventplane.cli._support import (
    client as _client,
)
from eventplane.cli._support import (
    emit_json as _emit_json,
)
from eventplane.cli._support import (
    key_value as _key_value,
)
from eventplane.cli._support import (
    message_attribute as _message_attribute,
)
from eventplane.cli._support import (
    report as _report,
)
from eventplane.cli._support import (
    subcommands,
)
from eventplane.cli._support import (
    tag_commands as _tag_commands,
)

if TYPE_CHECKING:  # the SDK loads when a command runs, not on every `eventplane` start
    from eventplane.client import Message, MessageAttribute

EXIT_FAILURE = 1
_QUEUE_HELP = "queue name or URL"


# --- argument types ----------------------------------------------------------------------


def _seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole seconds, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {value}")
    return value


# --- output ------------------------------------------------------------------------------


def _attribute_text(attr: MessageAttribute) -> str:
    if attr.binary_value is not None:
        return base64.b64encode(attr.binary_value).decode("ascii")
    return attr.string_value or ""


def _print_message(m: Message) -> None:
    print(f"--- {m.message_id}")
    print(f"receipt-handle: {m.receipt_handle}")
    for name in ("ApproximateReceiveCount", "MessageGroupId", "SequenceNumber"):
        if name in m.attributes:
            print(f"{name}: {m.attributes[name]}")
    for name, attr in sorted(m.message_attributes.items()):
        print(f"attribute {name} ({attr.data_type}): {_attribute_text(attr)}")
    print(m.body)


# --- commands ----------------------------------------------------------------------------


def cmd_create(args: argparse.Namespace) -> int:
    attributes = dict(args.attribute)
    if args.fifo:
        attributes["FifoQueue"] = "true"
    with _client(args) as ep:
        url = ep.queues.create_queue(args.name, attributes)
    _report(args, {"queue_url": url}, url)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        urls = ep.queues.list_queues(args.prefix)
    if args.json:
        _emit_json({"queue_urls": urls})
    else:
        for url in urls:
            print(url)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.queues.delete_queue(args.queue)
    _report(args, {"deleted": args.queue}, f"deleted queue {args.queue}")
    return 0


def cmd_url(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        url = ep.queues.get_queue_url(args.name)
    _report(args, {"queue_url": url}, url)
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    body = args.body if args.body is not None else sys.stdin.read()
    with _client(args) as ep:
        result = ep.queues.send_message(
            args.queue,
            body,
            delay_seconds=args.delay,
            message_attributes=dict(args.attribute),
            message_group_id=args.group_id,
            message_deduplication_id=args.dedup_id,
        )
    if args.json:
        _emit_json(result)
    else:
        seq = f" (sequence {result.sequence_number})" if result.sequence_number else ""
        print(f"sent {result.message_id}{seq}")
    return 0


def cmd_receive(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        messages = ep.queues.receive_message(
            args.queue,
            max_number_of_messages=args.max,
            wait_time_seconds=args.wait,
            visibility_timeout=args.visibility,
            message_system_attribute_names=["All"],
            message_attribute_names=["All"],
        )
        if args.json:
            _emit_json(messages)
        elif not messages:
            print("no messages")
        else:
            for m in messages:
                _print_message(m)
        if not (args.delete and messages):
            return 0
        # Printed first, deleted after: a crash in between redelivers, never loses.
        entries = [
            {"id": str(i), "receipt_handle": m.receipt_handle} for i, m in enumerate(messages)
        ]
        result = ep.queues.delete_message_batch(args.queue, entries)
    for failure in result.failed:
        message_id = messages[int(failure.id)].message_id
        print(
            f"eventplane: not deleted {message_id}: {failure.code}: {failure.message}",
            file=sys.stderr,
        )
    return EXIT_FAILURE if result.failed else 0


def cmd_delete_message(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.queues.delete_message(args.queue, args.receipt_handle)
    _report(args, {"deleted": True}, "deleted message")
    return 0


def cmd_attributes_get(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        attributes = ep.queues.get_queue_attributes(args.queue, args.names or None)
    if args.json:
        _emit_json(attributes)
    else:
        for name, value in sorted(attributes.items()):
            print(f"{name}: {value}")
    return 0


def cmd_attributes_set(args: argparse.Namespace) -> int:
    attributes = dict(args.pairs)
    with _client(args) as ep:
        ep.queues.set_queue_attributes(args.queue, attributes)
    if args.json:
        _emit_json({"queue": args.queue, "attributes": attributes})
    else:
        print(f"updated {', '.join(sorted(attributes))} on {args.queue}")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.queues.purge_queue(args.queue)
    _report(args, {"purged": args.queue}, f"purged queue {args.queue}")
    return 0


def cmd_redrive_start(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        handle = ep.queues.start_message_move_task(
            args.dlq, destination_arn=args.destination, max_number_of_messages_per_second=args.rate
        )
    _report(args, {"task_handle": handle}, f"redrive started: {handle}")
    return 0


def cmd_redrive_list(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        tasks = ep.queues.list_message_move_tasks(args.dlq, max_results=args.max)
    if args.json:
        _emit_json(tasks)
        return 0
    if not tasks:
        print("no move tasks")
    for task in tasks:
        dest = task.destination_arn or "original source queues"
        moved = (
            f"{task.approximate_number_of_messages_moved}"
            f"/{task.approximate_number_of_messages_to_move}"
        )
        line = f"{task.status:<10} moved {moved} to {dest}"
        if task.task_handle:
            line += f"  handle: {task.task_handle}"
        if task.failure_reason:
            line += f"  reason: {task.failure_reason}"
        print(line)
    return 0


def cmd_redrive_cancel(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        moved = ep.queues.cancel_message_move_task(args.handle)
    data = {"approximate_number_of_messages_moved": moved}
    _report(args, data, f"cancelled; about {moved} message(s) had been moved")
    return 0


# --- parser ------------------------------------------------------------------------------


def register(parser: argparse.ArgumentParser) -> None:
    """Add the `queue` sub-commands to ``parser`` (the `eventplane queue` parser)."""
    add, sub = subcommands(parser, "queue_command")

    p = add("create", cmd_create, "create a queue (prints its URL)")
    p.add_argument("name")
    p.add_argument(
        "--attribute",
        action="append",
        type=_key_value,
        default=[],
        metavar="NAME=VALUE",
        help="queue attribute, repeatable",
    )
    p.add_argument("--fifo", action="store_true", help="a FIFO queue (name must end in .fifo)")

    p = add("list", cmd_list, "list queue URLs")
    p.add_argument("--prefix", default="", help="only queues whose name starts with this")

    p = add("delete", cmd_delete, "delete a queue and its messages")
    p.add_argument("queue", help=_QUEUE_HELP)

    p = add("url", cmd_url, "the URL of a queue")
    p.add_argument("name")

    p = add("send", cmd_send, "send a message (body from --body or stdin)")
    p.add_argument("queue", help=_QUEUE_HELP)
    p.add_argument("--body", help="message body (default: read stdin)")
    p.add_argument("--group-id", help="FIFO message group id")
    p.add_argument("--dedup-id", help="FIFO deduplication id")
    p.add_argument("--delay", type=_seconds, help="delay in seconds (0-900)")
    p.add_argument(
        "--attribute",
        action="append",
        type=_message_attribute,
        default=[],
        metavar="NAME=[Type:]VALUE",
        help="message attribute, Type String (default), Number or Binary (base64)",
    )

    p = add("receive", cmd_receive, "receive messages and print them")
    p.add_argument("queue", help=_QUEUE_HELP)
    p.add_argument("--max", type=int, default=1, help="up to this many messages (1-10)")
    p.add_argument("--wait", type=_seconds, help="long-poll seconds (0-20)")
    p.add_argument("--visibility", type=_seconds, help="visibility timeout in seconds")
    p.add_argument("--delete", action="store_true", help="delete the messages after printing")

    p = add("delete-message", cmd_delete_message, "delete a received message")
    p.add_argument("queue", help=_QUEUE_HELP)
    p.add_argument("receipt_handle")

    attrs = sub.add_parser("attributes", help="get or set queue attributes")
    attrs_sub = attrs.add_subparsers(dest="attributes_command", required=True, metavar="ACTION")
    p = add("get", cmd_attributes_get, "print queue attributes", attrs_sub)
    p.add_argument("queue", help=_QUEUE_HELP)
    p.add_argument("names", nargs="*", help="attribute names (default: all)")
    p = add("set", cmd_attributes_set, "change queue attributes", attrs_sub)
    p.add_argument("queue", help=_QUEUE_HELP)
    p.add_argument("pairs", nargs="+", type=_key_value, metavar="NAME=VALUE")

    _tag_commands(
        add,
        "queue",
        _QUEUE_HELP,
        lambda ep, ref, tags: ep.queues.tag_queue(ref, tags),
        lambda ep, ref, keys: ep.queues.untag_queue(ref, keys),
        lambda ep, ref: ep.queues.list_queue_tags(ref),
    )

    p = add("purge", cmd_purge, "delete every message in a queue")
    p.add_argument("queue", help=_QUEUE_HELP)

    redrive = sub.add_parser("redrive", help="move messages out of a dead-letter queue")
    redrive_sub = redrive.add_subparsers(dest="redrive_command", required=True, metavar="ACTION")
    p = add("start", cmd_redrive_start, "start moving a DLQ's messages", redrive_sub)
    p.add_argument("dlq", help="the dead-letter queue")
    p.add_argument("--destination", help="target queue (default: each message's source queue)")
    p.add_argument(
        "--rate", type=int, help="messages per second (1-500; default as fast as possible)"
    )
    p = add("list", cmd_redrive_list, "recent move tasks of a DLQ", redrive_sub)
    p.add_argument("dlq", help="the dead-letter queue")
    p.add_argument("--max", type=int, help="up to this many tasks (1-10; default 1)")
    p = add("cancel", cmd_redrive_cancel, "cancel a running move task", redrive_sub)
    p.add_argument("handle", help="the task handle `redrive start` printed")
