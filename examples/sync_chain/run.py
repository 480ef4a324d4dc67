"""Synchronous chain: function A (checkout) invokes function B (pricing) and waits.

    .venv/bin/python examples/sync_chain/run.py [--keep]

Deploys both functions (created, or updated in place when they already exist),
invokes A with RequestResponse, and prints the chain of calls and the combined
result; then shows how B's error reaches A's caller. Without --keep the functions
are deleted at the end; with it they stay, and a rerun updates them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eventplane.client import Client, InvokeResult
from eventplane.errors import EventplaneError

HERE = Path(__file__).resolve().parent
CHECKOUT = "example-chain-checkout"  # A
PRICING = "example-chain-pricing"  # B

ORDER = {
    "order_id": "o-1001",
    "items": [
        {"sku": "kettle", "qty": 1, "unit_price": 24.0},
        {"sku": "mug", "qty": 4, "unit_price": 3.0},
    ],
}
BAD_ORDER = {"order_id": "o-1002", "items": [{"sku": "mug", "qty": 0, "unit_price": 3.0}]}


def deploy(
    ep: Client,
    name: str,
    folder: Path,
    *,
    environment: Mapping[str, str] | None = None,
    timeout: int = 3,
) -> str:
    """Create the function, or update its code and settings if it exists: rerunnable."""
    try:
        ep.functions.create_function(
            name,
            "handler.handler",
            zip_directory=folder,
            environment=environment,
            timeout=timeout,
        )
        return "created"
    except EventplaneError as err:
        if err.code != "ResourceConflictException":
            raise
    ep.functions.update_function_code(name, zip_directory=folder)
    ep.functions.update_function_configuration(
        name, handler="handler.handler", environment=dict(environment or {}), timeout=timeout
    )
    return "updated"


def invoke_checkout(ep: Client, order: dict[str, Any]) -> tuple[InvokeResult, float]:
    start = time.perf_counter()
    result = ep.functions.invoke(CHECKOUT, order)
    return result, (time.perf_counter() - start) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="leave the functions deployed")
    args = parser.parse_args()

    with Client() as ep, contextlib.ExitStack() as cleanup:
        print(f"eventplane {ep.platform.get_server_info().version} at {ep.target}")
        # B first: A's environment names it.
        print(f"deploy B {PRICING}: {deploy(ep, PRICING, HERE / 'pricing')}")
        cleanup.callback(print, f"\ncleaned up: deleted {CHECKOUT}, {PRICING}")
        cleanup.callback(ep.functions.delete_function, PRICING)
        how = deploy(
            ep,
            CHECKOUT,
            HERE / "checkout",
            environment={"PRICING_FUNCTION": PRICING},
            timeout=15,  # A's budget includes waiting for B
        )
        cleanup.callback(ep.functions.delete_function, CHECKOUT)
        print(f"deploy A {CHECKOUT}: {how} (calls {PRICING} synchronously)")
        try:
            print(f"\ninvoke A with order {ORDER['order_id']} ({len(ORDER['items'])} items)")
            result, cold_ms = invoke_checkout(ep, ORDER)
            out = result.json()
            if result.function_error:
                raise SystemExit(f"FAILED: {CHECKOUT} returned {result.function_error}: {out}")
            a, b = out["chain"]
            pricing = out["pricing"]
            print(f"  A {a['function']}  request {a['request_id']}")
            print(f"  └─ B {b['function']}  request {b['request_id']}")
            for line in pricing["lines"]:
                print(f"       {line['sku']:<8} {line['amount']:>7.2f}")
            print(
                f"  result: total {out['total']:.2f} "
                f"(subtotal {pricing['subtotal']:.2f} + tax {pricing['tax']:.2f}), "
                f"{cold_ms:.0f} ms (cold start of both)"
            )
            if out["total"] != 43.2:
                raise SystemExit(f"FAILED: expected total 43.20, got {out['total']}")

            result, warm_ms = invoke_checkout(ep, ORDER)
            print(f"  again: total {result.json()['total']:.2f}, {warm_ms:.0f} ms (warm workers)")

            print(f"\ninvoke A with order {BAD_ORDER['order_id']} (a quantity of 0: B raises)")
            result, _ = invoke_checkout(ep, BAD_ORDER)
            error = result.json()
            if not result.function_error:
                raise SystemExit(f"FAILED: expected a function error, got {error}")
            print(f"  FunctionError {result.function_error}")
            print(f"  {error['errorType']}: {error['errorMessage']}")
        finally:
            if args.keep:
                cleanup.pop_all()
                print(f"\nkept {CHECKOUT} and {PRICING}; try:")
                example = {
                    "order_id": "o-1",
                    "items": [{"sku": "pen", "qty": 2, "unit_price": 1.5}],
                }
                print(f"  eventplane function invoke {CHECKOUT} --payload '{json.dumps(example)}'")
    print("OK: sync chain A -> B completed")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except EventplaneError as err:
        hint = " (is `eventplane dev` running there?)" if err.code == "ServiceUnavailable" else ""
        sys.exit(f"FAILED: {err}{hint}")
