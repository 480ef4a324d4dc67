"""Reserved concurrency: sync invokes beyond it are throttled, async ones wait."""

from __future__ import annotations

import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from eventplane.client import Client, InvokeResult
from eventplane.functions.errors import TooManyRequestsException
from eventplane.testing import EventplaneProcess, eventually

from .support import Resources, lines

pytestmark = pytest.mark.integration


def _throttles(server: EventplaneProcess, function: str, invocation_type: str) -> float:
    with urllib.request.urlopen(server.metrics_url, timeout=5) as resp:
        text = resp.read().decode()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "eventplane_function_throttles_total" and s.labels == {
                "function": function,
                "invocation_type": invocation_type,
            }:
                return s.value
    return 0.0


class Blocked:
    """An invocation of ``basics.block`` running in a thread until ``release()``."""

    def __init__(self, client: Client, name: str, tmp_path: Path) -> None:
        self.started = tmp_path / "started"
        self.release_file = tmp_path / "release"
        self.event: dict[str, Any] = {
            "id": "sync",
            "started": str(self.started),
            "release": str(self.release_file),
        }
        self.result: InvokeResult | None = None
        self._thread = threading.Thread(target=self._run, args=(client, name))

    def _run(self, client: Client, name: str) -> None:
        self.result = client.functions.invoke(name, self.event)

    def start(self) -> Blocked:
        self._thread.start()
        eventually(lambda: lines(self.started) == ["sync"], timeout=20)
        return self

    def release(self) -> InvokeResult:
        self.release_file.touch()
        self._thread.join(30)
        assert self.result is not None
        return self.result


def test_a_sync_invoke_beyond_the_reservation_is_throttled(
    client: Client, res: Resources, tmp_path: Path
) -> None:
    name = res.function("basics.block")
    assert client.functions.put_function_concurrency(name, 1) == 1
    assert client.functions.get_function(name).reserved_concurrent_executions == 1
    blocked = Blocked(client, name, tmp_path).start()
    try:
        with pytest.raises(TooManyRequestsException, match="Rate Exceeded"):
            client.functions.invoke(name, {**blocked.event, "id": "second"})
        # Other functions are not affected.
        assert client.functions.invoke(res.function("basics.echo"), {}).function_error is None
    finally:
        result = blocked.release()
    assert result.function_error is None and result.json() == "released sync"
    # Once the slot is free again, the next invoke runs.
    again = client.functions.invoke(name, {**blocked.event, "id": "third"})
    assert again.json() == "released third"
    assert lines(blocked.started) == ["sync", "third"]


def test_a_reservation_of_zero_throttles_every_invoke(client: Client, res: Resources) -> None:
    name = res.function("basics.echo")
    client.functions.put_function_concurrency(name, 0)
    for _ in range(3):
        with pytest.raises(TooManyRequestsException):
            client.functions.invoke(name, {})
    client.functions.delete_function_concurrency(name)
    assert client.functions.get_function_concurrency(name) is None
    assert client.functions.invoke(name, {"n": 1}).json()["event"] == {"n": 1}


def test_a_throttled_async_invoke_runs_once_the_slot_is_free(
    client: Client, res: Resources, tmp_path: Path, fn_server: EventplaneProcess
) -> None:
    name = res.function("basics.block")
    client.functions.put_function_concurrency(name, 1)
    blocked = Blocked(client, name, tmp_path).start()
    try:
        accepted = client.functions.invoke(
            name, {**blocked.event, "id": "async"}, invocation_type="Event"
        )
        assert accepted.status_code == 202 and accepted.payload == b""
        # It is postponed (again and again, with backoff) while the slot is taken ...
        eventually(lambda: _throttles(fn_server, name, "Event") >= 2, timeout=20)
        assert lines(blocked.started) == ["sync"]
    finally:
        assert blocked.release().json() == "released sync"
    # ... and runs once it is free.
    eventually(lambda: lines(blocked.started) == ["sync", "async"], timeout=20)
