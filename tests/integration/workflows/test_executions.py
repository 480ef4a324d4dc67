"""Standard and Express executions on the real broker with real function workers."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess, eventually

from .conftest import stage_count, tasks_journaled, unique

pytestmark = pytest.mark.integration


def machine(client: Client, definition: dict[str, Any], type: str = "STANDARD") -> str:
    return client.workflows.create_state_machine(
        unique("sm"), definition, type=type
    ).state_machine_arn


def finished(client: Client, arn: str, timeout: float = 30.0) -> Any:
    def done() -> Any:
        e = client.workflows.describe_execution(arn)
        assert e.status != "RUNNING", e
        return e

    return eventually(done, timeout=timeout)


def types(client: Client, arn: str) -> list[str]:
    return [e["type"] for e in client.workflows.get_execution_history(arn)]


def test_a_task_chain_passes_each_result_on(
    client: Client, fns: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "calls"
    step = {"Type": "Task", "Resource": fns["add"]}
    sm = machine(
        client,
        {
            "StartAt": "One",
            "States": {
                "One": {**step, "Next": "Two"},
                "Two": {**step, "Next": "Three"},
                "Three": {**step, "ResultSelector": {"n.$": "$.n"}, "End": True},
            },
        },
    )
    run = client.workflows.start_execution(sm, {"n": 1, "log": str(log)})
    e = finished(client, run.execution_arn)
    assert (e.status, e.json()) == ("SUCCEEDED", {"n": 4})
    assert [json.loads(x) for x in log.read_text().splitlines()] == [
        {"add": 1},
        {"add": 2},
        {"add": 3},
    ]
    history = types(client, run.execution_arn)
    assert history.count("LambdaFunctionSucceeded") == 3
    assert history[0] == "ExecutionStarted" and history[-1] == "ExecutionSucceeded"
    assert e.state_transitions == 3


def test_retry_then_catch_on_handler_errors(
    client: Client, fns: dict[str, str], tmp_path: Path
) -> None:
    sm = machine(
        client,
        {
            "StartAt": "Flaky",
            "States": {
                "Flaky": {
                    "Type": "Task",
                    "Resource": fns["flaky"],
                    "ResultPath": "$.flaky",
                    "Retry": [
                        {
                            "ErrorEquals": ["ValueError"],
                            "IntervalSeconds": 1,
                            "BackoffRate": 1,
                            "MaxAttempts": 2,
                        }
                    ],
                    "Next": "Boom",
                },
                "Boom": {
                    "Type": "Task",
                    "Resource": fns["boom"],
                    "Catch": [
                        {"ErrorEquals": ["KeyError"], "ResultPath": "$.error", "Next": "Handled"}
                    ],
                    "End": True,
                },
                "Handled": {"Type": "Pass", "End": True},
            },
        },
    )
    counter = tmp_path / "counter"
    run = client.workflows.start_execution(sm, {"counter": str(counter), "fail_times": 2})
    e = finished(client, run.execution_arn)
    assert e.status == "SUCCEEDED", (e.error, e.cause)
    out = e.json()
    assert out["flaky"] == {"calls": 3}
    assert out["error"]["Error"] == "KeyError"
    assert json.loads(out["error"]["Cause"])["errorType"] == "KeyError"
    assert types(client, run.execution_arn).count("LambdaFunctionFailed") == 3


def test_retries_exhausted_fail_the_execution_with_the_handler_error(
    client: Client, fns: dict[str, str], tmp_path: Path
) -> None:
    sm = machine(
        client,
        {
            "StartAt": "Flaky",
            "States": {
                "Flaky": {
                    "Type": "Task",
                    "Resource": fns["flaky"],
                    "End": True,
                    "Retry": [
                        {
                            "ErrorEquals": ["States.TaskFailed"],
                            "IntervalSeconds": 1,
                            "MaxAttempts": 1,
                        }
                    ],
                }
            },
        },
    )
    run = client.workflows.start_execution(sm, {"counter": str(tmp_path / "c"), "fail_times": 5})
    e = finished(client, run.execution_arn)
    assert (e.status, e.error) == ("FAILED", "ValueError")
    assert (tmp_path / "c").read_text() == "2"


def test_a_wait_holds_the_execution_until_its_time(client: Client) -> None:
    sm = machine(
        client, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 2, "End": True}}}
    )
    run = client.workflows.start_execution(sm, {"x": 1})
    assert client.workflows.describe_execution(run.execution_arn).status == "RUNNING"
    e = finished(client, run.execution_arn)
    assert e.status == "SUCCEEDED" and e.json() == {"x": 1}
    history = client.workflows.get_execution_history(run.execution_arn)
    entered = next(h for h in history if h["type"] == "WaitStateEntered")["timestamp"]
    exited = next(h for h in history if h["type"] == "WaitStateExited")["timestamp"]
    assert exited - entered >= 2000


def test_callback_with_a_task_token(client: Client, fns: dict[str, str], tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    sm = machine(
        client,
        {
            "StartAt": "Approve",
            "States": {
                "Approve": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "HeartbeatSeconds": 60,
                    "Parameters": {
                        "FunctionName": fns["keep_token"],
                        "Payload": {"file": str(token_file), "token.$": "$$.Task.Token"},
                    },
                    "ResultPath": "$.approval",
                    "End": True,
                }
            },
        },
    )
    run = client.workflows.start_execution(sm, {"order": 7})
    token = eventually(lambda: token_file.exists() and token_file.read_text(), timeout=30)
    eventually(lambda: "TaskSubmitted" in types(client, run.execution_arn))
    client.workflows.send_task_heartbeat(token)
    assert client.workflows.describe_execution(run.execution_arn).status == "RUNNING"
    client.workflows.send_task_success(token, {"approved": True})
    e = finished(client, run.execution_arn)
    assert e.json() == {"order": 7, "approval": {"approved": True}}
    with pytest.raises(EventplaneError) as late:
        client.workflows.send_task_success(token, {"approved": False})
    assert late.value.code == "TaskTimedOut"
    with pytest.raises(EventplaneError) as bad:
        client.workflows.send_task_failure("not-a-token", error="E")
    assert bad.value.code == "InvalidToken"


def test_a_failed_callback_reaches_catch(
    client: Client, fns: dict[str, str], tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    sm = machine(
        client,
        {
            "StartAt": "Approve",
            "States": {
                "Approve": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "Parameters": {
                        "FunctionName": fns["keep_token"],
                        "Payload": {"file": str(token_file), "token.$": "$$.Task.Token"},
                    },
                    "Catch": [{"ErrorEquals": ["Rejected"], "Next": "No"}],
                    "End": True,
                },
                "No": {"Type": "Fail", "Error": "OrderRejected"},
            },
        },
    )
    run = client.workflows.start_execution(sm, {})
    token = eventually(lambda: token_file.exists() and token_file.read_text(), timeout=30)
    client.workflows.send_task_failure(token, error="Rejected", cause="too expensive")
    e = finished(client, run.execution_arn)
    assert (e.status, e.error) == ("FAILED", "OrderRejected")


def test_start_is_idempotent_by_name_and_input(client: Client) -> None:
    sm = machine(
        client, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": True}}}
    )
    first = client.workflows.start_execution(sm, {"a": 1}, name="once")
    again = client.workflows.start_execution(sm, {"a": 1}, name="once")
    assert (again.execution_arn, again.start_date) == (first.execution_arn, first.start_date)
    with pytest.raises(EventplaneError) as exc:
        client.workflows.start_execution(sm, {"a": 2}, name="once")
    assert exc.value.code == "ExecutionAlreadyExists"
    client.workflows.stop_execution(first.execution_arn, error="Enough", cause="test over")
    e = finished(client, first.execution_arn)
    assert (e.status, e.error, e.cause) == ("ABORTED", "Enough", "test over")
    assert types(client, first.execution_arn)[-2:] == ["WaitStateAborted", "ExecutionAborted"]


def test_list_state_machines_lists_each_with_its_type_and_creation(client: Client) -> None:
    pass_only = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    standard = client.workflows.create_state_machine(unique("sm"), pass_only)
    express = client.workflows.create_state_machine(unique("sm"), pass_only, type="EXPRESS")
    listed = {m.state_machine_arn: m for m in client.workflows.list_state_machines()}
    for made, kind in ((standard, "STANDARD"), (express, "EXPRESS")):
        item = listed[made.state_machine_arn]
        assert (item.name, item.type) == (made.name, kind)
        assert item.creation_date == made.creation_date > 0
    client.workflows.delete_state_machine(express.state_machine_arn)
    arns = [m.state_machine_arn for m in client.workflows.list_state_machines()]
    assert standard.state_machine_arn in arns and express.state_machine_arn not in arns


def test_list_executions_filters_and_pages(client: Client) -> None:
    sm = machine(
        client,
        {
            "StartAt": "C",
            "States": {
                "C": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Y"}],
                    "Default": "N",
                },
                "Y": {"Type": "Succeed"},
                "N": {"Type": "Fail", "Error": "No"},
            },
        },
    )
    arns = [
        client.workflows.start_execution(sm, {"ok": i % 3 != 0}).execution_arn for i in range(5)
    ]
    for arn in arns:
        finished(client, arn)
    everything = client.workflows.list_executions(sm)
    assert sorted(e.execution_arn for e in everything) == sorted(arns)
    assert len(client.workflows.list_executions(sm, status_filter="FAILED")) == 2
    assert len(client.workflows.list_executions(sm, status_filter="SUCCEEDED")) == 3
    history = client.workflows.get_execution_history(arns[0], reverse_order=True)
    assert history[0]["type"] == "ExecutionFailed" and history[-1]["type"] == "ExecutionStarted"


def test_express_sync_execution_returns_its_output(client: Client, fns: dict[str, str]) -> None:
    sm = machine(
        client,
        {
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Parallel",
                    "End": True,
                    "Branches": [
                        {
                            "StartAt": "A",
                            "States": {"A": {"Type": "Task", "Resource": fns["add"], "End": True}},
                        },
                        {
                            "StartAt": "B",
                            "States": {"B": {"Type": "Pass", "Result": "b", "End": True}},
                        },
                    ],
                }
            },
        },
        type="EXPRESS",
    )
    e = client.workflows.start_sync_execution(sm, {"n": 41})
    assert (e.status, e.json()) == ("SUCCEEDED", [{"n": 42}, "b"])
    failed = client.workflows.start_sync_execution(sm, {"no_n": True})
    assert failed.status == "FAILED" and failed.error == "KeyError"
    standard = machine(client, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    with pytest.raises(EventplaneError) as exc:
        client.workflows.start_sync_execution(standard, {})
    assert exc.value.code == "StateMachineTypeNotSupported"


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (
            lambda c: c.workflows.create_state_machine(
                "bad name", {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}
            ),
            "InvalidName",
        ),
        (
            lambda c: c.workflows.create_state_machine(
                unique("sm"), {"StartAt": "Nope", "States": {"A": {"Type": "Succeed"}}}
            ),
            "InvalidDefinition",
        ),
        (
            lambda c: c.workflows.create_state_machine(unique("sm"), "{not json"),
            "InvalidDefinition",
        ),
        (
            lambda c: c.workflows.describe_state_machine(
                "arn:aws:states:local:000000000000:stateMachine:nope"
            ),
            "StateMachineDoesNotExist",
        ),
        (lambda c: c.workflows.describe_state_machine("not-an-arn"), "InvalidArn"),
        (
            lambda c: c.workflows.start_execution(
                "arn:aws:states:local:000000000000:stateMachine:nope", {}
            ),
            "StateMachineDoesNotExist",
        ),
        (
            lambda c: c.workflows.describe_execution(
                "arn:aws:states:local:000000000000:execution:m:nope"
            ),
            "ExecutionDoesNotExist",
        ),
        (
            lambda c: c.workflows.describe_execution("arn:aws:sqs:local:000000000000:q"),
            "InvalidArn",
        ),
    ],
    ids=[
        "name",
        "definition",
        "json",
        "no-machine",
        "arn",
        "start-no-machine",
        "no-execution",
        "execution-arn",
    ],
)
def test_bad_requests_get_aws_error_codes(client: Client, call: Any, code: str) -> None:
    with pytest.raises(EventplaneError) as exc:
        call(client)
    assert exc.value.code == code


def test_bad_input_gets_invalid_execution_input(client: Client) -> None:
    sm = machine(client, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    with pytest.raises(EventplaneError) as exc:
        client.workflows.start_execution(sm, "{oops")
    assert exc.value.code == "InvalidExecutionInput"


def test_validation_reports_diagnostics(client: Client) -> None:
    r = client.workflows.validate_state_machine_definition(
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Missing"}}}
    )
    assert r.result == "FAIL"
    assert any(d.location.startswith("/States/A") for d in r.diagnostics)
    ok = client.workflows.validate_state_machine_definition(
        {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}
    )
    assert (ok.result, ok.diagnostics) == ("OK", [])


def test_metrics_count_executions_and_transitions(
    client: Client, wf_server: EventplaneProcess
) -> None:
    sm = machine(client, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    finished(client, client.workflows.start_execution(sm, {}).execution_arn)
    name = sm.rsplit(":", 1)[-1]

    def scraped() -> str:
        text = urllib.request.urlopen(wf_server.metrics_url, timeout=5).read().decode()
        labels = f'outcome="succeeded",state_machine="{name}",type="STANDARD"'
        assert f"eventplane_workflow_executions_total{{{labels}}} 1.0" in text
        return text

    text = eventually(scraped)
    assert (
        f'eventplane_workflow_state_transitions_total{{state_machine="{name}",type="STANDARD"}} 1.0'
        in text
    )
    assert "eventplane_workflow_transition_latency_seconds_count" in text


def test_cli_runs_a_human_approval(
    client: Client,
    fns: dict[str, str],
    wf_server: EventplaneProcess,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from eventplane.cli import main

    token_file = tmp_path / "token"
    definition = tmp_path / "approval.asl.json"
    definition.write_text(
        json.dumps(
            {
                "StartAt": "Ask",
                "States": {
                    "Ask": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                        "Parameters": {
                            "FunctionName": fns["keep_token"],
                            "Payload": {"file": str(token_file), "token.$": "$$.Task.Token"},
                        },
                        "End": True,
                    }
                },
            }
        )
    )
    name = unique("approval")
    ep = ["--endpoint", wf_server.endpoint]
    assert main(["workflow", "create", name, "--definition", str(definition), *ep]) == 0
    assert main(["workflow", "validate", "--definition", str(definition), *ep]) == 0
    capsys.readouterr()
    assert (
        main(["workflow", "start", name, "--input", '{"amount": 5}', "--name", "ask-1", *ep]) == 0
    )
    arn = capsys.readouterr().out.split()[0]
    token = eventually(lambda: token_file.exists() and token_file.read_text(), timeout=30)
    assert main(["workflow", "send-task-success", token, "--output", '{"ok": true}', *ep]) == 0
    finished(client, arn)
    capsys.readouterr()
    assert main(["workflow", "describe-execution", arn, "--json", *ep]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["status"], json.loads(shown["output"])) == ("SUCCEEDED", {"ok": True})
    assert main(["workflow", "history", arn, *ep]) == 0
    assert "TaskSubmitted" in capsys.readouterr().out
    assert main(["workflow", "executions", name, "--status", "SUCCEEDED", "--json", *ep]) == 0
    assert [e["execution_arn"] for e in json.loads(capsys.readouterr().out)["executions"]] == [arn]
    assert main(["workflow", "describe-execution", arn + "x", *ep]) != 0


def test_service_integrations_send_to_queues_topics_and_buses(client: Client) -> None:
    queue = unique("wfq")
    url = client.queues.create_queue(queue)
    topic = client.topics.create_topic(unique("wft"))
    try:
        sm = machine(
            client,
            {
                "StartAt": "Send",
                "States": {
                    "Send": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::sqs:sendMessage",
                        "Parameters": {"QueueUrl": url, "MessageBody.$": "$.order"},
                        "ResultPath": "$.sqs",
                        "Next": "Publish",
                    },
                    "Publish": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::sns:publish",
                        "Parameters": {"TopicArn": topic, "Message.$": "$.order"},
                        "ResultPath": "$.sns",
                        "Next": "Put",
                    },
                    "Put": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::events:putEvents",
                        "Parameters": {
                            "Entries": [
                                {"Source": "wf.test", "DetailType": "Order", "Detail.$": "$.order"}
                            ]
                        },
                        "ResultPath": "$.events",
                        "Next": "Missing",
                    },
                    "Missing": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::sqs:sendMessage",
                        "Parameters": {"QueueUrl": url + "-missing", "MessageBody": "x"},
                        "Catch": [
                            {
                                "ErrorEquals": ["States.ALL"],
                                "ResultPath": "$.missing",
                                "Next": "Done",
                            }
                        ],
                        "End": True,
                    },
                    "Done": {"Type": "Succeed"},
                },
            },
        )
        run = client.workflows.start_execution(sm, {"order": {"id": 9}})
        e = finished(client, run.execution_arn)
        assert e.status == "SUCCEEDED", (e.error, e.cause)
        out = e.json()
        assert out["sqs"]["MessageId"] and out["sns"]["MessageId"]
        assert out["events"]["FailedEntryCount"] == 0 and out["events"]["Entries"][0]["EventId"]
        assert out["missing"]["Error"] == "SQS.QueueDoesNotExistException"
        got = client.queues.receive_message(url, wait_time_seconds=5)
        assert [json.loads(m.body) for m in got] == [{"id": 9}]
    finally:
        client.queues.delete_queue(url)
        client.topics.delete_topic(topic)


def test_function_tasks_run_by_their_owner_run_exactly_once(
    wf_server: EventplaneProcess, client: Client, fns: dict[str, str], tmp_path: Path
) -> None:
    """The owner calls each function Task right after its step committed, and the task
    record it wrote in that step is still read by a dispatcher: each runs once all the
    same, and each result goes straight into the owner's next step (not through the
    inbox), journaled there once."""
    log = tmp_path / "calls"
    task = {"Type": "Task", "Resource": fns["mark"]}
    states: dict[str, Any] = {
        f"T{i}": {**task, "Parameters": {"step": f"T{i}", "log": str(log)}, "Next": f"T{i + 1}"}
        for i in range(4)
    }
    states["T4"] = {**task, "Parameters": {"step": "T4", "log": str(log)}, "End": True}
    sm = machine(client, {"StartAt": "T0", "States": states})
    before = stage_count(wf_server, "wf_commit_to_direct_invoke")
    handed = stage_count(wf_server, "wf_result_to_owner_step")
    run = client.workflows.start_execution(sm, {})
    e = finished(client, run.execution_arn)
    assert e.status == "SUCCEEDED", (e.error, e.cause)
    # one server holds every partition: its owners ran all five, and took their results
    # into their next steps themselves
    assert stage_count(wf_server, "wf_commit_to_direct_invoke") - before == 5
    assert stage_count(wf_server, "wf_result_to_owner_step") - handed == 5
    tasks_journaled(wf_server, [run.execution_arn])
    assert [json.loads(x) for x in log.read_text().splitlines()] == [f"T{i}" for i in range(5)]
    events = client.workflows.get_execution_history(run.execution_arn)
    succeeded = [e for e in events if e["type"] == "LambdaFunctionSucceeded"]
    assert len(succeeded) == 5
    # one per task, in order, each with its own task's output
    assert [
        json.loads(x["lambdaFunctionSucceededEventDetails"]["output"])["step"] for x in succeeded
    ] == [f"T{i}" for i in range(5)]


def _samples(server: EventplaneProcess, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``, as scraped now."""
    from prometheus_client.parser import text_string_to_metric_families

    text = urllib.request.urlopen(server.metrics_url, timeout=5).read().decode()
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and labels.items() <= s.labels.items()
    )


