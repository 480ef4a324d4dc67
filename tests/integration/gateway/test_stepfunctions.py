"""Step Functions over the AWS-protocol gateway (JSON 1.0), with boto3, aiobotocore and the
AWS CLI unchanged.

One server per module (gateway, workflows, functions); Lambda task functions are created
through the Lambda gateway, as a user's own boto3 code would. Every test that takes
``sfn`` runs through both Python client stacks. StartSyncExecution is modelled with the
``sync-`` host prefix: the clients here set ``inject_host_prefix=False`` (see README).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from eventplane import arn
from eventplane.testing import EventplaneProcess, eventually

from .aio import Loop
from .conftest import js_session
from .support import ACCOUNT, KEY, REGION, SECRET, gateway_process, signed_request
from .test_awscli import aws

pytestmark = pytest.mark.integration

ROLE = f"arn:aws:iam::{ACCOUNT}:role/sfn"
APP = """
import json


def echo(event, context):
    return {"echo": event}


def keep_token(event, context):
    with open(event["file"], "w") as f:
        f.write(event["token"])
    return "parked"


def boom(event, context):
    raise ValueError("kaboom")
"""
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": 1}, "End": True}}}
WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 300, "End": True}}}


def _settings(server: EventplaneProcess) -> dict[str, Any]:
    return {
        "endpoint_url": server.gateway_url,
        "region_name": REGION,
        "aws_access_key_id": KEY,
        "aws_secret_access_key": SECRET,
        # StartSyncExecution's "sync-" host prefix would make the host sync-127.0.0.1.
        "config": Config(retries={"max_attempts": 1}, inject_host_prefix=False),
    }


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    process = gateway_process(eventplane_kafka, "api,workflows,runner")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module", params=["boto3", "aiobotocore"])
def sfn(server: EventplaneProcess, request: pytest.FixtureRequest) -> Any:
    """boto3, then aiobotocore: every test here runs through both client stacks."""
    if request.param == "aiobotocore":
        loop: Loop = request.getfixturevalue("aio_loop")
        return loop.client("stepfunctions", **_settings(server))
    return boto3.client("stepfunctions", **_settings(server))


@pytest.fixture(scope="module")
def fns(server: EventplaneProcess) -> Iterator[dict[str, str]]:
    """Lambda functions made through the Lambda gateway: name -> function ARN."""
    lam = boto3.client("lambda", **_settings(server))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("app.py", APP)
    made = {}
    for handler in ("echo", "keep_token", "boom"):
        name = f"sfn-{handler.replace('_', '-')}-{uuid.uuid4().hex[:8]}"
        out = lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler=f"app.{handler}",
            Code={"ZipFile": buffer.getvalue()},
        )
        made[handler] = out["FunctionArn"]
    yield made
    for fn_arn in made.values():
        with contextlib.suppress(ClientError):
            lam.delete_function(FunctionName=fn_arn)


@pytest.fixture
def machine(sfn: Any) -> Iterator[Callable[..., str]]:
    """machine(definition, **kwargs) -> state machine ARN, deleted afterwards."""
    made: list[str] = []

    def make(definition: dict[str, Any], **kwargs: Any) -> str:
        name = f"gw-sm-{uuid.uuid4().hex[:10]}"
        out = sfn.create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=ROLE, **kwargs
        )
        made.append(out["stateMachineArn"])
        return str(out["stateMachineArn"])

    yield make
    for sm in made:
        with contextlib.suppress(ClientError):
            sfn.delete_state_machine(stateMachineArn=sm)


def finished(sfn: Any, execution: str, timeout: float = 60.0) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        out: dict[str, Any] = sfn.describe_execution(executionArn=execution)
        return out if out["status"] != "RUNNING" else None

    return eventually(done, timeout=timeout, interval=0.2)


def history(sfn: Any, execution: str, **kwargs: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(
        executionArn=execution, **kwargs
    ):
        events += page["events"]
    return events


def code_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    err = caught.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


# --- state machines, versions, aliases ------------------------------------------------------


def test_state_machine_lifecycle_with_versions_and_aliases(
    sfn: Any, machine: Callable[..., str]
) -> None:
    name_tag = [{"key": "team", "value": "orders"}]
    sm = machine(PASS, tags=name_tag, publish=True, versionDescription="first")
    name = sm.rsplit(":", 1)[-1]
    assert sm == arn.state_machine_arn(name)
    described = sfn.describe_state_machine(stateMachineArn=sm)
    assert (described["name"], described["type"], described["status"]) == (
        name,
        "STANDARD",
        "ACTIVE",
    )
    assert json.loads(described["definition"]) == PASS
    assert described["roleArn"] == ROLE
    assert isinstance(described["creationDate"], dt.datetime)
    assert abs(described["creationDate"] - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)

    listed = [
        m["stateMachineArn"]
        for page in sfn.get_paginator("list_state_machines").paginate(
            PaginationConfig={"PageSize": 1}
        )
        for m in page["stateMachines"]
    ]
    assert sm in listed

    changed = {**PASS, "Comment": "second"}
    updated = sfn.update_state_machine(
        stateMachineArn=sm, definition=json.dumps(changed), publish=True
    )
    assert updated["stateMachineVersionArn"] == f"{sm}:2"
    assert updated["revisionId"]
    with pytest.raises(sfn.exceptions.MissingRequiredParameter):
        sfn.update_state_machine(stateMachineArn=sm)

    v1 = sfn.describe_state_machine(stateMachineArn=f"{sm}:1")
    assert (v1["description"], json.loads(v1["definition"])) == ("first", PASS)
    versions = sfn.list_state_machine_versions(stateMachineArn=sm)["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in versions] == [f"{sm}:2", f"{sm}:1"]
    again = sfn.publish_state_machine_version(stateMachineArn=sm)  # unchanged: the latest
    assert again["stateMachineVersionArn"] == f"{sm}:2"

    alias = sfn.create_state_machine_alias(
        name="live",
        description="blue/green",
        routingConfiguration=[
            {"stateMachineVersionArn": f"{sm}:1", "weight": 80},
            {"stateMachineVersionArn": f"{sm}:2", "weight": 20},
        ],
    )["stateMachineAliasArn"]
    assert alias == f"{sm}:live"
    got = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    assert (got["name"], got["description"]) == ("live", "blue/green")
    assert {r["weight"] for r in got["routingConfiguration"]} == {80, 20}
    sfn.update_state_machine_alias(
        stateMachineAliasArn=alias,
        routingConfiguration=[{"stateMachineVersionArn": f"{sm}:2", "weight": 100}],
    )
    got = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    assert got["routingConfiguration"] == [{"stateMachineVersionArn": f"{sm}:2", "weight": 100}]
    aliases = sfn.list_state_machine_aliases(stateMachineArn=sm)["stateMachineAliases"]
    assert [a["stateMachineAliasArn"] for a in aliases] == [alias]

    run = sfn.start_execution(stateMachineArn=alias, input="{}")
    done = finished(sfn, run["executionArn"])
    assert (done["stateMachineAliasArn"], done["stateMachineVersionArn"]) == (alias, f"{sm}:2")
    for_run = sfn.describe_state_machine_for_execution(executionArn=run["executionArn"])
    assert json.loads(for_run["definition"]) == changed

    # A version an alias routes to cannot go; once the alias is gone it can.
    with pytest.raises(sfn.exceptions.ConflictException):
        sfn.delete_state_machine_version(stateMachineVersionArn=f"{sm}:2")
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias)
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    sfn.delete_state_machine_version(stateMachineVersionArn=f"{sm}:1")
    versions = sfn.list_state_machine_versions(stateMachineArn=sm)["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in versions] == [f"{sm}:2"]

    sfn.delete_state_machine(stateMachineArn=sm)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.describe_state_machine(stateMachineArn=sm)


def test_validate_definition(sfn: Any) -> None:
    ok = sfn.validate_state_machine_definition(definition=json.dumps(PASS), type="STANDARD")
    assert (ok["result"], ok["diagnostics"]) == ("OK", [])
    bad = {"StartAt": "Nowhere", "States": {"P": {"Type": "Pass", "End": True}}}
    failed = sfn.validate_state_machine_definition(definition=json.dumps(bad))
    assert failed["result"] == "FAIL"
    assert failed["diagnostics"] and all(d["severity"] == "ERROR" for d in failed["diagnostics"])
    assert any("StartAt" in (d.get("location", "") + d["message"]) for d in failed["diagnostics"])
    one = sfn.validate_state_machine_definition(definition="{", maxResults=1)
    assert one["result"] == "FAIL" and len(one["diagnostics"]) == 1


# --- executions -----------------------------------------------------------------------------


def test_lambda_task_execution_and_its_history(
    sfn: Any, machine: Callable[..., str], fns: dict[str, str]
) -> None:
    sm = machine(
        {
            "StartAt": "Call",
            "States": {
                "Call": {"Type": "Task", "Resource": fns["echo"], "Next": "Done"},
                "Done": {"Type": "Succeed"},
            },
        }
    )
    started = sfn.start_execution(stateMachineArn=sm, name="first", input='{"n": 7}')
    execution = started["executionArn"]
    assert execution == arn.execution_arn(sm.rsplit(":", 1)[-1], "first")
    assert isinstance(started["startDate"], dt.datetime)
    done = finished(sfn, execution)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"echo": {"n": 7}}
    assert json.loads(done["input"]) == {"n": 7}
    assert done["stopDate"] >= done["startDate"]
    meta = sfn.describe_execution(executionArn=execution, includedData="METADATA_ONLY")
    assert "input" not in meta and "output" not in meta

    for_run = sfn.describe_state_machine_for_execution(executionArn=execution)
    assert for_run["stateMachineArn"] == sm
    assert isinstance(for_run["updateDate"], dt.datetime)

    events = history(sfn, execution)
    types = [e["type"] for e in events]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    for expected in ("TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionSucceeded"):
        assert expected in types
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert events[1]["previousEventId"] == 1
    assert all(isinstance(e["timestamp"], dt.datetime) for e in events)
    started_details = events[0]["executionStartedEventDetails"]
    assert json.loads(started_details["input"]) == {"n": 7}
    scheduled = next(e for e in events if e["type"] == "LambdaFunctionScheduled")
    assert scheduled["lambdaFunctionScheduledEventDetails"]["resource"] == fns["echo"]

    # Paging (2 per page) and reverse order give the same events.
    pages = list(
        sfn.get_paginator("get_execution_history").paginate(
            executionArn=execution, PaginationConfig={"PageSize": 2}
        )
    )
    assert len(pages) == (len(events) + 1) // 2
    assert all(len(p["events"]) <= 2 for p in pages)
    assert history(sfn, execution, reverseOrder=True) == events[::-1]
    bare = history(sfn, execution, includeExecutionData=False)
    assert "input" not in bare[0]["executionStartedEventDetails"]


def test_callback_answered_with_send_task_success(
    sfn: Any, machine: Callable[..., str], fns: dict[str, str], tmp_path: Path
) -> None:
    token_file = tmp_path / f"token-{uuid.uuid4().hex[:6]}"
    sm = machine(
        {
            "StartAt": "Approve",
            "States": {
                "Approve": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "HeartbeatSeconds": 120,
                    "Parameters": {
                        "FunctionName": fns["keep_token"],
                        "Payload": {"file": str(token_file), "token.$": "$$.Task.Token"},
                    },
                    "ResultPath": "$.approval",
                    "End": True,
                }
            },
        }
    )
    execution = sfn.start_execution(stateMachineArn=sm, input='{"order": 7}')["executionArn"]
    token = eventually(lambda: token_file.exists() and token_file.read_text(), timeout=60)
    eventually(lambda: "TaskSubmitted" in [e["type"] for e in history(sfn, execution)])
    sfn.send_task_heartbeat(taskToken=token)
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    sfn.send_task_success(taskToken=token, output='{"approved": true}')
    done = finished(sfn, execution)
    assert json.loads(done["output"]) == {"order": 7, "approval": {"approved": True}}
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_success(taskToken=token, output="{}")
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.send_task_failure(taskToken="not-a-token", error="E")
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.send_task_heartbeat(taskToken="not-a-token")


def test_activity_worker_and_test_state(sfn: Any, machine: Callable[..., str]) -> None:
    """An activity worker written for AWS (GetActivityTask, SendTaskSuccess) drives a Task
    state; TestState runs one state with DEBUG inspection data."""
    name = f"gw-act-{uuid.uuid4().hex[:8]}"
    activity = sfn.create_activity(name=name)["activityArn"]
    assert sfn.create_activity(name=name)["activityArn"] == activity  # idempotent
    assert sfn.describe_activity(activityArn=activity)["name"] == name
    listed = [a["activityArn"] for a in sfn.list_activities(maxResults=1000)["activities"]]
    assert activity in listed
    sm = machine(
        {
            "StartAt": "Work",
            "States": {"Work": {"Type": "Task", "Resource": activity, "End": True}},
        }
    )
    execution = sfn.start_execution(stateMachineArn=sm, input='{"n": 4}')["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="gw-worker")
    assert json.loads(task["input"]) == {"n": 4}
    sfn.send_task_success(taskToken=task["taskToken"], output='{"doubled": 8}')
    assert json.loads(finished(sfn, execution)["output"]) == {"doubled": 8}
    started = [e for e in history(sfn, execution) if e["type"] == "ActivityStarted"]
    assert started[0]["activityStartedEventDetails"]["workerName"] == "gw-worker"

    tested = sfn.test_state(
        definition=json.dumps(
            {"Type": "Pass", "Parameters": {"x.$": "$.n"}, "ResultPath": "$.out", "Next": "B"}
        ),
        input='{"n": 2}',
        inspectionLevel="DEBUG",
    )
    assert (tested["status"], tested["nextState"]) == ("SUCCEEDED", "B")
    assert json.loads(tested["output"]) == {"n": 2, "out": {"x": 2}}
    assert json.loads(tested["inspectionData"]["afterParameters"]) == {"x": 2}
    sfn.delete_activity(activityArn=activity)
    with pytest.raises(sfn.exceptions.ActivityDoesNotExist):
        sfn.describe_activity(activityArn=activity)


def test_list_executions_pages_filters_and_stops(sfn: Any, machine: Callable[..., str]) -> None:
    sm = machine(WAIT)
    runs = [
        sfn.start_execution(stateMachineArn=sm, name=f"run-{i}", input=json.dumps({"i": i}))
        for i in range(5)
    ]
    # Same name and input: the same execution; other input: ExecutionAlreadyExists.
    again = sfn.start_execution(stateMachineArn=sm, name="run-0", input='{"i": 0}')
    assert again["executionArn"] == runs[0]["executionArn"]
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=sm, name="run-0", input='{"i": 99}')

    pages = list(
        sfn.get_paginator("list_executions").paginate(
            stateMachineArn=sm, PaginationConfig={"PageSize": 2}
        )
    )
    assert [len(p["executions"]) for p in pages] == [2, 2, 1]
    listed = [e["executionArn"] for p in pages for e in p["executions"]]
    assert sorted(listed) == sorted(r["executionArn"] for r in runs)
    assert all(e["status"] == "RUNNING" for p in pages for e in p["executions"])

    stopped = sfn.stop_execution(
        executionArn=runs[0]["executionArn"], error="Enough", cause="test over"
    )
    assert isinstance(stopped["stopDate"], dt.datetime)
    done = finished(sfn, runs[0]["executionArn"])
    assert (done["status"], done["error"], done["cause"]) == ("ABORTED", "Enough", "test over")
    aborted = sfn.list_executions(stateMachineArn=sm, statusFilter="ABORTED")["executions"]
    assert [e["executionArn"] for e in aborted] == [runs[0]["executionArn"]]
    running = sfn.list_executions(stateMachineArn=sm, statusFilter="RUNNING")["executions"]
    assert len(running) == 4
    for r in runs[1:]:
        sfn.stop_execution(executionArn=r["executionArn"])


def test_redrive_of_a_failed_execution(
    sfn: Any, machine: Callable[..., str], fns: dict[str, str]
) -> None:
    sm = machine(
        {
            "StartAt": "Boom",
            "States": {"Boom": {"Type": "Task", "Resource": fns["boom"], "End": True}},
        }
    )
    execution = sfn.start_execution(stateMachineArn=sm)["executionArn"]
    failed = finished(sfn, execution)
    assert failed["status"] == "FAILED" and failed["error"] == "ValueError"
    assert failed["redriveStatus"] == "REDRIVABLE"
    redriven = sfn.redrive_execution(executionArn=execution)
    assert isinstance(redriven["redriveDate"], dt.datetime)
    again = eventually(
        lambda: (
            (d := sfn.describe_execution(executionArn=execution))["status"] == "FAILED"
            and d["redriveCount"] == 1
            and d
        ),
        timeout=60,
        interval=0.2,
    )
    assert again["redriveDate"] == redriven["redriveDate"]
    assert "ExecutionRedriven" in [e["type"] for e in history(sfn, execution)]
    listed = sfn.list_executions(stateMachineArn=sm, redriveFilter="REDRIVEN")["executions"]
    assert [e["executionArn"] for e in listed] == [execution]
    assert listed[0]["redriveCount"] == 1
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.redrive_execution(executionArn=f"{execution}-missing")


def test_express_sync_execution(sfn: Any, machine: Callable[..., str]) -> None:
    sm = machine(PASS, type="EXPRESS")
    out = sfn.start_sync_execution(stateMachineArn=sm, input='{"a": 1}')
    assert out["status"] == "SUCCEEDED"
    assert json.loads(out["output"]) == {"ok": 1}
    assert out["executionArn"].startswith(arn.format_arn("states", "express:"))
    assert out["stopDate"] >= out["startDate"]
    failing = machine(
        {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "No", "Cause": "c"}}},
        type="EXPRESS",
    )
    out = sfn.start_sync_execution(stateMachineArn=failing)
    assert (out["status"], out["error"], out["cause"]) == ("FAILED", "No", "c")
    standard = machine(PASS)
    with pytest.raises(sfn.exceptions.StateMachineTypeNotSupported):
        sfn.start_sync_execution(stateMachineArn=standard)


# --- errors ---------------------------------------------------------------------------------


def test_errors_are_the_modelled_exceptions(sfn: Any, machine: Callable[..., str]) -> None:
    missing_sm = arn.state_machine_arn(f"missing-{uuid.uuid4().hex[:8]}")
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist) as caught:
        sfn.describe_state_machine(stateMachineArn=missing_sm)
    assert code_of(caught)[:2] == ("StateMachineDoesNotExist", 400)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.start_execution(stateMachineArn=missing_sm)
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.describe_execution(executionArn=arn.execution_arn("nope", "nope"))
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.get_execution_history(executionArn=arn.execution_arn("nope", "nope"))
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.describe_state_machine(stateMachineArn="arn:aws:sqs:us-east-1:1:q")
    with pytest.raises(sfn.exceptions.InvalidDefinition) as bad:
        sfn.create_state_machine(name="bad-def", definition='{"StartAt": "X"}', roleArn=ROLE)
    assert "States" in code_of(bad)[2]
    with pytest.raises(sfn.exceptions.InvalidName):
        sfn.create_state_machine(name="has space", definition=json.dumps(PASS), roleArn=ROLE)
    sm = machine(PASS)
    with pytest.raises(sfn.exceptions.InvalidExecutionInput):
        sfn.start_execution(stateMachineArn=sm, input="{not json")
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.list_executions(stateMachineArn=sm, statusFilter="RUNNING", nextToken="garbage!")
    with pytest.raises(sfn.exceptions.ValidationException) as bad_filter:
        sfn.list_executions(stateMachineArn=sm, redriveFilter="SOMETIMES")
    assert "redriveFilter" in code_of(bad_filter)[2]
    with pytest.raises(sfn.exceptions.ResourceNotFound) as untagged:
        sfn.tag_resource(resourceArn=missing_sm, tags=[{"key": "team", "value": "payments"}])
    assert code_of(untagged)[:2] == ("ResourceNotFound", 400)


def test_a_missing_required_member_is_named(server: EventplaneProcess) -> None:
    """What botocore would refuse client-side, sent raw: AWS's ValidationException."""
    reply = signed_request(
        server.gateway_url + "/",
        data=b"{}",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "AWSStepFunctions.DescribeExecution",
        },
        service="states",
    )
    assert reply.status == 400
    body = json.loads(reply.body)
    assert body["__type"].endswith("#ValidationException")
    assert "'executionArn'" in body["message"]
    wrong_type = signed_request(
        server.gateway_url + "/",
        data=b'{"stateMachineArn": 5}',
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "AWSStepFunctions.DescribeStateMachine",
        },
        service="states",
    )
    assert json.loads(wrong_type.body)["__type"].endswith("#SerializationException")


