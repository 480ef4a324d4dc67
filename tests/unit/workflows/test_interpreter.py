"""The pure interpreter, driven by data files of {definition, input, task outcomes,
expected status, output or error, history event types}."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eventplane.workflows.history import HistoryEvent
from eventplane.workflows.model import ExecutionState

from .driver import T0, run

DATA = Path(__file__).parents[2] / "data" / "workflows"


def _cases() -> list[Any]:
    cases = []
    for path in sorted(DATA.glob("*.json")):
        for case in json.loads(path.read_text()):
            cases.append(pytest.param(case, id=f"{path.stem}:{case['name']}"))
    return cases


@pytest.mark.parametrize("case", _cases())
def test_case(case: dict[str, Any]) -> None:
    out = run(
        case["definition"],
        case.get("input", {}),
        case.get("tasks"),
        stop_at_ms=case.get("stop_at_ms"),
        heartbeats=case.get("heartbeats"),
    )
    expected = case["expected"]
    assert out.state.status == expected["status"], (out.state.error, out.state.cause, out.types)
    if "output" in expected:
        assert out.state.output == expected["output"]
    if "error" in expected:
        assert out.state.error == expected["error"]
    if "cause" in expected:
        assert out.state.cause == expected["cause"]
    if "events" in expected:
        assert out.types == expected["events"]
    if "payloads" in expected:
        assert [d.payload for d in out.dispatched] == expected["payloads"]
    if "duration_ms" in expected:
        assert (out.state.stop_ms or 0) - T0 == expected["duration_ms"]
    # the state survives a JSON round trip (it is journaled as JSON between steps)
    assert ExecutionState.from_json(json.loads(json.dumps(out.state.to_json()))) == out.state
    ids = [e.id for e in out.events]
    assert ids == list(range(1, len(ids) + 1))
    for e in out.events:
        assert HistoryEvent.from_json(e.to_json()) == e
