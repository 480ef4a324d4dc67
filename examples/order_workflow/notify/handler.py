"""SendNotification: the confirmation the customer would get."""


def handler(event, context):
    return f"mailed {event['customer']}: order {event['order_id']} paid {event['total']:.2f}"
