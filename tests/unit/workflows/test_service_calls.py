"""The Lambda, SQS, SNS and EventBridge request-response integrations: the request
each makes, the result a state gets (AWS's shapes), and the error names Retry/Catch see."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest

from eventplane.errors import EventplaneError
from eventplane.errors.base import ResourceNotFound
from eventplane.workflows.perform import Outcome, Performer
from eventplane.workflows.service_calls import error_name

EXECUTION = "arn:aws:states:local:000000000000:execution:orders:run-1"
MACHINE = "arn:aws:states:local:000000000000:stateMachine:orders"
R = "arn:aws:states:::"


def _error(code: str, message: str = "nope") -> EventplaneError:
    exc = ResourceNotFound(message)
    exc.code = code  # type: ignore[misc]
    return exc


class Fake:
    """One service of the client: records calls, answers with ``answer`` (or raises it)."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    async def _reply(self, *args: Any, **kw: Any) -> Any:
        self.calls.append((args, kw))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    invoke = send_message = publish = put_events = _reply


def run(service: str, answer: Any, resource: str, params: Any) -> tuple[Outcome, Fake]:
    fake = Fake(answer)
    performer = Performer("127.0.0.1:1")
    client = SimpleNamespace(functions=fake, queues=fake, topics=fake, events=fake)
    performer._client = lambda: client  # type: ignore[assignment,method-assign,return-value]
    out = asyncio.run(performer.perform(resource, params, False, EXECUTION))
    return out, fake


def invoked(payload: bytes, status: int = 200, error: str | None = None, **kw: Any) -> Any:
    return SimpleNamespace(
        status_code=status,
        function_error=error,
        log_result=None,
        log_result_base64=kw.get("log"),
        payload=payload,
        executed_version=kw.get("version", "$LATEST"),
        request_id="r",
    )


def _metadata_ok(doc: dict[str, Any], status: int = 200) -> None:
    meta = doc["SdkHttpMetadata"]
    assert list(meta) == ["AllHttpHeaders", "HttpHeaders", "HttpStatusCode"]
    assert {"content-length", "content-type", "date", "connection"} <= {
        h.lower() for h in meta["HttpHeaders"]
    }
    assert meta["HttpStatusCode"] == status
    rid = doc["SdkResponseMetadata"]["RequestId"]
    assert meta["HttpHeaders"]["x-amzn-RequestId"] == rid
    assert meta["AllHttpHeaders"]["x-amzn-RequestId"] == [rid]


# --- lambda:invoke -------------------------------------------------------------------------
def test_lambda_invoke_returns_the_invoke_response_with_the_payload_parsed() -> None:
    out, fake = run(
        "lambda",
        invoked(b'{"total": 3}'),
        R + "lambda:invoke",
        {"FunctionName": "fn", "Payload": {"a": 1}, "Qualifier": "live"},
    )
    assert out.ok
    doc = json.loads(out.output or "")
    assert list(doc) == [
        "ExecutedVersion",
        "Payload",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
        "StatusCode",
    ]
    assert (doc["ExecutedVersion"], doc["Payload"], doc["StatusCode"]) == (
        "$LATEST",
        {"total": 3},
        200,
    )
    _metadata_ok(doc)
    assert fake.calls == [(("fn", '{"a":1}'), {"qualifier": "live"})]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [(b'"text"', "text"), (b"null", None), (b"not json", "not json"), (b"[1,2]", [1, 2])],
)
def test_lambda_invoke_payload_is_json_when_it_parses_else_the_text(
    payload: bytes, expected: Any
) -> None:
    out, _ = run("lambda", invoked(payload), R + "lambda:invoke", {"FunctionName": "fn"})
    assert json.loads(out.output or "")["Payload"] == expected


def test_lambda_invoke_a_string_payload_is_sent_as_a_json_string() -> None:
    _, fake = run(
        "lambda", invoked(b"1"), R + "lambda:invoke", {"FunctionName": "f", "Payload": "x"}
    )
    assert fake.calls[0][0] == ("f", '"x"')


def test_lambda_invoke_event_invocation_has_status_202_and_an_empty_payload() -> None:
    out, fake = run(
        "lambda",
        invoked(b"", status=202, version=""),
        R + "lambda:invoke",
        {"FunctionName": "fn", "InvocationType": "Event", "LogType": "None"},
    )
    doc = json.loads(out.output or "")
    assert (doc["Payload"], doc["StatusCode"], "ExecutedVersion" in doc) == ("", 202, False)
    _metadata_ok(doc, 202)
    assert fake.calls[0][1] == {"invocation_type": "Event", "log_type": "None"}


