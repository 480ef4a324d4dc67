"""ProjectionExpression and KeyConditionExpression, driven by tests/data/ddb/*.json."""

from __future__ import annotations

from typing import Any

import pytest

from eventplane.tables.expr import (
    ValidationException,
    check_query_filter,
    key_condition,
    prepare,
    project,
)
from eventplane.tables.expr.values import decode_json_item, decode_json_value

from .conftest import item_of, load_cases, values_of

PROJECTIONS = load_cases("projections")
KEY_CONDITIONS = load_cases("key_conditions")


def test_data_files_cover_enough_cases() -> None:
    assert len(PROJECTIONS) >= 15
    assert len(KEY_CONDITIONS) >= 25


@pytest.mark.parametrize("case", PROJECTIONS)
def test_projection(case: dict[str, Any]) -> None:
    item = item_of(case["item"])
    assert item is not None

    def run() -> Any:
        exprs = prepare(projection=case["expression"], names=case.get("names"))
        assert exprs.projection is not None
        return project(exprs.projection, item, exprs.names)

    if "error" in case:
        with pytest.raises(ValidationException) as caught:
            run()
        assert caught.value.message == case["error"]
    else:
        assert run() == decode_json_item(case["expected"])


@pytest.mark.parametrize("case", KEY_CONDITIONS)
def test_key_condition(case: dict[str, Any]) -> None:
    schema = [(name, kind) for name, kind in case["schema"]]

    def run() -> Any:
        exprs = prepare(
            key_condition=case["expression"], names=case.get("names"), values=values_of(case)
        )
        assert exprs.key_condition is not None
        return key_condition(exprs.key_condition, schema, exprs.names, exprs.values)

    if "error" in case:
        with pytest.raises(ValidationException) as caught:
            run()
        assert caught.value.message == case["error"]
        return
    key_range = run()
    expected = case["expected"]
    assert key_range.hash_name == schema[0][0]
    assert key_range.hash_value == decode_json_value(expected["hash"])
    assert key_range.range_name == expected["range"]
    assert key_range.op == expected["op"]
    assert list(key_range.operands) == [decode_json_value(v) for v in expected["operands"]]
    for value, inside in case.get("matches", []):
        decoded = None if value is None else decode_json_value(value)
        assert key_range.range_matches(decoded) is inside, value


def test_query_filter_may_not_test_key_attributes() -> None:
    exprs = prepare(
        filter="#k = :v OR size(tags.x) > :n OR contains(c, :v)",
        names={"#k": "sk"},
        values={":v": {"S": "a"}, ":n": {"N": "1"}},
    )
    assert exprs.filter is not None
    check_query_filter(exprs.filter, exprs.names, {"pk"})
    with pytest.raises(ValidationException) as caught:
        check_query_filter(exprs.filter, exprs.names, {"pk", "sk"})
    assert caught.value.message == (
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"
    )
