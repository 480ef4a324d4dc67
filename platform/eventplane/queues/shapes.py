"""The SQS actions' request and result shapes, as plain typed dataclasses.

These are what the queues core (``operations.QueueOperations``) takes and returns. Names
follow SQS's API: one ``<Action>Request`` / ``<Action>Result`` pair per action, fields in
snake_case of SQS's member names (``QueueUrl`` -> ``queue_url``, ``MD5OfBody`` ->
``md5_of_body``), so a front door can translate any wire format onto them by name alone:
the gRPC servicer from protobuf, the HTTP gateway from botocore's service model.

Absent strings are "" (as in protobuf and as the core's validation expects); an absent
optional number is None, because 0 is a valid explicit value for several of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eventplane.queues.messages import MessageAttribute

# SQS calls a message attribute's value shape MessageAttributeValue; ours is the same record.
MessageAttributeValue = MessageAttribute


@dataclass
class BatchResultErrorEntry:
    id: str
    sender_fault: bool
    code: str
    message: str


# --- queues ---------------------------------------------------------------------------------


@dataclass
class CreateQueueRequest:
    queue_name: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class CreateQueueResult:
    queue_url: str


@dataclass
class GetQueueUrlRequest:
    queue_name: str = ""
    queue_owner_aws_account_id: str = ""


@dataclass
class GetQueueUrlResult:
    queue_url: str


@dataclass
class ListQueuesRequest:
    queue_name_prefix: str = ""
    next_token: str = ""
    max_results: int | None = None


@dataclass
class ListQueuesResult:
    queue_urls: list[str] = field(default_factory=list)
    next_token: str = ""


@dataclass
class DeleteQueueRequest:
    queue_url: str = ""


@dataclass
class GetQueueAttributesRequest:
    queue_url: str = ""
    attribute_names: list[str] = field(default_factory=list)


@dataclass
class GetQueueAttributesResult:
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class SetQueueAttributesRequest:
    queue_url: str = ""
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class PurgeQueueRequest:
    queue_url: str = ""


@dataclass
class AddPermissionRequest:
    queue_url: str = ""
    label: str = ""
    aws_account_ids: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)


@dataclass
class RemovePermissionRequest:
    queue_url: str = ""
    label: str = ""


@dataclass
class TagQueueRequest:
    queue_url: str = ""
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class UntagQueueRequest:
    queue_url: str = ""
    tag_keys: list[str] = field(default_factory=list)


@dataclass
class ListQueueTagsRequest:
    queue_url: str = ""


@dataclass
class ListQueueTagsResult:
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class ListDeadLetterSourceQueuesRequest:
    queue_url: str = ""
    next_token: str = ""
    max_results: int | None = None


@dataclass
class ListDeadLetterSourceQueuesResult:
    queue_urls: list[str] = field(default_factory=list)
    next_token: str = ""


# --- send -----------------------------------------------------------------------------------


@dataclass
class SendMessageRequest:
    queue_url: str = ""
    message_body: str = ""
    delay_seconds: int | None = None
    message_attributes: dict[str, MessageAttribute] = field(default_factory=dict)
    message_deduplication_id: str = ""
    message_group_id: str = ""


@dataclass
class SendMessageResult:
    message_id: str
    md5_of_message_body: str
    md5_of_message_attributes: str = ""
    sequence_number: str = ""


@dataclass
class SendMessageBatchRequestEntry:
    id: str = ""
    message_body: str = ""
    delay_seconds: int | None = None
    message_attributes: dict[str, MessageAttribute] = field(default_factory=dict)
    message_deduplication_id: str = ""
    message_group_id: str = ""


@dataclass
class SendMessageBatchRequest:
    queue_url: str = ""
    entries: list[SendMessageBatchRequestEntry] = field(default_factory=list)


@dataclass
class SendMessageBatchResultEntry:
    id: str
    message_id: str
    md5_of_message_body: str
    md5_of_message_attributes: str = ""
    sequence_number: str = ""


@dataclass
class SendMessageBatchResult:
    successful: list[SendMessageBatchResultEntry] = field(default_factory=list)
    failed: list[BatchResultErrorEntry] = field(default_factory=list)


# --- receive / delete / visibility ----------------------------------------------------------


@dataclass
class ReceiveMessageRequest:
    queue_url: str = ""
    # The older name of message_system_attribute_names; SDKs still send it.
    attribute_names: list[str] = field(default_factory=list)
    message_system_attribute_names: list[str] = field(default_factory=list)
    message_attribute_names: list[str] = field(default_factory=list)
    max_number_of_messages: int | None = None
    visibility_timeout: int | None = None
    wait_time_seconds: int | None = None
    receive_request_attempt_id: str = ""


@dataclass
class Message:
    message_id: str
    receipt_handle: str
    md5_of_body: str
    body: str
    attributes: dict[str, str] = field(default_factory=dict)
    md5_of_message_attributes: str = ""
    message_attributes: dict[str, MessageAttribute] = field(default_factory=dict)


@dataclass
class ReceiveMessageResult:
    messages: list[Message] = field(default_factory=list)


@dataclass
class DeleteMessageRequest:
    queue_url: str = ""
    receipt_handle: str = ""


@dataclass
class DeleteMessageBatchRequestEntry:
    id: str = ""
    receipt_handle: str = ""


@dataclass
class DeleteMessageBatchRequest:
    queue_url: str = ""
    entries: list[DeleteMessageBatchRequestEntry] = field(default_factory=list)


@dataclass
class DeleteMessageBatchResultEntry:
    id: str


@dataclass
class DeleteMessageBatchResult:
    successful: list[DeleteMessageBatchResultEntry] = field(default_factory=list)
    failed: list[BatchResultErrorEntry] = field(default_factory=list)


@dataclass
class ChangeMessageVisibilityRequest:
    queue_url: str = ""
    receipt_handle: str = ""
    visibility_timeout: int | None = None


@dataclass
class ChangeMessageVisibilityBatchRequestEntry:
    id: str = ""
    receipt_handle: str = ""
    visibility_timeout: int | None = None


@dataclass
class ChangeMessageVisibilityBatchRequest:
    queue_url: str = ""
    entries: list[ChangeMessageVisibilityBatchRequestEntry] = field(default_factory=list)


@dataclass
class ChangeMessageVisibilityBatchResultEntry:
    id: str


@dataclass
class ChangeMessageVisibilityBatchResult:
    successful: list[ChangeMessageVisibilityBatchResultEntry] = field(default_factory=list)
    failed: list[BatchResultErrorEntry] = field(default_factory=list)


# --- message move tasks ---------------------------------------------------------------------


@dataclass
class StartMessageMoveTaskRequest:
    source_arn: str = ""
    destination_arn: str = ""
    max_number_of_messages_per_second: int | None = None


@dataclass
class StartMessageMoveTaskResult:
    task_handle: str


@dataclass
class ListMessageMoveTasksRequest:
    source_arn: str = ""
    max_results: int | None = None


@dataclass
class ListMessageMoveTasksResultEntry:
    task_handle: str = ""
    status: str = ""
    source_arn: str = ""
    destination_arn: str = ""
    max_number_of_messages_per_second: int | None = None
    approximate_number_of_messages_moved: int = 0
    approximate_number_of_messages_to_move: int | None = None
    failure_reason: str = ""
    started_timestamp: int = 0


@dataclass
class ListMessageMoveTasksResult:
    results: list[ListMessageMoveTasksResultEntry] = field(default_factory=list)


@dataclass
class CancelMessageMoveTaskRequest:
    task_handle: str = ""


@dataclass
class CancelMessageMoveTaskResult:
    approximate_number_of_messages_moved: int = 0


@dataclass
class Empty:
    """The result of an action that answers nothing but success."""
