"""Topic and subscription attributes: parse, validate and render them the way SNS does.

Pure (no Kafka, no gRPC), like :mod:`eventplane.queues.attributes`. CreateTopic goes
through ``parse_create``, SetTopicAttributes through ``TopicConfig.with_update``; Subscribe
through ``parse_subscribe``, SetSubscriptionAttributes through
``SubscriptionConfig.with_update``. A subscription compiles its filter policy when the config
is built, so an invalid policy is rejected at subscribe time and matching never re-parses
it. Errors are ``InvalidParameter`` worded like SNS (``Invalid parameter: <Field> Reason:
...``) and always name the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, NoReturn
from urllib.parse import urlsplit

from eventplane import arn as arns
from eventplane.arn import function_arn, queue_arn
from eventplane.arn import subscription_arn as subscription_arn
from eventplane.arn import topic_arn as topic_arn
from eventplane.errors import EventplaneError
from eventplane.queues.attributes import name_from_ref
from eventplane.topics.errors import InvalidParameter
from eventplane.topics.fifo import SCOPE_MESSAGE_GROUP, SCOPE_TOPIC, THROUGHPUT_SCOPES
from eventplane.topics.filter_policy import SCOPES, CompiledFilterPolicy, compile_filter_policy
from eventplane.topics.http_delivery import effective_topic_policy, validate_delivery_policy

MAX_NAME_LENGTH: Final = 256
MAX_DISPLAY_NAME_LENGTH: Final = 100
FIFO_SUFFIX: Final = ".fifo"
PROTOCOLS: Final = ("sqs", "http", "https", "lambda", "function")
# "lambda" is SNS's name for a function subscription, "function" eventplane's; both are
# stored as "lambda".
FUNCTION_PROTOCOLS: Final = frozenset({"lambda", "function"})
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9_$-]+)?")
_RAW_CAPABLE: Final = frozenset({"sqs", "http", "https"})

_NAME_CHARS = re.compile(r"[A-Za-z0-9_-]+")
_SUBSCRIPTION_ID = re.compile(r"[A-Za-z0-9-]{1,100}")


def _invalid(field_name: str, reason: str = "") -> NoReturn:
    suffix = f" Reason: {reason}" if reason else ""
    raise InvalidParameter(f"Invalid parameter: {field_name}{suffix}")


# --- names and ARNs -------------------------------------------------------------------


def _is_valid_name(name: str) -> bool:
    base = name.removesuffix(FIFO_SUFFIX)
    return len(name) <= MAX_NAME_LENGTH and _NAME_CHARS.fullmatch(base) is not None


def topic_name_from_ref(ref: str, field: str = "TopicArn") -> str:
    """The topic name in ``ref``: a topic ARN (any region and account) or a bare name."""
    name = ref
    if ref.startswith("arn:"):
        found = arns.parse_as(ref, arns.Kind.TOPIC)
        name = found.name if found else ""
    if not _is_valid_name(name):
        _invalid(
            field,
            f"Expected a topic ARN (arn:aws:sns:<region>:<account>:<name>) or a topic name, "
            f"got {ref!r}.",
        )
    return name


def parse_subscription_arn(ref: str) -> tuple[str, str]:
    """(topic name, subscription id) of a subscription ARN."""
    found = arns.parse_as(ref, arns.Kind.SUBSCRIPTION)
    if (
        found is None
        or found.qualifier is None
        or not _is_valid_name(found.name)
        or _SUBSCRIPTION_ID.fullmatch(found.qualifier) is None
    ):
        _invalid(
            "SubscriptionArn",
            f"Expected arn:aws:sns:<region>:<account>:<topic>:<subscription id>, got {ref!r}.",
        )
    return found.name, found.qualifier


def validate_topic_name(name: str, fifo: bool) -> None:
    """1-256 characters of [A-Za-z0-9_-]; FIFO topics (and only they) end in ``.fifo``."""
    if fifo:
        if not name.endswith(FIFO_SUFFIX) or not _is_valid_name(name):
            _invalid(
                "Topic Name",
                "FIFO topic names must end with .fifo and be made up of only uppercase and "
                "lowercase ASCII letters, numbers, underscores, and hyphens, and must be "
                "between 1 and 256 characters long.",
            )
        return
    if name.endswith(FIFO_SUFFIX) and _is_valid_name(name):
        _invalid(
            "Topic Name", "A topic name ending in .fifo requires the attribute FifoTopic=true."
        )
    if len(name) > MAX_NAME_LENGTH or _NAME_CHARS.fullmatch(name) is None:
        _invalid(
            "Topic Name",
            "Topic names must be made up of only uppercase and lowercase ASCII letters, "
            "numbers, underscores, and hyphens, and must be between 1 and 256 characters long.",
        )


def _parse_bool(name: str, raw: str) -> bool:
    # SNS accepts any casing and answers in lower case.
    if raw.lower() not in ("true", "false"):
        _invalid(name, f"Must be true or false, got {raw!r}.")
    return raw.lower() == "true"


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _check_json_object(name: str, raw: str) -> None:
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        _invalid(name, f"Must be a JSON object, got {raw!r}.")


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
    if not raw.isdigit() or not _MIN_PARTITIONS <= int(raw) <= _MAX_PARTITIONS:
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


# --- subscriptions --------------------------------------------------------------------

_SUBSCRIPTION_SETTABLE: Final = frozenset(
    {"DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy"}
)
_SUBSCRIPTION_READ_ONLY: Final = frozenset(
    {
        "SubscriptionArn",
        "TopicArn",
        "Owner",
        "Protocol",
        "Endpoint",
        "ConfirmationWasAuthenticated",
        "PendingConfirmation",
        "EffectiveDeliveryPolicy",
        "SubscriptionPrincipal",
    }
)


def _check_subscription_attribute(name: str, field_name: str) -> None:
    if name in _SUBSCRIPTION_READ_ONLY:
        _invalid(field_name, f"{name} is read-only: GetSubscriptionAttributes returns it.")
    if name not in _SUBSCRIPTION_SETTABLE:
        _invalid(field_name, f"Unknown attribute {name}")


def _parse_redrive_policy(raw: str, fifo: bool) -> str:
    """The dead-letter queue's name in a subscription RedrivePolicy."""
    try:
        document = json.loads(raw)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        _invalid("RedrivePolicy", f"Must be a JSON object, got {raw!r}.")
    extra = sorted(set(document) - {"deadLetterTargetArn"})
    if extra:
        _invalid(
            "RedrivePolicy",
            f"Unknown key {extra[0]!r}; a subscription RedrivePolicy has only deadLetterTargetArn.",
        )
    arn = document.get("deadLetterTargetArn")
    found = arns.parse_as(arn, arns.Kind.QUEUE) if isinstance(arn, str) else None
    if found is None:
        _invalid("RedrivePolicy", f"deadLetterTargetArn must be an SQS queue ARN, got {arn!r}.")
    try:
        name = name_from_ref(found.name, field="RedrivePolicy")
    except EventplaneError:
        _invalid("RedrivePolicy", f"deadLetterTargetArn names an invalid queue: {arn!r}.")
    if name.endswith(FIFO_SUFFIX) != fifo:
        _invalid(
            "RedrivePolicy",
            "The dead-letter queue of a FIFO topic's subscription must be a FIFO queue, and "
            "of a standard topic's a standard queue.",
        )
    return name


