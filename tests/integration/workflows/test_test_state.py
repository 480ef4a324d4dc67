"""TestState through the client and the CLI against a real server and function workers."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.errors import ValidationException
from eventplane.errors.workflows import InvalidDefinition

pytestmark = [pytest.mark.integration]


def test_a_pass_state_at_debug(client: Client) -> None:
    state = {
        "Type": "Pass",
        "InputPath": "$.order",
        "Parameters": {"greeting.$": "States.Format('Hi {}', $.name)"},
        "ResultPath": "$.out",
        "Next": "Ship",
    }
    r = client.workflows.test_state(state, {"order": {"name": "Ada"}}, inspection_level="DEBUG")
    assert (r.status, r.next_state) == ("SUCCEEDED", "Ship")
    assert json.loads(r.output or "") == {"order": {"name": "Ada"}, "out": {"greeting": "Hi Ada"}}
    d = r.inspection_data
    assert d is not None
    assert json.loads(d.after_input_path or "") == {"name": "Ada"}
    assert json.loads(d.after_parameters or "") == {"greeting": "Hi Ada"}
    assert json.loads(d.after_result_path or "") == json.loads(r.output or "")


def test_a_function_task_runs_once(client: Client, fns: dict[str, str]) -> None:
    state = {
        "Type": "Task",
        "Resource": fns["add"],
        "ResultSelector": {"next.$": "$.n"},
        "End": True,
    }
    r = client.workflows.test_state(state, {"n": 41}, inspection_level="TRACE")
    assert (r.status, json.loads(r.output or "")) == ("SUCCEEDED", {"next": 42})
    assert r.inspection_data is not None
    assert json.loads(r.inspection_data.result or "") == {"n": 42}


def test_a_failing_task_is_caught_or_retriable(client: Client, fns: dict[str, str]) -> None:
    task: dict[str, Any] = {"Type": "Task", "Resource": fns["boom"], "End": True}
    caught = {**task, "Catch": [{"ErrorEquals": ["KeyError"], "Next": "Recover"}]}
    r = client.workflows.test_state(caught, {})
    assert (r.status, r.error, r.next_state) == ("CAUGHT_ERROR", "KeyError", "Recover")
    assert json.loads(r.output or "")["Error"] == "KeyError"
    retried = {**task, "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 3}]}
    assert client.workflows.test_state(retried, {}).status == "RETRIABLE"
    r = client.workflows.test_state(task, {})
    assert (r.status, r.error) == ("FAILED", "KeyError")


def test_bad_requests_get_aws_errors(client: Client) -> None:
    with pytest.raises(ValidationException, match="inspectionLevel"):
        client.workflows.test_state({"Type": "Pass", "End": True}, {}, inspection_level="ALL")
    with pytest.raises(InvalidDefinition):
        client.workflows.test_state({"Type": "Pass"}, {})  # neither Next nor End
    with pytest.raises(ValidationException, match="Map"):
        client.workflows.test_state({"Type": "Map", "ItemProcessor": {}, "End": True}, {})


def test_the_cli_runs_a_state(wf_server: Any) -> None:
    state = json.dumps({"Type": "Choice", "Choices": [
        {"Variable": "$.n", "NumericEquals": 1, "Next": "One"}], "Default": "Other"})  # fmt: skip
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "eventplane.cli",
            "workflow",
            "test-state",
            "--endpoint",
            wf_server.endpoint,
            "--definition",
            state,
            "--input",
            '{"n": 1}',
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["next_state"] == "One"
