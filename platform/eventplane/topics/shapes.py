"""The SNS actions' request and result shapes, as plain typed dataclasses.

These are what the topics core (``operations.TopicOperations``) takes and returns.
Names follow SNS's API: one ``<Action>Request`` / ``<Action>Result`` pair per action,
fields in snake_case of SNS's member names (``TopicArn`` -> ``topic_arn``,
``PublishBatchRequestEntries`` -> ``publish_batch_request_entries``), so any front door
translates onto them by name alone: the gRPC servicer from protobuf, the HTTP gateway
from botocore's service model. Absent strings are "" (as the core's validation expects).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eventplane.messaging.attributes import MessageAttribute

# SNS calls a message attribute's value shape MessageAttributeValue; ours is the same record.
MessageAttributeValue = MessageAttribute


@dataclass
class Tag:
    key: str = ""
    value: str = ""


@dataclass
class BatchResultErrorEntry:
    id: str
    code: str
    message: str
    sender_fault: bool


# --- topics ---------------------------------------------------------------------------------


@dataclass
class CreateTopicRequest:
    name: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    tags: list[Tag] = field(default_factory=list)


@dataclass
class CreateTopicResult:
    topic_arn: str


@dataclass
class DeleteTopicRequest:
    topic_arn: str = ""


@dataclass
class DeleteTopicResult:
    pass


@dataclass
class ListTopicsRequest:
    next_token: str = ""


@dataclass
class Topic:
    topic_arn: str


@dataclass
class ListTopicsResult:
    topics: list[Topic]
    next_token: str = ""


@dataclass
class GetTopicAttributesRequest:
    topic_arn: str = ""


@dataclass
class GetTopicAttributesResult:
    attributes: dict[str, str]


@dataclass
class SetTopicAttributesRequest:
    topic_arn: str = ""
    attribute_name: str = ""
    attribute_value: str = ""


@dataclass
class SetTopicAttributesResult:
    pass


@dataclass
class AddPermissionRequest:
    topic_arn: str = ""
    label: str = ""
    aws_account_id: list[str] = field(default_factory=list)
    action_name: list[str] = field(default_factory=list)


@dataclass
class AddPermissionResult:
    pass


@dataclass
class RemovePermissionRequest:
    topic_arn: str = ""
    label: str = ""


@dataclass
class RemovePermissionResult:
    pass


@dataclass
class TagResourceRequest:
    resource_arn: str = ""
    tags: list[Tag] = field(default_factory=list)


@dataclass
class TagResourceResult:
    pass


@dataclass
class UntagResourceRequest:
    resource_arn: str = ""
    tag_keys: list[str] = field(default_factory=list)


@dataclass
class UntagResourceResult:
    pass


@dataclass
class ListTagsForResourceRequest:
    resource_arn: str = ""


@dataclass
class ListTagsForResourceResult:
    # {"Key": ..., "Value": ...} in SNS's spelling: a Mapping's "" is a value it holds (a
    # tag's Value may be empty), where a dataclass's "" would mean absent.
    tags: list[dict[str, str]] = field(default_factory=list)


# --- subscriptions ----------------------------------------------------------------------------


@dataclass
class SubscribeRequest:
    topic_arn: str = ""
    protocol: str = ""
    endpoint: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    return_subscription_arn: bool = False


@dataclass
class SubscribeResult:
    subscription_arn: str


@dataclass
class ConfirmSubscriptionRequest:
    topic_arn: str = ""
    token: str = ""
    authenticate_on_unsubscribe: str = ""


@dataclass
class ConfirmSubscriptionResult:
    subscription_arn: str


@dataclass
class UnsubscribeRequest:
    subscription_arn: str = ""


@dataclass
class UnsubscribeResult:
    pass


@dataclass
class Subscription:
    subscription_arn: str
    owner: str
    protocol: str
    endpoint: str
    topic_arn: str


@dataclass
class ListSubscriptionsRequest:
    next_token: str = ""


@dataclass
class ListSubscriptionsByTopicRequest:
    topic_arn: str = ""
    next_token: str = ""


@dataclass
class ListSubscriptionsResult:
    subscriptions: list[Subscription]
    next_token: str = ""


ListSubscriptionsByTopicResult = ListSubscriptionsResult


@dataclass
class GetSubscriptionAttributesRequest:
    subscription_arn: str = ""


@dataclass
class GetSubscriptionAttributesResult:
    attributes: dict[str, str]


@dataclass
class SetSubscriptionAttributesRequest:
    subscription_arn: str = ""
    attribute_name: str = ""
    attribute_value: str = ""


@dataclass
class SetSubscriptionAttributesResult:
    pass


# --- publish ----------------------------------------------------------------------------------


@dataclass
class PublishRequest:
    topic_arn: str = ""
    target_arn: str = ""
    phone_number: str = ""
    message: str = ""
    subject: str = ""
    message_structure: str = ""
    message_attributes: dict[str, MessageAttributeValue] = field(default_factory=dict)
    message_deduplication_id: str = ""
    message_group_id: str = ""


@dataclass
class PublishResult:
    message_id: str
    sequence_number: str = ""


@dataclass
class PublishBatchRequestEntry:
    id: str = ""
    message: str = ""
    subject: str = ""
    message_structure: str = ""
    message_attributes: dict[str, MessageAttributeValue] = field(default_factory=dict)
    message_deduplication_id: str = ""
    message_group_id: str = ""


@dataclass
class PublishBatchRequest:
    topic_arn: str = ""
    publish_batch_request_entries: list[PublishBatchRequestEntry] = field(default_factory=list)


@dataclass
class PublishBatchResultEntry:
    id: str
    message_id: str
    sequence_number: str = ""


@dataclass
class PublishBatchResult:
    successful: list[PublishBatchResultEntry]
    failed: list[BatchResultErrorEntry]