@dataclass(frozen=True, kw_only=True)
class SubscriptionConfig:
    # sqs (an eventplane queue), http or https.
    protocol: str
    # sqs: the queue's name; http/https: the URL notifications are POSTed to.
    endpoint: str
    # The filter policy exactly as given (JSON text), or None to receive every message.
    filter_policy: str | None = None
    # What the filter policy looks at: MessageAttributes (default) or MessageBody.
    filter_policy_scope: str = "MessageAttributes"
    # Deliver the published message as is, rather than inside the SNS JSON envelope.
    raw_message_delivery: bool = False
    # Name of the queue that receives messages that could not be delivered, or None.
    redrive_policy: str | None = None
    # http/https only: the subscription's own delivery policy (JSON), or None.
    delivery_policy: str | None = None
    # The compiled filter policy: built once per config, used for every message.
    _matcher: CompiledFilterPolicy | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # Compiling here keeps the invariant that a config never holds an invalid policy,
        # and a frozen dataclass may set its own derived field this way.
        matcher = (
            None
            if self.filter_policy is None
            else compile_filter_policy(self.filter_policy, self.filter_policy_scope)
        )
        object.__setattr__(self, "_matcher", matcher)

    @property
    def fifo(self) -> bool:
        """Whether the subscription belongs to a FIFO topic (only FIFO queues can)."""
        return self.protocol == "sqs" and self.endpoint.endswith(FIFO_SUFFIX)

    def matcher(self) -> CompiledFilterPolicy | None:
        """The compiled filter policy, or None when every message is delivered."""
        return self._matcher

    @staticmethod
    def parse_subscribe(
        protocol: str, endpoint: str, attributes: Mapping[str, str], topic: TopicConfig
    ) -> SubscriptionConfig:
        """Same as the module-level :func:`parse_subscribe`."""
        return parse_subscribe(protocol, endpoint, attributes, topic)

    def with_update(self, attribute_name: str, value: str) -> SubscriptionConfig:
        """The config after SetSubscriptionAttributes ("" removes a FilterPolicy)."""
        _check_subscription_attribute(attribute_name, "AttributeName")
        return self._set(attribute_name, value)

    def _set(self, name: str, value: str) -> SubscriptionConfig:
        if name == "FilterPolicy":
            if not value:
                return replace(self, filter_policy=None)
            return replace(self, filter_policy=value)
        if name == "FilterPolicyScope":
            if value not in SCOPES:
                _invalid(
                    "FilterPolicyScope",
                    f"Invalid value [{value}]. Please use either MessageBody or MessageAttributes",
                )
            return replace(self, filter_policy_scope=value)
        if name == "RawMessageDelivery":
            raw = _parse_bool(name, value)
            if raw and self.protocol not in _RAW_CAPABLE:
                _invalid(name, f"Raw message delivery is not available for {self.protocol}.")
            return replace(self, raw_message_delivery=raw)
        if name == "RedrivePolicy":
            if not value:
                return replace(self, redrive_policy=None)
            return replace(self, redrive_policy=_parse_redrive_policy(value, self.fifo))
        # DeliveryPolicy
        if not value:
            return replace(self, delivery_policy=None)
        if self.protocol not in ("http", "https"):
            _invalid(name, "A delivery policy applies to http and https subscriptions only.")
        validate_delivery_policy(value, topic=False)
        return replace(self, delivery_policy=value)

    def endpoint_ref(self) -> str:
        """The Endpoint as SNS reports it: a queue ARN for sqs, the URL otherwise."""
        if self.protocol == "lambda":
            return function_arn(self.endpoint)
        return queue_arn(self.endpoint) if self.protocol == "sqs" else self.endpoint

    def attributes(self) -> dict[str, str]:
        """The static attributes as GetSubscriptionAttributes returns them."""
        out = {
            "Protocol": self.protocol,
            "Endpoint": self.endpoint_ref(),
            "RawMessageDelivery": _bool(self.raw_message_delivery),
            "ConfirmationWasAuthenticated": "true",
            "PendingConfirmation": "false",
        }
        if self.filter_policy is not None:
            # SNS reports the scope only alongside a policy.
            out["FilterPolicy"] = self.filter_policy
            out["FilterPolicyScope"] = self.filter_policy_scope
        if self.redrive_policy is not None:
            out["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": queue_arn(self.redrive_policy)}, separators=(",", ":")
            )
        if self.delivery_policy is not None:
            out["DeliveryPolicy"] = self.delivery_policy
        return out

    def to_spec(self) -> dict[str, Any]:
        """A JSON-able dict; ``from_spec(config.to_spec()) == config``."""
        return {
            "protocol": self.protocol,
            "endpoint": self.endpoint,
            "filter_policy": self.filter_policy,
            "filter_policy_scope": self.filter_policy_scope,
            "raw_message_delivery": self.raw_message_delivery,
            "redrive_policy": self.redrive_policy,
            "delivery_policy": self.delivery_policy,
        }

    @staticmethod
    def from_spec(spec: Mapping[str, Any]) -> SubscriptionConfig:
        return SubscriptionConfig(**spec)


