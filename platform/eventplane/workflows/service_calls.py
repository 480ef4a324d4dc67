"""The optimized request-response integrations with Lambda, SQS, SNS and EventBridge:
each call's request as the integration documents it, its result as Step Functions
hands it to the state, and its failures under the names a Retry/Catch written for AWS
expects.

Results (the service's response as the AWS SDK for Java returns it, which Step
Functions serializes into the state's result):

- ``lambda:invoke``: ``{ExecutedVersion, Payload, SdkHttpMetadata, SdkResponseMetadata,
  StatusCode}`` (+ ``LogResult`` with ``LogType: Tail``); ``Payload`` is the function's
  result parsed when it is JSON, else its text;
- ``sqs:sendMessage``: ``{MD5OfMessageBody, MessageId, SdkHttpMetadata,
  SdkResponseMetadata}`` (+ ``MD5OfMessageAttributes``, + ``SequenceNumber`` on FIFO);
- ``sns:publish``: ``{MessageId, SdkHttpMetadata, SdkResponseMetadata}`` (+
  ``SequenceNumber`` on FIFO);
- ``events:putEvents``: ``{Entries: [{EventId}], FailedEntryCount: 0}``; any failed
  entry fails the task with ``EventBridge.FailedEntry`` (AWS documents that error), the
  response as the cause (an entry without Source, DetailType or Detail fails alone, the
  others are sent). The state machine's and the execution's ARNs are appended to each
  entry's ``Resources``.

Errors are ``<Service>.<SDK exception class>``: the classes the Java SDK models for
that service (``Lambda.ResourceNotFoundException``, ``SQS.QueueDoesNotExistException``,
``SNS.NotFoundException``), anything else under the service's base class
(``Lambda.AWSLambdaException``, ``SQS.AmazonSQSException``...). A function that raised
fails the task with its own ``errorType`` and the error document as the cause. A
request that cannot be made at all (a required field missing, a field of the wrong
type) is ``States.Runtime``, as AWS reports Parameters it "could not use to start the
Task".
"""

from __future__ import annotations

import email.utils
import json
import uuid
from collections.abc import Mapping
from typing import Any, Protocol

from eventplane.client import AsyncClient
from eventplane.errors import EventplaneError
from eventplane.workflows import arns
from eventplane.workflows.lang import dumps

__all__ = [
    "Answer",
    "BadRequest",
    "Functions",
    "ServiceFailure",
    "call_events",
    "call_lambda",
    "call_sns",
    "call_sqs",
    "error_name",
    "sdk_metadata",
    "with_metadata",
]

# service -> (Step Functions prefix, the SDK's base exception class, its service name)
_SERVICES = {
    "lambda": ("Lambda", "AWSLambdaException", "AWSLambda"),
    "sqs": ("SQS", "AmazonSQSException", "AmazonSQS"),
    "sns": ("SNS", "AmazonSNSException", "AmazonSNS"),
    "events": ("EventBridge", "AmazonEventBridgeException", "AmazonEventBridge"),
}
# eventplane's error code -> the exception class the Java SDK raises for it
_MODELED: dict[str, dict[str, str]] = {
    "lambda": {
        c: c
        for c in (
            "ResourceNotFoundException",
            "ServiceException",
            "TooManyRequestsException",
            "InvalidParameterValueException",
            "InvalidRequestContentException",
            "ResourceConflictException",
            "ResourceNotReadyException",
            "UnsupportedMediaTypeException",
            "PreconditionFailedException",
        )
    }
    | {
        "RequestEntityTooLargeException": "RequestTooLargeException",
        "ResourceNotFound": "ResourceNotFoundException",
        "ThrottlingException": "TooManyRequestsException",
        "ServiceUnavailable": "ServiceException",
        "InternalFailure": "ServiceException",
    },
    "sqs": {
        c: c + "Exception"
        for c in (
            "QueueDoesNotExist",
            "InvalidMessageContents",
            "UnsupportedOperation",
            "OverLimit",
            "InvalidAttributeName",
        )
    },
    "sns": {
        "NotFound": "NotFoundException",
        "InvalidParameter": "InvalidParameterException",
        "ParameterValueInvalid": "InvalidParameterValueException",
        "TagLimitExceeded": "TagLimitExceededException",
        "ThrottlingException": "ThrottledException",
        "InternalFailure": "InternalErrorException",
    },
    "events": {
        "ResourceNotFoundException": "ResourceNotFoundException",
        "InternalFailure": "InternalException",
    },
}
_CONTENT_TYPES = {
    "lambda": "application/json",
    "sqs": "application/x-amz-json-1.0",
    "sns": "text/xml",  # SNS still answers in the query protocol
    "events": "application/x-amz-json-1.1",
    "dynamodb": "application/x-amz-json-1.0",
    "states": "application/x-amz-json-1.0",
}
# Lambda and SNS answer "Connection", the JSON-protocol services "connection".
_CAPITAL_CONNECTION = frozenset({"lambda", "sns"})