# --- other client stacks --------------------------------------------------------------------


def test_aws_cli_session(server: EventplaneProcess, tmp_path: Path) -> None:
    def cli(*args: str) -> Any:
        return aws(server, tmp_path, *args, service="stepfunctions")

    name = f"gw-cli-sm-{uuid.uuid4().hex[:8]}"
    sm = cli(
        "create-state-machine",
        "--name",
        name,
        "--definition",
        json.dumps(PASS),
        "--role-arn",
        ROLE,
    )["stateMachineArn"]
    assert sm == arn.state_machine_arn(name)
    assert name in [m["name"] for m in cli("list-state-machines")["stateMachines"]]
    execution = cli("start-execution", "--state-machine-arn", sm, "--input", '{"x": 1}')[
        "executionArn"
    ]
    done = eventually(
        lambda: (
            (d := cli("describe-execution", "--execution-arn", execution))["status"] == "SUCCEEDED"
            and d
        ),
        timeout=60,
        interval=0.5,
    )
    assert json.loads(done["output"]) == {"ok": 1}
    events = cli("get-execution-history", "--execution-arn", execution, "--reverse-order")
    assert events["events"][0]["type"] == "ExecutionSucceeded"
    cli("delete-state-machine", "--state-machine-arn", sm)

    # StartSyncExecution with host prefixes off in the CLI's config file (see README).
    (tmp_path / "config").write_text("[default]\ndisable_host_prefix_injection = true\n")
    express = cli(
        "create-state-machine",
        "--name",
        f"{name}-express",
        "--type",
        "EXPRESS",
        "--definition",
        json.dumps(PASS),
        "--role-arn",
        ROLE,
    )["stateMachineArn"]
    out = cli("start-sync-execution", "--state-machine-arn", express, "--input", "{}")
    assert (out["status"], json.loads(out["output"])) == ("SUCCEEDED", {"ok": 1})
    cli("delete-state-machine", "--state-machine-arn", express)


def test_js_sdk_session(node: str, server: EventplaneProcess) -> None:
    run, seen = js_session(node, "sfn_session.mjs", server, EP_ROLE=ROLE)
    assert seen["stateMachineArn"] == arn.state_machine_arn(f"js-sm-{run}")
    assert seen["status"] == "SUCCEEDED"
    assert json.loads(seen["output"]) == {"ok": 1, "from": "node"}
    assert seen["startDateIsDate"] is True
    assert seen["historyTypes"][0] == "ExecutionStarted"
    assert seen["historyTypes"][-1] == "ExecutionSucceeded"
    assert seen["missing"] == {"name": "StateMachineDoesNotExist", "status": 400}
    assert seen["sync"]["status"] == "SUCCEEDED"
    assert json.loads(seen["sync"]["output"]) == {"ok": 1, "from": "node"}
