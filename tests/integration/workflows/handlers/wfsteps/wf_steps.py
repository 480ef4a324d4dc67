"""Handlers the workflow integration tests call from Task states.

Handlers record their calls in files whose paths come in the event: every worker is a
separate process, and the test reads the files to count runs.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any


def _record(event: Any, what: Any) -> None:
    if isinstance(event, dict) and event.get("log"):
        with open(event["log"], "a") as f:
            f.write(json.dumps(what) + "\n")


def add(event: Any, context: Any) -> dict[str, Any]:
    """{"n": n + 1} and one line in event["log"]."""
    _record(event, {"add": event["n"]})
    return {**event, "n": event["n"] + 1}


def flaky(event: Any, context: Any) -> dict[str, Any]:
    """Raises ValueError until it has been called ``event["fail_times"]`` times."""
    counter = Path(event["counter"])
    calls = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(calls))
    if calls <= int(event["fail_times"]):
        raise ValueError(f"call {calls} fails")
    return {"calls": calls}


def boom(event: Any, context: Any) -> None:
    raise KeyError("boom")


def keep_token(event: Any, context: Any) -> dict[str, Any]:
    """Stores the task token it was given (a human approval would mail it)."""
    Path(event["file"]).write_text(event["token"])
    return {"stored": True}


def mark(event: Any, context: Any) -> Any:
    """Records its step name, optionally after a pause; returns the event."""
    if event.get("pause"):
        time.sleep(float(event["pause"]))
    _record(event, event.get("step"))
    return event


def big(event: Any, context: Any) -> dict[str, Any]:
    """A result of ``event["kib"]`` KiB."""
    return {"blob": "x" * (int(event["kib"]) * 1024)}


def gate(event: Any, context: Any) -> Any:
    """Records "start:<step>", returns only once the file ``event["gate"]`` exists (the
    test opens it), then records its step name; returns the event."""
    _record(event, f"start:{event.get('step')}")
    gate_file = Path(event["gate"])
    while not gate_file.exists():
        time.sleep(0.01)
    _record(event, event.get("step"))
    return event
