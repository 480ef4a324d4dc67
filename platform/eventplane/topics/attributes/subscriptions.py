"""Subscription attributes: Subscribe and SetSubscriptionAttributes, validated and rendered
as SNS does; the filter policy is compiled when the config is built."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final
from urllib.parse import urlsplit

from eventplane import arn as arns
from eventplane import names
from eventplane.arn import function_arn, queue_arn
from eventplane.topics.attributes.common import (
    _FUNCTION_NAME,
    _RAW_CAPABLE,
    FIFO_SUFFIX,
    FUNCTION_PROTOCOLS,
    PROTOCOLS,
    _bool,
    _invalid,
    _parse_bool,
)
from eventplane.topics.attributes.topics import (
    TopicConfig,
)
from eventplane.topics.filter_policy import SCOPES, CompiledFilterPolicy, compile_filter_policy
from eventplane.topics.http_delivery import validate_delivery_policy

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
    name = arns.queue_name(found.name)
    if name is None:
        _invalid("RedrivePolicy", f"deadLetterTargetArn names an invalid queue: {arn!r}.")
    # Kept as the queue's internal name: queue names are per account.
    name = names.qualify(name, found.arn.account)
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
        return _queue_arn(self.endpoint) if self.protocol == "sqs" else self.endpoint

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
                {"deadLetterTargetArn": _queue_arn(self.redrive_policy)}, separators=(",", ":")
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


def _queue_arn(internal: str) -> str:
    """The ARN of the queue of internal name ``internal`` (``eventplane.names``)."""
    owner, name = names.unqualify(internal)
    return queue_arn(name, owner)


def _parse_endpoint(protocol: str, endpoint: str, account: str | None) -> str:
    if not endpoint:
        _invalid("Endpoint", "The request must contain the parameter Endpoint.")
    if protocol == "sqs":
        found = arns.queue_reference(endpoint)
        if found is None:
            _invalid(
                "Endpoint",
                f"Value {endpoint} for parameter Endpoint is invalid. Reason: Expected "
                f"{arns.QUEUE_REFERENCE}.",
            )
        # The queue's internal name: in its ARN's (or URL's) account, a bare name in the
        # subscriber's (``account``).
        owner, queue = found
        return names.qualify(queue, owner or account)
    if protocol in FUNCTION_PROTOCOLS:
        target = arns.target(endpoint) if endpoint.startswith("arn:") else None
        name = endpoint
        if target is not None and target.kind is arns.TargetKind.FUNCTION:
            name = names.plain(target.endpoint)
        if not _FUNCTION_NAME.fullmatch(name):
            _invalid("Endpoint", f"Expected a function ARN or name, got {endpoint!r}.")
        # The function's internal name: in its ARN's account, a bare name in the
        # subscriber's (``account``); function names are per account.
        return target.endpoint if target is not None else names.qualify(name, account)
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
    protocol: str,
    endpoint: str,
    attributes: Mapping[str, str],
    topic: TopicConfig,
    account: str | None = None,
) -> SubscriptionConfig:
    """Validate a Subscribe request and build the subscription's config (``account``: the
    subscriber's, whose queue a bare queue name is; default the installation's)."""
    if protocol not in PROTOCOLS:
        _invalid(
            "Protocol",
            f"Amazon SNS does not support this protocol string: {protocol!r} (eventplane "
            f"delivers to {', '.join(PROTOCOLS)}).",
        )
    normalized = _parse_endpoint(protocol, endpoint, account)
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
