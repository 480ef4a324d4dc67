"""Step Functions and EventBridge on one server: status-change events on the default
bus, and state machines as rule targets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.testing import eventually

from ..bus.support import Resources, drain
from .conftest import unique

pytestmark = pytest.mark.integration

DETAIL_TYPE = "Step Functions Execution Status Change"


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
