"""Step Functions and EventBridge on one server: status-change events on the default
bus, and state machines as rule targets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from eventplane.client import Client
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

from ..bus.support import BUS_ENV, Resources, drain
from ..gateway.support import ACCOUNT, KEY, REGION, SECRET
from .conftest import unique

pytestmark = pytest.mark.integration

DETAIL_TYPE = "Step Functions Execution Status Change"


@pytest.fixture(scope="module")
def wf_server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    """This module's server: bus retries at 1/100 of their waits (dead letters in seconds)."""
    server = EventplaneProcess(
        eventplane_kafka,
        roles="api,workflows,bus,queues,fanout,runner",
        env={**BUS_ENV, "EVENTPLANE_GATEWAY_CREDENTIALS": f"{KEY}:{SECRET}:{ACCOUNT}"},
        cluster=unique_cluster(),
    ).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def res(client: Client) -> Iterator[Resources]:
    resources = Resources(client)
    try:
        yield resources
    finally:
        resources.cleanup()


def machine(client: Client, definition: dict[str, Any]) -> str:
    return client.workflows.create_state_machine(unique("sm"), definition).state_machine_arn


def finished(client: Client, arn: str) -> Any:
    def done() -> Any:
        e = client.workflows.describe_execution(arn)
        assert e.status != "RUNNING", e
        return e

    return eventually(done, timeout=30)


# Succeeds or fails by its input: {"ok": true} succeeds with {"done": 1}.
CHOOSE = {
    "StartAt": "Which",
    "States": {
        "Which": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}],
            "Default": "Broken",
        },
        "Done": {"Type": "Pass", "Result": {"done": 1}, "End": True},
        "Broken": {"Type": "Fail", "Error": "Custom.Broken", "Cause": "asked to fail"},
    },
}


def test_a_rule_on_failed_status_receives_exactly_the_failed_execution(
    client: Client, res: Resources
) -> None:
    sm = machine(client, CHOOSE)
    queue = res.queue()
    res.rule(
        None,
        [{"Id": "q", "Arn": queue.arn}],
        pattern={
            "source": ["aws.states"],
            "detail": {"status": ["FAILED"], "stateMachineArn": [sm]},
        },
    )
    good = client.workflows.start_execution(sm, {"ok": True}).execution_arn
    bad = client.workflows.start_execution(sm, {"ok": False}).execution_arn
    assert finished(client, good).status == "SUCCEEDED"
    failed = finished(client, bad)
    assert failed.status == "FAILED"

    got = drain(client, queue.url, 1, settle=3)
    assert len(got) == 1, [m.body for m in got]
    event = json.loads(got[0].body)
    assert (event["source"], event["detail-type"]) == ("aws.states", DETAIL_TYPE)
    assert event["resources"] == [bad]
    d = event["detail"]
    assert d["executionArn"] == bad and d["stateMachineArn"] == sm
    assert (d["status"], d["error"], d["cause"]) == ("FAILED", "Custom.Broken", "asked to fail")
    assert json.loads(d["input"]) == {"ok": False}
    assert d["output"] is None and d["outputDetails"] is None
    assert d["inputDetails"] == {"included": True}
    assert isinstance(d["startDate"], int) and d["stopDate"] >= d["startDate"]
    assert (d["redriveCount"], d["redriveStatus"]) == (0, "REDRIVABLE")


def test_every_status_change_of_an_execution_is_one_event(client: Client, res: Resources) -> None:
    sm = machine(client, CHOOSE)
    queue = res.queue()
    res.rule(
        None,
        [{"Id": "q", "Arn": queue.arn}],
        pattern={"source": ["aws.states"], "detail": {"stateMachineArn": [sm]}},
    )
    run = client.workflows.start_execution(sm, {"ok": True}, name=unique("e")).execution_arn
    assert finished(client, run).status == "SUCCEEDED"

    got = [json.loads(m.body)["detail"] for m in drain(client, queue.url, 2, settle=3)]
    by_status = {d["status"]: d for d in got}
    assert sorted(by_status) == ["RUNNING", "SUCCEEDED"] and len(got) == 2
    running, succeeded = by_status["RUNNING"], by_status["SUCCEEDED"]
    assert running["stopDate"] is None and running["output"] is None
    assert running["name"] == run.rsplit(":", 1)[-1]
    assert json.loads(succeeded["output"]) == {"done": 1}
    assert succeeded["outputDetails"] == {"included": True}
    assert succeeded["redriveStatus"] == "NOT_REDRIVABLE"


