"""Distributed Map (ProcessorConfig.Mode DISTRIBUTED) on the real broker: child executions
under a Map Run, item readers (input, queue, table scan), a queue ResultWriter, Map Run
APIs through the SDK and boto3, and a restart in the middle of a run.

One server per module (its own cluster, gateway on); the restart test kills and starts
it again, so it runs last.
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
from eventplane.errors import EventplaneError, ServiceUnavailable
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

from .conftest import unique

pytestmark = pytest.mark.integration

KEY, SECRET, ACCOUNT, REGION = "AKIDDMAPTEST0001", "dmap-secret", "000000000000", "us-east-1"
QUEUE_READER = "arn:aws:states:::sqs:receiveMessage"
SCAN_READER = "arn:aws:states:::dynamodb:scan"
QUEUE_WRITER = "arn:aws:states:::sqs:sendMessage"


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    s = EventplaneProcess(
        eventplane_kafka,
        roles="api,workflows,queues,tables",
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


def processor(states: dict[str, Any], start: str, kind: str = "EXPRESS") -> dict[str, Any]:
    return {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": kind},
        "StartAt": start,
        "States": states,
    }


ECHO = processor({"P": {"Type": "Pass", "End": True}}, "P")


def machine(client: Client, map_state: dict[str, Any]) -> str:
    definition = {"StartAt": "M", "States": {"M": {"Type": "Map", "End": True, **map_state}}}
    return client.workflows.create_state_machine(unique("dmap"), definition).state_machine_arn


def finished(client: Client, arn: str, timeout: float = 45.0) -> Any:
    def done() -> Any:
        e = client.workflows.describe_execution(arn)
        assert e.status != "RUNNING", e
        return e

    return eventually(done, timeout=timeout)


def run(client: Client, map_state: dict[str, Any], input: Any) -> tuple[Any, str]:
    arn = client.workflows.start_execution(machine(client, map_state), input).execution_arn
    return finished(client, arn), arn


def the_map_run(client: Client, execution_arn: str) -> dict[str, Any]:
    runs = client.workflows.list_map_runs(execution_arn)
    assert len(runs) == 1, runs
    return runs[0]


def test_children_are_executions_of_the_map_run_and_output_keeps_item_order(
    client: Client,
) -> None:
    items = [5, 4, 3, 2, 1, 0]
    m = {"ItemProcessor": ECHO, "ItemSelector": {"v.$": "$$.Map.Item.Value"}, "Label": "echo"}
    e, arn = run(client, {**m, "ItemsPath": "$.items"}, {"items": items})
    assert e.status == "SUCCEEDED", e
    assert json.loads(e.output) == [{"v": i} for i in items]

    item = the_map_run(client, arn)
    machine_name = e.state_machine_arn.rsplit(":", 1)[-1]
    assert item["mapRunArn"].startswith("arn:aws:states:")
    assert f":mapRun:{machine_name}/echo:" in item["mapRunArn"]
    assert item["stateMachineArn"].endswith(f":stateMachine:{machine_name}/echo")
    children = client.workflows.list_executions(map_run_arn=item["mapRunArn"])
    assert len(children) == len(items)
    assert {c.status for c in children} == {"SUCCEEDED"}
    assert all(f":express:{machine_name}/echo:" in c.execution_arn for c in children)

    run_doc = client.workflows.describe_map_run(item["mapRunArn"])
    assert run_doc["status"] == "SUCCEEDED" and run_doc["executionArn"] == arn
    assert run_doc["itemCounts"]["succeeded"] == run_doc["itemCounts"]["total"] == 6
    assert run_doc["executionCounts"]["succeeded"] == 6
    assert run_doc["stopDate"] >= run_doc["startDate"]
    types = [ev["type"] for ev in client.workflows.get_execution_history(arn)]
    assert types[1:5] == ["MapStateEntered", "MapRunStarted", "MapRunSucceeded", "MapStateExited"]
    history = client.workflows.get_execution_history(arn)
    started = next(ev for ev in history if ev["type"] == "MapRunStarted")
    assert started["mapRunStartedEventDetails"] == {"mapRunArn": item["mapRunArn"]}


def test_an_express_machine_runs_a_distributed_map_of_express_children(client: Client) -> None:
    definition = {
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "End": True, "ItemProcessor": ECHO, "MaxConcurrency": 2}},
    }
    sm = client.workflows.create_state_machine(unique("dmap-x"), definition, type="EXPRESS")
    e = client.workflows.start_sync_execution(sm.state_machine_arn, [3, 1, 2])
    assert (e.status, json.loads(e.output)) == ("SUCCEEDED", [3, 1, 2])
    item = the_map_run(client, e.execution_arn)
    assert client.workflows.describe_map_run(item["mapRunArn"])["status"] == "SUCCEEDED"
    assert len(client.workflows.list_executions(map_run_arn=item["mapRunArn"])) == 3


def test_item_batcher_runs_one_child_per_batch(client: Client) -> None:
    m = {
        "ItemProcessor": ECHO,
        "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"tag": "b"}},
    }
    e, arn = run(client, m, [1, 2, 3, 4, 5])
    assert e.status == "SUCCEEDED", e
    assert json.loads(e.output) == [
        {"Items": [1, 2], "tag": "b"},
        {"Items": [3, 4], "tag": "b"},
        {"Items": [5], "tag": "b"},
    ]
    counts = client.workflows.describe_map_run(the_map_run(client, arn)["mapRunArn"])
    assert counts["itemCounts"]["total"] == 5
    assert counts["executionCounts"]["total"] == 3


ODD_FAILS = processor(
    {
        "C": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.odd", "BooleanEquals": True, "Next": "F"},
            ],
            "Default": "P",
        },
        "F": {"Type": "Fail", "Error": "Odd", "Cause": "odd item"},
        "P": {"Type": "Pass", "End": True},
    },
    "C",
)


def odd_items(n: int) -> list[dict[str, Any]]:
    return [{"i": i, "odd": i % 2 == 1} for i in range(n)]


def test_failures_beyond_the_tolerated_count_fail_the_map(client: Client) -> None:
    m = {"ItemProcessor": ODD_FAILS, "ToleratedFailureCount": 2}
    e, arn = run(client, m, odd_items(10))
    assert e.status == "FAILED", e
    assert e.error == "States.ExceedToleratedFailureThreshold"
    mr = client.workflows.describe_map_run(the_map_run(client, arn)["mapRunArn"])
    assert mr["status"] == "FAILED" and mr["toleratedFailureCount"] == 2
    assert mr["itemCounts"]["failed"] > 2
    failed = next(
        ev for ev in client.workflows.get_execution_history(arn) if ev["type"] == "MapRunFailed"
    )
    assert failed["mapRunFailedEventDetails"]["error"] == "States.ExceedToleratedFailureThreshold"


def test_failures_within_the_tolerated_percentage_keep_the_error_objects(client: Client) -> None:
    m = {"ItemProcessor": ODD_FAILS, "ToleratedFailurePercentage": 50}
    e, arn = run(client, m, odd_items(6))
    assert e.status == "SUCCEEDED", e
    out = json.loads(e.output)
    assert out[0] == {"i": 0, "odd": False}
    assert out[1] == {"Error": "Odd", "Cause": "odd item"}
    mr = client.workflows.describe_map_run(the_map_run(client, arn)["mapRunArn"])
    assert (mr["itemCounts"]["succeeded"], mr["itemCounts"]["failed"]) == (3, 3)


@pytest.fixture
def activity(client: Client) -> Iterator[str]:
    arn = client.workflows.create_activity(unique("dmap-act")).activity_arn
    yield arn
    client.workflows.delete_activity(arn)


def activity_map(activity: str, concurrency: int) -> dict[str, Any]:
    """Standard children that each wait for a worker of ``activity``."""
    states = {"W": {"Type": "Task", "Resource": activity, "End": True}}
    return {"ItemProcessor": processor(states, "W", "STANDARD"), "MaxConcurrency": concurrency}


def take(client: Client, activity: str) -> Any:
    """The next activity task (a child that is running now)."""
    return eventually(
        lambda: client.workflows.get_activity_task(activity, wait_seconds=1), timeout=30
    )


def test_max_concurrency_bounds_the_running_children_and_update_map_run_raises_it(
    client: Client, activity: str
) -> None:
    arn = client.workflows.start_execution(
        machine(client, activity_map(activity, 2)), [{"i": i} for i in range(5)]
    ).execution_arn
    map_run = eventually(lambda: the_map_run(client, arn), timeout=30)["mapRunArn"]
    held = [take(client, activity), take(client, activity)]
    # Two children hold their tasks: no third child runs (a poll finds no task).
    assert not client.workflows.get_activity_task(activity, wait_seconds=1)
    mr = client.workflows.describe_map_run(map_run)
    assert (mr["maxConcurrency"], mr["executionCounts"]["running"]) == (2, 2)
    assert mr["executionCounts"]["pending"] == 3
    running = client.workflows.list_executions(map_run_arn=map_run, status_filter="RUNNING")
    assert len(running) == 2

    client.workflows.update_map_run(map_run, max_concurrency=3)
    held.append(take(client, activity))
    assert not client.workflows.get_activity_task(activity, wait_seconds=1)
    assert client.workflows.describe_map_run(map_run)["executionCounts"]["running"] == 3
    for task in held:
        client.workflows.send_task_success(task.task_token, json.loads(task.input))
    for _ in range(2):
        task = take(client, activity)
        client.workflows.send_task_success(task.task_token, json.loads(task.input))
    e = finished(client, arn)
    assert e.status == "SUCCEEDED", e
    assert sorted(x["i"] for x in json.loads(e.output)) == list(range(5))
    assert json.loads(e.output) == [{"i": i} for i in range(5)]


def test_stopping_the_execution_aborts_the_map_run_and_its_children(
    client: Client, activity: str
) -> None:
    arn = client.workflows.start_execution(
        machine(client, activity_map(activity, 1)), [{"i": 0}, {"i": 1}]
    ).execution_arn
    take(client, activity)
    map_run = the_map_run(client, arn)["mapRunArn"]
    client.workflows.stop_execution(arn, error="Halt")
    assert finished(client, arn).status == "ABORTED"

    def aborted() -> dict[str, Any]:
        mr = client.workflows.describe_map_run(map_run)
        assert mr["status"] == "ABORTED", mr
        assert mr["executionCounts"]["aborted"] == 1, mr
        return mr

    mr = eventually(aborted, timeout=30)
    assert mr["executionCounts"]["pending"] == 1 and "stopDate" in mr
    types = [ev["type"] for ev in client.workflows.get_execution_history(arn)]
    assert "MapRunAborted" in types


def test_queue_reader_processes_and_deletes_the_messages(client: Client) -> None:
    url = client.queues.create_queue(unique("dmap-in"))
    for i in range(4):
        client.queues.send_message(url, json.dumps({"n": i}))
    m = {
        "ItemReader": {"Resource": QUEUE_READER, "Parameters": {"QueueUrl": url}},
        "ItemSelector": {"body.$": "States.StringToJson($$.Map.Item.Value.Body)"},
        "ItemProcessor": ECHO,
    }
    e, _ = run(client, m, {})
    assert e.status == "SUCCEEDED", e
    assert sorted(x["body"]["n"] for x in json.loads(e.output)) == [0, 1, 2, 3]
    attrs = client.queues.get_queue_attributes(url, ["ApproximateNumberOfMessages"])
    assert int(attrs["ApproximateNumberOfMessages"]) == 0
    assert not client.queues.receive_message(url, max_number_of_messages=10, wait_time_seconds=0)


def test_queue_reader_max_items_and_a_missing_queue(client: Client) -> None:
    url = client.queues.create_queue(unique("dmap-max"))
    for i in range(3):
        client.queues.send_message(url, str(i))
    reader = {"Resource": QUEUE_READER, "Parameters": {"QueueUrl": url}}
    e, _ = run(
        client,
        {"ItemReader": {**reader, "ReaderConfig": {"MaxItems": 2}}, "ItemProcessor": ECHO},
        {},
    )
    assert e.status == "SUCCEEDED", e
    assert len(json.loads(e.output)) == 2
    missing = {"Resource": QUEUE_READER, "Parameters": {"QueueUrl": url + "-gone"}}
    e, _ = run(client, {"ItemReader": missing, "ItemProcessor": ECHO}, {})
    assert (e.status, e.error) == ("FAILED", "States.ItemReaderFailed"), e


def put(client: Client, table: str, item: dict[str, Any]) -> None:
    """Put, retried while a new table's partitions find their owners."""

    def once() -> bool:
        try:
            client.tables.put_item(table, item)
        except ServiceUnavailable as exc:
            raise AssertionError(exc.message) from exc
        return True

    eventually(once, timeout=30)


