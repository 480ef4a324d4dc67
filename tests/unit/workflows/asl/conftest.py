"""Loading the data-driven ASL cases (tests/data/asl/*.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[3] / "data" / "asl"


def load_cases(file: str, key: str = "cases") -> list[Any]:
    """pytest params for one list in a data file, each with the case's name as its id."""
    import pytest

    document = json.loads((DATA / file).read_text())
    return [pytest.param(case, id=case["name"]) for case in document[key]]
