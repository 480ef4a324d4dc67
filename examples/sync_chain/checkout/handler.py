"""Function A ("checkout"): asks function B ("pricing") for a price and waits for it.

The eventplane runner sets EVENTPLANE_ENDPOINT in every function's environment,
so ``Client()`` with no arguments reaches the platform the function runs on. The
client is created once per warm worker (at import), not once per invocation.
B's name comes from the function's environment (PRICING_FUNCTION).
"""

import os

from eventplane.client import Client

ep = Client()
PRICING_FUNCTION = os.environ["PRICING_FUNCTION"]


class PricingFailed(Exception):
    """B failed; A fails too, naming B's error."""


def handler(event, context):
    result = ep.functions.invoke(PRICING_FUNCTION, {"items": event["items"]})
    priced = result.json()
    if result.function_error:
        # B's error document: {"errorType": ..., "errorMessage": ..., "stackTrace": [...]}
        raise PricingFailed(f"{PRICING_FUNCTION}: {priced['errorType']}: {priced['errorMessage']}")
    return {
        "order_id": event["order_id"],
        "total": round(priced["subtotal"] + priced["tax"], 2),
        "pricing": priced,
        "chain": [
            {"function": context.function_name, "request_id": context.aws_request_id},
            {"function": priced["priced_by"], "request_id": priced["request_id"]},
        ],
    }
