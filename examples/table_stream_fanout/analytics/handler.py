"""Analytics: count sign-ups per plan. Its mapping's FilterCriteria lets only INSERT
records through, so updates and deletions never invoke it."""

import json
import os

from eventplane.client import Client

ep = Client()


def handler(event, context):
    seen = []
    for record in event["Records"]:
        user_id = record["dynamodb"]["Keys"]["user_id"]["S"]
        plan = record["dynamodb"]["NewImage"]["plan"]["S"]
        seen.append([record["eventName"], user_id, record["dynamodb"]["SequenceNumber"], plan])
    report = {"function": "analytics", "action": "count", "records": seen}
    ep.queues.send_message(os.environ["RESULT_QUEUE"], json.dumps(report))
