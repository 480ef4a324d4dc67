"""Redriving a Distributed Map's Map Run on the real broker: RedriveExecution of the
parent runs again only the children that did not succeed (Standard ones are redriven
themselves, Express ones run again), keeps the Map Run's ARN, and DescribeMapRun shows
the redrive, through the SDK, boto3 on the gateway and the CLI.

Each child counts its runs in a table and reads there whether its item is broken (one
UpdateItem does both), so the test breaks items for the first run, mends them, redrives
and counts exactly which children ran again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from eventplane.cli import main
from eventplane.client import Client
from eventplane.errors import ServiceUnavailable
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

from .conftest import unique

pytestmark = pytest.mark.integration

KEY, SECRET, ACCOUNT, REGION = "AKIDMAPREDRIVE001", "mrd-secret", "000000000000", "us-east-1"


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    s = EventplaneProcess(
        eventplane_kafka,
        roles="api,workflows,tables",
        cluster=unique_cluster(),
        env={"EVENTPLANE_GATEWAY_CREDENTIALS": f"{KEY}:{SECRET}:{ACCOUNT}"},
    ).start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def client(server: EventplaneProcess) -> Iterator[Client]:
    with server.client(timeout=60) as c:
        yield c


def _retrying(action: Any) -> Any:
    """Run ``action``, retried while a new table's partitions find their owners."""

    def once() -> tuple[Any]:
        try:
            return (action(),)
        except ServiceUnavailable as exc:
            raise AssertionError(exc.message) from exc

    return eventually(once, timeout=30)[0]


@pytest.fixture
def table(client: Client) -> Iterator[str]:
    name = unique("mrd")
    client.tables.create_table(
        name, key_schema=[("id", "HASH")], attribute_definitions=[("id", "S")]
    )
    yield name
    client.tables.delete_table(name)


def set_broken(client: Client, table: str, ids: list[int], broken: bool) -> None:
    for i in ids:
        key = {"id": {"S": str(i)}}
        _retrying(
            lambda key=key: client.tables.update_item(
                table,
                key,
                update_expression="SET broken = :b",
                expression_attribute_values={":b": {"BOOL": broken}},
            )
        )


def counted(client: Client, table: str, n: int, field: str) -> dict[int, int]:
    """Per item, how often a child ran its ``runs`` (first) or ``checks`` (second)
    step to success (items whose step never succeeded are left out)."""
    out = {}
    for i in range(n):
        item = _retrying(lambda i=i: client.tables.get_item(table, {"id": {"S": str(i)}}))
        if item and field in item:
            out[i] = int(item[field]["N"])
    return out


def counting_child(table: str, kind: str) -> dict[str, Any]:
    """A child that counts its run (Count), then fails while its item is broken (Check:
    a conditional update, counted when it succeeds)."""

    def update(expression: str, **more: Any) -> dict[str, Any]:
        return {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:updateItem",
            "Parameters": {
                "TableName": table,
                "Key": {"id": {"S.$": "States.Format('{}', $.id)"}},
                "UpdateExpression": expression,
                "ExpressionAttributeValues": {":one": {"N": "1"}, **more},
            },
            "ResultPath": None,
        }

    check = update("ADD checks :one", **{":f": {"BOOL": False}})
    check["Parameters"]["ConditionExpression"] = "attribute_not_exists(broken) OR broken = :f"
    return {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": kind},
        "StartAt": "Count",
        "States": {
            "Count": {**update("ADD runs :one"), "Next": "Check"},
            "Check": {**check, "Next": "Done"},
            "Done": {"Type": "Pass", "Parameters": {"id.$": "$.id", "ok": True}, "End": True},
        },
    }


def map_machine(client: Client, table: str, kind: str = "STANDARD", **fields: Any) -> str:
    state = {"Type": "Map", "End": True, "ItemProcessor": counting_child(table, kind), **fields}
    definition = {"StartAt": "M", "States": {"M": state}}
    return client.workflows.create_state_machine(unique("mrd"), definition).state_machine_arn


def ended(client: Client, arn: str, redrives: int = 0) -> Any:
    def done() -> Any:
        e = client.workflows.describe_execution(arn)
        assert e.status != "RUNNING" and e.redrive_count == redrives, e
        return e

    return eventually(done, timeout=45)


def ended_run(client: Client, map_run: str, redrives: int = 0) -> dict[str, Any]:
    def done() -> dict[str, Any]:
        mr = client.workflows.describe_map_run(map_run)
        assert mr["status"] != "RUNNING" and mr["redriveCount"] == redrives, mr
        return mr

    return eventually(done, timeout=30)


def items(n: int) -> list[dict[str, int]]:
    return [{"id": i} for i in range(n)]