def test_express_executions_send_no_status_events(client: Client, res: Resources) -> None:
    sm = client.workflows.create_state_machine(
        unique("sm"), CHOOSE, type="EXPRESS"
    ).state_machine_arn
    queue = res.queue()
    res.rule(
        None,
        [{"Id": "q", "Arn": queue.arn}],
        pattern={"source": ["aws.states"], "detail": {"stateMachineArn": [sm]}},
    )
    result = client.workflows.start_sync_execution(sm, {"ok": False})
    assert result.status == "FAILED"
    assert drain(client, queue.url, 0, settle=3) == []


def test_a_redrive_reports_running_again_with_its_redrive_count(
    client: Client, res: Resources
) -> None:
    sm = machine(client, CHOOSE)
    queue = res.queue()
    res.rule(
        None,
        [{"Id": "q", "Arn": queue.arn}],
        pattern={"source": ["aws.states"], "detail": {"stateMachineArn": [sm]}},
    )
    run = client.workflows.start_execution(sm, {"ok": False}).execution_arn
    assert finished(client, run).status == "FAILED"
    assert len(drain(client, queue.url, 2)) == 2
    client.workflows.redrive_execution(run)
    eventually(lambda: client.workflows.describe_execution(run).redrive_count == 1 or None)
    got = [json.loads(m.body)["detail"] for m in drain(client, queue.url, 2, settle=3)]
    by_status = {d["status"]: d for d in got}
    assert sorted((d["status"], d["redriveCount"]) for d in got) == [("FAILED", 1), ("RUNNING", 1)]
    assert by_status["RUNNING"]["redriveDate"] is not None
    assert by_status["RUNNING"]["stopDate"] is None


# --- a state machine as a rule target ---------------------------------------------------

ECHO = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}


def put_one(client: Client, source: str, detail: dict[str, Any]) -> str:
    result = client.events.put_events(
        [{"Source": source, "DetailType": "order", "Detail": json.dumps(detail)}]
    )
    assert result.failed_entry_count == 0, result.entries
    event_id = result.entries[0].event_id
    assert event_id is not None
    return event_id


def executions_of(client: Client, sm: str, n: int) -> list[Any]:
    def started() -> list[Any]:
        found = client.workflows.list_executions(sm)
        assert len(found) >= n and all(e.status != "RUNNING" for e in found), found
        return found

    listed = eventually(started, timeout=30)
    return [client.workflows.describe_execution(e.execution_arn) for e in listed]


def test_a_rule_targeting_a_state_machine_starts_one_execution_with_the_event(
    client: Client, res: Resources
) -> None:
    sm = machine(client, ECHO)
    source = unique("shop")
    res.rule(None, [{"Id": "sm", "Arn": sm}], pattern={"source": [source]})
    event_id = put_one(client, source, {"order": 7})

    (run,) = executions_of(client, sm, 1)
    assert run.status == "SUCCEEDED"
    event = run.json()  # a Pass state's output is its input: the event
    assert (event["id"], event["source"], event["detail"]) == (event_id, source, {"order": 7})
    assert run.name and run.execution_arn.endswith(":" + run.name)
    assert len(client.workflows.list_executions(sm)) == 1  # one event, one execution


