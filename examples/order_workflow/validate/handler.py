"""ValidateOrder: an order needs an id and at least one item with a positive quantity."""


class InvalidOrder(Exception):
    pass


def handler(event, context):
    items = event.get("items") or []
    if not event.get("order_id") or not items:
        raise InvalidOrder(f"order {event.get('order_id')!r} has no items")
    for item in items:
        if item.get("qty", 0) <= 0:
            raise InvalidOrder(f"item {item.get('sku')}: quantity must be positive")
    total = sum(i["qty"] * i["unit_price"] for i in items)
    return {**event, "total": round(total, 2)}
