"""Conditions, updates and text-level errors, driven by tests/data/ddb/*.json."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from eventplane.tables.expr import (
    ValidationException,
    apply_update,
    condition_holds,
    parse_condition,
    parse_update,
    prepare,
)
from eventplane.tables.expr.values import decode_json_item, item_size

from .conftest import item_of, load_cases, values_of

_KIND_ARG = {
    "ConditionExpression": "condition",
    "FilterExpression": "filter",
    "KeyConditionExpression": "key_condition",
    "UpdateExpression": "update",
    "ProjectionExpression": "projection",
}

CONDITIONS = load_cases("conditions")
SYNTAX = load_cases("syntax")
UPDATES = load_cases("updates")


def test_data_files_cover_enough_cases() -> None:
    assert len(CONDITIONS) >= 80
    assert len(SYNTAX) >= 35
    assert len(UPDATES) >= 60
    ids = [p.id for p in CONDITIONS + SYNTAX + UPDATES]
    assert len(ids) == len(set(ids))


def _evaluate_condition(case: dict[str, Any]) -> bool:
    request = {_KIND_ARG[case["kind"]]: case["expression"]}
    exprs = prepare(**request, names=case.get("names"), values=values_of(case))
    tree = exprs.condition if case["kind"] == "ConditionExpression" else exprs.filter
    assert tree is not None
    return condition_holds(tree, item_of(case["item"]), exprs.names, exprs.values)


@pytest.mark.parametrize("case", CONDITIONS)
def test_condition(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(ValidationException) as caught:
            _evaluate_condition(case)
        assert caught.value.message == case["error"]
    else:
        assert _evaluate_condition(case) is case["expected"]


@pytest.mark.parametrize("case", SYNTAX)
def test_text_errors(case: dict[str, Any]) -> None:
    request = {_KIND_ARG[case["kind"]]: case["expression"]}
    with pytest.raises(ValidationException) as caught:
        prepare(**request, names=case.get("names"), values=values_of(case))
    assert caught.value.message == case["error"]
    assert caught.value.code == "ValidationException"


@pytest.mark.parametrize("case", UPDATES)
def test_update(case: dict[str, Any]) -> None:
    item = item_of(case["item"])

    def run() -> Any:
        exprs = prepare(update=case["expression"], names=case.get("names"), values=values_of(case))
        assert exprs.update is not None
        keys = case.get("key_names", ())
        return apply_update(exprs.update, item, exprs.names, exprs.values, key_names=keys)

    if "error" in case:
        with pytest.raises(ValidationException) as caught:
            run()
        assert caught.value.message == case["error"]
        return
    before = copy.deepcopy(item)
    result = run()
    assert item == before, "the stored item must not be mutated"
    assert result.size == item_size(result.item)
    if item is not None:
        keys = case.get("key_names", ())
        again = apply_update(
            parse_update(case["expression"]),
            item,
            case.get("names") or {},
            prepare(
                update=case["expression"], names=case.get("names"), values=values_of(case)
            ).values,
            key_names=keys,
            old_size=item_size(item),
        )
        assert again.size == result.size
    if "expected" in case:
        assert result.item == item_of(case["expected"])
    if "changes" in case:
        expected = dict(item or {})
        for name, value in case["changes"].items():
            if value == "$absent":
                expected.pop(name, None)
            else:
                expected[name] = decode_json_item({name: value})[name]
        assert result.item == expected
    if "updated_old" in case:
        assert result.updated_old == decode_json_item(case["updated_old"])
    if "updated_new" in case:
        assert result.updated_new == decode_json_item(case["updated_new"])


def test_trees_are_parsed_once_per_text() -> None:
    first = parse_condition("a = :v AND attribute_exists(b)")
    assert parse_condition("a = :v AND attribute_exists(b)") is first
    assert parse_update("SET a = :v") is parse_update("SET a = :v")
    # the kind is part of the cache key: messages name the right expression
    with pytest.raises(ValidationException) as caught:
        parse_condition("status = :v", "FilterExpression")
    assert caught.value.message.startswith("Invalid FilterExpression: ")
