"""Function B ("pricing"): prices the items of an order.

A plain handler: it knows nothing about who calls it. A bad item raises, which
the caller sees as a FunctionError (errorType ValueError) in the invoke result.
"""

TAX_RATE = 0.2


def handler(event, context):
    items = event["items"]
    lines = []
    for item in items:
        if item["qty"] <= 0:
            raise ValueError(f"item {item['sku']}: quantity must be positive, got {item['qty']}")
        lines.append({"sku": item["sku"], "amount": round(item["qty"] * item["unit_price"], 2)})
    subtotal = round(sum(line["amount"] for line in lines), 2)
    tax = round(subtotal * TAX_RATE, 2)
    return {
        "lines": lines,
        "subtotal": subtotal,
        "tax": tax,
        "priced_by": context.function_name,
        "request_id": context.aws_request_id,
    }
