"""`eventplane queue ...` as a user runs it: a real subprocess against the session server."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.testing import EventplaneProcess, eventually

pytestmark = pytest.mark.integration


def _run(
    server: EventplaneProcess, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTPLANE_")}
    env["EVENTPLANE_ENDPOINT"] = server.endpoint
    return subprocess.run(
        [sys.executable, "-m", "eventplane.cli", "queue", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _ok(server: EventplaneProcess, *args: str, stdin: str | None = None) -> str:
    proc = _run(server, *args, stdin=stdin)
    assert proc.returncode == 0, f"{args}: exit {proc.returncode}\n{proc.stderr}"
    return proc.stdout


def _json(server: EventplaneProcess, *args: str, stdin: str | None = None) -> Any:
    return json.loads(_ok(server, *args, "--json", stdin=stdin))


@pytest.fixture
def queue_name(client: Client) -> Iterator[str]:
    """A fresh name; the queue is removed afterwards if the test left it behind."""
    name = f"cli-{uuid.uuid4().hex[:12]}"
    yield name
    for candidate in (name, f"{name}.fifo"):
        with contextlib.suppress(Exception):  # deleted by the test, or never created
            client.queues.delete_queue(candidate)


def test_queue_lifecycle_from_the_shell(
    eventplane_server: EventplaneProcess, client: Client, queue_name: str
) -> None:
    ep = eventplane_server
    created = _json(ep, "create", queue_name, "--attribute", "VisibilityTimeout=2")
    url = created["queue_url"]
    assert url.endswith(f"/{queue_name}")
    assert client.queues.get_queue_url(queue_name) == url

    assert _json(ep, "list", "--prefix", queue_name) == {"queue_urls": [url]}
    assert _ok(ep, "list", "--prefix", queue_name).splitlines() == [url]

    sent = _json(
        ep,
        "send",
        queue_name,
        "--body",
        "hello from the shell",
        "--attribute",
        "kind=greeting",
        "--attribute",
        "n=Number:42",
        "--attribute",
        "raw=Binary:" + base64.b64encode(b"\x00\x01").decode(),
    )
    assert sent["md5_of_message_body"] == hashlib.md5(b"hello from the shell").hexdigest()
    assert sent["md5_of_message_attributes"]
    assert sent["sequence_number"] is None

    received = eventually(lambda: _json(ep, "receive", queue_name, "--wait", "2", "--max", "10"))
    assert len(received) == 1
    (m,) = received
    assert m["message_id"] == sent["message_id"]
    assert m["body"] == "hello from the shell"
    assert m["md5_of_message_attributes"] == sent["md5_of_message_attributes"]
    assert m["attributes"]["ApproximateReceiveCount"] == "1"
    assert m["message_attributes"] == {
        "kind": {"data_type": "String", "string_value": "greeting", "binary_value": None},
        "n": {"data_type": "Number", "string_value": "42", "binary_value": None},
        "raw": {
            "data_type": "Binary",
            "string_value": None,
            "binary_value": base64.b64encode(b"\x00\x01").decode(),
        },
    }

    # Not deleted, so it comes back after 2 s; --delete then removes it for good.
    again = eventually(
        lambda: _json(ep, "receive", queue_name, "--wait", "2", "--delete"), timeout=15
    )
    assert [a["message_id"] for a in again] == [sent["message_id"]]
    assert again[0]["attributes"]["ApproximateReceiveCount"] == "2"
    counts = _json(
        ep,
        "attributes",
        "get",
        queue_name,
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
    )
    assert counts == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }

    out = _ok(ep, "send", queue_name, stdin="body from stdin")
    assert out.startswith("sent ")
    stdin_id = out.split()[1]

    def receive_plain() -> str:
        out = _ok(ep, "receive", queue_name, "--wait", "2", "--visibility", "1")
        assert out.strip() != "no messages"
        return out

    plain = eventually(receive_plain)
    assert f"--- {stdin_id}" in plain
    assert "body from stdin" in plain

    changed = _json(ep, "attributes", "set", queue_name, "VisibilityTimeout=5", "DelaySeconds=1")
    assert changed == {
        "queue": queue_name,
        "attributes": {"VisibilityTimeout": "5", "DelaySeconds": "1"},
    }
    got = _json(ep, "attributes", "get", queue_name, "VisibilityTimeout", "DelaySeconds")
    assert got == {"VisibilityTimeout": "5", "DelaySeconds": "1"}
    assert "VisibilityTimeout: 5" in _ok(ep, "attributes", "get", queue_name).splitlines()
    assert client.queues.get_queue_attributes(url, ["VisibilityTimeout"]) == {
        "VisibilityTimeout": "5"
    }

    assert _ok(ep, "purge", queue_name).strip() == f"purged queue {queue_name}"

    def empty() -> bool:
        attrs = client.queues.get_queue_attributes(url, ["All"])
        assert attrs["ApproximateNumberOfMessages"] == "0", attrs
        assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0", attrs
        return True

    eventually(empty)
    assert _json(ep, "receive", queue_name, "--wait", "1") == []

    assert _json(ep, "delete", queue_name) == {"deleted": queue_name}
    assert _json(ep, "list", "--prefix", queue_name) == {"queue_urls": []}


def test_fifo_send_and_receive_from_the_shell(
    eventplane_server: EventplaneProcess, queue_name: str
) -> None:
    ep = eventplane_server
    name = f"{queue_name}.fifo"
    url = _ok(ep, "create", name, "--fifo").strip()
    assert url.endswith(f"/{name}")
    args = ("send", name, "--body", "first", "--group-id", "g1", "--dedup-id", "d1")
    first = _json(ep, *args)
    dup = _json(ep, *args)
    assert dup["message_id"] == first["message_id"]
    assert first["sequence_number"]
    assert f"(sequence {first['sequence_number']})" in _ok(ep, *args)

    (m,) = eventually(lambda: _json(ep, "receive", name, "--wait", "2", "--max", "10", "--delete"))
    assert m["message_id"] == first["message_id"]
    assert m["attributes"]["MessageGroupId"] == "g1"
    assert m["attributes"]["MessageDeduplicationId"] == "d1"
    assert m["attributes"]["SequenceNumber"] == first["sequence_number"]


@pytest.mark.parametrize(
    "args",
    [
        ("receive", "no-such-queue-{}"),
        ("send", "no-such-queue-{}", "--body", "x"),
        ("attributes", "get", "no-such-queue-{}"),
        ("purge", "no-such-queue-{}"),
        ("delete", "no-such-queue-{}"),
    ],
)
def test_unknown_queue_is_one_line_on_stderr_and_exit_1(
    eventplane_server: EventplaneProcess, args: tuple[str, ...]
) -> None:
    missing = uuid.uuid4().hex[:12]
    proc = _run(eventplane_server, *(a.format(missing) for a in args))
    assert proc.returncode == 1, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "QueueDoesNotExist" in lines[0]
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
