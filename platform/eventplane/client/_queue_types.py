"""Arguments and results of the Queues client, and their mapping to and from protobuf.

Inputs are forgiving (boto3-style dicts or the dataclasses below); results are
always the frozen dataclasses. Fields SQS leaves out of a response when they do
not apply (sequence numbers, MD5 of absent attributes, ...) are ``None`` here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass, fields
from typing import Any, TypeAlias, TypeVar

from eventplane._gen.v1 import queues_pb2 as pb
from eventplane.errors import InvalidParameterValue

# SQS caps a long poll at 20 s; when the caller leaves the wait to the queue's
# ReceiveMessageWaitTimeSeconds, the client must assume the longest one.
MAX_WAIT_SECONDS = 20
# Room for the server to answer after the long poll ends.
LONG_POLL_MARGIN_SECONDS = 10.0


@dataclass(frozen=True)
class MessageAttribute:
    """A typed message attribute.

    Attributes:
        data_type: ``String``, ``Number`` or ``Binary``, optionally with a custom
            suffix (``Number.int``, ``String.json``).
        string_value: the value of a String or Number attribute.
        binary_value: the value of a Binary attribute.
    """

    data_type: str
    string_value: str | None = None
    binary_value: bytes | None = None


MessageAttributeInput: TypeAlias = MessageAttribute | Mapping[str, Any]
"""A ``MessageAttribute`` or a boto3-style dict (``{"DataType": "String", "StringValue": "x"}``)."""

AttributeValue: TypeAlias = str | int | bool
"""A queue attribute value; ints and bools are sent as SQS spells them ("30", "true")."""


@dataclass(frozen=True)
class SendMessageBatchEntry:
    """One message of ``send_message_batch``; ``id`` is unique within the batch."""

    id: str
    message_body: str
    delay_seconds: int | None = None
    message_attributes: Mapping[str, MessageAttributeInput] | None = None
    message_deduplication_id: str | None = None
    message_group_id: str | None = None


@dataclass(frozen=True)
class DeleteMessageBatchEntry:
    """One receipt handle of ``delete_message_batch``."""

    id: str
    receipt_handle: str


@dataclass(frozen=True)
class ChangeMessageVisibilityBatchEntry:
    """One receipt handle and its new timeout, for ``change_message_visibility_batch``."""

    id: str
    receipt_handle: str
    visibility_timeout: int


@dataclass(frozen=True)
class SendMessageResult:
    """What the queue recorded for a sent message."""

    message_id: str
    md5_of_message_body: str
    md5_of_message_attributes: str | None
    sequence_number: str | None  # FIFO queues only


@dataclass(frozen=True)
class SendMessageBatchResultEntry:
    """One message of a batch that was sent; ``id`` is the entry's id."""

    id: str
    message_id: str
    md5_of_message_body: str
    md5_of_message_attributes: str | None
    sequence_number: str | None


@dataclass(frozen=True)
class BatchResultError:
    """One entry of a batch that failed; the others may have succeeded.

    Attributes:
        id: the entry's id.
        sender_fault: True when the entry itself is wrong (retrying it as-is fails again).
        code: the AWS-style error code (``ReceiptHandleIsInvalid``, ...).
        message: what went wrong.
    """

    id: str
    sender_fault: bool
    code: str
    message: str


@dataclass(frozen=True)
class SendMessageBatchResult:
    """The entries of a ``send_message_batch`` that were sent, and those that failed."""

    successful: list[SendMessageBatchResultEntry]
    failed: list[BatchResultError]


@dataclass(frozen=True)
class DeleteMessageBatchResult:
    """The entries of a ``delete_message_batch`` that were deleted, and those that failed."""

    successful: list[str]  # the ids of the entries that were deleted
    failed: list[BatchResultError]


@dataclass(frozen=True)
class ChangeMessageVisibilityBatchResult:
    """Entries of a ``change_message_visibility_batch`` that were changed, and those that failed."""

    successful: list[str]  # the ids of the entries that were changed
    failed: list[BatchResultError]


