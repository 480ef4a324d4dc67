"""TransactGetItems on one replica: a snapshot of up to 100 items, AWS's errors."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.errors import EventplaneError, ValidationException
from eventplane.tables.transactions import TransactionCanceledException

pytestmark = pytest.mark.integration


def S(v: str) -> dict[str, Any]:
    return {"S": v}


def N(v: str) -> dict[str, Any]:
    return {"N": v}


def test_items_come_back_in_order_projected_none_when_absent(
    client: Client, make_table: Callable[..., Any]
) -> None:
    users = make_table(partitions=4).table_name
    orders = make_table(range_key=("sk", "N"), view=None).table_name
    client.tables.put_item(users, {"pk": S("u1"), "name": S("Ann")})
    client.tables.put_item(orders, {"pk": S("u1"), "sk": N("2"), "total": N("9.5")})
    got = client.tables.transact_get_items(
        [
            {"Get": {"TableName": orders, "Key": {"pk": S("u1"), "sk": N("2.0")}}},
            {"Get": {"TableName": users, "Key": {"pk": S("nobody")}}},
            {
                "Get": {
                    "TableName": users,
                    "Key": {"pk": S("u1")},
                    "ProjectionExpression": "#n",
                    "ExpressionAttributeNames": {"#n": "name"},
                }
            },
        ]
    )
    assert got == [{"pk": S("u1"), "sk": N("2"), "total": N("9.5")}, None, {"name": S("Ann")}]


def test_aws_validation_errors(client: Client, make_table: Callable[..., Any]) -> None:
    name = make_table(view=None).table_name
    one = {"Get": {"TableName": name, "Key": {"pk": S("a")}}}
    with pytest.raises(ValidationException, match="multiple operations on one item"):
        client.tables.transact_get_items([one, one])
    with pytest.raises(ValidationException, match="less than or equal to 100"):
        client.tables.transact_get_items(
            [{"Get": {"TableName": name, "Key": {"pk": S(f"k{i}")}}} for i in range(101)]
        )
    with pytest.raises(ValidationException, match="greater than or equal to 1"):
        client.tables.transact_get_items([])
    with pytest.raises(ValidationException, match="does not match the schema"):
        client.tables.transact_get_items([{"Get": {"TableName": name, "Key": {"pk": N("1")}}}])
    with pytest.raises(EventplaneError) as err:
        client.tables.transact_get_items(
            [one, {"Get": {"TableName": "no-such-table", "Key": {"pk": S("a")}}}]
        )
    assert err.value.code == "ResourceNotFoundException"
    got = client.tables.transact_get_items(
        [{"Get": {"TableName": name, "Key": {"pk": S(f"k{i}")}}} for i in range(100)]
    )
    assert got == [None] * 100  # and the server keeps serving


def test_more_than_4_mb_is_canceled(client: Client, make_table: Callable[..., Any]) -> None:
    name = make_table(view=None).table_name
    big = "x" * 390_000
    for i in range(11):
        client.tables.put_item(name, {"pk": S(f"k{i}"), "v": S(big)})
    gets = [{"Get": {"TableName": name, "Key": {"pk": S(f"k{i}")}}} for i in range(11)]
    with pytest.raises(TransactionCanceledException) as err:
        client.tables.transact_get_items(gets)
    assert [r.code for r in err.value.cancellation_reasons] == ["ValidationError"] * 11
    assert len(client.tables.transact_get_items(gets[:10])) == 10


def test_never_sees_half_of_a_write_transaction(
    client: Client, make_table: Callable[..., Any]
) -> None:
    """Transfers keep a + b = 200; every snapshot read meanwhile must too."""
    name = make_table(view=None, partitions=4).table_name
    client.tables.batch_write_item(
        {name: [{"PutRequest": {"Item": {"pk": S(n), "n": N("100")}}} for n in "ab"]}
    )
    stop = threading.Event()
    transfers = 0

    def transfer() -> None:
        nonlocal transfers
        while not stop.is_set() and transfers < 200:
            client.tables.transact_write_items(
                [
                    {
                        "Update": {
                            "TableName": name,
                            "Key": {"pk": S(src)},
                            "UpdateExpression": "SET n = n + :d",
                            "ExpressionAttributeValues": {":d": N(d)},
                        }
                    }
                    for src, d in (("a", "-1"), ("b", "1"))
                ]
            )
            transfers += 1

    writer = threading.Thread(target=transfer)
    writer.start()
    try:
        gets = [{"Get": {"TableName": name, "Key": {"pk": S(n)}}} for n in "ab"]
        sums = set()
        for _ in range(50):
            a, b = client.tables.transact_get_items(gets)
            assert a is not None and b is not None
            sums.add(int(a["n"]["N"]) + int(b["n"]["N"]))
    finally:
        stop.set()
        writer.join(60)
    assert sums == {200}
    assert transfers > 0