def test_function_tasks_invoke_through_the_functions_core_not_the_loopback_api(
    client: Client, fns: dict[str, str], wf_server: EventplaneProcess, tmp_path: Path
) -> None:
    """With the functions role in the process, a function Task (Standard and Express, by
    function ARN and by lambda:invoke) runs on the core the Invoke API serves, without a
    gRPC call to the server's own socket: the function runs, and no Invoke is served."""
    log = tmp_path / "calls"
    name = fns["add"].rsplit(":", 1)[-1]
    definition = {
        "StartAt": "ByArn",
        "States": {
            "ByArn": {"Type": "Task", "Resource": fns["add"], "Next": "ByIntegration"},
            "ByIntegration": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": name, "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "End": True,
            },
        },
    }
    standard = machine(client, definition)
    express = machine(client, definition, type="EXPRESS")
    served = _samples(
        wf_server, "eventplane_rpc_duration_seconds_count", service="Functions", method="Invoke"
    )
    ran = _samples(wf_server, "eventplane_function_invocations_total", function=name)

    run = client.workflows.start_execution(standard, {"n": 1, "log": str(log)})
    e = finished(client, run.execution_arn)
    assert (e.status, e.json()) == ("SUCCEEDED", {"n": 3, "log": str(log)})
    done = client.workflows.start_sync_execution(express, {"n": 10, "log": str(log)})
    assert (done.status, done.json()) == ("SUCCEEDED", {"n": 12, "log": str(log)})

    assert len(log.read_text().splitlines()) == 4
    assert eventually(
        lambda: (
            _samples(wf_server, "eventplane_function_invocations_total", function=name) == ran + 4
        )
    )
    assert (
        _samples(
            wf_server,
            "eventplane_rpc_duration_seconds_count",
            service="Functions",
            method="Invoke",
        )
        == served
    )