def test_table_scan_reader(client: Client) -> None:
    table = unique("dmap-tbl")
    client.tables.create_table(
        table, key_schema=[("id", "HASH")], attribute_definitions=[("id", "S")]
    )
    try:
        for i in range(3):
            put(client, table, {"id": {"S": f"k{i}"}, "n": {"N": str(i)}})
        m = {
            "ItemReader": {"Resource": SCAN_READER, "Parameters": {"TableName": table}},
            "ItemSelector": {"id.$": "$$.Map.Item.Value.id.S"},
            "ItemProcessor": ECHO,
        }
        e, _ = run(client, m, {})
        assert e.status == "SUCCEEDED", e
        assert sorted(x["id"] for x in json.loads(e.output)) == ["k0", "k1", "k2"]
    finally:
        client.tables.delete_table(table)


def test_result_writer_sends_each_child_result_to_a_queue(client: Client) -> None:
    out = client.queues.create_queue(unique("dmap-out"))
    m = {
        "ItemProcessor": ECHO,
        "ResultWriter": {"Resource": QUEUE_WRITER, "Parameters": {"QueueUrl": out}},
    }
    e, arn = run(client, m, [10, 20, 30])
    assert e.status == "SUCCEEDED", e
    map_run = the_map_run(client, arn)["mapRunArn"]
    assert json.loads(e.output) == {
        "MapRunArn": map_run,
        "ResultWriterDetails": {"QueueUrl": out, "MessagesWritten": 3},
    }
    assert client.workflows.describe_map_run(map_run)["itemCounts"]["resultsWritten"] == 3

    def all_three() -> list[Any]:
        got = client.queues.receive_message(out, max_number_of_messages=10, wait_time_seconds=1)
        found.extend(json.loads(m.body) for m in got)
        assert len(found) == 3
        return found

    found: list[Any] = []
    docs = eventually(all_three, timeout=20)
    assert sorted(json.loads(d["Output"]) for d in docs) == [10, 20, 30]
    assert {d["Status"] for d in docs} == {"SUCCEEDED"}


