"""Loads the DynamoDB behaviour cases in tests/data/ddb (binaries as base64 there)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eventplane.tables.expr.values import decode_json_item, decode_json_value

DATA = Path(__file__).parents[3] / "data" / "ddb"


ITEMS: dict[str, Any] = json.loads((DATA / "items.json").read_text(encoding="utf-8"))


def item_of(ref: Any) -> dict[str, Any] | None:
    """A case's item: None (no item), an inline item, or "@name" from items.json."""
    if ref is None:
        return None
    raw = ITEMS[ref[1:]] if isinstance(ref, str) and ref.startswith("@") else ref
    return decode_json_item(raw)


def values_of(case: dict[str, Any]) -> dict[str, Any] | None:
    """A case's ExpressionAttributeValues; "long_strings" builds big strings in place."""
    if "values" not in case:
        return None
    values = {k: decode_json_value(v) if len(v) == 1 else v for k, v in case["values"].items()}
    for key, length in case.get("long_strings", {}).items():
        values[key] = {"S": "x" * length}
    return values


def load_cases(stem: str, *kinds: str) -> list[Any]:
    params = []
    for case in json.loads((DATA / f"{stem}.json").read_text(encoding="utf-8")):
        if kinds and case["kind"] not in kinds:
            continue
        params.append(pytest.param(case, id=f"{stem}/{case['name']}"))
    return params
