"""SQS with boto3, unchanged: batches, long polling, a redrive policy and its dead-letter queue.

    AWS_ENDPOINT_URL=http://127.0.0.1:4566 python examples/boto3/sqs_dead_letters.py

Sends 25 orders in batches of 10, processes them with long-polling receives and
batch deletes; one "poison" order is never deleted, so after maxReceiveCount (2)
receives SQS moves it to the dead-letter queue, where it is found.
"""

from __future__ import annotations

import json
import sys
import time
import uuid

import boto3
from _aws import require_local_endpoint


def main() -> int:
    endpoint = require_local_endpoint()
    sqs = boto3.client("sqs")
    run = uuid.uuid4().hex[:6]
    dlq_url = sqs.create_queue(QueueName=f"example-orders-dlq-{run}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName=f"example-orders-{run}",
        Attributes={
            "VisibilityTimeout": "1",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    print(f"{endpoint}: queue {url}, dead letters to {dlq_arn}")
    try:
        orders = [{"order_id": f"o-{i:03d}", "poison": i == 7} for i in range(25)]
        for start in range(0, len(orders), 10):
            chunk = orders[start : start + 10]
            resp = sqs.send_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "MessageBody": json.dumps(o)} for i, o in enumerate(chunk)],
            )
            if resp.get("Failed"):
                sys.exit(f"FAILED: send_message_batch refused {resp['Failed']}")
        print(f"sent {len(orders)} orders in {(len(orders) + 9) // 10} batches")

        done: set[str] = set()
        poison_receives = 0
        deadline = time.monotonic() + 60
        while (len(done) < 24 or poison_receives < 2) and time.monotonic() < deadline:
            messages = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=2,
                AttributeNames=["ApproximateReceiveCount"],
            ).get("Messages", [])
            ok = []
            for m in messages:
                order = json.loads(m["Body"])
                if order["poison"]:
                    poison_receives += 1
                    count = m["Attributes"]["ApproximateReceiveCount"]
                    print(f"  {order['order_id']} fails (receive #{count}), left for redrive")
                    continue
                done.add(order["order_id"])
                ok.append({"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]})
            if ok:
                sqs.delete_message_batch(QueueUrl=url, Entries=ok)
        print(f"processed and deleted {len(done)} orders")
        if len(done) != 24:
            sys.exit(f"FAILED: processed {len(done)} orders, expected 24")

        dead: list[dict] = []
        deadline = time.monotonic() + 30
        while not dead and time.monotonic() < deadline:
            # The poison order becomes visible again after 1 s; the receive that would
            # be its third moves it to the dead-letter queue instead.
            sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
            dead = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages", [])
        if [json.loads(m["Body"])["order_id"] for m in dead] != ["o-007"]:
            sys.exit(f"FAILED: the dead-letter queue holds {[m['Body'] for m in dead]}")
        print(f"dead-letter queue holds {json.loads(dead[0]['Body'])['order_id']}")
        sources = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url)["queueUrls"]
        if sources != [url]:
            sys.exit(f"FAILED: list_dead_letter_source_queues gave {sources}")
    finally:
        sqs.delete_queue(QueueUrl=url)
        sqs.delete_queue(QueueUrl=dlq_url)
    print("OK: 24 orders processed once each, the poison one dead-lettered after 2 receives")
    return 0


if __name__ == "__main__":
    sys.exit(main())