@dataclass(frozen=True)
class Message:
    """A received message.

    Attributes:
        message_id: the id the queue gave the message when it was sent.
        receipt_handle: names this receive; pass it to ``delete_message`` or
            ``change_message_visibility``.
        md5_of_body: hex MD5 of the body.
        body: the message body.
        attributes: system attributes that were asked for (``SentTimestamp``,
            ``ApproximateReceiveCount``, ``MessageGroupId``, ...).
        md5_of_message_attributes: hex MD5 of the message attributes, if any.
        message_attributes: the message attributes that were asked for.
    """

    message_id: str
    receipt_handle: str
    md5_of_body: str
    body: str
    attributes: dict[str, str]
    md5_of_message_attributes: str | None
    message_attributes: dict[str, MessageAttribute]


@dataclass(frozen=True)
class QueueUrlPage:
    """One page of queue URLs; pass ``next_token`` back for the next page (None: last page)."""

    queue_urls: list[str]
    next_token: str | None


@dataclass(frozen=True)
class MessageMoveTask:
    """A redrive task that moves messages out of a dead-letter queue.

    Attributes:
        task_handle: names the task for ``cancel_message_move_task``; only set
            while the task is RUNNING.
        status: RUNNING, COMPLETED, CANCELLING, CANCELLED or FAILED.
        source_arn: the dead-letter queue.
        destination_arn: where messages go; None means each message's original
            source queue.
        max_number_of_messages_per_second: the rate cap; None means as fast as possible.
        approximate_number_of_messages_moved: messages moved so far.
        approximate_number_of_messages_to_move: messages the task set out to move.
        failure_reason: why a FAILED task failed.
        started_timestamp: when the task started, epoch milliseconds.
    """

    task_handle: str | None
    status: str
    source_arn: str
    destination_arn: str | None
    max_number_of_messages_per_second: int | None
    approximate_number_of_messages_moved: int
    approximate_number_of_messages_to_move: int
    failure_reason: str | None
    started_timestamp: int


# --- to protobuf -----------------------------------------------------------------------

_BOTO_ATTRIBUTE_KEYS = {
    "DataType": "data_type",
    "StringValue": "string_value",
    "BinaryValue": "binary_value",
}


def _attribute(name: str, value: MessageAttributeInput) -> MessageAttribute:
    if isinstance(value, MessageAttribute):
        return value
    if not isinstance(value, Mapping):
        raise InvalidParameterValue(
            f"message attribute {name!r}: expected a MessageAttribute or a dict "
            f"with DataType and StringValue or BinaryValue, got {type(value).__name__}"
        )
    unknown = sorted(set(value) - set(_BOTO_ATTRIBUTE_KEYS))
    if unknown:
        raise InvalidParameterValue(
            f"message attribute {name!r}: unknown key(s) {', '.join(map(str, unknown))}; "
            "use DataType, StringValue, BinaryValue"
        )
    if "DataType" not in value:
        raise InvalidParameterValue(f"message attribute {name!r}: DataType is missing")
    return MessageAttribute(**{_BOTO_ATTRIBUTE_KEYS[k]: v for k, v in value.items()})


def message_attributes_pb(
    attributes: Mapping[str, MessageAttributeInput] | None,
) -> dict[str, pb.MessageAttributeValue]:
    out: dict[str, pb.MessageAttributeValue] = {}
    for name, value in (attributes or {}).items():
        attr = _attribute(name, value)
        out[name] = pb.MessageAttributeValue(
            data_type=attr.data_type,
            string_value=attr.string_value or "",
            binary_value=attr.binary_value or b"",
        )
    return out


def queue_attributes_pb(attributes: Mapping[str, AttributeValue] | None) -> dict[str, str]:
    def text(value: AttributeValue) -> str:
        if isinstance(value, bool):  # before int: bool is an int
            return "true" if value else "false"
        return str(value)

    return {name: text(value) for name, value in (attributes or {}).items()}


