"""Conditions, updates, projections and Query on a real server."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.errors import ValidationException
from eventplane.tables.errors import ConditionalCheckFailedException

pytestmark = pytest.mark.integration


def S(v: str) -> dict[str, Any]:
    return {"S": v}


def N(v: str) -> dict[str, Any]:
    return {"N": v}


def test_conditional_put_and_failure_with_old_item(
    client: Client, make_table: Callable[..., Any]
) -> None:
    name = make_table().table_name
    item = {"pk": S("a"), "v": N("1")}
    client.tables.put_item(name, item, condition_expression="attribute_not_exists(pk)")
    with pytest.raises(ConditionalCheckFailedException) as info:
        client.tables.put_item(
            name,
            {"pk": S("a"), "v": N("2")},
            condition_expression="attribute_not_exists(pk)",
            return_values_on_condition_check_failure="ALL_OLD",
        )
    assert info.value.code == "ConditionalCheckFailedException"
    assert info.value.item == item
    with pytest.raises(ConditionalCheckFailedException) as plain:
        client.tables.delete_item(
            name,
            {"pk": S("a")},
            condition_expression="v = :two",
            expression_attribute_values={":two": N("2")},
        )
    assert plain.value.item is None
    assert client.tables.get_item(name, {"pk": S("a")}) == item


def test_update_expression_actions_and_return_values(
    client: Client, make_table: Callable[..., Any]
) -> None:
    name = make_table().table_name
    key = {"pk": S("u")}
    new = client.tables.update_item(
        name,
        key,
        update_expression="SET #c = if_not_exists(#c, :zero) + :one, a = :a, tags = :tags",
        expression_attribute_names={"#c": "count"},
        expression_attribute_values={
            ":zero": N("0"),
            ":one": N("1"),
            ":a": {"M": {"b": {"L": [N("0"), N("1"), {"M": {"c": S("deep")}}]}}},
            ":tags": {"SS": ["x", "y"]},
        },
        return_values="ALL_NEW",
    )
    assert new["count"] == N("1") and new["a"]["M"]["b"]["L"][2]["M"]["c"] == S("deep")
    old = client.tables.update_item(
        name,
        key,
        update_expression="SET a.b[2].c = :v ADD #c :one DELETE tags :x REMOVE nothing",
        expression_attribute_names={"#c": "count"},
        expression_attribute_values={":v": S("new"), ":one": N("1"), ":x": {"SS": ["x"]}},
        return_values="UPDATED_OLD",
    )
    assert old["count"] == N("1") and old["tags"] == {"SS": ["x", "y"]}
    got = client.tables.get_item(
        name,
        key,
        projection_expression="a.b[2].c, #c, tags",
        expression_attribute_names={"#c": "count"},
    )
    assert got == {
        "a": {"M": {"b": {"L": [{"M": {"c": S("new")}}]}}},
        "count": N("2"),
        "tags": {"SS": ["y"]},
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"update_expression": "SET count = :v", "expression_attribute_values": {":v": N("1")}},
            "reserved keyword",
        ),
        ({"update_expression": "SET a = :v"}, "not defined"),
        (
            {
                "update_expression": "SET a = :v",
                "expression_attribute_values": {":v": N("1"), ":w": N("2")},
            },
            "unused",
        ),
        (
            {"update_expression": "SET pk = :v", "expression_attribute_values": {":v": S("x")}},
            "part of the key",
        ),
        (
            {
                "update_expression": "SET a = :v, a.b = :v",
                "expression_attribute_values": {":v": N("1")},
            },
            "overlap",
        ),
        (
            {"update_expression": "SET = :v", "expression_attribute_values": {":v": N("1")}},
            "Syntax error",
        ),
    ],
)
def test_bad_update_expressions(
    client: Client, make_table: Callable[..., Any], kwargs: dict[str, Any], message: str
) -> None:
    name = make_table(view=None).table_name
    with pytest.raises(ValidationException, match=message):
        client.tables.update_item(name, {"pk": S("k")}, **kwargs)


def test_query_ranges_order_filter_and_paging(
    client: Client, make_table: Callable[..., Any]
) -> None:
    name = make_table(range_key=("sk", "N"), partitions=3).table_name
    client.tables.batch_write_item(
        {
            name: [
                {
                    "PutRequest": {
                        "Item": {"pk": S("p"), "sk": N(str(i)), "odd": {"BOOL": i % 2 == 1}}
                    }
                }
                for i in range(20)
            ]
            + [{"PutRequest": {"Item": {"pk": S("other"), "sk": N("5")}}}]
        }
    )
    values = {":p": S("p"), ":lo": N("3"), ":hi": N("12")}
    page = client.tables.query(
        name, "pk = :p AND sk BETWEEN :lo AND :hi", expression_attribute_values=values
    )
    assert [i["sk"]["N"] for i in page.items] == [str(i) for i in range(3, 13)]
    back = client.tables.query(
        name,
        "pk = :p AND sk > :lo",
        expression_attribute_values={":p": S("p"), ":lo": N("15")},
        scan_index_forward=False,
    )
    assert [i["sk"]["N"] for i in back.items] == ["19", "18", "17", "16"]
    seen: list[str] = []
    start = None
    while True:
        page = client.tables.query(
            name,
            "pk = :p",
            filter_expression="odd = :t",
            expression_attribute_values={":p": S("p"), ":t": {"BOOL": True}},
            limit=4,
            exclusive_start_key=start,
        )
        assert page.scanned_count <= 4
        seen += [i["sk"]["N"] for i in page.items]
        start = page.last_evaluated_key
        if start is None:
            break
    assert seen == [str(i) for i in range(1, 20, 2)]
    count = client.tables.query(
        name, "pk = :p", expression_attribute_values={":p": S("p")}, select="COUNT"
    )
    assert (count.count, count.items) == (20, [])
    users = client.tables.table(name)
    assert [i["sk"] for i in users.query("pk = :p AND sk < :n", values={":p": "p", ":n": 2})] == [
        Decimal(0),
        Decimal(1),
    ]
    with pytest.raises(ValidationException, match=r"missed key schema element|not supported"):
        client.tables.query(name, "sk = :n", expression_attribute_values={":n": N("1")})


def test_query_filter_may_not_test_keys(client: Client, make_table: Callable[..., Any]) -> None:
    name = make_table(range_key=("sk", "N"), view=None).table_name
    with pytest.raises(ValidationException, match="non-primary key attributes"):
        client.tables.query(
            name,
            "pk = :p",
            filter_expression="sk > :n",
            expression_attribute_values={":p": S("p"), ":n": N("1")},
        )