def test_lambda_invoke_log_tail_is_returned_as_log_result() -> None:
    out, _ = run(
        "lambda",
        invoked(b"1", log="bG9n"),
        R + "lambda:invoke",
        {"FunctionName": "f", "LogType": "Tail"},
    )
    doc = json.loads(out.output or "")
    assert doc["LogResult"] == "bG9n"
    headers = doc["SdkHttpMetadata"]["HttpHeaders"]
    assert headers["X-Amz-Log-Result"] == "bG9n"
    assert headers["X-Amz-Executed-Version"] == "$LATEST"
    assert headers["Content-Length"] == "1" and headers["Content-Type"] == "application/json"
    assert list(headers) == sorted(headers, key=str.lower)


def test_a_function_error_is_its_error_type_with_the_error_document_as_cause() -> None:
    document = b'{"errorMessage": "bad", "errorType": "ValueError", "stackTrace": []}'
    for resource, params in (
        (R + "lambda:invoke", {"FunctionName": "f"}),
        ("arn:aws:lambda:local:000000000000:function:f", {}),
    ):
        out, _ = run("lambda", invoked(document, error="Unhandled"), resource, params)
        assert (out.ok, out.error, out.cause) == (False, "ValueError", document.decode())


def test_a_function_error_without_a_type_is_lambda_unknown() -> None:
    out, _ = run(
        "lambda", invoked(b"{}", error="Unhandled"), R + "lambda:invoke", {"FunctionName": "f"}
    )
    assert out.error == "Lambda.Unknown"
    assert out.cause == (
        "The cause could not be determined because Lambda did not return an error type. "
        "Returned payload: {}"
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ResourceNotFoundException", "Lambda.ResourceNotFoundException"),
        ("TooManyRequestsException", "Lambda.TooManyRequestsException"),
        ("ServiceException", "Lambda.ServiceException"),
        ("InvalidRequestContentException", "Lambda.InvalidRequestContentException"),
        ("RequestEntityTooLargeException", "Lambda.RequestTooLargeException"),
        ("ServiceUnavailable", "Lambda.ServiceException"),
        ("AccessDenied", "Lambda.AWSLambdaException"),
    ],
)
def test_lambda_service_errors_are_named_as_the_sdk_exceptions(code: str, expected: str) -> None:
    for resource, params in (
        (R + "lambda:invoke", {"FunctionName": "f"}),
        ("arn:aws:lambda:local:000000000000:function:f", {}),
    ):
        out, _ = run("lambda", _error(code, "Function not found"), resource, params)
        assert (out.ok, out.error) == (False, expected)
        assert "Function not found" in (out.cause or "")


def test_lambda_invoke_without_function_name_is_a_runtime_error() -> None:
    out, fake = run("lambda", invoked(b"1"), R + "lambda:invoke", {"Payload": {}})
    assert (out.ok, out.error) == (False, "States.Runtime")
    assert "'FunctionName' is required" in (out.cause or "") and fake.calls == []


# --- sqs:sendMessage -----------------------------------------------------------------------
def _sent(seq: str | None = None, attrs: str | None = None) -> Any:
    return SimpleNamespace(
        message_id="m-1",
        md5_of_message_body="md5",
        md5_of_message_attributes=attrs,
        sequence_number=seq,
    )


def test_sqs_send_message_returns_the_send_message_response() -> None:
    out, fake = run(
        "sqs", _sent(), R + "sqs:sendMessage", {"QueueUrl": "u", "MessageBody": {"a": 1}}
    )
    doc = json.loads(out.output or "")
    assert list(doc) == ["MD5OfMessageBody", "MessageId", "SdkHttpMetadata", "SdkResponseMetadata"]
    assert (doc["MD5OfMessageBody"], doc["MessageId"]) == ("md5", "m-1")
    _metadata_ok(doc)
    args, _ = fake.calls[0]
    assert args == ("u", '{"a":1}')  # a JSON body is serialized


def test_sqs_send_message_fifo_and_attributes() -> None:
    attrs = {"kind": {"DataType": "String", "StringValue": "x"}}
    out, fake = run(
        "sqs",
        _sent(seq="0001", attrs="amd5"),
        R + "sqs:sendMessage.waitForTaskToken",
        {
            "QueueUrl": "u.fifo",
            "MessageBody": "b",
            "MessageGroupId": "g",
            "MessageDeduplicationId": "d",
            "DelaySeconds": 0,
            "MessageAttributes": attrs,
        },
    )
    doc = json.loads(out.output or "")
    assert (doc["SequenceNumber"], doc["MD5OfMessageAttributes"]) == ("0001", "amd5")
    assert fake.calls[0][1] == {
        "delay_seconds": 0,
        "message_attributes": attrs,
        "message_group_id": "g",
        "message_deduplication_id": "d",
    }


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("QueueDoesNotExist", "SQS.QueueDoesNotExistException"),
        ("InvalidMessageContents", "SQS.InvalidMessageContentsException"),
        ("RequestThrottled", "SQS.AmazonSQSException"),
        ("InvalidParameterValue", "SQS.AmazonSQSException"),
    ],
)
def test_sqs_errors_are_named_as_the_sdk_exceptions(code: str, expected: str) -> None:
    out, _ = run(
        "sqs",
        _error(code, "The specified queue does not exist."),
        R + "sqs:sendMessage",
        {"QueueUrl": "u", "MessageBody": "b"},
    )
    assert (out.ok, out.error) == (False, expected)
    assert f"Error Code: {code}" in (out.cause or "")


