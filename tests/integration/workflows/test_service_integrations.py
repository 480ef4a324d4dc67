"""The optimized service integrations as a state sees them on a real server: the result
shapes AWS documents, the error names a Catch matches, callback tokens' answers, and
what is refused when the state machine is created."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.testing import eventually

from .conftest import unique
from .test_executions import finished, machine

pytestmark = pytest.mark.integration

R = "arn:aws:states:::"
META = {"SdkHttpMetadata", "SdkResponseMetadata"}


def caught(resource: str, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A one-Task machine whose failures land in the output as {Error, Cause}."""
    return {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": resource,
                "Parameters": params,
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}],
                "End": True,
                **extra,
            },
            "F": {"Type": "Pass", "End": True},
        },
    }


def outcome(client: Client, definition: dict[str, Any], input: Any = None) -> Any:
    run = client.workflows.start_execution(machine(client, definition), input or {})
    e = finished(client, run.execution_arn)
    assert e.status == "SUCCEEDED", (e.error, e.cause)
    return e.json()


@pytest.fixture(scope="module")
def queue(client: Client) -> Iterator[str]:
    url = client.queues.create_queue(unique("siq"))
    yield url
    client.queues.delete_queue(url)


def test_lambda_invoke_result_and_errors(client: Client, fns: dict[str, str]) -> None:
    out = outcome(
        client, caught(R + "lambda:invoke", {"FunctionName": fns["add"], "Payload": {"n": 1}})
    )
    assert sorted(out) == [
        "ExecutedVersion",
        "Payload",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
        "StatusCode",
    ]
    assert (out["ExecutedVersion"], out["Payload"], out["StatusCode"]) == ("$LATEST", {"n": 2}, 200)
    assert out["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert out["SdkResponseMetadata"]["RequestId"]

    boom = outcome(client, caught(R + "lambda:invoke", {"FunctionName": fns["boom"]}))
    assert boom["Error"] == "KeyError"
    assert json.loads(boom["Cause"])["errorType"] == "KeyError"

    missing = outcome(client, caught(R + "lambda:invoke", {"FunctionName": fns["add"] + "-gone"}))
    assert missing["Error"] == "Lambda.ResourceNotFoundException"


def test_sqs_and_sns_results_and_errors(client: Client, queue: str) -> None:
    out = outcome(client, caught(R + "sqs:sendMessage", {"QueueUrl": queue, "MessageBody.$": "$"}))
    assert set(out) == {"MD5OfMessageBody", "MessageId", *META}
    (got,) = client.queues.receive_message(queue, wait_time_seconds=5)
    assert json.loads(got.body) == {} and got.message_id == out["MessageId"]

    gone = outcome(
        client, caught(R + "sqs:sendMessage", {"QueueUrl": queue + "-gone", "MessageBody": "x"})
    )
    assert gone["Error"] == "SQS.QueueDoesNotExistException"

    topic = client.topics.create_topic(unique("sit"))
    try:
        out = outcome(client, caught(R + "sns:publish", {"TopicArn": topic, "Message": {"a": 1}}))
        assert set(out) == {"MessageId", *META}
        gone = outcome(
            client, caught(R + "sns:publish", {"TopicArn": topic + "-gone", "Message": "x"})
        )
        assert gone["Error"] == "SNS.NotFoundException"
    finally:
        client.topics.delete_topic(topic)


def test_put_events_appends_the_execution_and_machine_arns_to_resources(
    client: Client, queue: str
) -> None:
    source = unique("si.src")
    rule = unique("si-rule")
    queue_arn = client.queues.get_queue_attributes(queue, ["QueueArn"])["QueueArn"]
    client.events.put_rule(rule, event_pattern={"source": [source]})
    client.events.put_targets(rule, [{"Id": "q", "Arn": queue_arn}])
    try:
        sm = machine(
            client,
            caught(
                R + "events:putEvents",
                {"Entries": [{"Source": source, "DetailType": "T", "Detail": {"a": 1}}]},
            ),
        )
        run = client.workflows.start_execution(sm, {})
        e = finished(client, run.execution_arn)
        out = e.json()
        assert list(out) == ["Entries", "FailedEntryCount"] and out["FailedEntryCount"] == 0
        (entry,) = out["Entries"]
        assert list(entry) == ["EventId"]

        def delivered() -> Any:
            got = client.queues.receive_message(queue, wait_time_seconds=2)
            assert got
            return json.loads(got[0].body)

        event = eventually(delivered, timeout=30)
        assert event["id"] == entry["EventId"] and event["detail"] == {"a": 1}
        assert event["resources"] == [sm, run.execution_arn]

        failed = outcome(
            client,
            caught(
                R + "events:putEvents",
                {
                    "Entries": [
                        {
                            "Source": "s",
                            "DetailType": "T",
                            "Detail": {},
                            "EventBusName": unique("nobus"),
                        }
                    ]
                },
            ),
        )
        assert failed["Error"] == "EventBridge.FailedEntry"
        assert json.loads(failed["Cause"])["FailedEntryCount"] == 1
        partly = outcome(
            client,
            caught(
                R + "events:putEvents",
                {"Entries": [{"Source": "s", "DetailType": "T", "Detail": {}}, {"Detail": {}}]},
            ),
        )
        cause = json.loads(partly["Cause"])
        assert partly["Error"] == "EventBridge.FailedEntry" and cause["FailedEntryCount"] == 1
        assert list(cause["Entries"][0]) == ["EventId"]
        assert cause["Entries"][1]["ErrorCode"] == "InvalidArgument"
    finally:
        client.events.remove_targets(rule, ["q"])
        client.events.delete_rule(rule)


def test_callback_tokens_time_out_and_then_answer_task_timed_out(
    client: Client, queue: str
) -> None:
    definition = caught(
        R + "sqs:sendMessage.waitForTaskToken",
        {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}},
        HeartbeatSeconds=1,
        TimeoutSeconds=30,
    )
    definition["States"]["T"]["Catch"][0]["ResultPath"] = "$.error"
    run = client.workflows.start_execution(machine(client, definition), {})

    def token() -> str:
        got = client.queues.receive_message(queue, wait_time_seconds=2)
        assert got
        return str(json.loads(got[0].body)["token"])

    tok = eventually(token, timeout=30)
    e = finished(client, run.execution_arn)
    assert e.json()["error"]["Error"] == "States.HeartbeatTimeout"
    for send in (
        lambda: client.workflows.send_task_success(tok, {"late": True}),
        lambda: client.workflows.send_task_heartbeat(tok),
        lambda: client.workflows.send_task_failure(tok, error="E"),
    ):
        with pytest.raises(EventplaneError) as late:
            send()
        assert late.value.code == "TaskTimedOut"
        assert "Provided task does not exist anymore" in late.value.message
    with pytest.raises(EventplaneError) as bad:
        client.workflows.send_task_success("@@not a token@@", {})
    assert bad.value.code == "InvalidToken"


