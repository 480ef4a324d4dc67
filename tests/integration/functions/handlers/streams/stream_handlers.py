"""Handlers for stream event source mapping tests: they record every batch they get.

Each invocation appends one JSON line to ``$STATE_DIR/batches.jsonl``: the batch's
sequence numbers, its records, and which of them the handler finished (``done``). A
record whose ``v`` attribute equals ``$POISON`` fails: ``MODE=raise`` fails the whole
invocation; ``MODE=report`` reports it in ``batchItemFailures``; ``MODE=report-once``
reports it only the first time it is seen. ``$SLEEP`` seconds pass before answering.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


def _value(record: dict[str, Any]) -> str | None:
    image = record["dynamodb"].get("NewImage") or {}
    found = image.get("v", {}).get("S")
    return str(found) if found is not None else None


def _first_sight(state: Path, sequence: str) -> bool:
    marker = state / f"seen-{sequence}"
    try:
        marker.touch(exist_ok=False)
    except FileExistsError:
        return False
    return True


def handle(event: dict[str, Any], context: Any) -> Any:
    state = Path(os.environ["STATE_DIR"])
    records = event["Records"]
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    poison = os.environ.get("POISON")
    mode = os.environ.get("MODE", "raise")
    bad = [s for r, s in zip(records, seqs, strict=True) if poison and _value(r) == poison]
    if mode == "report-once":
        bad = [s for s in bad if _first_sight(state, s)]
    first_bad = min((seqs.index(s) for s in bad), default=len(seqs))
    done = [] if bad and mode == "raise" else seqs[:first_bad]
    time.sleep(float(os.environ.get("SLEEP", "0")))
    line = json.dumps({"seqs": seqs, "done": done, "records": records})
    with open(state / "batches.jsonl", "a") as f:
        f.write(line + "\n")
    if bad and mode == "raise":
        raise RuntimeError(f"poisoned record in {seqs[0]}..{seqs[-1]}")
    if bad:
        return {"batchItemFailures": [{"itemIdentifier": s} for s in bad]}
    return None


def count(event: dict[str, Any], context: Any) -> Any:
    """TumblingWindowInSeconds: adds the batch's records to ``state["count"]`` and appends
    the event (without records, with their sequence numbers) to ``windows.jsonl``."""
    state = Path(os.environ["STATE_DIR"])
    seqs = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
    seen = {k: v for k, v in event.items() if k != "Records"}
    with open(state / "windows.jsonl", "a") as f:
        f.write(json.dumps({**seen, "seqs": seqs, "keys": keys}) + "\n")
    return {"state": {"count": event["state"].get("count", 0) + len(seqs)}}
