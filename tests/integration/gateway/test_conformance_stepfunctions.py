"""Step Functions through unchanged boto3, checked against the AWS API reference: the
members and error codes AWS answers where eventplane once answered otherwise (tags,
CreateStateMachine's idempotency, DescribeStateMachine's configurations, a closed
execution's name, StartSyncExecution's billing details).

One server per module (gateway and workflows), boto3 only: test_stepfunctions.py runs
the common paths through every client stack.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from eventplane import arn
from eventplane.testing import EventplaneProcess, eventually

from .support import ACCOUNT, KEY, REGION, SECRET, gateway_process

pytestmark = pytest.mark.integration

ROLE = f"arn:aws:iam::{ACCOUNT}:role/sfn"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/other"
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    process = gateway_process(eventplane_kafka, "api,workflows")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def sfn(server: EventplaneProcess) -> Any:
    return boto3.client(
        "stepfunctions",
        endpoint_url=server.gateway_url,
        region_name=REGION,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        # StartSyncExecution's "sync-" host prefix would make the host sync-127.0.0.1.
        config=Config(retries={"max_attempts": 1}, inject_host_prefix=False),
    )


@pytest.fixture
def machine(sfn: Any) -> Iterator[Callable[..., str]]:
    """machine(definition, **kwargs) -> state machine ARN, deleted afterwards."""
    made: list[str] = []

    def make(definition: dict[str, Any] = PASS, **kwargs: Any) -> str:
        kwargs.setdefault("name", f"conf-{uuid.uuid4().hex[:10]}")
        kwargs.setdefault("roleArn", ROLE)
        out = sfn.create_state_machine(definition=json.dumps(definition), **kwargs)
        made.append(out["stateMachineArn"])
        return str(out["stateMachineArn"])

    yield make
    for sm in made:
        with contextlib.suppress(ClientError):
            sfn.delete_state_machine(stateMachineArn=sm)


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    response: dict[str, Any] = caught.value.response
    return response


def tags_of(sfn: Any, resource: str) -> dict[str, str]:
    return {t["key"]: t["value"] for t in sfn.list_tags_for_resource(resourceArn=resource)["tags"]}


# --- tags -----------------------------------------------------------------------------------


def test_state_machine_tags_are_added_overwritten_and_removed(
    sfn: Any, machine: Callable[..., str]
) -> None:
    sm = machine(tags=[{"key": "team", "value": "orders"}])
    assert sfn.list_tags_for_resource(resourceArn=sm)["tags"] == [
        {"key": "team", "value": "orders"}
    ]
    revision = sfn.describe_state_machine(stateMachineArn=sm)["revisionId"]
    sfn.tag_resource(
        resourceArn=sm, tags=[{"key": "team", "value": "payments"}, {"key": "env", "value": ""}]
    )
    assert tags_of(sfn, sm) == {"team": "payments", "env": ""}
    sfn.untag_resource(resourceArn=sm, tagKeys=["env", "never-set"])
    assert tags_of(sfn, sm) == {"team": "payments"}
    # A tag is no new revision of the machine.
    assert sfn.describe_state_machine(stateMachineArn=sm)["revisionId"] == revision


def test_activity_tags(sfn: Any) -> None:
    activity = sfn.create_activity(
        name=f"conf-act-{uuid.uuid4().hex[:8]}", tags=[{"key": "k", "value": "v"}]
    )["activityArn"]
    try:
        sfn.tag_resource(resourceArn=activity, tags=[{"key": "k2", "value": "v2"}])
        assert tags_of(sfn, activity) == {"k": "v", "k2": "v2"}
    finally:
        sfn.delete_activity(activityArn=activity)
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.list_tags_for_resource(resourceArn=activity)


def test_tag_rules(sfn: Any, machine: Callable[..., str]) -> None:
    sm = machine()
    fifty = [{"key": f"k{i}", "value": "v"} for i in range(50)]
    sfn.tag_resource(resourceArn=sm, tags=fifty)
    with pytest.raises(sfn.exceptions.TooManyTags) as too_many:
        sfn.tag_resource(resourceArn=sm, tags=[{"key": "one-more", "value": "v"}])
    assert error_of(too_many)["resourceName"] == sm
    assert len(tags_of(sfn, sm)) == 50
    with pytest.raises(sfn.exceptions.TooManyTags):
        machine(tags=[*fifty, {"key": "k50", "value": "v"}])
    for bad in ({"key": "aws:reserved", "value": "v"}, {"key": "k" * 129, "value": "v"}):
        with pytest.raises(ClientError) as caught:
            sfn.tag_resource(resourceArn=sm, tags=[bad])
        assert error_of(caught)["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as long_value:
        sfn.tag_resource(resourceArn=sm, tags=[{"key": "k", "value": "v" * 257}])
    assert error_of(long_value)["Error"]["Code"] == "ValidationException"
    missing = arn.state_machine_arn(f"missing-{uuid.uuid4().hex[:8]}")
    for call in (
        lambda: sfn.tag_resource(resourceArn=missing, tags=[{"key": "k", "value": "v"}]),
        lambda: sfn.untag_resource(resourceArn=missing, tagKeys=["k"]),
        lambda: sfn.list_tags_for_resource(resourceArn=missing),
    ):
        with pytest.raises(sfn.exceptions.ResourceNotFound):
            call()
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.list_tags_for_resource(resourceArn=arn.execution_arn("m", "e"))


# --- CreateStateMachine / DescribeStateMachine ------------------------------------------------


def test_create_is_idempotent_but_for_role_and_tags(sfn: Any, machine: Callable[..., str]) -> None:
    """AWS: the check is name, definition, type, logging and tracing; another roleArn or
    other tags are ignored, and not applied."""
    name = f"conf-idem-{uuid.uuid4().hex[:8]}"
    sm = machine(name=name, tags=[{"key": "a", "value": "1"}])
    again = machine(name=name, roleArn=OTHER_ROLE, tags=[{"key": "b", "value": "2"}])
    assert again == sm
    described = sfn.describe_state_machine(stateMachineArn=sm)
    assert described["roleArn"] == ROLE
    assert tags_of(sfn, sm) == {"a": "1"}
    with pytest.raises(sfn.exceptions.StateMachineAlreadyExists):
        machine({"StartAt": "Q", "States": {"Q": {"Type": "Succeed"}}}, name=name)
    with pytest.raises(sfn.exceptions.StateMachineAlreadyExists):
        machine(name=name, loggingConfiguration={"level": "ERROR", "includeExecutionData": True})
    with pytest.raises(sfn.exceptions.StateMachineAlreadyExists):
        machine(name=name, tracingConfiguration={"enabled": True})


def test_describe_state_machine_has_logging_and_tracing(
    sfn: Any, machine: Callable[..., str]
) -> None:
    plain = sfn.describe_state_machine(stateMachineArn=machine())
    assert plain["status"] == "ACTIVE"
    assert plain["type"] == "STANDARD"
    assert plain["loggingConfiguration"] == {"level": "OFF", "includeExecutionData": False}
    assert plain["tracingConfiguration"] == {"enabled": False}
    logged = machine(
        type="EXPRESS",
        loggingConfiguration={"level": "ERROR", "includeExecutionData": True},
        tracingConfiguration={"enabled": True},
    )
    out = sfn.describe_state_machine(stateMachineArn=logged)
    assert out["loggingConfiguration"] == {"level": "ERROR", "includeExecutionData": True}
    assert out["tracingConfiguration"] == {"enabled": True}
    # UpdateStateMachine takes either configuration alone (a new revision).
    sfn.update_state_machine(stateMachineArn=logged, tracingConfiguration={"enabled": False})
    updated = sfn.describe_state_machine(stateMachineArn=logged)
    assert updated["tracingConfiguration"] == {"enabled": False}
    assert updated["loggingConfiguration"]["level"] == "ERROR"
    assert updated["revisionId"] != out["revisionId"]
    sfn.update_state_machine(stateMachineArn=logged, loggingConfiguration={"level": "OFF"})
    off = sfn.describe_state_machine(stateMachineArn=logged)["loggingConfiguration"]
    assert off == {"level": "OFF", "includeExecutionData": False}


# --- executions -------------------------------------------------------------------------------


def test_a_closed_executions_name_is_taken(sfn: Any, machine: Callable[..., str]) -> None:
    """AWS: the same name and input is the same execution only while it runs; once it
    closed, StartExecution with its name is ExecutionAlreadyExists."""
    sm = machine()
    first = sfn.start_execution(stateMachineArn=sm, name="once", input="{}")
    eventually(
        lambda: sfn.describe_execution(executionArn=first["executionArn"])["status"] == "SUCCEEDED",
        timeout=30,
        interval=0.1,
    )
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=sm, name="once", input="{}")


def test_sync_execution_has_billing_details(sfn: Any, machine: Callable[..., str]) -> None:
    sm = machine(type="EXPRESS")
    out = sfn.start_sync_execution(stateMachineArn=sm, input='{"a": 1}')
    assert (out["status"], json.loads(out["output"])) == ("SUCCEEDED", {"a": 1})
    billing = out["billingDetails"]
    assert billing["billedMemoryUsedInMB"] == 64
    assert billing["billedDurationInMilliseconds"] >= 100
    assert billing["billedDurationInMilliseconds"] % 100 == 0


def test_list_executions_of_an_express_machine_is_not_supported(
    sfn: Any, machine: Callable[..., str]
) -> None:
    """AWS: ListExecutions is not supported by EXPRESS state machines."""
    sm = machine(type="EXPRESS")
    with pytest.raises(sfn.exceptions.StateMachineTypeNotSupported):
        sfn.list_executions(stateMachineArn=sm)
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.list_executions(stateMachineArn="arn:aws:sqs:us-east-1:1:q")


def test_history_events_have_aws_shapes(sfn: Any, machine: Callable[..., str]) -> None:
    sm = machine(
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Next": "B"},
                "B": {"Type": "Pass", "Result": {"done": True}, "End": True},
            },
        }
    )
    run = sfn.start_execution(stateMachineArn=sm, input='{"x": 1}')["executionArn"]
    eventually(
        lambda: sfn.describe_execution(executionArn=run)["status"] == "SUCCEEDED",
        timeout=30,
        interval=0.1,
    )
    events = sfn.get_execution_history(executionArn=run)["events"]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert [e["previousEventId"] for e in events[:2]] == [0, 1]
    started = events[0]
    assert started["type"] == "ExecutionStarted"
    details = started["executionStartedEventDetails"]
    # The machine's own role (AWS), not one of eventplane's.
    assert details["roleArn"] == ROLE
    assert (details["input"], details["inputDetails"]) == ('{"x": 1}', {"truncated": False})
    assert events[-1]["type"] == "ExecutionSucceeded"
    assert json.loads(events[-1]["executionSucceededEventDetails"]["output"]) == {"done": True}
    newest = sfn.get_execution_history(executionArn=run, reverseOrder=True, maxResults=2)
    assert [e["id"] for e in newest["events"]] == [len(events), len(events) - 1]
    rest = sfn.get_execution_history(
        executionArn=run, reverseOrder=True, maxResults=2, nextToken=newest["nextToken"]
    )
    assert [e["id"] for e in rest["events"]] == [len(events) - 2, len(events) - 3]
    bare = sfn.get_execution_history(executionArn=run, includeExecutionData=False)["events"]
    assert "input" not in bare[0]["executionStartedEventDetails"]
    assert "output" not in bare[-1].get("executionSucceededEventDetails", {})


def test_sync_execution_of_an_express_machine_has_its_role(
    sfn: Any, machine: Callable[..., str]
) -> None:
    sm = machine(type="EXPRESS", roleArn=OTHER_ROLE)
    out = sfn.start_sync_execution(stateMachineArn=sm, name="sync-role")
    assert out["status"] == "SUCCEEDED"
    history = sfn.get_execution_history(executionArn=out["executionArn"])["events"]
    assert history[0]["executionStartedEventDetails"]["roleArn"] == OTHER_ROLE


def test_stop_bad_tokens_and_activity_shapes(sfn: Any, machine: Callable[..., str]) -> None:
    wait = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 300, "End": True}}}
    run = sfn.start_execution(stateMachineArn=machine(wait))["executionArn"]
    stopped = sfn.stop_execution(executionArn=run, error="Halt", cause="by test")
    assert "stopDate" in stopped
    out = sfn.describe_execution(executionArn=run)
    assert (out["status"], out["error"], out["cause"]) == ("ABORTED", "Halt", "by test")
    assert out["stopDate"] >= out["startDate"]
    assert (out["redriveCount"], out["redriveStatus"]) == (0, "REDRIVABLE")
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.send_task_success(taskToken="not-a-token", output="{}")
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.send_task_failure(taskToken="not-a-token", error="E")
    name = f"conf-act-{uuid.uuid4().hex[:8]}"
    activity = sfn.create_activity(name=name)["activityArn"]
    try:
        described = sfn.describe_activity(activityArn=activity)
        assert (described["activityArn"], described["name"]) == (activity, name)
        assert "creationDate" in described
    finally:
        sfn.delete_activity(activityArn=activity)
    with pytest.raises(sfn.exceptions.ActivityDoesNotExist):
        sfn.describe_activity(activityArn=activity)


# --- the States language, as a user's unchanged definitions see it ---------------------------


def test_fail_state_error_and_cause_from_intrinsics(sfn: Any, machine: Callable[..., str]) -> None:
    """AWS: ErrorPath/CausePath take a reference path or a string intrinsic (States.Format,
    ...); a Format argument that is an object prints as the Java runtime prints a map."""
    sm = machine(
        {
            "StartAt": "F",
            "States": {
                "F": {
                    "Type": "Fail",
                    "ErrorPath": "$$.State.Name",
                    "CausePath": "States.Format('order {} failed: {}', $.id, $.why)",
                }
            },
        },
        type="EXPRESS",
    )
    out = sfn.start_sync_execution(stateMachineArn=sm, input='{"id": 7, "why": {"code": 3}}')
    assert (out["status"], out["error"], out["cause"]) == (
        "FAILED",
        "F",
        "order 7 failed: {code=3}",
    )


def test_invalid_wait_and_fail_fields_are_refused_at_create(
    sfn: Any, machine: Callable[..., str]
) -> None:
    """AWS checks these at CreateStateMachine: a Timestamp without an offset, and a
    CausePath intrinsic that does not return a string."""
    for state in (
        {"Type": "Wait", "Timestamp": "2016-03-14T01:59:00", "End": True},
        {"Type": "Fail", "CausePath": "States.Array($.a)"},
    ):
        definition = {"StartAt": "S", "States": {"S": state}}
        with pytest.raises(sfn.exceptions.InvalidDefinition):
            machine(definition)
        found = sfn.validate_state_machine_definition(definition=json.dumps(definition))
        assert found["result"] == "FAIL"
        assert [d["code"] for d in found["diagnostics"]] == ["SCHEMA_VALIDATION_FAILED"]


def test_jsonata_map_items_must_be_an_array(sfn: Any, machine: Callable[..., str]) -> None:
    sm = machine(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "Items": "{% $states.input.xs %}",
                    "ItemProcessor": {
                        "StartAt": "I",
                        "States": {"I": {"Type": "Pass", "End": True}},
                    },
                    "End": True,
                }
            },
        },
        type="EXPRESS",
    )
    out = sfn.start_sync_execution(stateMachineArn=sm, input='{"xs": {"a": 1}}')
    assert (out["status"], out["error"]) == ("FAILED", "States.QueryEvaluationError")
    assert "Expected 'array', but was 'object'" in out["cause"]