def test_unknown_integrations_and_patterns_are_refused_at_create(client: Client) -> None:
    for resource, params in (
        (R + "sqs:sendMessage.sync", {"QueueUrl": "q", "MessageBody": "m"}),
        (R + "lambda:invoke", {"Payload": {}}),
        (R + "sns:publish", {"TopicArn": "t", "Message": "m", "Bogus": 1}),
        (R + "batch:submitJob.sync", {}),
    ):
        with pytest.raises(EventplaneError) as refused:
            machine(client, caught(resource, params))
        assert refused.value.code == "InvalidDefinition", resource
        assert "SCHEMA_VALIDATION_FAILED" in refused.value.message


def test_a_result_over_256_kib_fails_the_execution_with_data_limit_exceeded(
    client: Client, fns: dict[str, str]
) -> None:
    definition = caught(R + "lambda:invoke", {"FunctionName": fns["big"], "Payload": {"kib": 300}})
    run = client.workflows.start_execution(machine(client, definition), {})
    e = finished(client, run.execution_arn)
    # States.DataLimitExceeded is not caught by States.ALL
    assert (e.status, e.error) == ("FAILED", "States.DataLimitExceeded")


def test_start_execution_with_a_null_input_starts_the_child_with_an_empty_object(
    client: Client,
) -> None:
    child = machine(client, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    out = outcome(
        client,
        caught(R + "states:startExecution.sync:2", {"StateMachineArn": child, "Input": None}),
    )
    assert (out["Status"], out["Input"], out["Output"]) == ("SUCCEEDED", {}, {})
    gone = outcome(
        client, caught(R + "states:startExecution", {"StateMachineArn": child + "-gone"})
    )
    assert gone["Error"] == "StepFunctions.StateMachineDoesNotExistException"
    assert (
        "(Service: AWSStepFunctions; Status Code: 400; Error Code: StateMachineDoesNotExist;"
        in (gone["Cause"])
    )