@pytest.mark.parametrize(
    "params",
    [{"MessageBody": "b"}, {"QueueUrl": "u"}, {"QueueUrl": 5, "MessageBody": "b"}, "text"],
)
def test_sqs_parameters_that_make_no_request_are_a_runtime_error(params: Any) -> None:
    out, fake = run("sqs", _sent(), R + "sqs:sendMessage", params)
    assert (out.ok, out.error, fake.calls) == (False, "States.Runtime", [])


# --- sns:publish ---------------------------------------------------------------------------
def test_sns_publish_returns_the_publish_response() -> None:
    answer = SimpleNamespace(message_id="p-1", sequence_number=None)
    out, fake = run(
        "sns",
        answer,
        R + "sns:publish",
        {"TopicArn": "t", "Message": {"a": 1}, "Subject": "s", "MessageStructure": "json"},
    )
    doc = json.loads(out.output or "")
    assert list(doc) == ["MessageId", "SdkHttpMetadata", "SdkResponseMetadata"]
    _metadata_ok(doc)
    assert fake.calls[0][0] == ("t", '{"a":1}')
    assert fake.calls[0][1]["subject"] == "s" and fake.calls[0][1]["message_structure"] == "json"


def test_sns_publish_to_a_fifo_topic_returns_the_sequence_number() -> None:
    answer = SimpleNamespace(message_id="p-1", sequence_number="7")
    out, _ = run("sns", answer, R + "sns:publish", {"TargetArn": "t.fifo", "Message": "m"})
    assert json.loads(out.output or "")["SequenceNumber"] == "7"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("NotFound", "SNS.NotFoundException"),
        ("InvalidParameter", "SNS.InvalidParameterException"),
        ("ParameterValueInvalid", "SNS.InvalidParameterValueException"),
        ("AccessDenied", "SNS.AmazonSNSException"),
    ],
)
def test_sns_errors_are_named_as_the_sdk_exceptions(code: str, expected: str) -> None:
    out, _ = run("sns", _error(code), R + "sns:publish", {"TopicArn": "t", "Message": "m"})
    assert (out.ok, out.error) == (False, expected)


def test_sns_publish_to_a_phone_number_is_refused_by_sns() -> None:
    out, _ = run("sns", None, R + "sns:publish", {"PhoneNumber": "+1555", "Message": "m"})
    assert (out.ok, out.error) == (False, "SNS.InvalidParameterException")


# --- events:putEvents ----------------------------------------------------------------------
def _put(*entries: Any, failed: int = 0) -> Any:
    return SimpleNamespace(entries=list(entries), failed_entry_count=failed)


def test_put_events_returns_entries_and_appends_the_machine_and_execution_arns() -> None:
    ok = SimpleNamespace(event_id="e-1", error_code=None, error_message=None)
    out, fake = run(
        "events",
        _put(ok),
        R + "events:putEvents",
        {"Entries": [{"Source": "s", "DetailType": "d", "Detail": {"a": 1}, "Resources": ["x"]}]},
    )
    assert json.loads(out.output or "") == {"Entries": [{"EventId": "e-1"}], "FailedEntryCount": 0}
    (sent,) = fake.calls[0][0]
    assert sent == [
        {
            "Source": "s",
            "DetailType": "d",
            "Detail": '{"a":1}',
            "Resources": ["x", MACHINE, EXECUTION],
        }
    ]


def test_a_failed_entry_fails_the_task_with_eventbridge_failed_entry() -> None:
    bad = SimpleNamespace(event_id="", error_code="InternalFailure", error_message="boom")
    out, _ = run(
        "events",
        _put(bad, failed=1),
        R + "events:putEvents",
        {"Entries": [{"Source": "s", "DetailType": "d", "Detail": "{}"}]},
    )
    assert (out.ok, out.error) == (False, "EventBridge.FailedEntry")
    assert json.loads(out.cause or "") == {
        "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "boom"}],
        "FailedEntryCount": 1,
    }


