"""DecrementStock: one line per item."""


def handler(event, context):
    return [f"{i['sku']} -{i['qty']}" for i in event["items"]]
