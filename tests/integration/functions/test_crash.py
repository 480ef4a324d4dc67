"""SIGKILL of the replica running asynchronous invocations loses none of them.

Two replicas share ``eventplane.fn.async``; a function's invocations are keyed by its
name, so one replica runs them all: the one holding a backlog. That one is killed
mid-way (some invocations done, others running, waiting or postponed by the
concurrency limit) and restarted; every accepted invocation still runs, at least once.
"""

from __future__ import annotations

import contextlib
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess, eventually

from .support import BASICS, FUNCTIONS_ENV, lines, unique

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOTAL = 100


def _start_replicas(bootstrap: str, n: int) -> list[EventplaneProcess]:
    servers = [EventplaneProcess(bootstrap, env=FUNCTIONS_ENV) for _ in range(n)]
    errors: list[BaseException] = []

    def start(server: EventplaneProcess) -> None:
        try:
            server.start()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        _stop_all(servers)
        raise errors[0]
    return servers


def _stop_all(servers: list[EventplaneProcess]) -> None:
    threads = [threading.Thread(target=s.stop) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _backlog(server: EventplaneProcess) -> float:
    """Asynchronous invocations this replica holds now (waiting or running)."""
    with urllib.request.urlopen(server.metrics_url, timeout=5) as resp:
        text = resp.read().decode()
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "eventplane_function_async_backlog"
    )


@pytest.fixture
def replicas(eventplane_kafka: str) -> Iterator[list[EventplaneProcess]]:
    servers = _start_replicas(eventplane_kafka, 2)
    try:
        yield servers
    finally:
        _stop_all(servers)


@pytest.mark.timeout(240)
def test_no_async_invocation_is_lost_when_its_runner_is_killed(
    replicas: list[EventplaneProcess], tmp_path: Path
) -> None:
    out = tmp_path / "recorded"
    name = unique("fn")
    with replicas[0].client(timeout=30) as client:
        client.functions.create_function(
            name, "basics.record", zip_directory=BASICS, environment={"RECORD_FILE": str(out)}
        )
        try:
            _run_and_kill(client, replicas, name, out)
        finally:
            with contextlib.suppress(EventplaneError):
                client.functions.delete_function(name)


def _run_and_kill(client: Client, replicas: list[EventplaneProcess], name: str, out: Path) -> None:
    # Some at a time, each taking a while (the rest postponed by the reservation):
    # the run spans the kill.
    client.functions.put_function_concurrency(name, 16)
    for i in range(TOTAL):
        accepted = client.functions.invoke(name, {"id": i, "sleep": 0.3}, invocation_type="Event")
        assert accepted.status_code == 202

    def runner_found() -> EventplaneProcess | None:
        if len(lines(out)) < 15:
            return None
        backlogs = {s.grpc_port: _backlog(s) for s in replicas}
        runner = max(replicas, key=lambda s: backlogs[s.grpc_port])
        return runner if backlogs[runner.grpc_port] > 0 else None

    runner = eventually(runner_found, timeout=60)
    assert runner is not None
    runner.kill()
    assert len(set(lines(out))) < TOTAL, "all done before the kill: nothing was tested"
    runner.restart()

    def all_recorded() -> bool:
        recorded = {int(x) for x in lines(out)}
        assert recorded == set(range(TOTAL)), f"missing {sorted(set(range(TOTAL)) - recorded)}"
        return True

    eventually(all_recorded, timeout=120, interval=0.5)
