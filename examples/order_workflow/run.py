"""The order workflow: ValidateOrder (Retry/Catch) -> ProcessPayment ->
Parallel(DecrementStock, SendNotification) -> OrderSuccess, or OrderFailed.

    .venv/bin/python examples/order_workflow/run.py

Deploys four functions and a Standard state machine, runs a good order and a bad one,
prints each execution's path through the states, and removes what it created.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from typing import Any

from eventplane.client import Client

HERE = Path(__file__).resolve().parent
PREFIX = "example-order-"
FN = "arn:aws:lambda:local:000000000000:function:" + PREFIX


def definition() -> dict[str, Any]:
    return {
        "Comment": "Validate, pay, update stock and notify in parallel; fail cleanly.",
        "StartAt": "ValidateOrder",
        "States": {
            "ValidateOrder": {
                "Type": "Task",
                "Resource": FN + "validate",
                "Retry": [
                    {
                        "ErrorEquals": ["Lambda.ServiceException", "Sandbox.Timedout"],
                        "IntervalSeconds": 1,
                        "MaxAttempts": 2,
                        "BackoffRate": 2,
                    }
                ],
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "OrderFailed"}
                ],
                "Next": "ProcessPayment",
            },
            "ProcessPayment": {
                "Type": "Task",
                "Resource": FN + "payment",
                "ResultPath": "$.payment",
                "Next": "Fulfil",
            },
            "Fulfil": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "DecrementStock",
                        "States": {
                            "DecrementStock": {
                                "Type": "Task",
                                "Resource": FN + "stock",
                                "End": True,
                            }
                        },
                    },
                    {
                        "StartAt": "SendNotification",
                        "States": {
                            "SendNotification": {
                                "Type": "Task",
                                "Resource": FN + "notify",
                                "End": True,
                            }
                        },
                    },
                ],
                "ResultPath": "$.fulfilment",
                "Next": "OrderSuccess",
            },
            "OrderSuccess": {"Type": "Succeed"},
            "OrderFailed": {"Type": "Fail", "Error": "OrderFailed", "CausePath": "$.error.Cause"},
        },
    }


ORDERS = {
    "o-5001": {
        "order_id": "o-5001",
        "customer": "ada@example.com",
        "items": [
            {"sku": "kettle", "qty": 1, "unit_price": 24.0},
            {"sku": "mug", "qty": 4, "unit_price": 3.0},
        ],
    },
    "o-5002": {
        "order_id": "o-5002",
        "customer": "bob@example.com",
        "items": [{"sku": "mug", "qty": 0, "unit_price": 3.0}],
    },
}


def path(ep: Client, arn: str) -> str:
    """The states the execution entered, in order."""
    names = []
    for event in ep.workflows.get_execution_history(arn):
        details = event.get("stateEnteredEventDetails")
        if details:
            names.append(details["name"])
    return " -> ".join(names)


def main() -> int:
    with Client() as ep, contextlib.ExitStack() as cleanup:
        for fn in ("validate", "payment", "stock", "notify"):
            ep.functions.create_function(PREFIX + fn, "handler.handler", zip_directory=HERE / fn)
            cleanup.callback(ep.functions.delete_function, PREFIX + fn)
        sm = ep.workflows.create_state_machine(PREFIX + "workflow", definition())
        cleanup.callback(ep.workflows.delete_state_machine, sm.state_machine_arn)
        print(f"state machine {sm.state_machine_arn}")
        results = {}
        for order_id, order in ORDERS.items():
            run = ep.workflows.start_execution(sm.state_machine_arn, order, name=order_id)
            while (e := ep.workflows.describe_execution(run.execution_arn)).status == "RUNNING":
                time.sleep(0.1)
            results[order_id] = e
            print(f"{order_id}: {e.status}")
            print(f"  path: {path(ep, e.execution_arn)}")
            if e.status == "SUCCEEDED":
                out = e.json()
                stock, note = out["fulfilment"]
                print(f"  paid {out['payment']['charged']:.2f}; stock {', '.join(stock)}; {note}")
            else:
                print(f"  error: {e.error}: {e.cause}")
        ok = results["o-5001"].status == "SUCCEEDED" and results["o-5002"].error == "OrderFailed"
        print("cleaned up: deleted the state machine and 4 functions")
    print("OK: order workflow" if ok else "FAILED: order workflow")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
