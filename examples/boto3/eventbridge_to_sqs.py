"""EventBridge with boto3, unchanged: a custom bus, a rule with a pattern, SQS targets.

    AWS_ENDPOINT_URL=http://127.0.0.1:4566 python examples/boto3/eventbridge_to_sqs.py

Puts `order.created` events for several countries on a custom bus. One rule sends
the large EU orders to one queue with an input transformer; another sends every
order to an audit queue as the whole event.
"""

from __future__ import annotations

import json
import sys
import time
import uuid

import boto3
from _aws import require_local_endpoint

EVENTS = [
    {"order_id": "o-1", "country": "DE", "total": 120},
    {"order_id": "o-2", "country": "US", "total": 500},
    {"order_id": "o-3", "country": "FR", "total": 20},
    {"order_id": "o-4", "country": "FR", "total": 99.5},
]


def main() -> int:
    endpoint = require_local_endpoint()
    events, sqs = boto3.client("events"), boto3.client("sqs")
    run = uuid.uuid4().hex[:6]
    bus = f"example-orders-{run}"
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    queues = {
        name: sqs.create_queue(QueueName=f"example-bus-{name}-{run}")["QueueUrl"]
        for name in ("eu-large", "audit")
    }
    arns = {
        name: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        for name, url in queues.items()
    }
    print(f"{endpoint}: bus {bus_arn}")
    try:
        events.put_rule(
            Name="eu-large",
            EventBusName=bus,
            EventPattern=json.dumps(
                {
                    "source": ["shop.orders"],
                    "detail-type": ["order.created"],
                    "detail": {"country": ["DE", "FR"], "total": [{"numeric": [">=", 50]}]},
                }
            ),
        )
        events.put_targets(
            Rule="eu-large",
            EventBusName=bus,
            Targets=[
                {
                    "Id": "queue",
                    "Arn": arns["eu-large"],
                    "InputTransformer": {
                        "InputPathsMap": {"id": "$.detail.order_id", "total": "$.detail.total"},
                        "InputTemplate": '{"order": <id>, "total": <total>}',
                    },
                }
            ],
        )
        events.put_rule(
            Name="audit", EventBusName=bus, EventPattern=json.dumps({"source": ["shop.orders"]})
        )
        events.put_targets(
            Rule="audit", EventBusName=bus, Targets=[{"Id": "queue", "Arn": arns["audit"]}]
        )
        resp = events.put_events(
            Entries=[
                {
                    "EventBusName": bus,
                    "Source": "shop.orders",
                    "DetailType": "order.created",
                    "Detail": json.dumps(e),
                }
                for e in EVENTS
            ]
        )
        if resp["FailedEntryCount"]:
            sys.exit(f"FAILED: put_events refused {resp['Entries']}")
        print(f"put {len(EVENTS)} events")

        got: dict[str, list[dict]] = {name: [] for name in queues}
        wanted = {"eu-large": 2, "audit": 4}
        deadline = time.monotonic() + 30
        while any(len(got[n]) < wanted[n] for n in queues) and time.monotonic() < deadline:
            for name, url in queues.items():
                for m in sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                ).get("Messages", []):
                    got[name].append(json.loads(m["Body"]))
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        large = sorted(got["eu-large"], key=lambda b: b["order"])
        audited = sorted(e["detail"]["order_id"] for e in got["audit"])
        print(f"  eu-large got {large}")
        print(f"  audit got whole events for {audited}")
        if large != [{"order": "o-1", "total": 120}, {"order": "o-4", "total": 99.5}]:
            sys.exit("FAILED: eu-large should hold o-1 and o-4, transformed")
        if audited != ["o-1", "o-2", "o-3", "o-4"] or any(
            e["detail-type"] != "order.created" or e["source"] != "shop.orders"
            for e in got["audit"]
        ):
            sys.exit("FAILED: audit should hold the four whole events")
    finally:
        for rule in ("eu-large", "audit"):
            targets = events.list_targets_by_rule(Rule=rule, EventBusName=bus)["Targets"]
            if targets:
                events.remove_targets(Rule=rule, EventBusName=bus, Ids=[t["Id"] for t in targets])
            events.delete_rule(Name=rule, EventBusName=bus)
        events.delete_event_bus(Name=bus)
        for url in queues.values():
            sqs.delete_queue(QueueUrl=url)
    print("OK: the pattern picked the large EU orders, the audit rule got every event")
    return 0


if __name__ == "__main__":
    sys.exit(main())
