"""Search indexing: upsert the profile's searchable fields, or drop it when deleted."""

import json
import os

from eventplane.client import Client

ep = Client()


def handler(event, context):
    seen = []
    for record in event["Records"]:
        user_id = record["dynamodb"]["Keys"]["user_id"]["S"]
        image = record["dynamodb"].get("NewImage") or {}
        doc = {k: v.get("S") for k, v in image.items() if k in ("name", "email")}
        seen.append([record["eventName"], user_id, record["dynamodb"]["SequenceNumber"], doc])
    report = {"function": "search", "action": "index", "records": seen}
    ep.queues.send_message(os.environ["RESULT_QUEUE"], json.dumps(report))
