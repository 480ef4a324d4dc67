"""Activities through the client against a real server: a worker loop, the hand-out
once, heartbeat timeouts, and a scheduled task that survives a SIGKILL of its server.

Module scope: the restart test kills this module's own server.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.errors.workflows import ActivityDoesNotExist, InvalidDefinition
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

from .conftest import unique

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    s = EventplaneProcess(eventplane_kafka, roles="api,workflows", cluster=unique_cluster()).start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def client(server: EventplaneProcess) -> Iterator[Client]:
    with server.client(timeout=60) as c:
        yield c


def _machine(c: Client, activity_arn: str, **task: Any) -> str:
    definition = {
        "StartAt": "Work",
        "States": {
            "Work": {"Type": "Task", "Resource": activity_arn, "Next": "Again", **task},
            "Again": {"Type": "Task", "Resource": activity_arn, "End": True, **task},
        },
    }
    return c.workflows.create_state_machine(unique("wf-act"), definition).state_machine_arn


def _ended(c: Client, arn: str, timeout: float = 30.0) -> Any:
    def check() -> Any:
        e = c.workflows.describe_execution(arn)
        assert e.status != "RUNNING", e
        return e

    return eventually(check, timeout=timeout)


def _history(c: Client, arn: str) -> list[dict[str, Any]]:
    return c.workflows.get_execution_history(arn)


def test_activities_are_created_once_described_listed_and_deleted(client: Client) -> None:
    name = unique("act")
    a = client.workflows.create_activity(name)
    assert a.activity_arn == f"arn:aws:states:local:000000000000:activity:{name}"
    assert client.workflows.create_activity(name) == a  # idempotent by name
    assert client.workflows.describe_activity(a.activity_arn) == a
    assert a in client.workflows.list_activities()
    client.workflows.delete_activity(a.activity_arn)
    with pytest.raises(ActivityDoesNotExist):
        client.workflows.describe_activity(a.activity_arn)
    with pytest.raises(ActivityDoesNotExist):
        client.workflows.get_activity_task(a.activity_arn, wait_seconds=0)


def test_a_worker_loop_runs_every_task_of_an_execution(client: Client) -> None:
    act = client.workflows.create_activity(unique("act")).activity_arn
    machine = _machine(client, act)
    run = client.workflows.start_execution(machine, {"n": 1})
    done = threading.Event()
    seen: list[Any] = []

    def worker() -> None:
        while not done.is_set():
            task = client.workflows.get_activity_task(act, worker_name="w1", wait_seconds=2)
            if task:
                data = json.loads(task.input)
                seen.append(data)
                client.workflows.send_task_success(task.task_token, {"n": data["n"] + 1})

    t = threading.Thread(target=worker, daemon=True)
    t.start()
    try:
        e = _ended(client, run.execution_arn)
    finally:
        done.set()
        t.join(10)
    assert e.status == "SUCCEEDED"
    assert json.loads(e.output or "") == {"n": 3}
    assert seen == [{"n": 1}, {"n": 2}]
    events = _history(client, run.execution_arn)
    types = [x["type"] for x in events]
    assert types.count("ActivityScheduled") == 2 and types.count("ActivitySucceeded") == 2
    started = [x for x in events if x["type"] == "ActivityStarted"]
    assert [x["activityStartedEventDetails"]["workerName"] for x in started] == ["w1", "w1"]
    scheduled = next(x for x in events if x["type"] == "ActivityScheduled")
    assert scheduled["activityScheduledEventDetails"]["resource"] == act


def test_no_task_gives_an_empty_answer_after_the_wait(client: Client) -> None:
    act = client.workflows.create_activity(unique("act")).activity_arn
    task = client.workflows.get_activity_task(act, wait_seconds=1)
    assert not task and task.task_token == "" and task.input == ""


def test_a_task_is_handed_to_one_worker_and_a_failure_fails_the_state(client: Client) -> None:
    act = client.workflows.create_activity(unique("act")).activity_arn
    machine = _machine(client, act)
    got: list[Any] = []

    def poll(worker: str) -> None:
        got.append(client.workflows.get_activity_task(act, worker_name=worker, wait_seconds=4))

    pollers = [threading.Thread(target=poll, args=(f"w{i}",)) for i in range(3)]
    for p in pollers:
        p.start()
    run = client.workflows.start_execution(machine, {"n": 1})
    for p in pollers:
        p.join(30)
    tasks = [t for t in got if t]
    assert len(got) == 3 and len(tasks) == 1  # one task, one worker
    client.workflows.send_task_failure(tasks[0].task_token, error="Bad", cause="no stock")
    e = _ended(client, run.execution_arn)
    assert (e.status, e.error, e.cause) == ("FAILED", "Bad", "no stock")
    assert "ActivityFailed" in [x["type"] for x in _history(client, run.execution_arn)]


def test_a_worker_that_stops_heartbeating_times_the_task_out(client: Client) -> None:
    act = client.workflows.create_activity(unique("act")).activity_arn
    machine = _machine(client, act, HeartbeatSeconds=2, TimeoutSeconds=60)
    run = client.workflows.start_execution(machine, {})
    task = client.workflows.get_activity_task(act, worker_name="w", wait_seconds=10)
    assert task
    client.workflows.send_task_heartbeat(task.task_token)
    e = _ended(client, run.execution_arn)
    assert (e.status, e.error) == ("FAILED", "States.HeartbeatTimeout")
    assert "ActivityTimedOut" in [x["type"] for x in _history(client, run.execution_arn)]


def test_express_machines_refuse_activities(client: Client) -> None:
    act = client.workflows.create_activity(unique("act")).activity_arn
    definition = {"StartAt": "W", "States": {"W": {"Type": "Task", "Resource": act, "End": True}}}
    with pytest.raises(InvalidDefinition, match="activities"):
        client.workflows.create_state_machine(unique("wf-x"), definition, type="EXPRESS")


def test_a_scheduled_task_survives_a_sigkill_and_is_handed_out_once(
    server: EventplaneProcess, client: Client
) -> None:
    act = client.workflows.create_activity(unique("act")).activity_arn
    definition = {"StartAt": "W", "States": {"W": {"Type": "Task", "Resource": act, "End": True}}}
    machine = client.workflows.create_state_machine(unique("wf-act"), definition)
    run = client.workflows.start_execution(machine.state_machine_arn, {"keep": "me"})
    eventually(
        lambda: _history(client, run.execution_arn)[-1]["type"] == "ActivityScheduled" or None,
        timeout=30,
    )
    server.kill()
    server.restart()
    with server.client(timeout=60) as c:
        task = c.workflows.get_activity_task(act, worker_name="after", wait_seconds=30)
        assert task and json.loads(task.input) == {"keep": "me"}
        assert not c.workflows.get_activity_task(act, wait_seconds=1)  # once
        c.workflows.send_task_success(task.task_token, {"ok": True})
        e = _ended(c, run.execution_arn)
        assert (e.status, json.loads(e.output or "")) == ("SUCCEEDED", {"ok": True})


def test_the_cli_creates_an_activity_and_polls_it(server: EventplaneProcess) -> None:
    name = unique("act")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "eventplane.cli", "workflow", *args]
        return subprocess.run(
            [*command, "--endpoint", server.endpoint], capture_output=True, text=True, timeout=60
        )

    created = cli("create-activity", name)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().endswith(f":activity:{name}")
    assert name in cli("list-activities").stdout
    empty = cli("get-activity-task", name, "--wait", "0")
    assert (empty.returncode, empty.stdout.strip()) == (2, "no task")
