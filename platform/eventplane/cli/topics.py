"""`eventplane topic ...`: the Topics API from the shell.

    eventplane topic create orders --attribute DisplayName=Orders
    eventplane topic subscribe orders --protocol sqs --notification-endpoint orders-eu \\
        --filter-policy '{"region": ["eu-west-1"]}' --raw
    echo '{"id": 1}' | eventplane topic publish orders --attribute region=String:eu-west-1
    eventplane topic subscriptions --topic orders
    eventplane topic tag orders team=shop

TOPIC is a topic name or ARN. The subscription's endpoint is
--notification-endpoint (as in the AWS CLI), because --endpoint names the
eventplane server. --json prints one JSON document for scripts; otherwise
output is short and human.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

# One syntax for KEY=VALUE and typed message attributes across the CLI, and the
# same --endpoint/--json flags and output: the queue CLI's helpers.
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

_TOPIC_HELP = "topic name or ARN"
_PROTOCOLS = ("sqs", "http", "https")


# --- argument types ----------------------------------------------------------------------


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return value


# --- commands ----------------------------------------------------------------------------


def cmd_create(args: argparse.Namespace) -> int:
    attributes = dict(args.attribute)
    if args.fifo:
        attributes["FifoTopic"] = "true"
    with _client(args) as ep:
        arn = ep.topics.create_topic(args.name, attributes)
    _report(args, {"topic_arn": arn}, arn)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        arns = ep.topics.list_topics()
    if args.json:
        _emit_json({"topic_arns": arns})
    else:
        for arn in arns:
            print(arn)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.topics.delete_topic(args.topic)
    _report(args, {"deleted": args.topic}, f"deleted topic {args.topic}")
    return 0


def cmd_attributes_get(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        attributes = ep.topics.get_topic_attributes(args.topic)
    if args.json:
        _emit_json(attributes)
    else:
        for name, value in sorted(attributes.items()):
            print(f"{name}: {value}")
    return 0


def cmd_attributes_set(args: argparse.Namespace) -> int:
    attributes = dict(args.pairs)
    with _client(args) as ep:
        # SNS sets one attribute per call; a failure leaves the earlier ones set.
        for name, value in attributes.items():
            ep.topics.set_topic_attributes(args.topic, name, value)
    if args.json:
        _emit_json({"topic": args.topic, "attributes": attributes})
    else:
        print(f"updated {', '.join(sorted(attributes))} on {args.topic}")
    return 0


def cmd_subscribe(args: argparse.Namespace) -> int:
    attributes: dict[str, Any] = {}
    if args.filter_policy is not None:
        attributes["FilterPolicy"] = args.filter_policy
    if args.filter_policy_scope is not None:
        attributes["FilterPolicyScope"] = args.filter_policy_scope
    if args.raw:
        attributes["RawMessageDelivery"] = True
    with _client(args) as ep:
        arn = ep.topics.subscribe(
            args.topic, args.protocol, args.notification_endpoint, attributes=attributes
        )
    _report(args, {"subscription_arn": arn}, arn)
    return 0


def cmd_unsubscribe(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        ep.topics.unsubscribe(args.subscription_arn)
    text = f"unsubscribed {args.subscription_arn}"
    _report(args, {"unsubscribed": args.subscription_arn}, text)
    return 0


def cmd_subscriptions(args: argparse.Namespace) -> int:
    with _client(args) as ep:
        if args.topic is None:
            subscriptions = ep.topics.list_subscriptions()
        else:
            subscriptions = ep.topics.list_subscriptions_by_topic(args.topic)
    if args.json:
        _emit_json({"subscriptions": subscriptions})
    else:
        for s in subscriptions:
            print(f"{s.subscription_arn}  {s.protocol} {s.endpoint}")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    message = args.message if args.message is not None else sys.stdin.read()
    with _client(args) as ep:
        result = ep.topics.publish(
            args.topic,
            message,
            subject=args.subject,
            message_attributes=dict(args.attribute),
            message_group_id=args.group_id,
            message_deduplication_id=args.dedup_id,
        )
    if args.json:
        _emit_json(result)
    else:
        seq = f" (sequence {result.sequence_number})" if result.sequence_number else ""
        print(f"published {result.message_id}{seq}")
    return 0


# --- parser ------------------------------------------------------------------------------


def register(parser: argparse.ArgumentParser) -> None:
    """Add the `topic` sub-commands to ``parser`` (the `eventplane topic` parser)."""
    add, sub = subcommands(parser, "topic_command")

    p = add("create", cmd_create, "create a topic (prints its ARN)")
    p.add_argument("name")
    p.add_argument(
        "--attribute",
        action="append",
        type=_key_value,
        default=[],
        metavar="NAME=VALUE",
        help="topic attribute, repeatable",
    )
    p.add_argument("--fifo", action="store_true", help="a FIFO topic (name must end in .fifo)")

    add("list", cmd_list, "list topic ARNs")

    p = add("delete", cmd_delete, "delete a topic and its subscriptions")
    p.add_argument("topic", help=_TOPIC_HELP)

    attrs = sub.add_parser("attributes", help="get or set topic attributes")
    attrs_sub = attrs.add_subparsers(dest="attributes_command", required=True, metavar="ACTION")
    p = add("get", cmd_attributes_get, "print topic attributes", attrs_sub)
    p.add_argument("topic", help=_TOPIC_HELP)
    p = add("set", cmd_attributes_set, "change topic attributes", attrs_sub)
    p.add_argument("topic", help=_TOPIC_HELP)
    p.add_argument("pairs", nargs="+", type=_key_value, metavar="NAME=VALUE")

    _tag_commands(
        add,
        "topic",
        _TOPIC_HELP,
        lambda ep, ref, tags: ep.topics.tag_resource(ref, tags),
        lambda ep, ref, keys: ep.topics.untag_resource(ref, keys),
        lambda ep, ref: ep.topics.list_tags_for_resource(ref),
    )

    p = add("subscribe", cmd_subscribe, "subscribe an endpoint (prints the subscription ARN)")
    p.add_argument("topic", help=_TOPIC_HELP)
    p.add_argument(
        "--protocol",
        required=True,
        choices=_PROTOCOLS,
        help="sqs: deliver to an eventplane queue; http(s): POST to a URL",
    )
    p.add_argument(
        "--notification-endpoint",
        required=True,
        help="sqs: queue name, URL or ARN; http(s): the URL to POST to",
    )
    p.add_argument(
        "--filter-policy",
        type=_json_object,
        metavar="JSON",
        help="SNS filter policy (a JSON object)",
    )
    p.add_argument(
        "--filter-policy-scope",
        choices=("MessageAttributes", "MessageBody"),
        help="what the filter policy matches (default MessageAttributes)",
    )
    p.add_argument(
        "--raw", action="store_true", help="raw message delivery (the message, no SNS envelope)"
    )

    p = add("unsubscribe", cmd_unsubscribe, "delete a subscription")
    p.add_argument("subscription_arn")

    p = add("subscriptions", cmd_subscriptions, "list subscriptions")
    p.add_argument("--topic", help="only this topic's subscriptions (name or ARN)")

    p = add("publish", cmd_publish, "publish a message (text from --message or stdin)")
    p.add_argument("topic", help=_TOPIC_HELP)
    p.add_argument("--message", help="message text (default: read stdin)")
    p.add_argument("--subject", help="the Subject of the SNS envelope")
    p.add_argument("--group-id", help="FIFO message group id")
    p.add_argument("--dedup-id", help="FIFO deduplication id")
    p.add_argument(
        "--attribute",
        action="append",
        type=_message_attribute,
        default=[],
        metavar="NAME=[Type:]VALUE",
        help="message attribute, Type String (default), Number or Binary (base64)",
    )
