"""Cache invalidation: every change of a profile evicts its cached copy.

Receives the table's stream records (``{"Records": [...]}``, DynamoDB Streams' shape)
and reports on RESULT_QUEUE which keys it evicted, in order.
"""

import json
import os

from eventplane.client import Client

ep = Client()


def handler(event, context):
    seen = []
    for record in event["Records"]:
        user_id = record["dynamodb"]["Keys"]["user_id"]["S"]
        seen.append([record["eventName"], user_id, record["dynamodb"]["SequenceNumber"]])
    report = {"function": "cache", "action": "evict", "records": seen}
    ep.queues.send_message(os.environ["RESULT_QUEUE"], json.dumps(report))
