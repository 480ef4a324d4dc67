"""SIGKILL of the replica running asynchronous invocations loses none of them.

Two replicas share ``eventplane.fn.async``; a function's invocations are keyed by its
name, so one replica runs them all: the one holding a backlog. That one is killed
mid-way (some invocations done, others running, waiting or postponed by the
concurrency limit) and restarted; every accepted invocation still runs, at least once,
and the only ones that run again are those that were in flight at the kill. When the
killed replica is back and takes partitions over again, it replays nothing finished.
"""

from __future__ import annotations

import contextlib
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient
from prometheus_client.parser import text_string_to_metric_families

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.functions.async_invoke import ASYNC_GROUP
from eventplane.kafka import naming
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

from .support import BASICS, FUNCTIONS_ENV, lines, unique

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOTAL = 100
CONCURRENCY = 8
SLEEP_S = 0.5
# How long after an execution ends the runner may take to journal it (the result's way
# back from the worker, then the offset commit, on a busy machine).
JOURNAL_WINDOW_S = 0.5


def _start_replicas(bootstrap: str, n: int) -> list[EventplaneProcess]:
    cluster = unique_cluster()
    servers = [EventplaneProcess(bootstrap, env=FUNCTIONS_ENV, cluster=cluster) for _ in range(n)]
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
def test_a_killed_runner_loses_no_async_invocation_and_reruns_only_those_in_flight(
    replicas: list[EventplaneProcess], tmp_path: Path, eventplane_kafka: str
) -> None:
    out = tmp_path / "recorded"
    name = unique("fn")
    with replicas[0].client(timeout=30) as client:
        client.functions.create_function(
            name, "basics.span", zip_directory=BASICS, environment={"RECORD_FILE": str(out)}
        )
        try:
            _run_and_kill(client, replicas, name, out, eventplane_kafka)
        finally:
            with contextlib.suppress(EventplaneError):
                client.functions.delete_function(name)


def _spans(out: Path) -> tuple[list[int], list[tuple[int, float]]]:
    """(ids of the executions started, (id, end time) of those that ended)."""
    started: list[int] = []
    ended: list[tuple[int, float]] = []
    for line in lines(out):
        kind, ident, at = line.split()
        if kind == "start":
            started.append(int(ident))
        else:
            ended.append((int(ident), float(at)))
    return started, ended


def _run_and_kill(
    client: Client, replicas: list[EventplaneProcess], name: str, out: Path, bootstrap: str
) -> None:
    # A few at a time, each taking a while (the rest postponed, again and again, by the
    # reservation): the run spans the kill, and the task topic fills with re-queued work.
    client.functions.put_function_concurrency(name, CONCURRENCY)
    for i in range(TOTAL):
        accepted = client.functions.invoke(
            name, {"id": i, "sleep": SLEEP_S}, invocation_type="Event"
        )
        assert accepted.status_code == 202

    def runner_found() -> EventplaneProcess | None:
        if len(_spans(out)[1]) < 30:
            return None
        backlogs = {s.grpc_port: _backlog(s) for s in replicas}
        runner = max(replicas, key=lambda s: backlogs[s.grpc_port])
        return runner if backlogs[runner.grpc_port] > 0 else None

    runner = eventually(runner_found, timeout=60)
    assert runner is not None
    runner.kill()
    killed_at = time.time()
    started, ended = _spans(out)
    assert len({i for i, _ in ended}) < TOTAL, "all done before the kill: nothing was tested"
    # In flight at the kill: executions started and not ended, and those that ended so
    # shortly before it that the runner may not have journaled them yet.
    running = len(started) - len(ended)
    just_ended = sum(1 for _, at in ended if at > killed_at - JOURNAL_WINDOW_S)
    survivors = [s for s in replicas if s is not runner]

    def all_done() -> bool:
        recorded = {i for i, _ in _spans(out)[1]}
        assert recorded == set(range(TOTAL)), f"missing {sorted(set(range(TOTAL)) - recorded)}"
        assert sum(_backlog(s) for s in survivors) == 0, "invocations still waiting"
        return True

    eventually(all_done, timeout=120, interval=0.5)
    started, _ = _spans(out)
    extra = len(started) - TOTAL
    in_flight = running + just_ended
    print(f"executions {len(started)} for {TOTAL} invocations; in flight at the kill {in_flight}")
    assert extra <= in_flight, (
        f"{extra} extra executions after the kill, but only {in_flight} were in flight "
        f"({running} running, {just_ended} ended within {JOURNAL_WINDOW_S} s of it)"
    )

    # The killed replica comes back and takes partitions back from the survivor: it must
    # not replay finished work either. A last invocation marks the end of the function's
    # partition; whatever the new owner replayed is read (and, with the reservation
    # lifted, started) before it.
    runner.restart()
    group = naming.in_cluster(ASYNC_GROUP, replicas[0].cluster)
    eventually(lambda: _members_with_partitions(bootstrap, group) == 2, timeout=60)
    client.functions.put_function_concurrency(name, TOTAL)
    client.functions.invoke(name, {"id": TOTAL, "sleep": 0}, invocation_type="Event")
    eventually(lambda: TOTAL in {i for i, _ in _spans(out)[1]}, timeout=60, interval=0.2)
    after, _ = _spans(out)
    assert len(after) == len(started) + 1, f"{len(after) - len(started) - 1} replayed"


def _members_with_partitions(bootstrap: str, group: str) -> int:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    described = admin.describe_consumer_groups([group], request_timeout=5)[group].result(5)
    return sum(
        1 for m in described.members if m.assignment is not None and m.assignment.topic_partitions
    )
