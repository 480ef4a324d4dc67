"""Small handlers for the functions integration tests, one entry point per behaviour."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


def echo(event: Any, context: Any) -> dict[str, Any]:
    """Returns the event and what the context says; prints a line for the log tail."""
    print(f"echo says hello to {context.aws_request_id}")
    return {
        "event": event,
        "request_id": context.aws_request_id,
        "also_request_id": context.request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "endpoint": os.environ.get("EVENTPLANE_ENDPOINT"),
    }


def fail(event: Any, context: Any) -> None:
    raise ValueError(f"bad input: {event!r}")


def sleep(event: Any, context: Any) -> str:
    time.sleep(float(event["seconds"]))
    return "woke up"


def crash(event: Any, context: Any) -> str:
    """Exits the worker process at once when the event asks for it."""
    if event.get("crash"):
        print("about to exit", flush=True)
        os._exit(3)
    return "still alive"


def block(event: Any, context: Any) -> str:
    """Marks that it started (``started`` file), then waits for the ``release`` file."""
    with open(event["started"], "a") as f:
        f.write(f"{event.get('id', '')}\n")
    release = Path(event["release"])
    deadline = time.monotonic() + float(event.get("max_wait", 30))
    while not release.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("never released")
        time.sleep(0.05)
    return f"released {event.get('id', '')}"


def flaky(event: Any, context: Any) -> dict[str, Any]:
    """Fails the first ``fail_times`` attempts (counted in the ``counter`` file)."""
    with open(event["counter"], "a") as f:
        f.write(f"{context.aws_request_id}\n")
    attempts = len(Path(event["counter"]).read_text().splitlines())
    if attempts <= int(event["fail_times"]):
        raise RuntimeError(f"attempt {attempts} fails")
    return {"attempts": attempts, "id": event.get("id")}


def record(event: Any, context: Any) -> str:
    """Appends the event's ``id`` to the file named by $RECORD_FILE (one short write),
    after sleeping ``sleep`` seconds if the event says so."""
    time.sleep(float(event.get("sleep", 0)))
    line = f"{event['id']}\n".encode()
    fd = os.open(os.environ["RECORD_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    return "recorded"


def dump(event: Any, context: Any) -> str:
    """Appends the whole event as one JSON line to the file named by $RECORD_FILE."""
    line = (json.dumps(event) + "\n").encode()
    fd = os.open(os.environ["RECORD_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    return "dumped"


def _first_sight(state_dir: Path, message_id: str) -> bool:
    marker = state_dir / f"seen-{message_id}"
    if marker.exists():
        return False
    marker.touch()
    return True


def batch(event: Any, context: Any) -> Any:
    """A queue mapping's handler: logs every record to $STATE_DIR/records.jsonl.

    Records whose body starts with ``fail`` are reported as batch item failures the
    first time they are seen. With $MALFORMED set, the first sight of any record makes
    the whole response malformed instead.
    """
    state_dir = Path(os.environ["STATE_DIR"])
    lines = "".join(json.dumps(r) + "\n" for r in event["Records"]).encode()
    fd = os.open(state_dir / "records.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, lines)
    finally:
        os.close(fd)
    first = [r for r in event["Records"] if _first_sight(state_dir, r["messageId"])]
    if os.environ.get("MALFORMED"):
        return {"batchItemFailures": "not a list"} if first else {"batchItemFailures": []}
    failed = [r for r in first if r["body"].startswith("fail")]
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in failed]}


def span(event: Any, context: Any) -> str:
    """Appends ``start <id> <time>`` to $RECORD_FILE, sleeps ``sleep`` seconds, then
    appends ``end <id> <time>``: what ran, what was running, and when it ended."""
    path = os.environ["RECORD_FILE"]
    _append(path, f"start {event['id']} {time.time():.3f}\n")
    time.sleep(float(event.get("sleep", 0)))
    _append(path, f"end {event['id']} {time.time():.3f}\n")
    return "recorded"


def _append(path: str, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