E = TypeVar("E", SendMessageBatchEntry, DeleteMessageBatchEntry, ChangeMessageVisibilityBatchEntry)


def _entry(cls: type[E], index: int, entry: E | Mapping[str, Any]) -> E:
    if isinstance(entry, cls):
        return entry
    if not isinstance(entry, Mapping):
        raise InvalidParameterValue(
            f"batch entry {index}: expected a {cls.__name__} or a dict, got {type(entry).__name__}"
        )
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(entry) - known)
    if unknown:
        raise InvalidParameterValue(
            f"batch entry {index}: unknown key(s) {', '.join(map(str, unknown))}; "
            f"a {cls.__name__} has {', '.join(sorted(known))}"
        )
    try:
        return cls(**entry)
    except TypeError:
        required = [f.name for f in fields(cls) if f.default is MISSING and f.name not in entry]
        raise InvalidParameterValue(f"batch entry {index}: missing {', '.join(required)}") from None


def send_entries_pb(
    entries: Iterable[SendMessageBatchEntry | Mapping[str, Any]],
) -> list[pb.SendMessageBatchRequestEntry]:
    out = []
    for i, raw in enumerate(entries):
        e = _entry(SendMessageBatchEntry, i, raw)
        out.append(
            pb.SendMessageBatchRequestEntry(
                id=e.id,
                message_body=e.message_body,
                delay_seconds=e.delay_seconds or 0,
                has_delay_seconds=e.delay_seconds is not None,
                message_attributes=message_attributes_pb(e.message_attributes),
                message_deduplication_id=e.message_deduplication_id or "",
                message_group_id=e.message_group_id or "",
            )
        )
    return out


def delete_entries_pb(
    entries: Iterable[DeleteMessageBatchEntry | Mapping[str, Any]],
) -> list[pb.DeleteMessageBatchRequestEntry]:
    out = []
    for i, raw in enumerate(entries):
        e = _entry(DeleteMessageBatchEntry, i, raw)
        out.append(pb.DeleteMessageBatchRequestEntry(id=e.id, receipt_handle=e.receipt_handle))
    return out


def visibility_entries_pb(
    entries: Iterable[ChangeMessageVisibilityBatchEntry | Mapping[str, Any]],
) -> list[pb.ChangeMessageVisibilityBatchRequestEntry]:
    out = []
    for i, raw in enumerate(entries):
        e = _entry(ChangeMessageVisibilityBatchEntry, i, raw)
        out.append(
            pb.ChangeMessageVisibilityBatchRequestEntry(
                id=e.id, receipt_handle=e.receipt_handle, visibility_timeout=e.visibility_timeout
            )
        )
    return out


def send_request(
    queue_url: str,
    message_body: str,
    delay_seconds: int | None,
    message_attributes: Mapping[str, MessageAttributeInput] | None,
    message_deduplication_id: str | None,
    message_group_id: str | None,
) -> pb.SendMessageRequest:
    return pb.SendMessageRequest(
        queue_url=queue_url,
        message_body=message_body,
        delay_seconds=delay_seconds or 0,
        has_delay_seconds=delay_seconds is not None,
        message_attributes=message_attributes_pb(message_attributes),
        message_deduplication_id=message_deduplication_id or "",
        message_group_id=message_group_id or "",
    )


def receive_request(
    queue_url: str,
    max_number_of_messages: int,
    wait_time_seconds: int | None,
    visibility_timeout: int | None,
    message_system_attribute_names: Sequence[str] | None,
    message_attribute_names: Sequence[str] | None,
    receive_request_attempt_id: str | None,
) -> pb.ReceiveMessageRequest:
    if max_number_of_messages < 1:
        # On the wire 0 means "not given" (proto3); an explicit 0 is refused here, as SQS does.
        raise InvalidParameterValue(
            f"Value {max_number_of_messages} for parameter MaxNumberOfMessages is invalid. "
            "Reason: Must be between 1 and 10."
        )
    return pb.ReceiveMessageRequest(
        queue_url=queue_url,
        max_number_of_messages=max_number_of_messages,
        wait_time_seconds=wait_time_seconds or 0,
        has_wait_time_seconds=wait_time_seconds is not None,
        visibility_timeout=visibility_timeout or 0,
        has_visibility_timeout=visibility_timeout is not None,
        message_system_attribute_names=list(message_system_attribute_names or ()),
        message_attribute_names=list(message_attribute_names or ()),
        receive_request_attempt_id=receive_request_attempt_id or "",
    )


