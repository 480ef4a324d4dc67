"""SNS + SQS fan-out: one topic, three queues with different filter policies.

    .venv/bin/python examples/sns_sqs_fanout/run.py [--timeout SECONDS] [--keep]

Subscribes three queues to a topic:

- audit:    every message, in the SNS JSON envelope (RawMessageDelivery off);
- eu-large: raw messages whose attributes say region eu-* and amount >= 100;
- express:  enveloped messages whose JSON body has shipping.speed "express"
            (FilterPolicyScope MessageBody).

Publishes four orders and prints what each queue got.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import uuid
from typing import Any

from eventplane.client import Client, Message
from eventplane.errors import EventplaneError

SUBSCRIPTIONS: dict[str, dict[str, Any]] = {
    "audit": {},
    "eu-large": {
        "RawMessageDelivery": True,
        "FilterPolicy": {"region": [{"prefix": "eu-"}], "amount": [{"numeric": [">=", 100]}]},
    },
    "express": {
        "FilterPolicyScope": "MessageBody",
        "FilterPolicy": {"shipping": {"speed": ["express"]}},
    },
}

ORDERS = [
    {"order_id": "o-5001", "region": "eu-west", "amount": 250, "speed": "standard"},
    {"order_id": "o-5002", "region": "us-east", "amount": 900, "speed": "express"},
    {"order_id": "o-5003", "region": "eu-central", "amount": 40, "speed": "express"},
    {"order_id": "o-5004", "region": "eu-central", "amount": 120, "speed": "express"},
]

EXPECTED = {
    "audit": ["o-5001", "o-5002", "o-5003", "o-5004"],
    "eu-large": ["o-5001", "o-5004"],
    "express": ["o-5002", "o-5003", "o-5004"],
}


def describe(m: Message) -> tuple[str, str]:
    """(order id, one line about the message) for an enveloped or raw message."""
    body = json.loads(m.body)
    if body.get("Type") == "Notification":  # the SNS envelope
        order = json.loads(body["Message"])
        attrs = {k: v["Value"] for k, v in body.get("MessageAttributes", {}).items()}
        return order["order_id"], (
            f"envelope: Type {body['Type']}, MessageId {body['MessageId'][:8]}..., "
            f"Subject {body.get('Subject')!r}, MessageAttributes {attrs}"
        )
    attrs = {k: v.string_value for k, v in m.message_attributes.items()}
    return body["order_id"], f"raw body {m.body}, message attributes {attrs}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for deliveries")
    parser.add_argument("--keep", action="store_true", help="leave the topic and queues")
    args = parser.parse_args()

    run = uuid.uuid4().hex[:6]
    with Client() as ep, contextlib.ExitStack() as cleanup:
        print(f"eventplane {ep.platform.get_server_info().version} at {ep.target}; run {run}")
        topic = ep.topics.create_topic(f"example-orders-{run}")
        cleanup.callback(print, "\ncleaned up: deleted the topic, its subscriptions and 3 queues")
        cleanup.callback(ep.topics.delete_topic, topic)
        print(f"topic {topic}")
        queues = {}
        for name, attributes in SUBSCRIPTIONS.items():
            queues[name] = ep.queues.create_queue(f"example-fanout-{name}-{run}")
            cleanup.callback(ep.queues.delete_queue, queues[name])
            ep.topics.subscribe(topic, "sqs", queues[name], attributes=attributes)
            raw = "raw" if attributes.get("RawMessageDelivery") else "enveloped"
            policy = attributes.get("FilterPolicy")
            scope = attributes.get("FilterPolicyScope", "MessageAttributes")
            what = f"{scope} {json.dumps(policy)}" if policy else "no filter"
            print(f"  subscribe {name:<9} {raw:<9} {what}")
        try:
            print()
            for order in ORDERS:
                body = {
                    "order_id": order["order_id"],
                    "amount": order["amount"],
                    "shipping": {"speed": order["speed"]},
                }
                ep.topics.publish(
                    topic,
                    json.dumps(body),
                    subject=f"order {order['order_id']}",
                    message_attributes={
                        "region": {"DataType": "String", "StringValue": order["region"]},
                        "amount": {"DataType": "Number", "StringValue": str(order["amount"])},
                    },
                )
                print(
                    f"published {order['order_id']}  region={order['region']:<10} "
                    f"amount={order['amount']:<4} shipping.speed={order['speed']}"
                )

            got: dict[str, list[Message]] = {name: [] for name in queues}
            deadline = time.monotonic() + args.timeout
            while any(len(got[n]) < len(EXPECTED[n]) for n in queues):
                if time.monotonic() > deadline:
                    counts = {n: len(m) for n, m in got.items()}
                    raise SystemExit(
                        f"FAILED: within {args.timeout:g}s the queues got {counts}, "
                        f"expected { ({n: len(e) for n, e in EXPECTED.items()}) }"
                    )
                for name, url in queues.items():
                    got[name] += ep.queues.receive_message(
                        url,
                        max_number_of_messages=10,
                        wait_time_seconds=0,
                        message_attribute_names=["All"],
                    )
                time.sleep(0.1)
            time.sleep(1)  # anything that should not have arrived would be here by now
            for name, url in queues.items():
                got[name] += ep.queues.receive_message(
                    url, max_number_of_messages=10, message_attribute_names=["All"]
                )

            problems = []
            for name, messages in got.items():
                described = sorted(describe(m) for m in messages)
                print(f"\n{name} got {len(messages)}:")
                for order_id, line in described:
                    print(f"  {order_id}  {line}")
                if [order_id for order_id, _ in described] != EXPECTED[name]:
                    problems.append(f"{name} expected {EXPECTED[name]}")
            if problems:
                raise SystemExit("FAILED: " + "; ".join(problems))
        finally:
            if args.keep:
                cleanup.pop_all()
                print(f"\nkept topic example-orders-{run} and queues example-fanout-*-{run}")
    print("OK: each queue got exactly the messages its filter policy selects")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except EventplaneError as err:
        hint = " (is `eventplane dev` running there?)" if err.code == "ServiceUnavailable" else ""
        sys.exit(f"FAILED: {err}{hint}")
