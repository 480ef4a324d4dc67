"""ClientRequestToken on TransactWriteItems against a real server: a retried transaction is
applied once, a different request under the token is refused, and the token outlives a
SIGKILL of the replica (it is in the changelog, written with the transaction).

The server is the only replica of its own cluster, because the last test kills it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.errors import EventplaneError, ValidationException
from eventplane.errors.tables import IdempotentParameterMismatchException
from eventplane.testing import EventplaneProcess, retrying, unique_cluster

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "table_idempotency" / "run.py"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    with EventplaneProcess(eventplane_kafka, roles="tables", cluster=unique_cluster()) as s:
        yield s


@pytest.fixture(scope="module")
def ep(server: EventplaneProcess) -> Iterator[Client]:
    with server.client() as c:
        yield c


def _table(ep: Client) -> tuple[str, str]:
    name = f"idem-{uuid.uuid4().hex[:10]}"
    desc = ep.tables.create_table(
        name,
        key_schema=[("pk", "HASH")],
        attribute_definitions=[("pk", "S")],
        stream_view_type="NEW_AND_OLD_IMAGES",
        partitions=2,
    )
    return name, desc.latest_stream_arn


def _transfer(table: str, amount: int) -> list[dict[str, Any]]:
    """Move ``amount`` from a to b: visible twice if applied twice."""
    values = {":n": {"N": str(amount)}}
    return [
        {
            "Update": {
                "TableName": table,
                "Key": {"pk": {"S": "a"}},
                "UpdateExpression": "ADD balance :n",
                "ExpressionAttributeValues": {":n": {"N": str(-amount)}},
            }
        },
        {
            "Update": {
                "TableName": table,
                "Key": {"pk": {"S": "b"}},
                "UpdateExpression": "ADD balance :n",
                "ExpressionAttributeValues": values,
            }
        },
    ]


def _balances(ep: Client, table: str) -> tuple[str, str]:
    a = ep.tables.get_item(table, {"pk": {"S": "a"}})
    b = ep.tables.get_item(table, {"pk": {"S": "b"}})
    assert a is not None and b is not None
    return a["balance"]["N"], b["balance"]["N"]


def _record_count(ep: Client, arn: str) -> int:
    count = 0
    for shard in ep.tables.describe_stream(arn).shards:
        it = ep.tables.get_shard_iterator(arn, shard.shard_id, "TRIM_HORIZON")
        while True:
            page = ep.tables.get_records(it)
            if not page.records:
                break
            count += len(page.records)
            it = page.next_shard_iterator
    return count


def test_the_same_token_and_request_is_applied_once(ep: Client) -> None:
    table, arn = _table(ep)
    token = uuid.uuid4().hex
    for _ in range(3):
        ep.tables.transact_write_items(_transfer(table, 10), client_request_token=token)
    assert _balances(ep, table) == ("-10", "10")
    assert _record_count(ep, arn) == 2  # one INSERT per item, nothing from the retries
    # Another token is another transaction.
    ep.tables.transact_write_items(_transfer(table, 10), client_request_token=uuid.uuid4().hex)
    assert _balances(ep, table) == ("-20", "20")


def test_the_same_token_with_another_request_is_refused(ep: Client) -> None:
    table, _ = _table(ep)
    token = uuid.uuid4().hex
    ep.tables.transact_write_items(_transfer(table, 5), client_request_token=token)
    with pytest.raises(IdempotentParameterMismatchException, match="ClientRequestToken"):
        ep.tables.transact_write_items(_transfer(table, 6), client_request_token=token)
    other_items = [
        {"Put": {"TableName": table, "Item": {"pk": {"S": "elsewhere"}, "x": {"N": "1"}}}}
    ]
    with pytest.raises(IdempotentParameterMismatchException):
        ep.tables.transact_write_items(other_items, client_request_token=token)
    assert ep.tables.get_item(table, {"pk": {"S": "elsewhere"}}) is None
    assert _balances(ep, table) == ("-5", "5")
    with pytest.raises(ValidationException, match="clientRequestToken"):
        ep.tables.transact_write_items(_transfer(table, 1), client_request_token="x" * 37)


def test_a_cancelled_transaction_does_not_spend_its_token(ep: Client) -> None:
    table, _ = _table(ep)
    token = uuid.uuid4().hex
    guarded = [
        {
            "Put": {
                "TableName": table,
                "Item": {"pk": {"S": "once"}},
                "ConditionExpression": "attribute_exists(pk)",
            }
        }
    ]
    with pytest.raises(EventplaneError) as cancelled:
        ep.tables.transact_write_items(guarded, client_request_token=token)
    assert cancelled.value.code == "TransactionCanceledException"
    ep.tables.put_item(table, {"pk": {"S": "once"}})
    ep.tables.transact_write_items(guarded, client_request_token=token)  # now it applies


def test_the_processed_requests_example_applies_each_request_once(
    server: EventplaneProcess,
) -> None:
    """examples/table_idempotency/run.py, as a user runs it: retried requests are skipped."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTPLANE_")}
    env["EVENTPLANE_ENDPOINT"] = server.endpoint
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.count("duplicate, skipped") == 2
    assert "balances: {'alice': 125, 'bob': 55}" in proc.stdout
    assert "OK: 6 requests, 4 applied once each" in proc.stdout


def test_the_token_survives_a_sigkill_of_the_replica(server: EventplaneProcess, ep: Client) -> None:
    table, arn = _table(ep)
    token = uuid.uuid4().hex
    ep.tables.transact_write_items(_transfer(table, 7), client_request_token=token)
    server.kill()
    server.restart()
    with server.client() as later:
        retrying(
            lambda: later.tables.transact_write_items(
                _transfer(table, 7), client_request_token=token
            )
        )
        assert retrying(lambda: _balances(later, table)) == ("-7", "7")
        with pytest.raises(IdempotentParameterMismatchException):
            later.tables.transact_write_items(_transfer(table, 8), client_request_token=token)
        assert _record_count(later, arn) == 2
