"""email: sends the order confirmation. Receives the whole EventBridge event."""

import json
import os

from eventplane.client import Client

ep = Client()  # EVENTPLANE_ENDPOINT is set by the runner


def handler(event, context):
    order = event["detail"]
    line = {
        "function": context.function_name,
        "event_id": event["id"],
        "order_id": order["order_id"],
        "did": f"mailed the confirmation of {order['order_id']} to {order['customer']}",
    }
    ep.queues.send_message(os.environ["RESULT_QUEUE"], json.dumps(line))
    return line
