"""shipping: books a parcel for the order's items. Receives the whole EventBridge event."""

import json
import os

from eventplane.client import Client

ep = Client()  # EVENTPLANE_ENDPOINT is set by the runner


def handler(event, context):
    order = event["detail"]
    parcels = sum(item["qty"] for item in order["items"])
    line = {
        "function": context.function_name,
        "event_id": event["id"],
        "order_id": order["order_id"],
        "did": f"booked {parcels} item(s) to {order['ship_to']}",
    }
    ep.queues.send_message(os.environ["RESULT_QUEUE"], json.dumps(line))
    return line