def test_an_entry_without_source_fails_alone_and_the_others_are_sent() -> None:
    ok = SimpleNamespace(event_id="e-1", error_code=None, error_message=None)
    good = {"Source": "s", "DetailType": "d", "Detail": {}}
    out, fake = run(
        "events",
        _put(ok),
        R + "events:putEvents",
        {"Entries": [good, {"DetailType": "d", "Detail": {}}]},
    )
    assert (out.ok, out.error) == (False, "EventBridge.FailedEntry")
    assert json.loads(out.cause or "") == {
        "Entries": [
            {"EventId": "e-1"},
            {
                "ErrorCode": "InvalidArgument",
                "ErrorMessage": "Parameter Source is not valid. Reason: Source is a required "
                "argument.",
            },
        ],
        "FailedEntryCount": 1,
    }
    assert len(fake.calls[0][0][0]) == 1


def test_put_events_service_errors() -> None:
    assert error_name("events", "AccessDenied") == "EventBridge.AmazonEventBridgeException"
    entry = {"Source": "s", "DetailType": "d", "Detail": {}, "Bogus": 1}
    out, _ = run("events", ValueError("unknown key"), R + "events:putEvents", {"Entries": [entry]})
    assert (out.ok, out.error) == (False, "EventBridge.AmazonEventBridgeException")


# --- anything else -------------------------------------------------------------------------
def test_an_unexpected_failure_still_answers_the_task_with_states_task_failed() -> None:
    out, _ = run(
        "sqs",
        RuntimeError("socket closed"),
        R + "sqs:sendMessage",
        {"QueueUrl": "u", "MessageBody": "b"},
    )
    assert (out.ok, out.error) == (False, "States.TaskFailed")
    assert "socket closed" in (out.cause or "")


def test_a_result_over_256_kib_is_states_data_limit_exceeded() -> None:
    big = json.dumps({"blob": "x" * (256 * 1024)}).encode()
    out, _ = run("lambda", invoked(big), R + "lambda:invoke", {"FunctionName": "f"})
    assert (out.ok, out.error) == (False, "States.DataLimitExceeded")
    assert out.cause == (
        "The state/task 'lambda' returned a result with a size exceeding the maximum number "
        "of bytes service limit."
    )
    near = json.dumps({"blob": "x" * (250 * 1024)}).encode()
    out, _ = run("lambda", invoked(near), "arn:aws:lambda:local:000000000000:function:f", {})
    assert out.ok


# --- where a function task invokes -----------------------------------------------------------
class Port:
    """The functions core's port: records calls, answers like the core."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes, dict[str, Any]]] = []

    async def invoke(self, function_name: str, payload: bytes, **kw: Any) -> Any:
        from eventplane.messaging.invoker import Invoked

        self.calls.append((function_name, payload, kw))
        return Invoked(200, b'{"n": 2}', "", "$LATEST", "req-1")


def test_function_tasks_acting_as_the_platform_use_the_port_not_the_api() -> None:
    port = Port()
    performer = Performer("127.0.0.1:1", invoker=lambda: port)

    def no_api() -> Any:
        raise AssertionError("the API was called though the port is there")

    performer._client = no_api  # type: ignore[assignment,method-assign]
    fn = "arn:aws:lambda:local:000000000000:function:count"
    out = asyncio.run(performer.perform(fn, {"n": 1}, False, EXECUTION))
    assert (out.ok, out.output) == (True, '{"n": 2}')
    out = asyncio.run(
        performer.perform(
            R + "lambda:invoke",
            {"FunctionName": fn, "Payload": {"n": 1}, "Qualifier": "live"},
            False,
            EXECUTION,
        )
    )
    assert out.ok and json.loads(out.output or "")["Payload"] == {"n": 2}
    assert [(name, json.loads(payload)) for name, payload, _ in port.calls] == [
        (fn, {"n": 1}),
        (fn, {"n": 1}),
    ]
    assert port.calls[1][2]["qualifier"] == "live"


def test_a_task_acting_as_a_role_goes_through_the_api_with_its_token() -> None:
    from eventplane.workflows.accounts import acting_role

    port = Port()
    fake = Fake(invoked(b"1"))
    performer = Performer("127.0.0.1:1", "internal", "cluster-secret", invoker=lambda: port)
    client = SimpleNamespace(functions=fake)
    performer._client = lambda: client  # type: ignore[assignment,method-assign,return-value]
    with acting_role("arn:aws:iam::222222222222:role/eventplane"):
        out = asyncio.run(
            performer.perform("arn:aws:lambda:local:222222222222:function:f", {}, False)
        )
    assert out.ok and port.calls == [] and len(fake.calls) == 1
