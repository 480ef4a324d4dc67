"""Nested executions through the client against a real server: states:startExecution
fire-and-forget, .sync, .sync:2, .waitForTaskToken, a failing child, and a stopped
parent that stops its child."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.testing import eventually

from .conftest import unique

pytestmark = [pytest.mark.integration]

SERVICE = "arn:aws:states:::states:"


def _ended(c: Client, arn: str, timeout: float = 30.0) -> Any:
    def check() -> Any:
        e = c.workflows.describe_execution(arn)
        assert e.status != "RUNNING", e
        return e

    return eventually(check, timeout=timeout)


def _child(c: Client, states: dict[str, Any] | None = None, **more: Any) -> str:
    definition = {
        "StartAt": "Double",
        "States": states
        or {
            "Double": {
                "Type": "Pass",
                "Parameters": {"n.$": "States.MathAdd($.n, $.n)"},
                "End": True,
            }
        },
    }
    return c.workflows.create_state_machine(
        unique("wf-child"), definition, **more
    ).state_machine_arn


def _parent(c: Client, action: str, child: str, **params: Any) -> str:
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": SERVICE + action,
                "Parameters": {"StateMachineArn": child, "Input.$": "$", **params},
                "End": True,
            }
        },
    }
    return c.workflows.create_state_machine(unique("wf-parent"), definition).state_machine_arn


def _types(c: Client, arn: str) -> list[str]:
    return [e["type"] for e in c.workflows.get_execution_history(arn)]


def test_start_execution_fires_and_forgets(wf_server: Any, client: Client) -> None:
    child = _child(client)
    run = client.workflows.start_execution(_parent(client, "startExecution", child), {"n": 2})
    e = _ended(client, run.execution_arn)
    assert e.status == "SUCCEEDED"
    out = json.loads(e.output or "")
    # AWS's recorded startExecution result: the SDK response, fields in alphabetical order
    assert list(out) == ["ExecutionArn", "SdkHttpMetadata", "SdkResponseMetadata", "StartDate"]
    assert out["SdkHttpMetadata"]["HttpHeaders"]["Content-Type"] == "application/x-amz-json-1.0"
    assert isinstance(out["StartDate"], int)
    assert out["ExecutionArn"].startswith(child.replace(":stateMachine:", ":execution:"))
    kid = _ended(client, out["ExecutionArn"])
    assert (kid.status, json.loads(kid.output or "")) == ("SUCCEEDED", {"n": 4})


def test_sync_waits_for_the_child_and_gives_its_output_as_text(client: Client) -> None:
    child = _child(client)
    run = client.workflows.start_execution(_parent(client, "startExecution.sync", child), {"n": 3})
    e = _ended(client, run.execution_arn)
    assert e.status == "SUCCEEDED", e
    out = json.loads(e.output or "")
    assert out["Status"] == "SUCCEEDED" and out["StateMachineArn"] == child
    assert json.loads(out["Output"]) == {"n": 6} and isinstance(out["Output"], str)
    history = client.workflows.get_execution_history(run.execution_arn)
    submitted = next(x for x in history if x["type"] == "TaskSubmitted")
    details = json.loads(submitted["taskSubmittedEventDetails"]["output"])
    assert details["ExecutionArn"] == out["ExecutionArn"]  # the child's ARN in the history


def test_sync_2_gives_the_output_as_json(client: Client) -> None:
    child = _child(client)
    run = client.workflows.start_execution(
        _parent(client, "startExecution.sync:2", child), {"n": 5}
    )
    out = json.loads(_ended(client, run.execution_arn).output or "")
    assert out["Output"] == {"n": 10} and out["Input"] == {"n": 5}


def test_an_express_child_runs_to_its_end_for_sync(client: Client) -> None:
    child = _child(client, type="EXPRESS")
    run = client.workflows.start_execution(
        _parent(client, "startExecution.sync:2", child), {"n": 1}
    )
    out = json.loads(_ended(client, run.execution_arn).output or "")
    assert (out["Status"], out["Output"]) == ("SUCCEEDED", {"n": 2})


def test_a_failed_child_fails_the_parent_task_with_its_cause(client: Client) -> None:
    child = _child(client, {"Double": {"Type": "Fail", "Error": "OutOfStock", "Cause": "none"}})
    run = client.workflows.start_execution(_parent(client, "startExecution.sync", child), {})
    e = _ended(client, run.execution_arn)
    assert (e.status, e.error) == ("FAILED", "States.TaskFailed")
    cause = json.loads(e.cause or "")
    assert (cause["Status"], cause["Error"], cause["Cause"]) == ("FAILED", "OutOfStock", "none")
    assert "TaskFailed" in _types(client, run.execution_arn)


def test_wait_for_task_token_waits_for_the_token_given_to_the_child(client: Client) -> None:
    child = _child(client, {"Double": {"Type": "Wait", "Seconds": 600, "End": True}})
    parent = _parent(
        client,
        "startExecution.waitForTaskToken",
        child,
        Input={"token.$": "$$.Task.Token"},
    )
    run = client.workflows.start_execution(parent, {})

    def child_token() -> str:
        kids = client.workflows.list_executions(child)
        assert kids
        return str(
            json.loads(client.workflows.describe_execution(kids[0].execution_arn).input)["token"]
        )

    token = eventually(child_token, timeout=30)
    client.workflows.send_task_success(token, {"approved": True})
    e = _ended(client, run.execution_arn)
    assert (e.status, json.loads(e.output or "")) == ("SUCCEEDED", {"approved": True})


def test_stopping_the_parent_stops_its_sync_child(client: Client) -> None:
    child = _child(client, {"Double": {"Type": "Wait", "Seconds": 600, "End": True}})
    run = client.workflows.start_execution(_parent(client, "startExecution.sync", child), {})

    def child_arn() -> str:
        kids = client.workflows.list_executions(child)
        assert kids and "TaskSubmitted" in _types(client, run.execution_arn)
        return kids[0].execution_arn

    kid = eventually(child_arn, timeout=30)
    client.workflows.stop_execution(run.execution_arn)
    assert _ended(client, kid).status == "ABORTED"
    assert client.workflows.describe_execution(run.execution_arn).status == "ABORTED"


def test_a_missing_child_machine_is_a_task_error(client: Client) -> None:
    missing = "arn:aws:states:local:000000000000:stateMachine:" + unique("nope")
    run = client.workflows.start_execution(_parent(client, "startExecution", missing), {})
    e = _ended(client, run.execution_arn)
    assert (e.status, e.error) == ("FAILED", "StepFunctions.StateMachineDoesNotExistException")