class ServiceFailure(Exception):
    """A failed call as the task reports it: Error and Cause."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


class BadRequest(ServiceFailure):
    """Parameters that cannot make a request: ``States.Runtime``."""

    def __init__(self, message: str) -> None:
        super().__init__(
            "States.Runtime",
            f"The Parameters could not be used to start the Task: [{message}]",
        )


def error_name(service: str, code: str) -> str:
    """The Step Functions error name of a service's error code."""
    prefix, base, _ = _SERVICES[service]
    return f"{prefix}.{_MODELED[service].get(code, base)}"


def _failure(service: str, exc: EventplaneError) -> ServiceFailure:
    status = 404 if "NotFound" in exc.code or "DoesNotExist" in exc.code else 400
    sdk_name = _SERVICES[service][2]
    cause = (
        f"{exc.message} (Service: {sdk_name}; Status Code: {status}; Error Code: {exc.code}; "
        f"Request ID: {uuid.uuid4()}; Proxy: null)"
    )
    return ServiceFailure(error_name(service, exc.code), cause)


def sdk_metadata(
    service: str, status: int = 200, body: int = 0, extra: dict[str, str] | None = None
) -> dict[str, Any]:
    """``SdkHttpMetadata`` and ``SdkResponseMetadata`` as the Java SDK reports a response
    (the headers AWS's recorded runs show: the service's own in ``extra``, the body's
    length in Content-Length)."""
    request_id = str(uuid.uuid4())
    headers = {
        "Connection" if service in _CAPITAL_CONNECTION else "connection": "keep-alive",
        "Content-Length": str(body),
        "Content-Type": _CONTENT_TYPES.get(service, "application/json"),
        "Date": email.utils.formatdate(usegmt=True),
        "x-amzn-RequestId": request_id,
        **(extra or {}),
    }
    ordered = dict(sorted(headers.items(), key=lambda kv: kv[0].lower()))
    return {
        "SdkHttpMetadata": {
            "AllHttpHeaders": {k: [v] for k, v in ordered.items()},
            "HttpHeaders": ordered,
            "HttpStatusCode": status,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
    }


def with_metadata(service: str, doc: dict[str, Any]) -> dict[str, Any]:
    """A response with its metadata, fields in the order AWS serializes them."""
    doc.update(sdk_metadata(service, body=len(dumps(doc).encode())))
    return dict(sorted(doc.items()))


def _params(p: Any) -> dict[str, Any]:
    if not isinstance(p, dict):
        raise BadRequest("The Parameters must be a JSON object")
    return p


def _required(p: dict[str, Any], field: str) -> str:
    value = p.get(field)
    if value is None:
        raise BadRequest(f"The field '{field}' is required but was missing")
    if not isinstance(value, str):
        raise BadRequest(f"The value for the field '{field}' must be a STRING")
    return value


def _optional(p: dict[str, Any], field: str, kind: type | tuple[type, ...]) -> Any:
    value = p.get(field)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise BadRequest(f"The value for the field '{field}' is not of the expected type")
    return value


def _text(value: Any) -> str:
    """A body field: a string as it is, any other JSON value serialized."""
    return value if isinstance(value, str) else dumps(value)


# --- Lambda ------------------------------------------------------------------------------
class Answer(Protocol):
    """What an invoke answered: the SDK's ``InvokeResult`` or the port's ``Invoked``."""

    @property
    def status_code(self) -> int: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def function_error(self) -> str | None: ...
    @property
    def executed_version(self) -> str: ...
    @property
    def log_result_base64(self) -> str | None: ...


class Functions(Protocol):
    """What a Lambda task invokes through: the SDK's ``functions`` or the core's port."""

    async def invoke(
        self,
        function_name: str,
        payload: Any = None,
        *,
        invocation_type: str = ...,
        log_type: str | None = ...,
        qualifier: str | None = ...,
        client_context: str | Mapping[str, Any] | None = ...,
    ) -> Answer: ...


async def call_lambda(functions: Functions, params: Any) -> dict[str, Any]:
    p = _params(params)
    name = _required(p, "FunctionName")
    kw: dict[str, Any] = {}
    for field, key in (
        ("InvocationType", "invocation_type"),
        ("LogType", "log_type"),
        ("Qualifier", "qualifier"),
        ("ClientContext", "client_context"),
    ):
        value = _optional(p, field, str)
        if value is not None:
            kw[key] = value
    payload = p.get("Payload")
    try:
        res = await functions.invoke(name, None if payload is None else dumps(payload), **kw)
    except EventplaneError as exc:
        raise _failure("lambda", exc) from None
    text = res.payload.decode() if res.payload else ""
    if res.function_error:
        raise function_error(text)
    out: dict[str, Any] = {}
    if res.executed_version and res.status_code == 200:
        out["ExecutedVersion"] = res.executed_version
    if res.log_result_base64:
        out["LogResult"] = res.log_result_base64
    out["Payload"] = _payload(text)
    headers = {"x-amzn-Remapped-Content-Length": "0", "X-Amzn-Trace-Id": _trace_id()}
    if "ExecutedVersion" in out:
        headers["X-Amz-Executed-Version"] = out["ExecutedVersion"]
    if "LogResult" in out:
        headers["X-Amz-Log-Result"] = out["LogResult"]
    out.update(sdk_metadata("lambda", res.status_code, len(res.payload or b""), headers))
    out["StatusCode"] = res.status_code
    return out


def _trace_id() -> str:
    return f"root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};sampled=0"


def _payload(text: str) -> Any:
    if not text:
        return ""
    try:
        return json.loads(text)
    except ValueError:
        return text


def function_error(text: str) -> ServiceFailure:
    """A function that raised: its errorType (``Lambda.Unknown`` without one) and its
    error document as the cause."""
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    error = doc.get("errorType") if isinstance(doc, dict) else None
    if not error:
        return ServiceFailure(
            "Lambda.Unknown",
            "The cause could not be determined because Lambda did not return an error type. "
            f"Returned payload: {text}",
        )
    return ServiceFailure(str(error), text)


# --- SQS ---------------------------------------------------------------------------------
async def call_sqs(client: AsyncClient, params: Any) -> dict[str, Any]:
    p = _params(params)
    url = _required(p, "QueueUrl")
    if p.get("MessageBody") is None:
        raise BadRequest("The field 'MessageBody' is required but was missing")
    try:
        r = await client.queues.send_message(
            url,
            _text(p["MessageBody"]),
            delay_seconds=_optional(p, "DelaySeconds", int),
            message_attributes=_optional(p, "MessageAttributes", dict),
            message_group_id=_optional(p, "MessageGroupId", str),
            message_deduplication_id=_optional(p, "MessageDeduplicationId", str),
        )
    except EventplaneError as exc:
        raise _failure("sqs", exc) from None
    out: dict[str, Any] = {"MD5OfMessageBody": r.md5_of_message_body}
    if r.md5_of_message_attributes:
        out["MD5OfMessageAttributes"] = r.md5_of_message_attributes
    out["MessageId"] = r.message_id
    if r.sequence_number:
        out["SequenceNumber"] = r.sequence_number
    return with_metadata("sqs", out)


# --- SNS ---------------------------------------------------------------------------------
async def call_sns(client: AsyncClient, params: Any) -> dict[str, Any]:
    p = _params(params)
    if p.get("Message") is None:
        raise BadRequest("The field 'Message' is required but was missing")
    topic = p.get("TopicArn") or p.get("TargetArn")
    if p.get("PhoneNumber") is not None and topic is None:
        raise ServiceFailure(
            "SNS.InvalidParameterException",
            "Invalid parameter: PhoneNumber: eventplane topics have no SMS delivery",
        )
    if not isinstance(topic, str):
        raise ServiceFailure(
            "SNS.InvalidParameterException",
            "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
        )
    try:
        r = await client.topics.publish(
            topic,
            _text(p["Message"]),
            subject=_optional(p, "Subject", str),
            message_attributes=_optional(p, "MessageAttributes", dict),
            message_structure=_optional(p, "MessageStructure", str),
            message_group_id=_optional(p, "MessageGroupId", str),
            message_deduplication_id=_optional(p, "MessageDeduplicationId", str),
        )
    except EventplaneError as exc:
        raise _failure("sns", exc) from None
    out: dict[str, Any] = {"MessageId": r.message_id}
    if r.sequence_number:
        out["SequenceNumber"] = r.sequence_number
    return with_metadata("sns", out)


# --- EventBridge -------------------------------------------------------------------------
async def call_events(
    client: AsyncClient, params: Any, execution_arn: str | None
) -> dict[str, Any]:
    p = _params(params)
    entries = p.get("Entries")
    if entries is None:
        raise BadRequest("The field 'Entries' is required but was missing")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise BadRequest("The value for the field 'Entries' must be an ARRAY of objects")
    extra = _resources(execution_arn)
    # An entry without Source, DetailType or Detail fails alone, as EventBridge reports
    # it; the others are sent.
    results: list[dict[str, Any] | None] = []
    sent = []
    for entry in entries:
        missing = next(
            (f for f in ("Source", "DetailType", "Detail") if entry.get(f) in (None, "")), None
        )
        if missing is not None:
            results.append(
                {
                    "ErrorCode": "InvalidArgument",
                    "ErrorMessage": f"Parameter {missing} is not valid. Reason: {missing} is a "
                    "required argument.",
                }
            )
            continue
        e = dict(entry)
        if not isinstance(e["Detail"], str):
            e["Detail"] = dumps(e["Detail"])
        if extra:
            e["Resources"] = [*(e.get("Resources") or []), *extra]
        sent.append(e)
        results.append(None)
    answered = iter(await _put(client, sent) if sent else [])
    entries_out = [r if r is not None else next(answered) for r in results]
    failed = sum(1 for r in entries_out if "EventId" not in r)
    doc = {"Entries": entries_out, "FailedEntryCount": failed}
    if failed:
        raise ServiceFailure("EventBridge.FailedEntry", dumps(doc))
    return doc


async def _put(client: AsyncClient, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    try:
        r = await client.events.put_events(entries)
    except EventplaneError as exc:
        raise _failure("events", exc) from None
    except ValueError as exc:  # an entry the SDK refuses before sending
        raise ServiceFailure(error_name("events", "ValidationException"), str(exc)) from None
    return [
        {"EventId": x.event_id}
        if x.event_id
        else {"ErrorCode": x.error_code, "ErrorMessage": x.error_message}
        for x in r.entries
    ]


def _resources(execution_arn: str | None) -> list[str]:
    """The state machine's and the execution's ARNs, which AWS appends (in this order) to
    each entry's Resources."""
    if not execution_arn:
        return []
    try:
        machine, _ = arns.parse_execution_arn(execution_arn)
    except EventplaneError:
        return [execution_arn]
    return [arns.state_machine_arn(machine), execution_arn]