def _parse_endpoint(protocol: str, endpoint: str) -> str:
    if not endpoint:
        _invalid("Endpoint", "The request must contain the parameter Endpoint.")
    if protocol == "sqs":
        try:
            return name_from_ref(endpoint, field="Endpoint")
        except EventplaneError as err:
            _invalid("Endpoint", err.message)
    if protocol in FUNCTION_PROTOCOLS:
        target = arns.target(endpoint) if endpoint.startswith("arn:") else None
        name = endpoint
        if target is not None and target.kind is arns.TargetKind.FUNCTION:
            name = target.endpoint
        if not _FUNCTION_NAME.fullmatch(name):
            _invalid("Endpoint", f"Expected a function ARN or name, got {endpoint!r}.")
        return name
    parts = urlsplit(endpoint)
    if parts.scheme != protocol:
        _invalid("Endpoint", f"Endpoint must match the specified protocol ({protocol}://...).")
    try:
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        _invalid("Endpoint", f"Invalid port in {endpoint!r}.")
    if not parts.hostname:
        _invalid("Endpoint", f"The URL {endpoint!r} has no host.")
    return endpoint


def parse_subscribe(
    protocol: str, endpoint: str, attributes: Mapping[str, str], topic: TopicConfig
) -> SubscriptionConfig:
    """Validate a Subscribe request and build the subscription's config."""
    if protocol not in PROTOCOLS:
        _invalid(
            "Protocol",
            f"Amazon SNS does not support this protocol string: {protocol!r} (eventplane "
            f"delivers to {', '.join(PROTOCOLS)}).",
        )
    normalized = _parse_endpoint(protocol, endpoint)
    # SNS's own wording for both.
    if topic.fifo and (protocol != "sqs" or not normalized.endswith(FIFO_SUFFIX)):
        _invalid("Endpoint", "Please use FIFO SQS queue")
    if not topic.fifo and protocol == "sqs" and normalized.endswith(FIFO_SUFFIX):
        _invalid("Endpoint", "FIFO SQS Queues can not be subscribed to standard SNS topics")
    for name in attributes:
        _check_subscription_attribute(name, "Attributes")
    if protocol in FUNCTION_PROTOCOLS:
        protocol = "lambda"
    config = SubscriptionConfig(protocol=protocol, endpoint=normalized)
    # The scope first, so that the policy is compiled for the scope it will run under.
    ordered = sorted(attributes.items(), key=lambda item: item[0] != "FilterPolicyScope")
    for name, value in ordered:
        config = config._set(name, value)
    return config
