"""Idempotent request handling with a ProcessedRequests table: each request's id is put
with a condition (attribute_not_exists) in the same transact_write_items as the change
it makes, so a retried request (a client retry, a redelivered message) is applied once.

    .venv/bin/python examples/table_idempotency/run.py [--keep]

Creates two tables, ``accounts`` and ``processed-requests``, then handles six deposit
requests of which two are retries of earlier ones (same request id): the retries are
recognised by the cancelled transaction's first reason (ConditionalCheckFailed on the
ProcessedRequests put), and the balances count every deposit exactly once.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import uuid
from typing import Any

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.errors.tables import TransactionCanceledException

REQUESTS: list[dict[str, Any]] = [
    {"request_id": "r-1", "account": "alice", "amount": 100},
    {"request_id": "r-2", "account": "bob", "amount": 50},
    {"request_id": "r-1", "account": "alice", "amount": 100},  # a retry of r-1
    {"request_id": "r-3", "account": "alice", "amount": 25},
    {"request_id": "r-2", "account": "bob", "amount": 50},  # a retry of r-2
    {"request_id": "r-4", "account": "bob", "amount": 5},
]
EXPECTED = {"alice": 125, "bob": 55}


def handle(ep: Client, accounts: str, processed: str, request: dict[str, Any]) -> bool:
    """Apply one deposit; False when its request id was processed before."""
    try:
        ep.tables.transact_write_items(
            [
                {
                    "Put": {
                        "TableName": processed,
                        "Item": {
                            "request_id": {"S": request["request_id"]},
                            "account": {"S": request["account"]},
                        },
                        "ConditionExpression": "attribute_not_exists(request_id)",
                    }
                },
                {
                    "Update": {
                        "TableName": accounts,
                        "Key": {"account": {"S": request["account"]}},
                        "UpdateExpression": "ADD balance :amount",
                        "ExpressionAttributeValues": {":amount": {"N": str(request["amount"])}},
                    }
                },
            ]
        )
        return True
    except TransactionCanceledException as err:
        if err.cancellation_reasons[0].code == "ConditionalCheckFailed":
            return False  # seen before: nothing was written, the deposit counts once
        raise


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the tables afterwards")
    args = parser.parse_args()
    suffix = uuid.uuid4().hex[:6]
    accounts, processed = f"accounts-{suffix}", f"processed-requests-{suffix}"
    with Client() as ep:
        ep.tables.create_table(
            accounts, key_schema=[("account", "HASH")], attribute_definitions=[("account", "S")]
        )
        ep.tables.create_table(
            processed,
            key_schema=[("request_id", "HASH")],
            attribute_definitions=[("request_id", "S")],
        )
        try:
            for request in REQUESTS:
                applied = handle(ep, accounts, processed, request)
                print(f"{request['request_id']}: {'applied' if applied else 'duplicate, skipped'}")
            balances = {
                name: int(
                    (ep.tables.get_item(accounts, {"account": {"S": name}}) or {}).get(
                        "balance", {"N": "0"}
                    )["N"]
                )
                for name in EXPECTED
            }
            print(f"balances: {balances}")
            if balances != EXPECTED:
                print(f"FAILED: expected {EXPECTED}")
                return 1
            unique = len({r["request_id"] for r in REQUESTS})
            print(f"OK: {len(REQUESTS)} requests, {unique} applied once each")
            return 0
        finally:
            if not args.keep:
                for name in (accounts, processed):
                    with contextlib.suppress(EventplaneError):
                        ep.tables.delete_table(name)


if __name__ == "__main__":
    sys.exit(main())