def move_request(
    source_arn: str, destination_arn: str | None, max_number_of_messages_per_second: int | None
) -> pb.StartMessageMoveTaskRequest:
    return pb.StartMessageMoveTaskRequest(
        source_arn=source_arn,
        destination_arn=destination_arn or "",
        max_number_of_messages_per_second=max_number_of_messages_per_second or 0,
    )


def receive_timeout(default: float | None, wait_time_seconds: int | None) -> float | None:
    """A deadline that outlasts the long poll, so a quiet queue answers "no messages"."""
    if default is None:
        return None
    wait = MAX_WAIT_SECONDS if wait_time_seconds is None else wait_time_seconds
    return max(default, wait + LONG_POLL_MARGIN_SECONDS)


# --- from protobuf ---------------------------------------------------------------------


def _opt(text: str) -> str | None:
    return text or None


def _message_attribute(v: pb.MessageAttributeValue) -> MessageAttribute:
    if v.data_type.startswith("Binary"):
        return MessageAttribute(v.data_type, binary_value=bytes(v.binary_value))
    return MessageAttribute(v.data_type, string_value=v.string_value)


def send_result(r: pb.SendMessageResponse) -> SendMessageResult:
    return SendMessageResult(
        r.message_id,
        r.md5_of_message_body,
        _opt(r.md5_of_message_attributes),
        _opt(r.sequence_number),
    )


def _batch_errors(failed: Iterable[pb.BatchResultErrorEntry]) -> list[BatchResultError]:
    return [BatchResultError(f.id, f.sender_fault, f.code, f.message) for f in failed]


def send_batch_result(r: pb.SendMessageBatchResponse) -> SendMessageBatchResult:
    ok = [
        SendMessageBatchResultEntry(
            s.id,
            s.message_id,
            s.md5_of_message_body,
            _opt(s.md5_of_message_attributes),
            _opt(s.sequence_number),
        )
        for s in r.successful
    ]
    return SendMessageBatchResult(ok, _batch_errors(r.failed))


def delete_batch_result(r: pb.DeleteMessageBatchResponse) -> DeleteMessageBatchResult:
    return DeleteMessageBatchResult([s.id for s in r.successful], _batch_errors(r.failed))


def visibility_batch_result(
    r: pb.ChangeMessageVisibilityBatchResponse,
) -> ChangeMessageVisibilityBatchResult:
    return ChangeMessageVisibilityBatchResult([s.id for s in r.successful], _batch_errors(r.failed))


def messages(r: pb.ReceiveMessageResponse) -> list[Message]:
    return [
        Message(
            m.message_id,
            m.receipt_handle,
            m.md5_of_body,
            m.body,
            dict(m.attributes),
            _opt(m.md5_of_message_attributes),
            {k: _message_attribute(v) for k, v in m.message_attributes.items()},
        )
        for m in r.messages
    ]


def url_page(r: pb.ListQueuesResponse | pb.ListDeadLetterSourceQueuesResponse) -> QueueUrlPage:
    return QueueUrlPage(list(r.queue_urls), _opt(r.next_token))


def move_tasks(r: pb.ListMessageMoveTasksResponse) -> list[MessageMoveTask]:
    return [
        MessageMoveTask(
            _opt(t.task_handle),
            t.status,
            t.source_arn,
            _opt(t.destination_arn),
            t.max_number_of_messages_per_second or None,
            t.approximate_number_of_messages_moved,
            t.approximate_number_of_messages_to_move,
            _opt(t.failure_reason),
            t.started_timestamp,
        )
        for t in r.results
    ]
