"""Arguments and results of the Topics client, and their mapping to and from protobuf.

Message attributes and per-entry batch errors have the same wire types as the
queues', so they take the same forms and map through the same helpers
(``_queue_types``). Fields SNS leaves out of a response when they do not apply
(sequence numbers outside FIFO topics) are ``None`` here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any, TypeAlias

from eventplane._gen.v1 import topics_pb2 as pb
from eventplane.client._queue_types import (
    BatchResultError,
    MessageAttributeInput,
    message_attributes_pb,
)
from eventplane.errors import InvalidParameterValue

AttributeValue: TypeAlias = str | int | bool | Mapping[str, Any]
"""A topic or subscription attribute value. Ints and bools are sent as SNS spells
them ("10", "true"); a dict is sent as JSON, for the attributes that hold a JSON
document (``FilterPolicy``, ``RedrivePolicy``, ``DeliveryPolicy``, ``Policy``)."""


@dataclass(frozen=True)
class Subscription:
    """A subscription of an endpoint to a topic.

    Attributes:
        subscription_arn: names the subscription (``<topic ARN>:<id>``).
        owner: the account that owns the subscription.
        protocol: ``sqs``, ``http`` or ``https``.
        endpoint: the queue (ARN, URL or name) or the URL messages are POSTed to.
        topic_arn: the topic the subscription receives from.
    """

    subscription_arn: str
    owner: str
    protocol: str
    endpoint: str
    topic_arn: str


@dataclass(frozen=True)
class PublishBatchEntry:
    """One message of ``publish_batch``; ``id`` is unique within the batch.

    The fields mean what the ``publish`` arguments of the same names mean.
    """

    id: str
    message: str
    subject: str | None = None
    message_attributes: Mapping[str, MessageAttributeInput] | None = None
    message_structure: str | None = None
    message_group_id: str | None = None
    message_deduplication_id: str | None = None


@dataclass(frozen=True)
class PublishResult:
    """What the topic recorded for a published message."""

    message_id: str
    sequence_number: str | None  # FIFO topics only


@dataclass(frozen=True)
class PublishBatchResultEntry:
    """One message of a batch that was published; ``id`` is the entry's id."""

    id: str
    message_id: str
    sequence_number: str | None  # FIFO topics only


@dataclass(frozen=True)
class PublishBatchResult:
    """The entries of a ``publish_batch`` that were published, and those that failed."""

    successful: list[PublishBatchResultEntry]
    failed: list[BatchResultError]


# --- to protobuf -----------------------------------------------------------------------


def attribute_text(value: AttributeValue) -> str:
    if isinstance(value, Mapping):
        return json.dumps(value)
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    return str(value)


def attributes_pb(attributes: Mapping[str, AttributeValue] | None) -> dict[str, str]:
    return {name: attribute_text(value) for name, value in (attributes or {}).items()}


def publish_request(
    topic_arn: str,
    message: str,
    subject: str | None,
    message_attributes: Mapping[str, MessageAttributeInput] | None,
    message_structure: str | None,
    message_group_id: str | None,
    message_deduplication_id: str | None,
) -> pb.PublishRequest:
    return pb.PublishRequest(
        topic_arn=topic_arn,
        message=message,
        subject=subject or "",
        message_attributes=message_attributes_pb(message_attributes),
        message_structure=message_structure or "",
        message_group_id=message_group_id or "",
        message_deduplication_id=message_deduplication_id or "",
    )


def _entry(index: int, entry: PublishBatchEntry | Mapping[str, Any]) -> PublishBatchEntry:
    if isinstance(entry, PublishBatchEntry):
        return entry
    if not isinstance(entry, Mapping):
        raise InvalidParameterValue(
            f"batch entry {index}: expected a PublishBatchEntry or a dict, "
            f"got {type(entry).__name__}"
        )
    known = {f.name for f in fields(PublishBatchEntry)}
    unknown = sorted(set(entry) - known)
    if unknown:
        raise InvalidParameterValue(
            f"batch entry {index}: unknown key(s) {', '.join(map(str, unknown))}; "
            f"a PublishBatchEntry has {', '.join(sorted(known))}"
        )
    missing = [
        f.name for f in fields(PublishBatchEntry) if f.default is MISSING and f.name not in entry
    ]
    if missing:
        raise InvalidParameterValue(f"batch entry {index}: missing {', '.join(missing)}")
    return PublishBatchEntry(**entry)


def publish_entries_pb(
    entries: Iterable[PublishBatchEntry | Mapping[str, Any]],
) -> list[pb.PublishBatchRequestEntry]:
    out = []
    for i, raw in enumerate(entries):
        e = _entry(i, raw)
        out.append(
            pb.PublishBatchRequestEntry(
                id=e.id,
                message=e.message,
                subject=e.subject or "",
                message_attributes=message_attributes_pb(e.message_attributes),
                message_structure=e.message_structure or "",
                message_group_id=e.message_group_id or "",
                message_deduplication_id=e.message_deduplication_id or "",
            )
        )
    return out


# --- from protobuf ---------------------------------------------------------------------


def topic_page(r: pb.ListTopicsResponse) -> tuple[list[str], str | None]:
    return list(r.topic_arns), r.next_token or None


def subscription_page(r: pb.ListSubscriptionsResponse) -> tuple[list[Subscription], str | None]:
    subscriptions = [
        Subscription(s.subscription_arn, s.owner, s.protocol, s.endpoint, s.topic_arn)
        for s in r.subscriptions
    ]
    return subscriptions, r.next_token or None


def publish_result(r: pb.PublishResponse) -> PublishResult:
    return PublishResult(r.message_id, r.sequence_number or None)


def publish_batch_result(r: pb.PublishBatchResponse) -> PublishBatchResult:
    ok = [
        PublishBatchResultEntry(s.id, s.message_id, s.sequence_number or None) for s in r.successful
    ]
    failed = [BatchResultError(f.id, f.sender_fault, f.code, f.message) for f in r.failed]
    return PublishBatchResult(ok, failed)
