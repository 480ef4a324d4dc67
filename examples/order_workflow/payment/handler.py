"""ProcessPayment: charges the order's total."""


def handler(event, context):
    return {"charged": event["total"], "payment_id": f"pay-{event['order_id']}"}