def test_redrive_reruns_only_the_children_that_did_not_succeed(client: Client, table: str) -> None:
    """One child at a time, one failure tolerated: 0 succeeds, 1 fails, 2 succeeds, 3
    fails (over the threshold: the run fails), 4 and 5 never start. Mended and
    redriven, 1 and 3 are redriven (the same executions, on from their failed Check)
    and 4 and 5 start; 0 and 2 do not run again."""
    wf = client.workflows
    n = 6
    set_broken(client, table, list(range(n)), False)
    set_broken(client, table, [1, 3], True)
    sm = map_machine(client, table, MaxConcurrency=1, ToleratedFailureCount=1)
    arn = wf.start_execution(sm, items(n)).execution_arn
    failed = ended(client, arn)
    assert (failed.status, failed.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    (item,) = wf.list_map_runs(arn)
    map_run = item["mapRunArn"]
    first = ended_run(client, map_run)
    assert first["status"] == "FAILED" and "redriveDate" not in first
    assert first["executionCounts"] == {
        "pending": 2,
        "running": 0,
        "succeeded": 2,
        "failed": 2,
        "timedOut": 0,
        "aborted": 0,
        "total": 6,
        "resultsWritten": 0,
        "failuresNotRedrivable": 0,
        "pendingRedrive": 0,
    }
    assert counted(client, table, n, "runs") == {0: 1, 1: 1, 2: 1, 3: 1}
    assert counted(client, table, n, "checks") == {0: 1, 2: 1}
    children_before = {c.execution_arn for c in wf.list_executions(map_run_arn=map_run)}
    assert len(children_before) == 4

    set_broken(client, table, [1, 3], False)
    redriven_at = wf.redrive_execution(arn)
    e = ended(client, arn, redrives=1)
    assert e.status == "SUCCEEDED", (e.error, e.cause)
    assert json.loads(e.output) == [{"id": i, "ok": True} for i in range(n)]
    # Nothing ran twice: 0 and 2 not again, 1 and 3 from their failed Check on.
    assert counted(client, table, n, "runs") == dict.fromkeys(range(n), 1)
    assert counted(client, table, n, "checks") == dict.fromkeys(range(n), 1)

    (again,) = wf.list_map_runs(arn)  # the same Map Run, redriven
    assert again["mapRunArn"] == map_run
    mr = ended_run(client, map_run, redrives=1)
    assert (mr["status"], mr["mapRunArn"], mr["redriveCount"]) == ("SUCCEEDED", map_run, 1)
    assert redriven_at <= mr["redriveDate"] <= mr["stopDate"]
    for counts in (mr["itemCounts"], mr["executionCounts"]):
        assert counts == {
            "pending": 0,
            "running": 0,
            "succeeded": 6,
            "failed": 0,
            "timedOut": 0,
            "aborted": 0,
            "total": 6,
            "resultsWritten": 0,
            "failuresNotRedrivable": 0,
            "pendingRedrive": 0,
        }
    children = wf.list_executions(map_run_arn=map_run)
    assert len(children) == 6 and {c.status for c in children} == {"SUCCEEDED"}
    assert children_before <= {c.execution_arn for c in children}
    checks_entered = {}
    for child in children:
        d = wf.describe_execution(child.execution_arn)
        types = [ev["type"] for ev in wf.get_execution_history(child.execution_arn)]
        assert types.count("ExecutionStarted") == 1
        assert types.count("ExecutionRedriven") == d.redrive_count
        checks_entered[json.loads(d.input)["id"]] = (
            d.redrive_count,
            types.count("TaskStateEntered"),
        )
    assert checks_entered == {0: (0, 2), 1: (1, 3), 2: (0, 2), 3: (1, 3), 4: (0, 2), 5: (0, 2)}
    redriven = wf.list_executions(map_run_arn=map_run, status_filter="SUCCEEDED")
    assert len(redriven) == 6

    history = wf.get_execution_history(arn)
    types = [ev["type"] for ev in history]
    assert types.count("MapRunStarted") == 1 and types.count("MapRunFailed") == 1
    assert types[types.index("ExecutionRedriven") :] == [
        "ExecutionRedriven",
        "MapStateEntered",
        "MapRunRedriven",
        "MapRunSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]
    (event,) = [ev for ev in history if ev["type"] == "MapRunRedriven"]
    assert event["mapRunRedrivenEventDetails"] == {"mapRunArn": map_run, "redriveCount": 1}


def test_express_children_run_again_as_new_executions(client: Client, table: str) -> None:
    wf = client.workflows
    n = 4
    set_broken(client, table, list(range(n)), False)
    set_broken(client, table, [3], True)
    # one at a time: 0, 1 and 2 have succeeded when 3 fails
    sm = map_machine(client, table, "EXPRESS", MaxConcurrency=1)
    arn = wf.start_execution(sm, items(n)).execution_arn
    assert ended(client, arn).status == "FAILED"
    map_run = wf.list_map_runs(arn)[0]["mapRunArn"]
    assert ended_run(client, map_run)["itemCounts"]["failed"] == 1
    assert counted(client, table, n, "runs") == dict.fromkeys(range(n), 1)
    assert counted(client, table, n, "checks") == {0: 1, 1: 1, 2: 1}

    set_broken(client, table, [3], False)
    wf.redrive_execution(arn)
    e = ended(client, arn, redrives=1)
    assert e.status == "SUCCEEDED", (e.error, e.cause)
    assert json.loads(e.output) == [{"id": i, "ok": True} for i in range(n)]
    # An Express child cannot be redriven: the failed one ran again from its start.
    assert counted(client, table, n, "runs") == {0: 1, 1: 1, 2: 1, 3: 2}
    assert counted(client, table, n, "checks") == dict.fromkeys(range(n), 1)
    mr = ended_run(client, map_run, redrives=1)
    assert (mr["itemCounts"]["succeeded"], mr["itemCounts"]["failed"]) == (4, 0)
    # The failed Express child and its rerun are two executions of the Map Run.
    children = wf.list_executions(map_run_arn=map_run)
    assert sorted(c.status for c in children) == ["FAILED", *["SUCCEEDED"] * 4]


def test_a_redrive_that_fails_again_counts_a_second_redrive(client: Client, table: str) -> None:
    wf = client.workflows
    set_broken(client, table, [0, 1], False)
    set_broken(client, table, [1], True)
    sm = map_machine(client, table, MaxConcurrency=1)  # 0 has succeeded when 1 fails
    arn = wf.start_execution(sm, items(2)).execution_arn
    assert ended(client, arn).status == "FAILED"
    map_run = wf.list_map_runs(arn)[0]["mapRunArn"]
    ended_run(client, map_run)

    wf.redrive_execution(arn)  # not mended: item 1 fails again
    assert ended(client, arn, redrives=1).status == "FAILED"
    mr = ended_run(client, map_run, redrives=1)
    assert (mr["status"], mr["executionCounts"]["failed"]) == ("FAILED", 1)
    assert counted(client, table, 2, "checks") == {0: 1}

    set_broken(client, table, [1], False)
    wf.redrive_execution(arn)
    assert ended(client, arn, redrives=2).status == "SUCCEEDED"
    assert ended_run(client, map_run, redrives=2)["executionCounts"]["succeeded"] == 2
    assert counted(client, table, 2, "runs") == {0: 1, 1: 1}
    assert counted(client, table, 2, "checks") == {0: 1, 1: 1}
    children = wf.list_executions(map_run_arn=map_run)
    assert sorted(wf.describe_execution(c.execution_arn).redrive_count for c in children) == [0, 2]


def take(client: Client, activity: str) -> Any:
    """The next activity task (a child that runs now)."""
    return eventually(
        lambda: client.workflows.get_activity_task(activity, wait_seconds=1), timeout=30
    )


def test_children_wait_for_their_redrive_under_max_concurrency(client: Client) -> None:
    """Two Standard children that each wait for a worker, one at a time: both fail. In
    the redrive, while the first runs again the second waits (PENDING_REDRIVE)."""
    wf = client.workflows
    activity = wf.create_activity(unique("mrd-act")).activity_arn
    try:
        work = {"W": {"Type": "Task", "Resource": activity, "End": True}}
        processor = {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "W",
            "States": work,
        }
        state = {"ItemProcessor": processor, "MaxConcurrency": 1, "ToleratedFailureCount": 1}
        definition = {"StartAt": "M", "States": {"M": {"Type": "Map", "End": True, **state}}}
        sm = wf.create_state_machine(unique("mrd"), definition).state_machine_arn
        arn = wf.start_execution(sm, items(2)).execution_arn
        for _ in range(2):
            wf.send_task_failure(take(client, activity).task_token, error="Nope")
        assert ended(client, arn).status == "FAILED"
        map_run = wf.list_map_runs(arn)[0]["mapRunArn"]
        ended_run(client, map_run)

        wf.redrive_execution(arn)
        first = take(client, activity)
        assert json.loads(first.input) == {"id": 0}

        def one_runs_one_waits() -> dict[str, Any]:
            counts = wf.describe_map_run(map_run)["executionCounts"]
            assert (counts["running"], counts["pendingRedrive"], counts["failed"]) == (1, 1, 1)
            return counts

        eventually(one_runs_one_waits, timeout=15)
        (listed,) = wf.list_executions(map_run_arn=map_run, status_filter="PENDING_REDRIVE")
        waiting = wf.describe_execution(listed.execution_arn)
        assert (json.loads(waiting.input), waiting.status, waiting.redrive_count) == (
            {"id": 1},
            "FAILED",
            0,
        )
        # MaxConcurrency holds in the redrive: no second task while the first runs.
        assert not wf.get_activity_task(activity, wait_seconds=1)
        wf.send_task_success(first.task_token, {"done": 0})
        second = take(client, activity)
        assert json.loads(second.input) == {"id": 1}
        wf.send_task_success(second.task_token, {"done": 1})
        e = ended(client, arn, redrives=1)
        assert e.status == "SUCCEEDED", (e.error, e.cause)
        assert json.loads(e.output) == [{"done": 0}, {"done": 1}]
        counts = ended_run(client, map_run, redrives=1)["executionCounts"]
        assert (counts["succeeded"], counts["pendingRedrive"], counts["failed"]) == (2, 0, 0)
        assert not wf.list_executions(map_run_arn=map_run, status_filter="PENDING_REDRIVE")
    finally:
        wf.delete_activity(activity)


def test_map_run_redrive_through_boto3_and_the_cli(
    client: Client,
    server: EventplaneProcess,
    table: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=server.gateway_url,
        region_name=REGION,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        config=Config(retries={"max_attempts": 1}),
    )
    n = 3
    set_broken(client, table, list(range(n)), False)
    set_broken(client, table, [2], True)
    sm = map_machine(client, table, MaxConcurrency=1)  # 0 and 1 succeed before 2 fails
    arn = sfn.start_execution(stateMachineArn=sm, input=json.dumps(items(n)))["executionArn"]

    def status(count: int) -> dict[str, Any]:
        e = sfn.describe_execution(executionArn=arn)
        assert e["status"] != "RUNNING" and e.get("redriveCount", 0) == count, e
        return e

    assert eventually(lambda: status(0), timeout=45)["status"] == "FAILED"
    (item,) = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    first = eventually(
        lambda: (
            sfn.describe_map_run(mapRunArn=item["mapRunArn"])
            if sfn.describe_map_run(mapRunArn=item["mapRunArn"])["status"] == "FAILED"
            else None
        ),
        timeout=30,
    )
    assert first["redriveCount"] == 0 and "redriveDate" not in first
    assert first["executionCounts"]["failed"] == 1
    assert first["executionCounts"]["pendingRedrive"] == 0
    assert first["itemCounts"]["failuresNotRedrivable"] == 0
    with pytest.raises(sfn.exceptions.ValidationException):
        sfn.list_executions(stateMachineArn=sm, statusFilter="PENDING_REDRIVE")

    set_broken(client, table, [2], False)
    sfn.redrive_execution(executionArn=arn)
    assert eventually(lambda: status(1), timeout=45)["status"] == "SUCCEEDED"
    assert counted(client, table, n, "runs") == dict.fromkeys(range(n), 1)
    assert counted(client, table, n, "checks") == dict.fromkeys(range(n), 1)

    def redriven() -> dict[str, Any]:
        mr = sfn.describe_map_run(mapRunArn=item["mapRunArn"])
        assert mr["status"] == "SUCCEEDED", mr
        return mr

    mr = eventually(redriven, timeout=30)
    assert mr["mapRunArn"] == item["mapRunArn"] and mr["redriveCount"] == 1
    assert mr["redriveDate"] >= first["startDate"]
    assert mr["itemCounts"]["succeeded"] == mr["itemCounts"]["total"] == n
    assert (mr["itemCounts"]["pendingRedrive"], mr["itemCounts"]["failuresNotRedrivable"]) == (
        0,
        0,
    )
    again = sfn.list_executions(mapRunArn=item["mapRunArn"], redriveFilter="REDRIVEN")
    assert [e.get("redriveCount") for e in again["executions"]] == [1]
    history = sfn.get_execution_history(executionArn=arn)["events"]
    (event,) = [ev for ev in history if ev["type"] == "MapRunRedriven"]
    assert event["mapRunRedrivenEventDetails"] == {
        "mapRunArn": item["mapRunArn"],
        "redriveCount": 1,
    }

    ep = ["--endpoint", server.endpoint]
    assert main(["workflow", "describe-map-run", item["mapRunArn"], "--json", *ep]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["redriveCount"], shown["itemCounts"]["pendingRedrive"]) == (1, 0)
    assert shown["redriveDate"] == int(mr["redriveDate"].timestamp() * 1000)
    assert main(["workflow", "map-run-executions", item["mapRunArn"], "--json", *ep]) == 0
    listed = json.loads(capsys.readouterr().out)["executions"]
    assert sorted(e["redrive_count"] for e in listed) == [0, 0, 1]
    cmd = ["workflow", "map-run-executions", item["mapRunArn"], "--status", "PENDING_REDRIVE"]
    assert main([*cmd, "--json", *ep]) == 0
    assert json.loads(capsys.readouterr().out)["executions"] == []
