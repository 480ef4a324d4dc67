"""Attribute values: validation messages, number limits, item size, keys, serializer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from eventplane.tables.expr.errors import ValidationException
from eventplane.tables.expr.values import (
    decode_json_item,
    decode_json_value,
    deserialize_item,
    extract_key,
    item_size,
    key_sort_key,
    serialize,
    serialize_item,
    validate_item,
    validate_value,
)

from .conftest import load_cases


@pytest.mark.parametrize("case", load_cases("values", "value"))
def test_value_validation(case: dict[str, Any]) -> None:
    value = decode_json_value(case["value"]) if len(case["value"]) == 1 else case["value"]
    if "error" in case:
        with pytest.raises(ValidationException) as caught:
            validate_value(value)
        assert case["error"] in caught.value.message
        assert caught.value.code == "ValidationException"
    else:
        assert validate_value(value) == decode_json_value(case["expected"])


@pytest.mark.parametrize("case", load_cases("values", "size"))
def test_item_size(case: dict[str, Any]) -> None:
    item = decode_json_item(case["item"])
    if "pad" in case:
        name, total = case["pad"]["name"], case["pad"]["total"]
        item[name] = {"S": ""}
        item[name] = {"S": "x" * (total - item_size(item))}
    if "error" in case:
        with pytest.raises(ValidationException, match=case["error"]):
            validate_item(item)
    else:
        assert item_size(item) == case["expected"]
        validate_item(item)


@pytest.mark.parametrize("case", load_cases("values", "key"))
def test_key_extraction(case: dict[str, Any]) -> None:
    schema = [tuple(pair) for pair in case["schema"]]
    item = decode_json_item(case["item"])
    if "error" in case:
        with pytest.raises(ValidationException) as caught:
            extract_key(item, schema, exact=case.get("exact", False))
        assert case["error"] in caught.value.message
    else:
        assert extract_key(item, schema, exact=case.get("exact", False)) == case["expected"]


def test_range_key_order_numbers_numeric_strings_by_utf8_bytes() -> None:
    numbers = [{"N": "10"}, {"N": "-2"}, {"N": "9.5"}, {"N": "1E-130"}]
    assert [v["N"] for v in sorted(numbers, key=key_sort_key)] == ["-2", "1E-130", "9.5", "10"]
    # UTF-8 byte order is code point order (not UTF-16's, where U+1F600 sorts first).
    strings = [{"S": "\U0001f600"}, {"S": "\uff5e"}, {"S": "Z"}, {"S": "a"}]
    ordered = [v["S"] for v in sorted(strings, key=key_sort_key)]
    assert ordered == ["Z", "a", "\uff5e", "\U0001f600"]
    blobs = [{"B": b"\xff"}, {"B": b"\x00\x01"}, {"B": b"\x7f"}]
    assert [v["B"] for v in sorted(blobs, key=key_sort_key)] == [b"\x00\x01", b"\x7f", b"\xff"]


def test_serializer_round_trip_like_boto3() -> None:
    plain = {
        "s": "x",
        "n": 3,
        "d": Decimal("1.50"),
        "f": 0.1,
        "b": b"\x00",
        "t": True,
        "z": None,
        "ss": {"b", "a"},
        "ns": {1, 2},
        "bs": {b"x"},
        "l": [1, "a", [None]],
        "m": {"k": {"j": False}},
    }
    item = serialize_item(plain)
    assert item["n"] == {"N": "3"}
    assert item["d"] == {"N": "1.5"}
    assert item["f"] == {"N": "0.1"}
    assert item["ss"] == {"SS": ["a", "b"]}
    assert item["ns"] == {"NS": ["1", "2"]}
    assert item["l"] == {"L": [{"N": "1"}, {"S": "a"}, {"L": [{"NULL": True}]}]}
    back = deserialize_item(validate_item(item))
    assert back["n"] == Decimal(3) and isinstance(back["n"], Decimal)
    assert back["ss"] == {"a", "b"} and back["bs"] == {b"x"}
    assert back["m"] == {"k": {"j": False}}


def test_serializer_rejects_what_dynamodb_cannot_hold() -> None:
    with pytest.raises(ValidationException):
        serialize(set())
    with pytest.raises(ValidationException, match="38 significant digits"):
        serialize(Decimal("1.23456789012345678901234567890123456789"))
    with pytest.raises(TypeError):
        serialize(object())
    with pytest.raises(TypeError):
        serialize({1, "a"})
