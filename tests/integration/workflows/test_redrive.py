"""RedriveExecution through the client against a real server and real function workers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.errors.workflows import ExecutionDoesNotExist, ExecutionNotRedrivable
from eventplane.testing import EventplaneProcess, eventually
from eventplane.workflows.clock import OFFSET_ENV

from .conftest import unique

pytestmark = pytest.mark.integration

DAY_MS = 24 * 3600 * 1000


def ended(client: Client, arn: str, count: int = 0) -> Any:
    """The execution once it is no longer running (after ``count`` redrives)."""

    def done() -> Any:
        e = client.workflows.describe_execution(arn)
        assert e.status != "RUNNING" and e.redrive_count == count, e
        return e

    return eventually(done, timeout=30)


def test_a_failed_execution_redrives_from_the_failed_state_only(
    client: Client, fns: dict[str, str], tmp_path: Path
) -> None:
    wf = client.workflows
    log, counter = tmp_path / "log", tmp_path / "counter"
    sm = wf.create_state_machine(
        unique("rd"),
        {
            "StartAt": "Add",
            "States": {
                "Add": {"Type": "Task", "Resource": fns["add"], "Next": "Flaky"},
                "Flaky": {
                    "Type": "Task",
                    "Resource": fns["flaky"],
                    "ResultPath": "$.flaky",
                    "End": True,
                },
            },
        },
    ).state_machine_arn
    name = unique("e")
    payload = {"n": 1, "log": str(log), "counter": str(counter), "fail_times": 1}
    run = wf.start_execution(sm, payload, name=name)
    failed = ended(client, run.execution_arn)
    assert failed.status == "FAILED" and failed.error == "ValueError"
    assert (failed.redrive_status, failed.redrive_count) == ("REDRIVABLE", 0)

    redriven_at = wf.redrive_execution(run.execution_arn, client_token="once")
    e = ended(client, run.execution_arn, count=1)
    # The same client token is the same redrive: no second one, the same date.
    assert wf.redrive_execution(run.execution_arn, client_token="once") == redriven_at
    assert e.status == "SUCCEEDED", e
    assert e.json()["flaky"] == {"calls": 2} and e.json()["n"] == 2
    assert (e.name, e.execution_arn) == (name, run.execution_arn)
    assert json.loads(e.input) == payload
    assert e.redrive_date == redriven_at
    assert e.redrive_status == "NOT_REDRIVABLE"
    assert e.redrive_status_reason == "Execution is SUCCEEDED and cannot be redriven."
    assert len(log.read_text().splitlines()) == 1  # Add succeeded before: not run again
    types = [ev["type"] for ev in wf.get_execution_history(run.execution_arn)]
    assert types.count("ExecutionStarted") == 1 and types.count("ExecutionFailed") == 1
    redriven = types.index("ExecutionRedriven")
    assert types[redriven + 1] == "TaskStateEntered" and types[-1] == "ExecutionSucceeded"
    with pytest.raises(ExecutionNotRedrivable, match="SUCCEEDED"):
        wf.redrive_execution(run.execution_arn)


def test_a_parallel_failure_redrives_only_the_failed_branch(
    client: Client, fns: dict[str, str], tmp_path: Path
) -> None:
    wf = client.workflows
    log, counter = tmp_path / "log", tmp_path / "counter"

    def branch(fn: str, wait: int = 0) -> dict[str, Any]:
        task = {"Type": "Task", "Resource": fn, "End": True}
        if not wait:
            return {"StartAt": "T", "States": {"T": task}}
        # The failing branch waits, so the other one has succeeded when it fails.
        pause = {"Type": "Wait", "Seconds": wait, "Next": "T"}
        return {"StartAt": "Pause", "States": {"Pause": pause, "T": task}}

    sm = wf.create_state_machine(
        unique("rdp"),
        {
            "StartAt": "Both",
            "States": {
                "Both": {
                    "Type": "Parallel",
                    "Branches": [branch(fns["add"]), branch(fns["flaky"], wait=3)],
                    "End": True,
                }
            },
        },
    ).state_machine_arn
    payload = {"n": 5, "log": str(log), "counter": str(counter), "fail_times": 1}
    run = wf.start_execution(sm, payload)
    assert ended(client, run.execution_arn).status == "FAILED"
    first = [ev["type"] for ev in wf.get_execution_history(run.execution_arn)]
    assert first.count("LambdaFunctionSucceeded") == 1, first  # add's branch finished
    wf.redrive_execution(run.execution_arn)
    e = ended(client, run.execution_arn, count=1)
    assert e.status == "SUCCEEDED", e
    assert e.json()[0]["n"] == 6 and e.json()[1] == {"calls": 2}
    assert len(log.read_text().splitlines()) == 1  # the add branch kept its result


def test_an_aborted_execution_redrives_and_can_be_stopped_again(client: Client) -> None:
    wf = client.workflows
    sm = wf.create_state_machine(
        unique("rda"),
        {"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 3600, "End": True}}},
    ).state_machine_arn
    run = wf.start_execution(sm, {"k": 1})
    wf.stop_execution(run.execution_arn, error="Manual")
    assert ended(client, run.execution_arn).status == "ABORTED"
    wf.redrive_execution(run.execution_arn)
    e = wf.describe_execution(run.execution_arn)
    assert (e.status, e.redrive_count, e.error) == ("RUNNING", 1, None)
    assert e.redrive_status_reason == "Execution is RUNNING and cannot be redriven."
    with pytest.raises(ExecutionNotRedrivable, match="RUNNING"):
        wf.redrive_execution(run.execution_arn)
    wf.stop_execution(run.execution_arn)
    assert ended(client, run.execution_arn, count=1).status == "ABORTED"


def test_express_executions_are_not_redrivable(client: Client) -> None:
    wf = client.workflows
    sm = wf.create_state_machine(
        unique("rdx"),
        {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "No"}}},
        type="EXPRESS",
    ).state_machine_arn
    run = wf.start_sync_execution(sm, {})
    assert run.status == "FAILED"

    def journaled() -> Any:
        try:
            return wf.describe_execution(run.execution_arn)
        except ExecutionDoesNotExist as exc:  # the view reads the journal a moment later
            raise AssertionError(str(exc)) from None

    e = eventually(journaled, timeout=20)
    assert (e.status, e.redrive_status, e.redrive_count) == ("FAILED", None, 0)
    with pytest.raises(ExecutionNotRedrivable, match="EXPRESS"):
        wf.redrive_execution(run.execution_arn)


def test_an_execution_that_stopped_over_14_days_ago_is_not_redrivable(
    client: Client, wf_server: EventplaneProcess
) -> None:
    """The server's workflow clock moves 15 days on (injected at restart)."""
    wf = client.workflows
    sm = wf.create_state_machine(
        unique("rdt"), {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "No"}}}
    ).state_machine_arn
    old = wf.start_execution(sm, {}).execution_arn
    assert ended(client, old).redrive_status == "REDRIVABLE"
    wf_server.stop()
    wf_server.extra_env[OFFSET_ENV] = str(15 * DAY_MS)
    try:
        wf_server.restart()
        e = eventually(lambda: wf.describe_execution(old), timeout=30)
        assert e.redrive_status == "NOT_REDRIVABLE"
        assert e.redrive_status_reason == "Execution redrivable period exceeded."
        with pytest.raises(ExecutionNotRedrivable, match="redrivable period exceeded"):
            wf.redrive_execution(old)
        fresh = wf.start_execution(sm, {}).execution_arn  # failed "now": still redrivable
        assert ended(client, fresh).redrive_status == "REDRIVABLE"
        wf.redrive_execution(fresh)
        assert ended(client, fresh, count=1).status == "FAILED"
    finally:
        wf_server.extra_env.pop(OFFSET_ENV, None)
