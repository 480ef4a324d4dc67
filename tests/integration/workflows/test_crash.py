"""Standard executions across a SIGKILL of their server, and a two-day Wait.

The server is killed (no flush, no commit) and started again on the same ports; the
new process folds the history partitions and resumes every execution from its log.
Module scope: these tests kill their own server, no other server of this package runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.config import load_settings
from eventplane.kafka.local import LocalKafka
from eventplane.testing import EventplaneProcess, eventually, unique_cluster
from eventplane.workflows.clock import OFFSET_ENV

from .conftest import FN_PREFIX, HANDLERS, stage_count, unique

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TWO_DAYS_MS = 2 * 24 * 3600 * 1000


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    s = EventplaneProcess(
        eventplane_kafka, roles="api,runner,workflows", cluster=unique_cluster()
    ).start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def mark(server: EventplaneProcess) -> str:
    name = unique("wf-mark")
    with server.client(timeout=60) as c:
        c.functions.create_function(name, "wf_steps.mark", zip_directory=HANDLERS, timeout=30)
    return FN_PREFIX + name


def direct_runs(server: EventplaneProcess) -> float:
    """Function Tasks the server's owners started themselves."""
    return stage_count(server, "wf_commit_to_direct_invoke")


def steps(log: Path) -> list[Any]:
    return [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []


def history(c: Client, arn: str) -> list[str]:
    return [e["type"] for e in c.workflows.get_execution_history(arn)]


def restart(server: EventplaneProcess, **env: str) -> None:
    server.kill()
    server.extra_env.update(env)
    server.restart()


def done(c: Client, arn: str, timeout: float = 60.0) -> Any:
    def check() -> Any:
        e = c.workflows.describe_execution(arn)
        assert e.status != "RUNNING", e
        return e

    return eventually(check, timeout=timeout)


def test_sigkill_during_a_wait_resumes_without_rerunning_completed_states(
    server: EventplaneProcess, mark: str, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    task = {"Type": "Task", "Resource": mark}
    definition = {
        "StartAt": "First",
        "States": {
            "First": {
                **task,
                "Parameters": {"step": "first", "log": str(log)},
                "ResultPath": None,
                "Next": "Pause",
            },
            "Pause": {"Type": "Wait", "Seconds": 4, "Next": "Second"},
            "Second": {**task, "Parameters": {"step": "second", "log": str(log)}, "End": True},
        },
    }
    with server.client(timeout=60) as c:
        sm = c.workflows.create_state_machine(unique("sm"), definition).state_machine_arn
        arn = c.workflows.start_execution(sm, {}).execution_arn
        eventually(lambda: "WaitStateEntered" in history(c, arn), timeout=30)
    restart(server)
    with server.client(timeout=60) as c:
        e = done(c, arn)
        assert e.status == "SUCCEEDED", (e.error, e.cause)
        assert steps(log) == ["first", "second"]
        types = history(c, arn)
        assert types.count("LambdaFunctionSucceeded") == 2
        assert types.count("WaitStateEntered") == 1


def test_a_task_running_at_the_crash_is_run_again_and_completes_once(
    server: EventplaneProcess, mark: str, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    definition = {
        "StartAt": "Slow",
        "States": {
            "Slow": {
                "Type": "Task",
                "Resource": mark,
                "End": True,
                "Parameters": {"step": "slow", "pause": 3, "log": str(log)},
            }
        },
    }
    with server.client(timeout=60) as c:
        sm = c.workflows.create_state_machine(unique("sm"), definition).state_machine_arn
        arn = c.workflows.start_execution(sm, {}).execution_arn
        eventually(lambda: "LambdaFunctionStarted" in history(c, arn), timeout=30)
    restart(server)
    with server.client(timeout=60) as c:
        e = done(c, arn)
        assert e.status == "SUCCEEDED", (e.error, e.cause)
        # At least once: the task may have run in the killed server's worker too.
        assert 1 <= steps(log).count("slow") <= 2
        assert history(c, arn).count("LambdaFunctionSucceeded") == 1


def test_a_task_its_owner_was_running_at_the_kill_is_run_by_the_task_record(
    server: EventplaneProcess, mark: str, tmp_path: Path
) -> None:
    """The worst moment of a function Task run by its owner: the step committed, the
    owner called the function, the dispatcher read the task record and waits for the
    owner's run, and the replica dies before the result reached the inbox. The record
    was not finished, so the restarted replica's dispatcher runs the task."""
    log = tmp_path / "log"
    definition = {
        "StartAt": "Slow",
        "States": {
            "Slow": {
                "Type": "Task",
                "Resource": mark,
                "Next": "After",
                "Parameters": {"step": "slow", "pause": 3, "log": str(log)},
            },
            "After": {
                "Type": "Task",
                "Resource": mark,
                "End": True,
                "Parameters": {"step": "after", "log": str(log)},
            },
        },
    }
    before = direct_runs(server)
    with server.client(timeout=60) as c:
        sm = c.workflows.create_state_machine(unique("sm"), definition).state_machine_arn
        arn = c.workflows.start_execution(sm, {}).execution_arn
        eventually(lambda: direct_runs(server) > before, timeout=30)
    assert steps(log) == []  # killed while the function runs
    restart(server)
    with server.client(timeout=60) as c:
        e = done(c, arn)
        assert e.status == "SUCCEEDED", (e.error, e.cause)
        # At least once: the killed server's worker may have finished its run too.
        assert 1 <= steps(log).count("slow") <= 2
        assert steps(log).count("after") == 1
        assert history(c, arn).count("LambdaFunctionSucceeded") == 2


@contextlib.contextmanager
def broker_paused(bootstrap: str) -> Iterator[None]:
    """The local broker stops answering (SIGSTOP) until the block ends: nothing commits."""
    pid = LocalKafka.from_settings(load_settings(), int(bootstrap.rsplit(":", 1)[1])).pid()
    if pid is None:
        pytest.skip("needs the local broker (eventplane kafka start) to pause it")
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def test_a_result_handed_to_its_owner_survives_a_kill_before_its_step_commits(
    server: EventplaneProcess, mark: str, tmp_path: Path
) -> None:
    """The hand-over's worst moment: the function returned and its result went straight
    to the owner's pump (no inbox record), but the replica dies before the transaction
    journaling it commits (the broker is paused, so it cannot). The task's claim was not
    settled, so its task record is unfinished: the restarted replica runs the task again
    and the execution goes on, with the task succeeded once in its history."""
    log, gate_file = tmp_path / "log", tmp_path / "gate"
    name = unique("wf-gate")
    with server.client(timeout=60) as c:
        c.functions.create_function(name, "wf_steps.gate", zip_directory=HANDLERS, timeout=60)
    definition = {
        "StartAt": "Gated",
        "States": {
            "Gated": {
                "Type": "Task",
                "Resource": FN_PREFIX + name,
                "Next": "After",
                "Parameters": {"step": "gated", "gate": str(gate_file), "log": str(log)},
            },
            "After": {
                "Type": "Task",
                "Resource": mark,
                "End": True,
                "Parameters": {"step": "after", "log": str(log)},
            },
        },
    }
    with server.client(timeout=60) as c:
        sm = c.workflows.create_state_machine(unique("sm"), definition).state_machine_arn
        arn = c.workflows.start_execution(sm, {}).execution_arn
    eventually(lambda: "start:gated" in steps(log), timeout=30)
    handed = stage_count(server, "wf_result_to_owner_step")
    with broker_paused(server.bootstrap):
        gate_file.touch()  # the function returns now
        eventually(lambda: stage_count(server, "wf_result_to_owner_step") > handed, timeout=30)
        server.kill()
    server.restart()
    with server.client(timeout=60) as c:
        e = done(c, arn, timeout=90)
        assert e.status == "SUCCEEDED", (e.error, e.cause)
        # run by the killed owner, whose result was lost, then by its task record
        assert steps(log).count("gated") == 2
        assert steps(log).count("after") == 1
        assert history(c, arn).count("LambdaFunctionSucceeded") == 2


def test_a_two_day_wait_survives_restarts_and_fires_when_the_clock_reaches_it(
    server: EventplaneProcess, tmp_path: Path
) -> None:
    definition = {
        "StartAt": "Two days",
        "States": {
            "Two days": {"Type": "Wait", "Seconds": 172800, "Next": "Done"},
            "Done": {"Type": "Pass", "Result": "after two days", "End": True},
        },
    }
    with server.client(timeout=60) as c:
        sm = c.workflows.create_state_machine(unique("sm"), definition).state_machine_arn
        arn = c.workflows.start_execution(sm, {}).execution_arn
        eventually(lambda: "WaitStateEntered" in history(c, arn), timeout=30)
    restart(server)  # the same clock: the timer is still two days away
    with server.client(timeout=60) as c:
        assert c.workflows.describe_execution(arn).status == "RUNNING"
    restart(server, **{OFFSET_ENV: str(TWO_DAYS_MS)})  # two days later
    try:
        with server.client(timeout=60) as c:
            e = done(c, arn)
            assert (e.status, e.json()) == ("SUCCEEDED", "after two days")
            events = c.workflows.get_execution_history(arn)
            entered = next(x for x in events if x["type"] == "WaitStateEntered")["timestamp"]
            exited = next(x for x in events if x["type"] == "WaitStateExited")["timestamp"]
            assert exited - entered >= TWO_DAYS_MS
    finally:
        server.extra_env.pop(OFFSET_ENV, None)
