"""Topics and subscriptions as the registry holds them, and the published-message record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from eventplane.kafka import codec
from eventplane.queues.messages import MessageAttribute
from eventplane.registry import Resource
from eventplane.topics.attributes import (
    SubscriptionConfig,
    TopicConfig,
    subscription_arn,
    topic_arn,
)

TOPIC = "topic"
SUBSCRIPTION = "subscription"
SCHEMA = "eventplane.v1.TopicMessage"


@dataclass(frozen=True)
class TopicDef:
    name: str
    config: TopicConfig
    tags: dict[str, str]

    @property
    def arn(self) -> str:
        return topic_arn(self.name)

    @staticmethod
    def from_resource(r: Resource) -> TopicDef:
        return TopicDef(
            r.name, TopicConfig.from_spec(r.spec["config"]), dict(r.spec.get("tags", {}))
        )


@dataclass(frozen=True)
class SubscriptionDef:
    topic: str
    sub_id: str
    config: SubscriptionConfig

    @property
    def key(self) -> str:
        return f"{self.topic}:{self.sub_id}"

    @property
    def arn(self) -> str:
        return subscription_arn(self.topic, self.sub_id)

    @staticmethod
    def from_resource(r: Resource) -> SubscriptionDef:
        return SubscriptionDef(
            r.spec["topic"], r.spec["id"], SubscriptionConfig.from_spec(r.spec["config"])
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