@pytest.mark.parametrize(
    ("map_state", "message"),
    [
        (
            {
                "ItemProcessor": {**ECHO, "ProcessorConfig": {"Mode": "INLINE"}},
                "ItemReader": {"Resource": QUEUE_READER, "Parameters": {"QueueUrl": "q"}},
            },
            "only supported in DISTRIBUTED",
        ),
        (
            {"ItemProcessor": ECHO, "ItemReader": {"Resource": "arn:aws:states:::s3:getObject"}},
            "is not supported",
        ),
        (
            {"ItemProcessor": ECHO, "ResultWriter": {"Resource": QUEUE_WRITER, "Parameters": {}}},
            "requires the parameter 'QueueUrl'",
        ),
        ({"ItemProcessor": {**ECHO, "ProcessorConfig": {"Mode": "DISTRIBUTED"}}}, "ExecutionType"),
    ],
)
def test_definitions_aws_rejects_are_rejected_at_create(
    client: Client, map_state: dict[str, Any], message: str
) -> None:
    with pytest.raises(EventplaneError, match=message) as info:
        machine(client, map_state)
    assert info.value.code == "InvalidDefinition"


def test_map_runs_through_boto3_on_the_gateway(client: Client, server: EventplaneProcess) -> None:
    _, arn = run(client, {"ItemProcessor": ECHO, "Label": "boto"}, [1, 2])
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=server.gateway_url,
        region_name=REGION,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        config=Config(retries={"max_attempts": 1}),
    )
    (item,) = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    assert item["executionArn"] == arn and ":mapRun:" in item["mapRunArn"]
    mr = sfn.describe_map_run(mapRunArn=item["mapRunArn"])
    assert mr["status"] == "SUCCEEDED"
    assert mr["itemCounts"]["succeeded"] == mr["itemCounts"]["total"] == 2
    assert mr["executionCounts"]["total"] == 2
    children = sfn.list_executions(mapRunArn=item["mapRunArn"])["executions"]
    assert len(children) == 2
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.describe_map_run(mapRunArn=item["mapRunArn"] + "x")