def test_input_path_and_input_transformer_shape_the_execution_input(
    client: Client, res: Resources
) -> None:
    sm = machine(client, ECHO)
    source = unique("shop")
    res.rule(
        None,
        [
            {"Id": "path", "Arn": sm, "InputPath": "$.detail"},
            {
                "Id": "shaped",
                "Arn": sm,
                "InputTransformer": {
                    "InputPathsMap": {"n": "$.detail.order"},
                    "InputTemplate": '{"number": <n>}',
                },
            },
        ],
        pattern={"source": [source]},
    )
    put_one(client, source, {"order": 9})
    inputs = sorted((run.json() for run in executions_of(client, sm, 2)), key=json.dumps)
    assert inputs == [{"number": 9}, {"order": 9}]


def test_a_missing_state_machine_target_ends_in_the_dead_letter_queue(
    client: Client, res: Resources
) -> None:
    gone = f"arn:aws:states:local:000000000000:stateMachine:{unique('gone')}"
    dlq = res.queue("dlq")
    source = unique("shop")
    res.rule(
        None,
        [
            {
                "Id": "gone",
                "Arn": gone,
                "RetryPolicy": {"MaximumRetryAttempts": 1},
                "DeadLetterConfig": {"Arn": dlq.arn},
            }
        ],
        pattern={"source": [source]},
    )
    event_id = put_one(client, source, {})
    (m,) = drain(client, dlq.url, 1, settle=1)
    assert json.loads(m.body)["id"] == event_id
    attributes = {k: v.string_value for k, v in m.message_attributes.items()}
    assert attributes["TARGET_ARN"] == gone
    assert attributes["ERROR_CODE"] == "StateMachineDoesNotExist"


def test_a_stopped_execution_reports_aborted_with_its_error_and_cause(
    client: Client, res: Resources
) -> None:
    sm = machine(
        client, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}
    )
    queue = res.queue()
    res.rule(
        None,
        [{"Id": "q", "Arn": queue.arn}],
        pattern={
            "source": ["aws.states"],
            "detail": {"stateMachineArn": [sm], "status": ["ABORTED"]},
        },
    )
    run = client.workflows.start_execution(sm, {}).execution_arn
    client.workflows.stop_execution(run, error="Ops.Cancel", cause="not needed")
    (m,) = drain(client, queue.url, 1, settle=2)
    d = json.loads(m.body)["detail"]
    assert (d["executionArn"], d["status"]) == (run, "ABORTED")
    assert (d["error"], d["cause"]) == ("Ops.Cancel", "not needed")
    assert d["stopDate"] is not None and d["redriveStatus"] == "REDRIVABLE"


def test_boto3_puts_a_state_machine_target_and_the_event_starts_it(
    wf_server: EventplaneProcess,
) -> None:
    settings: dict[str, Any] = {
        "endpoint_url": wf_server.gateway_url,
        "region_name": REGION,
        "aws_access_key_id": KEY,
        "aws_secret_access_key": SECRET,
        "config": Config(retries={"max_attempts": 1}),
    }
    sfn, events = boto3.client("stepfunctions", **settings), boto3.client("events", **settings)
    sm = sfn.create_state_machine(
        name=unique("sm"),
        definition=json.dumps(ECHO),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn",
    )["stateMachineArn"]
    source, rule = unique("shop"), unique("r")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))
    try:
        put = events.put_targets(
            Rule=rule, Targets=[{"Id": "sm", "Arn": sm, "Input": '{"fixed": true}'}]
        )
        assert put["FailedEntryCount"] == 0
        assert events.list_targets_by_rule(Rule=rule)["Targets"][0]["Arn"] == sm
        events.put_events(Entries=[{"Source": source, "DetailType": "d", "Detail": "{}"}])

        def ran() -> dict[str, Any]:
            found = sfn.list_executions(stateMachineArn=sm)["executions"]
            assert [e["status"] for e in found] == ["SUCCEEDED"], found
            e = found[0]
            return dict(sfn.describe_execution(executionArn=e["executionArn"]))

        assert json.loads(eventually(ran, timeout=30)["output"]) == {"fixed": True}
    finally:
        events.remove_targets(Rule=rule, Ids=["sm"])
        events.delete_rule(Name=rule)
