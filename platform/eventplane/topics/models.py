"""Topics and subscriptions as the registry holds them, and the published-message record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from eventplane import arn as arns
from eventplane import names
from eventplane.kafka import codec
from eventplane.messaging.attributes import MessageAttribute
from eventplane.registry import Resource
from eventplane.security.accounts import owner_of
from eventplane.topics.attributes import (
    SubscriptionConfig,
    TopicConfig,
    subscription_arn,
    topic_arn,
)

__all__ = [
    "DEDUP_SCHEMA",
    "SCHEMA",
    "SUBSCRIPTION",
    "TOPIC",
    "Accepted",
    "DedupEntry",
    "Published",
    "SubscriptionDef",
    "TopicDef",
    "decode",
    "decode_dedup",
    "encode",
    "encode_dedup",
]

TOPIC = "topic"
SUBSCRIPTION = "subscription"
SCHEMA = "eventplane.v1.TopicMessage"
# FIFO dedup journal entries (eventplane.t.<topic>.dedup) have the same fields as a FIFO
# queue's, so they share its schema; the key holds the group and the dedup id.
DEDUP_SCHEMA = "eventplane.v1.QueueDedup"


@dataclass(frozen=True)
class TopicDef:
    # The internal name (``eventplane.names``): the registry key and what its Kafka topics
    # are named after; callers see ``plain`` and ``account`` (in its ARN).
    name: str
    config: TopicConfig
    tags: dict[str, str]
    # The account the topic belongs to (its creator's).
    account: str = field(default_factory=lambda: arns.identity().account)

    @property
    def plain(self) -> str:
        return names.plain(self.name)

    @property
    def arn(self) -> str:
        return topic_arn(self.plain, self.account)

    @staticmethod
    def from_resource(r: Resource) -> TopicDef:
        return TopicDef(
            r.name,
            TopicConfig.from_spec(r.spec["config"]),
            dict(r.spec.get("tags", {})),
            owner_of(r.spec),
        )


@dataclass(frozen=True)
class SubscriptionDef:
    topic: str  # the topic's internal name
    sub_id: str
    config: SubscriptionConfig
    # http/https: the Token of the SubscriptionConfirmation message sent to the endpoint,
    # which ConfirmSubscription takes; "" for other protocols.
    token: str = ""
    # The account of the topic (its ARN and the subscription's carry it).
    account: str = field(default_factory=lambda: arns.identity().account)

    @property
    def key(self) -> str:
        return f"{self.topic}:{self.sub_id}"

    @property
    def arn(self) -> str:
        return subscription_arn(names.plain(self.topic), self.sub_id, self.account)

    @property
    def topic_arn(self) -> str:
        return topic_arn(names.plain(self.topic), self.account)

    @staticmethod
    def from_resource(r: Resource) -> SubscriptionDef:
        return SubscriptionDef(
            r.spec["topic"],
            r.spec["id"],
            SubscriptionConfig.from_spec(r.spec["config"]),
            r.spec.get("token", ""),
            owner_of(r.spec),
        )


@dataclass(frozen=True)
class Published:
    """A message on eventplane.t.<topic>, as the dispatcher reads it."""

    message_id: str
    message: str
    http_message: str | None
    subject: str | None
    attributes: Mapping[str, MessageAttribute]
    published_ms: int
    group_id: str | None = None
    dedup_id: str | None = None


@dataclass(frozen=True)
class Accepted:
    """What Publish answers for one message; ``sequence_number`` for FIFO topics only."""

    message_id: str
    sequence_number: str | None = None


@dataclass(frozen=True)
class DedupEntry:
    """An accepted FIFO message as the dedup journal remembers it."""

    dedup_id: str
    message_id: str
    sequence_number: str
    expires_ms: int


def encode_dedup(entry: DedupEntry) -> tuple[bytes, list[tuple[str, bytes]]]:
    return codec.encode(
        DEDUP_SCHEMA,
        {
            "dedup_id": entry.dedup_id,
            "message_id": entry.message_id,
            "sequence_number": entry.sequence_number,
            "expires_ms": entry.expires_ms,
        },
    )


def decode_dedup(value: bytes, headers: Sequence[tuple[str, bytes | None]]) -> DedupEntry:
    name, rec = codec.decode(value, headers)
    if name != DEDUP_SCHEMA:
        raise codec.CodecError(f"expected a {DEDUP_SCHEMA}, got {name}")
    return DedupEntry(rec["dedup_id"], rec["message_id"], rec["sequence_number"], rec["expires_ms"])


def encode(p: Published) -> tuple[bytes, list[tuple[str, bytes]]]:
    return codec.encode(
        SCHEMA,
        {
            "message_id": p.message_id,
            "message": p.message,
            "http_message": p.http_message,
            "subject": p.subject,
            "attributes": [
                {
                    "name": k,
                    "data_type": a.data_type,
                    "string_value": a.string_value,
                    "binary_value": a.binary_value,
                }
                for k, a in p.attributes.items()
            ],
            "published_ms": p.published_ms,
            "group_id": p.group_id,
            "dedup_id": p.dedup_id,
        },
    )


def decode(value: bytes, headers: Sequence[tuple[str, bytes | None]]) -> Published:
    _, rec = codec.decode(value, headers)
    return Published(
        message_id=rec["message_id"],
        message=rec["message"],
        http_message=rec["http_message"],
        subject=rec["subject"],
        attributes={
            a["name"]: MessageAttribute(a["data_type"], a["string_value"], a["binary_value"])
            for a in rec["attributes"]
        },
        published_ms=rec["published_ms"],
        group_id=rec["group_id"],
        dedup_id=rec["dedup_id"],
    )