def test_map_runs_through_the_cli(
    client: Client, server: EventplaneProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    _, arn = run(client, {"ItemProcessor": ECHO}, [1, 2, 3])
    ep = ["--endpoint", server.endpoint]
    assert main(["workflow", "map-runs", arn, "--json", *ep]) == 0
    (item,) = json.loads(capsys.readouterr().out)["mapRuns"]
    assert main(["workflow", "describe-map-run", item["mapRunArn"], "--json", *ep]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["status"], shown["itemCounts"]["succeeded"]) == ("SUCCEEDED", 3)
    assert (
        main(["workflow", "update-map-run", item["mapRunArn"], "--max-concurrency", "4", *ep]) == 0
    )
    assert client.workflows.describe_map_run(item["mapRunArn"])["maxConcurrency"] == 4
    assert main(["workflow", "describe-map-run", item["mapRunArn"] + "x", *ep]) != 0


def test_a_restart_mid_map_finishes_it_without_rerunning_finished_children(
    server: EventplaneProcess, activity: str
) -> None:
    with server.client(timeout=60) as c:
        sm = machine(c, activity_map(activity, 1))
        arn = c.workflows.start_execution(sm, [{"i": i} for i in range(3)]).execution_arn
        first = take(c, activity)
        c.workflows.send_task_success(first.task_token, {"i": 0})
        second = take(c, activity)
        map_run = the_map_run(c, arn)["mapRunArn"]
    server.kill()
    server.restart()
    with server.client(timeout=60) as c:
        c.workflows.send_task_success(second.task_token, {"i": 1})
        third = take(c, activity)
        assert json.loads(third.input) == {"i": 2}
        c.workflows.send_task_success(third.task_token, {"i": 2})
        e = finished(c, arn, timeout=60)
        assert e.status == "SUCCEEDED", e
        assert json.loads(e.output) == [{"i": 0}, {"i": 1}, {"i": 2}]
        # Three children, each started once; no fourth task was handed out.
        children = c.workflows.list_executions(map_run_arn=map_run)
        assert len(children) == 3
        for child in children:
            types = [ev["type"] for ev in c.workflows.get_execution_history(child.execution_arn)]
            assert types.count("ExecutionStarted") == 1 and types.count("ActivityScheduled") == 1
        assert not c.workflows.get_activity_task(activity, wait_seconds=1)
        assert c.workflows.describe_map_run(map_run)["status"] == "SUCCEEDED"


def test_many_standard_children_under_a_concurrency_limit(client: Client) -> None:
    standard = processor({"P": {"Type": "Pass", "End": True}}, "P", "STANDARD")
    items = list(range(60))
    e, arn = run(client, {"ItemProcessor": standard, "MaxConcurrency": 25}, items)
    assert e.status == "SUCCEEDED", e
    assert json.loads(e.output) == items
    mr = client.workflows.describe_map_run(the_map_run(client, arn)["mapRunArn"])
    assert mr["executionCounts"]["succeeded"] == 60
