"""TransactWriteItems on one replica: all or nothing, cancellation reasons in order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.errors import ValidationException
from eventplane.tables.transactions import TransactionCanceledException

pytestmark = pytest.mark.integration


def S(v: str) -> dict[str, Any]:
    return {"S": v}


def N(v: str) -> dict[str, Any]:
    return {"N": v}


def test_transaction_applies_all_or_nothing(client: Client, make_table: Callable[..., Any]) -> None:
    accounts = make_table(partitions=4).table_name
    requests = make_table(view=None, partitions=2).table_name
    client.tables.batch_write_item(
        {accounts: [{"PutRequest": {"Item": {"pk": S(n), "balance": N("100")}}} for n in "ab"]}
    )

    def transfer(request_id: str, amount: str) -> None:
        client.tables.transact_write_items(
            [
                {
                    "Put": {
                        "TableName": requests,
                        "Item": {"pk": S(request_id)},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Update": {
                        "TableName": accounts,
                        "Key": {"pk": S("a")},
                        "UpdateExpression": "SET balance = balance - :x",
                        "ConditionExpression": "balance >= :x",
                        "ExpressionAttributeValues": {":x": N(amount)},
                    }
                },
                {
                    "Update": {
                        "TableName": accounts,
                        "Key": {"pk": S("b")},
                        "UpdateExpression": "SET balance = balance + :x",
                        "ExpressionAttributeValues": {":x": N(amount)},
                    }
                },
            ]
        )

    transfer("r1", "30")
    with pytest.raises(TransactionCanceledException) as retried:
        transfer("r1", "30")  # the same request again: applied once
    assert [r.code for r in retried.value.cancellation_reasons] == [
        "ConditionalCheckFailed",
        "None",
        "None",
    ]
    with pytest.raises(TransactionCanceledException, match=r"\[None, ConditionalCheckFailed"):
        transfer("r2", "500")  # not enough money: nothing of it happens
    balances = {n: client.tables.get_item(accounts, {"pk": S(n)})["balance"]["N"] for n in "ab"}
    assert balances == {"a": "70", "b": "130"}
    assert client.tables.get_item(requests, {"pk": S("r2")}) is None


def test_condition_check_with_old_item_and_validation(
    client: Client, make_table: Callable[..., Any]
) -> None:
    name = make_table(view=None).table_name
    client.tables.put_item(name, {"pk": S("lock"), "owner": S("x")})
    with pytest.raises(TransactionCanceledException) as info:
        client.tables.transact_write_items(
            [
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": {"pk": S("lock")},
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {"Put": {"TableName": name, "Item": {"pk": S("job")}}},
            ]
        )
    assert info.value.cancellation_reasons[0].item == {"pk": S("lock"), "owner": S("x")}
    assert client.tables.get_item(name, {"pk": S("job")}) is None
    with pytest.raises(ValidationException, match="multiple operations on one item"):
        client.tables.transact_write_items(
            [
                {"Put": {"TableName": name, "Item": {"pk": S("j")}}},
                {"Delete": {"TableName": name, "Key": {"pk": S("j")}}},
            ]
        )


def test_what_only_the_stored_item_shows_cancels_with_a_validation_error(
    client: Client, make_table: Callable[..., Any]
) -> None:
    """An update that would take an item past 400 KB, or ADD a number to a string: the
    transaction is canceled with ValidationError as that action's reason, nothing written."""
    name = make_table(view=None).table_name
    client.tables.put_item(name, {"pk": S("big"), "pad": S("x" * 300_000), "s": S("text")})
    cases = [
        ("SET more = :v", {":v": S("y" * 200_000)}, "Item size to update has exceeded"),
        ("ADD s :v", {":v": N("1")}, "incorrect data type"),
    ]
    for update, values, message in cases:
        with pytest.raises(TransactionCanceledException) as info:
            client.tables.transact_write_items(
                [
                    {"Put": {"TableName": name, "Item": {"pk": S("other")}}},
                    {
                        "Update": {
                            "TableName": name,
                            "Key": {"pk": S("big")},
                            "UpdateExpression": update,
                            "ExpressionAttributeValues": values,
                        }
                    },
                ]
            )
        reasons = info.value.cancellation_reasons
        assert [r.code for r in reasons] == ["None", "ValidationError"], update
        assert message in reasons[1].message, reasons[1].message
        assert client.tables.get_item(name, {"pk": S("other")}) is None
    assert set(client.tables.get_item(name, {"pk": S("big")}) or {}) == {"pk", "pad", "s"}
