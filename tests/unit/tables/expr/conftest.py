"""Loads the DynamoDB behaviour cases in tests/data/ddb (binaries as base64 there)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parents[3] / "data" / "ddb"


def load_cases(stem: str, *kinds: str) -> list[Any]:
    params = []
    for case in json.loads((DATA / f"{stem}.json").read_text(encoding="utf-8")):
        if kinds and case["kind"] not in kinds:
            continue
        params.append(pytest.param(case, id=f"{stem}/{case['name']}"))
    return params
