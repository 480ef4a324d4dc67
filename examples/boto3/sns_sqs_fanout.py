"""SNS to SQS fan-out with boto3, unchanged: filter policies, raw and enveloped delivery.

    AWS_ENDPOINT_URL=http://127.0.0.1:4566 python examples/boto3/sns_sqs_fanout.py

The boto3 twin of examples/sns_sqs_fanout: one topic, three queues subscribed by
ARN, each with a queue policy that lets the topic send to it (as AWS requires):

- audit:    every message, in the SNS JSON envelope;
- eu-large: raw messages whose attributes say region eu-* and amount >= 100;
- express:  enveloped messages whose JSON body has shipping.speed "express".
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from typing import Any

import boto3
from _aws import require_local_endpoint

SUBSCRIPTIONS: dict[str, dict[str, str]] = {
    "audit": {},
    "eu-large": {
        "RawMessageDelivery": "true",
        "FilterPolicy": json.dumps(
            {"region": [{"prefix": "eu-"}], "amount": [{"numeric": [">=", 100]}]}
        ),
    },
    "express": {
        "FilterPolicyScope": "MessageBody",
        "FilterPolicy": json.dumps({"shipping": {"speed": ["express"]}}),
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


def order_of(message: dict[str, Any]) -> str:
    body = json.loads(message["Body"])
    if body.get("Type") == "Notification":  # the SNS envelope
        body = json.loads(body["Message"])
    return str(body["order_id"])


def main() -> int:
    endpoint = require_local_endpoint()
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    run = uuid.uuid4().hex[:6]
    topic = sns.create_topic(Name=f"example-orders-{run}")["TopicArn"]
    queues: dict[str, str] = {}
    print(f"{endpoint}: topic {topic}")
    try:
        for name, attributes in SUBSCRIPTIONS.items():
            url = sqs.create_queue(QueueName=f"example-fanout-{name}-{run}")["QueueUrl"]
            queues[name] = url
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            policy = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "sns.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": arn,
                        "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
                    }
                ],
            }
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=attributes)
            print(f"  subscribed {name}: {attributes or 'every message, enveloped'}")

        for order in ORDERS:
            body = {
                "order_id": order["order_id"],
                "amount": order["amount"],
                "shipping": {"speed": order["speed"]},
            }
            sns.publish(
                TopicArn=topic,
                Message=json.dumps(body),
                Subject=f"order {order['order_id']}",
                MessageAttributes={
                    "region": {"DataType": "String", "StringValue": str(order["region"])},
                    "amount": {"DataType": "Number", "StringValue": str(order["amount"])},
                },
            )
        print(f"published {len(ORDERS)} orders")

        got: dict[str, list[str]] = {name: [] for name in queues}
        deadline = time.monotonic() + 30
        while any(len(got[n]) < len(EXPECTED[n]) for n in queues) and time.monotonic() < deadline:
            for name, url in queues.items():
                for m in sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                ).get("Messages", []):
                    got[name].append(order_of(m))
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        # Anything a filter should have dropped would have arrived by now.
        for name, url in queues.items():
            for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []):
                got[name].append(order_of(m))
        problems = []
        for name, orders in got.items():
            print(f"  {name} got {sorted(orders)}")
            if sorted(orders) != EXPECTED[name]:
                problems.append(f"{name} expected {EXPECTED[name]}")
        if problems:
            sys.exit("FAILED: " + "; ".join(problems))
    finally:
        sns.delete_topic(TopicArn=topic)
        for url in queues.values():
            sqs.delete_queue(QueueUrl=url)
    print("OK: each queue got exactly the messages its filter policy selects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
