"""Topic attributes: CreateTopic and SetTopicAttributes, validated and rendered as SNS does."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from eventplane.errors.security import MalformedPolicyDocument
from eventplane.security.resource_policy import parse_resource_policy
from eventplane.topics.attributes.common import (
    MAX_DISPLAY_NAME_LENGTH,
    _bool,
    _check_json_object,
    _invalid,
    _parse_bool,
    validate_topic_name,
)
from eventplane.topics.fifo import SCOPE_MESSAGE_GROUP, SCOPE_TOPIC, THROUGHPUT_SCOPES
from eventplane.topics.http_delivery import effective_topic_policy, validate_delivery_policy

# --- topics ---------------------------------------------------------------------------

_TOPIC_SETTABLE: Final = frozenset(
    {
        "FifoTopic",
        "ContentBasedDeduplication",
        "FifoThroughputScope",
        "DisplayName",
        "Policy",
        "DeliveryPolicy",
        "Partitions",
    }
)
_TOPIC_READ_ONLY: Final = frozenset(
    {
        "TopicArn",
        "Owner",
        "SubscriptionsConfirmed",
        "SubscriptionsPending",
        "SubscriptionsDeleted",
        "EffectiveDeliveryPolicy",
    }
)
_TOPIC_ORDER: Final = (
    "DisplayName",
    "Policy",
    "DeliveryPolicy",
    "FifoTopic",
    "ContentBasedDeduplication",
    "FifoThroughputScope",
    "Partitions",
)
_MIN_PARTITIONS, _MAX_PARTITIONS = 1, 64


def _check_topic_attribute(name: str, fifo: bool, field_name: str) -> None:
    if name == "KmsMasterKeyId":
        _invalid(
            field_name,
            "Unknown attribute KmsMasterKeyId. eventplane does not support KMS encryption; "
            "messages are stored in your Kafka cluster, so configure encryption at rest there.",
        )
    if name in _TOPIC_READ_ONLY:
        _invalid(field_name, f"{name} is read-only: GetTopicAttributes returns it.")
    if name not in _TOPIC_SETTABLE:
        _invalid(field_name, f"Unknown attribute {name}")
    if name == "ContentBasedDeduplication" and not fifo:
        _invalid(
            "ContentBasedDeduplication",
            "Content-based deduplication can only be set for FIFO topics.",
        )
    if name == "FifoThroughputScope" and not fifo:
        _invalid("FifoThroughputScope", "FifoThroughputScope can only be set for FIFO topics.")


def _parse_partitions(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or not _MIN_PARTITIONS <= int(raw) <= _MAX_PARTITIONS:
        _invalid(
            "Partitions",
            f"Must be an integer from {_MIN_PARTITIONS} to {_MAX_PARTITIONS}, got {raw!r}.",
        )
    return int(raw)


def _topic_changes(attributes: Mapping[str, str]) -> dict[str, Any]:
    """Field changes for already name-checked attributes (FifoTopic excluded)."""
    changes: dict[str, Any] = {}
    for name, raw in attributes.items():
        if name == "ContentBasedDeduplication":
            changes["content_based_deduplication"] = _parse_bool(name, raw)
        elif name == "FifoThroughputScope":
            if raw not in THROUGHPUT_SCOPES:
                _invalid(name, f"Invalid value [{raw}]. Please use either Topic or MessageGroup.")
            changes["fifo_throughput_scope"] = raw
        elif name == "DisplayName":
            if len(raw) > MAX_DISPLAY_NAME_LENGTH:
                _invalid(name, f"Must be at most {MAX_DISPLAY_NAME_LENGTH} characters long.")
            changes["display_name"] = raw
        elif name == "Policy":
            # An empty value removes the policy, as for queues.
            if raw:
                _check_json_object(name, raw)
                try:  # enforced on every call on the topic (security.resource_policy)
                    parse_resource_policy(raw)
                except MalformedPolicyDocument as exc:
                    _invalid(name, exc.message)
            changes["policy"] = raw or None
        elif name == "DeliveryPolicy":
            if raw:
                validate_delivery_policy(raw, topic=True)
            changes["delivery_policy"] = raw or None
        elif name == "Partitions":
            changes["partitions"] = _parse_partitions(raw)
    return changes


@dataclass(frozen=True, kw_only=True)
class TopicConfig:
    # FIFO topic (name ends in .fifo); fixed at creation.
    fifo: bool = False
    # FIFO only: derive the deduplication id from the SHA-256 of the message when none is sent.
    content_based_deduplication: bool = False
    # FIFO only: deduplicate across the "Topic" (which then has 1 partition, so the window is
    # exact) or within each "MessageGroup" (any partition count). Topic -> MessageGroup only.
    fifo_throughput_scope: str = SCOPE_TOPIC
    # Shown as the sender of SMS and email notifications by SNS; stored and reported only.
    display_name: str = ""
    # The access policy document exactly as given (valid JSON object); stored only.
    policy: str | None = None
    # Default HTTP/S delivery policy of the topic's subscriptions ({"http": {...}}).
    delivery_policy: str | None = None
    # eventplane only ("Partitions"): Kafka partitions backing the topic (1-64); fixed.
    # A FIFO topic with FifoThroughputScope=Topic has exactly 1.
    partitions: int = 4

    @staticmethod
    def parse_create(name: str, attributes: Mapping[str, str]) -> TopicConfig:
        """Same as the module-level :func:`parse_create`."""
        return parse_create(name, attributes)

    def with_update(self, attribute_name: str, value: str) -> TopicConfig:
        """The config after SetTopicAttributes."""
        if attribute_name == "FifoTopic":
            _invalid(
                "AttributeName",
                "FifoTopic can be set only when the topic is created; create a new topic to "
                "change the topic type.",
            )
        _check_topic_attribute(attribute_name, self.fifo, "AttributeName")
        changes = _topic_changes({attribute_name: value})
        if (
            changes.get("fifo_throughput_scope") == SCOPE_TOPIC
            and self.fifo_throughput_scope == SCOPE_MESSAGE_GROUP
        ):
            _invalid(
                "FifoThroughputScope",
                "FifoThroughputScope cannot change from MessageGroup back to Topic; create a "
                "new topic for topic-wide deduplication.",
            )
        if changes.get("partitions", self.partitions) != self.partitions:
            _invalid(
                "Partitions",
                f"Partitions cannot change after the topic is created (it is "
                f"{self.partitions}); create a new topic to use a different partition count.",
            )
        return replace(self, **changes)

    def attributes(self) -> dict[str, str]:
        """The static attributes as GetTopicAttributes returns them (all values strings)."""
        out = {"DisplayName": self.display_name}
        if self.policy is not None:
            out["Policy"] = self.policy
        if self.delivery_policy is not None:
            out["DeliveryPolicy"] = self.delivery_policy
        out["EffectiveDeliveryPolicy"] = effective_topic_policy(self.delivery_policy)
        if self.fifo:
            out["FifoTopic"] = "true"
            out["ContentBasedDeduplication"] = _bool(self.content_based_deduplication)
            out["FifoThroughputScope"] = self.fifo_throughput_scope
        out["Partitions"] = str(self.partitions)
        return out

    def differs_from(self, other: TopicConfig, names: Collection[str] | None = None) -> str | None:
        """The first settable attribute whose value differs, or None; ``names`` limits it."""
        mine, theirs = self.attributes(), other.attributes()
        for name in _TOPIC_ORDER:
            if (names is None or name in names) and mine.get(name) != theirs.get(name):
                return name
        return None

    def to_spec(self) -> dict[str, Any]:
        """A JSON-able dict; ``from_spec(config.to_spec()) == config``."""
        return {
            "fifo": self.fifo,
            "content_based_deduplication": self.content_based_deduplication,
            "fifo_throughput_scope": self.fifo_throughput_scope,
            "display_name": self.display_name,
            "policy": self.policy,
            "delivery_policy": self.delivery_policy,
            "partitions": self.partitions,
        }

    @staticmethod
    def from_spec(spec: Mapping[str, Any]) -> TopicConfig:
        # Missing keys take the defaults, so specs written before a field existed still load.
        return TopicConfig(**spec)


# The access policy SNS gives every new topic: the owner account may manage and publish to
# it. GetTopicAttributes shows it until a Policy is set, so code that reads the policy to
# add a statement works; it only allows, and only the owner, so it is not stored.
_DEFAULT_POLICY_ACTIONS: Final = (
    "SNS:GetTopicAttributes",
    "SNS:SetTopicAttributes",
    "SNS:AddPermission",
    "SNS:RemovePermission",
    "SNS:DeleteTopic",
    "SNS:Subscribe",
    "SNS:ListSubscriptionsByTopic",
    "SNS:Publish",
)


def default_topic_policy(topic_arn: str, account: str) -> str:
    """The Policy attribute of a topic no Policy was set on, as SNS renders it."""
    return json.dumps(
        {
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [
                {
                    "Sid": "__default_statement_ID",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": list(_DEFAULT_POLICY_ACTIONS),
                    "Resource": topic_arn,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
                }
            ],
        },
        separators=(",", ":"),
    )


def parse_create(name: str, attributes: Mapping[str, str]) -> TopicConfig:
    """Validate a CreateTopic request (name and attributes) and build the topic's config."""
    fifo_raw = attributes.get("FifoTopic")
    fifo = fifo_raw is not None and _parse_bool("FifoTopic", fifo_raw)
    validate_topic_name(name, fifo)
    for attribute in attributes:
        _check_topic_attribute(attribute, fifo, "Attributes")
    config = TopicConfig(fifo=fifo, **_topic_changes(attributes))
    if fifo and config.fifo_throughput_scope == SCOPE_TOPIC:
        # Topic-wide deduplication is exact only when one dispatcher sees every message.
        if "Partitions" in attributes and config.partitions != 1:
            _invalid(
                "Partitions",
                "A FIFO topic with FifoThroughputScope=Topic has 1 partition; use "
                "FifoThroughputScope=MessageGroup for more.",
            )
        config = replace(config, partitions=1)
    return config
