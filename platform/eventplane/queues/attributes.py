"""Queue attributes: parse, validate and render them the way SQS does.

Everything here is pure (no Kafka, no gRPC) so the rules can be tested in isolation.
CreateQueue goes through ``parse_create``, SetQueueAttributes through
``QueueConfig.with_updates``, GetQueueAttributes through ``validate_attribute_names`` and
``QueueConfig.attributes``. Error messages follow SQS's wording and always name the attribute.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

# queue_arn, queue_url and the URL scheme are re-exported for the queue room's callers;
# their home is eventplane.arn.
from eventplane import arn as arns
from eventplane.arn import queue_arn as queue_arn
from eventplane.arn import queue_url as queue_url
from eventplane.errors import InvalidParameterValue, MissingParameter
from eventplane.errors.queues import InvalidAttributeName, InvalidAttributeValue
from eventplane.errors.security import MalformedPolicyDocument
from eventplane.security.resource_policy import parse_resource_policy

URL_SCHEME = arns.QUEUE_URL_SCHEME
FIFO_SUFFIX = arns.QUEUE_FIFO_SUFFIX

# (field, minimum, maximum) per integer attribute; bounds are inclusive, as SQS documents them.
_INT_ATTRIBUTES: dict[str, tuple[str, int, int]] = {
    "VisibilityTimeout": ("visibility_timeout", 0, 43_200),
    "DelaySeconds": ("delay_seconds", 0, 900),
    "MessageRetentionPeriod": ("message_retention_period", 60, 1_209_600),
    "MaximumMessageSize": ("maximum_message_size", 1_024, 1_048_576),
    "ReceiveMessageWaitTimeSeconds": ("receive_message_wait_time_seconds", 0, 20),
    "Partitions": ("partitions", 1, 64),
}
_BOOL_ATTRIBUTES = {
    "ContentBasedDeduplication": "content_based_deduplication",
    "SqsManagedSseEnabled": "sqs_managed_sse_enabled",
}
_ENUM_ATTRIBUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "DeduplicationScope": ("deduplication_scope", ("messageGroup", "queue")),
    "FifoThroughputLimit": ("fifo_throughput_limit", ("perQueue", "perMessageGroupId")),
}
_JSON_ATTRIBUTES = ("Policy", "RedrivePolicy", "RedriveAllowPolicy")
_FIFO_ONLY = frozenset({"ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"})
_SETTABLE = frozenset(
    {"FifoQueue", *_INT_ATTRIBUTES, *_BOOL_ATTRIBUTES, *_ENUM_ATTRIBUTES, *_JSON_ATTRIBUTES}
)
_READ_ONLY = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
)
_KMS = frozenset({"KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds"})

# The order GetQueueAttributes lists them in; also the order differs_from reports in.
_STATIC_ORDER = (
    "VisibilityTimeout",
    "DelaySeconds",
    "MessageRetentionPeriod",
    "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds",
    "Policy",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "SqsManagedSseEnabled",
    "Partitions",
)
ALL_ATTRIBUTE_NAMES: tuple[str, ...] = (*_STATIC_ORDER, *_READ_ONLY)
"""Every attribute GetQueueAttributes can return ("All" expands to these)."""

_INTEGER = re.compile(r"-?[0-9]+")


def name_from_ref(ref: str, *, field: str = "QueueUrl") -> str:
    """The queue name in ``ref``: a bare name, an eventplane or AWS queue URL, or a queue ARN
    (see :func:`eventplane.arn.queue_name`); whether the queue exists is the caller's question.
    """
    return reference_from_ref(ref, field=field)[1]


def reference_from_ref(ref: str, *, field: str = "QueueUrl") -> tuple[str | None, str]:
    """(account, name) of the queue ``ref`` names (see :func:`eventplane.arn.queue_reference`;
    account None: a bare name, in the caller's account)."""
    if not ref:
        raise MissingParameter(f"The request must contain the parameter {field}.")
    found = arns.queue_reference(ref)
    if found is None:
        raise InvalidParameterValue(
            f"Value {ref} for parameter {field} is invalid. Reason: Expected "
            f"{arns.QUEUE_REFERENCE}."
        )
    return found


def validate_queue_name(name: str, fifo: bool) -> None:
    """1-80 characters of [A-Za-z0-9_-]; FIFO queues (and only they) end in ``.fifo``."""
    if fifo:
        if not name.endswith(FIFO_SUFFIX) or not arns.valid_queue_name(name):
            raise InvalidParameterValue(
                f"Value {name} for parameter QueueName is invalid. Reason: The name of a FIFO "
                "queue can only include alphanumeric characters, hyphens, or underscores, must "
                "end with .fifo suffix and be 1 to 80 in length."
            )
        return
    if name.endswith(FIFO_SUFFIX) and arns.valid_queue_name(name):
        raise InvalidParameterValue(
            f"Value {name} for parameter QueueName is invalid. Reason: A queue name ending in "
            ".fifo requires the attribute FifoQueue=true."
        )
    if not arns.valid_queue_name(name):
        raise InvalidParameterValue(
            f"Value {name} for parameter QueueName is invalid. Reason: Can only include "
            "alphanumeric characters, hyphens, or underscores. 1 to 80 in length."
        )


def _invalid(name: str, reason: str) -> InvalidAttributeValue:
    return InvalidAttributeValue(f"Invalid value for the parameter {name}. Reason: {reason}")


def _parse_int(name: str, raw: str, low: int, high: int) -> int:
    if _INTEGER.fullmatch(raw) is None or not low <= int(raw) <= high:
        raise _invalid(name, f"Must be an integer from {low} to {high}, got {raw!r}.")
    return int(raw)


def _parse_bool(name: str, raw: str) -> bool:
    # SQS accepts any casing ("True") and always answers in lower case.
    if raw.lower() not in ("true", "false"):
        raise _invalid(name, f"Must be true or false, got {raw!r}.")
    return raw.lower() == "true"


def _parse_json_object(name: str, raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise _invalid(name, f"Must be a JSON object, got {raw!r}.")
    return value


def _check_sqs_arn(name: str, arn: object, key: str) -> str:
    found = arns.parse_as(arn, arns.Kind.QUEUE) if isinstance(arn, str) else None
    if not isinstance(arn, str) or found is None:
        raise _invalid(name, f"{key} must be an SQS queue ARN, got {arn!r}.")
    if not arns.valid_queue_name(found.name):
        raise _invalid(name, f"{key} names an invalid queue: {arn!r}.")
    return arn


@dataclass(frozen=True, kw_only=True)
class RedrivePolicy:
    # ARN of the dead-letter queue; it must be the same type (FIFO or standard) as the source.
    dead_letter_target_arn: str
    # Receives after which a message moves to the dead-letter queue (1-1000).
    max_receive_count: int

    @staticmethod
    def parse(raw: str, *, fifo: bool) -> RedrivePolicy:
        doc = _parse_json_object("RedrivePolicy", raw)
        extra = set(doc) - {"deadLetterTargetArn", "maxReceiveCount"}
        if extra:
            raise _invalid(
                "RedrivePolicy",
                f"Unknown key {sorted(extra)[0]!r}; only deadLetterTargetArn and "
                "maxReceiveCount are supported.",
            )
        for key in ("deadLetterTargetArn", "maxReceiveCount"):
            if key not in doc:
                raise _invalid("RedrivePolicy", f"Missing mandatory key {key}.")
        arn = _check_sqs_arn("RedrivePolicy", doc["deadLetterTargetArn"], "deadLetterTargetArn")
        if arn.endswith(FIFO_SUFFIX) != fifo:
            raise _invalid(
                "RedrivePolicy", "The dead-letter queue must be the same type as the source queue."
            )
        count = doc["maxReceiveCount"]
        # SDKs send it as a number or as a string; a JSON bool is neither.
        if isinstance(count, str) and _INTEGER.fullmatch(count):
            count = int(count)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
            raise _invalid(
                "RedrivePolicy",
                f"Invalid value for maxReceiveCount: {doc['maxReceiveCount']!r}, valid values "
                "are from 1 to 1000 both inclusive.",
            )
        return RedrivePolicy(dead_letter_target_arn=arn, max_receive_count=count)

    def to_json(self) -> str:
        return json.dumps(
            {
                "deadLetterTargetArn": self.dead_letter_target_arn,
                "maxReceiveCount": self.max_receive_count,
            },
            separators=(",", ":"),
        )


@dataclass(frozen=True, kw_only=True)
class RedriveAllowPolicy:
    # Which source queues may use this queue as their dead-letter queue.
    redrive_permission: str = "allowAll"  # allowAll | denyAll | byQueue
    # The allowed source queues when redrive_permission is byQueue (1-10 ARNs).
    source_queue_arns: tuple[str, ...] = ()

    @staticmethod
    def parse(raw: str) -> RedriveAllowPolicy:
        name = "RedriveAllowPolicy"
        doc = _parse_json_object(name, raw)
        extra = set(doc) - {"redrivePermission", "sourceQueueArns"}
        if extra:
            raise _invalid(
                name,
                f"Unknown key {sorted(extra)[0]!r}; only redrivePermission and sourceQueueArns "
                "are supported.",
            )
        permission = doc.get("redrivePermission")
        if permission not in ("allowAll", "denyAll", "byQueue"):
            raise _invalid(
                name, f"redrivePermission must be allowAll, denyAll or byQueue, got {permission!r}."
            )
        arns = doc.get("sourceQueueArns")
        if permission != "byQueue":
            if arns is not None:
                raise _invalid(
                    name, "sourceQueueArns is allowed only when redrivePermission is byQueue."
                )
            return RedriveAllowPolicy(redrive_permission=permission)
        if not isinstance(arns, list) or not 1 <= len(arns) <= 10:
            raise _invalid(
                name,
                "sourceQueueArns must list 1 to 10 queue ARNs when redrivePermission is byQueue.",
            )
        checked = tuple(_check_sqs_arn(name, arn, "sourceQueueArns") for arn in arns)
        return RedriveAllowPolicy(redrive_permission=permission, source_queue_arns=checked)

    def to_json(self) -> str:
        doc: dict[str, Any] = {"redrivePermission": self.redrive_permission}
        if self.redrive_permission == "byQueue":
            doc["sourceQueueArns"] = list(self.source_queue_arns)
        return json.dumps(doc, separators=(",", ":"))


@dataclass(frozen=True, kw_only=True)
class QueueConfig:
    # FIFO queue (name ends in .fifo); fixed at creation.
    fifo: bool = False
    # Seconds a received message stays invisible to other consumers (0-43200).
    visibility_timeout: int = 30
    # Seconds every new message is delayed before it can be received (0-900).
    delay_seconds: int = 0
    # Seconds a message is kept before it expires (60 s - 14 days).
    message_retention_period: int = 345_600
    # Largest accepted message, body plus attributes, in bytes (1 KiB - 1 MiB).
    maximum_message_size: int = 1_048_576
    # Default long-poll wait of ReceiveMessage in seconds (0-20).
    receive_message_wait_time_seconds: int = 0
    # Where messages go after too many receives; None means no dead-letter queue.
    redrive_policy: RedrivePolicy | None = None
    # Which queues may use this one as their dead-letter queue; None means SQS's allowAll.
    redrive_allow_policy: RedriveAllowPolicy | None = None
    # FIFO only: derive the deduplication id from the SHA-256 of the body when none is sent.
    content_based_deduplication: bool = False
    # FIFO only: deduplicate per "queue" or per "messageGroup".
    deduplication_scope: str = "queue"
    # FIFO only: throughput quota "perQueue" or "perMessageGroupId" (needs messageGroup scope).
    fifo_throughput_limit: str = "perQueue"
    # eventplane only ("Partitions"): Kafka partitions backing the queue (1-64); fixed at creation.
    partitions: int = 4
    # The access policy document exactly as the user gave it (valid JSON object); stored only.
    policy: str | None = None
    # Stored and reported for SDK compatibility; a no-op, because the data lives in your own
    # Kafka and its encryption at rest is configured there. Off by default so it never claims
    # encryption eventplane does not perform.
    sqs_managed_sse_enabled: bool = False

    def with_updates(self, attributes: Mapping[str, str]) -> QueueConfig:
        """The config after SetQueueAttributes; same rules as CreateQueue, plus immutability."""
        for name in attributes:
            if name == "FifoQueue":
                raise InvalidAttributeName(
                    "Unknown Attribute FifoQueue. FifoQueue can be set only when the queue is "
                    "created; create a new queue to change the queue type."
                )
            _check_settable(name, self.fifo)
        changes = _parse_values(attributes, fifo=self.fifo)
        if "partitions" in changes and changes["partitions"] != self.partitions:
            raise _invalid(
                "Partitions",
                f"Partitions cannot change after the queue is created (it is {self.partitions}); "
                "create a new queue to use a different partition count.",
            )
        updated = replace(self, **changes)
        updated._check_consistent()
        return updated

    def _check_consistent(self) -> None:
        if (
            self.fifo_throughput_limit == "perMessageGroupId"
            and self.deduplication_scope != "messageGroup"
        ):
            raise _invalid(
                "FifoThroughputLimit",
                "The perMessageGroupId value is allowed only when the value for "
                "DeduplicationScope is messageGroup.",
            )

    def attributes(self) -> dict[str, str]:
        """The static attributes as GetQueueAttributes returns them (all values are strings)."""
        out = {
            "VisibilityTimeout": str(self.visibility_timeout),
            "DelaySeconds": str(self.delay_seconds),
            "MessageRetentionPeriod": str(self.message_retention_period),
            "MaximumMessageSize": str(self.maximum_message_size),
            "ReceiveMessageWaitTimeSeconds": str(self.receive_message_wait_time_seconds),
        }
        if self.policy is not None:
            out["Policy"] = self.policy
        if self.redrive_policy is not None:
            out["RedrivePolicy"] = self.redrive_policy.to_json()
        if self.redrive_allow_policy is not None:
            out["RedriveAllowPolicy"] = self.redrive_allow_policy.to_json()
        if self.fifo:
            out["FifoQueue"] = "true"
            out["ContentBasedDeduplication"] = _bool(self.content_based_deduplication)
            out["DeduplicationScope"] = self.deduplication_scope
            out["FifoThroughputLimit"] = self.fifo_throughput_limit
        out["SqsManagedSseEnabled"] = _bool(self.sqs_managed_sse_enabled)
        out["Partitions"] = str(self.partitions)
        return out

    def differs_from(self, other: QueueConfig, names: Collection[str] | None = None) -> str | None:
        """The first attribute whose value differs, or None; ``names`` limits the comparison."""
        mine, theirs = self.attributes(), other.attributes()
        for name in _STATIC_ORDER:
            if (names is None or name in names) and mine.get(name) != theirs.get(name):
                return name
        return None

    def to_spec(self) -> dict[str, Any]:
        """A JSON-able dict; ``from_spec(config.to_spec()) == config``."""
        rp, rap = self.redrive_policy, self.redrive_allow_policy
        return {
            "fifo": self.fifo,
            "visibility_timeout": self.visibility_timeout,
            "delay_seconds": self.delay_seconds,
            "message_retention_period": self.message_retention_period,
            "maximum_message_size": self.maximum_message_size,
            "receive_message_wait_time_seconds": self.receive_message_wait_time_seconds,
            "redrive_policy": None
            if rp is None
            else {
                "dead_letter_target_arn": rp.dead_letter_target_arn,
                "max_receive_count": rp.max_receive_count,
            },
            "redrive_allow_policy": None
            if rap is None
            else {
                "redrive_permission": rap.redrive_permission,
                "source_queue_arns": list(rap.source_queue_arns),
            },
            "content_based_deduplication": self.content_based_deduplication,
            "deduplication_scope": self.deduplication_scope,
            "fifo_throughput_limit": self.fifo_throughput_limit,
            "partitions": self.partitions,
            "policy": self.policy,
            "sqs_managed_sse_enabled": self.sqs_managed_sse_enabled,
        }

    @staticmethod
    def from_spec(spec: Mapping[str, Any]) -> QueueConfig:
        # Missing keys take the defaults, so specs written before a field existed still load.
        plain = {
            k: v for k, v in spec.items() if k not in ("redrive_policy", "redrive_allow_policy")
        }
        rp, rap = spec.get("redrive_policy"), spec.get("redrive_allow_policy")
        return QueueConfig(
            **plain,
            redrive_policy=None if rp is None else RedrivePolicy(**rp),
            redrive_allow_policy=None
            if rap is None
            else RedriveAllowPolicy(
                redrive_permission=rap["redrive_permission"],
                source_queue_arns=tuple(rap["source_queue_arns"]),
            ),
        )


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _check_settable(name: str, fifo: bool) -> None:
    if name in _KMS:
        raise InvalidAttributeName(
            f"Unknown Attribute {name}. eventplane does not support KMS encryption; messages are "
            "stored in your Kafka cluster, so configure encryption at rest there."
        )
    if name in _READ_ONLY:
        raise InvalidAttributeName(
            f"Unknown Attribute {name}. {name} is read-only: GetQueueAttributes returns it, but "
            "it cannot be set."
        )
    if name in _FIFO_ONLY and not fifo:
        raise InvalidAttributeName(
            f"Unknown Attribute {name}. You can specify the {name} only when FifoQueue is set "
            "to true."
        )
    if name not in _SETTABLE:
        raise InvalidAttributeName(f"Unknown Attribute {name}.")


def _parse_values(attributes: Mapping[str, str], *, fifo: bool) -> dict[str, Any]:
    """Field changes for the given (already name-checked) attributes, FifoQueue excluded."""
    changes: dict[str, Any] = {}
    for name, raw in attributes.items():
        if name in _INT_ATTRIBUTES:
            field, low, high = _INT_ATTRIBUTES[name]
            changes[field] = _parse_int(name, raw, low, high)
        elif name in _BOOL_ATTRIBUTES:
            changes[_BOOL_ATTRIBUTES[name]] = _parse_bool(name, raw)
        elif name in _ENUM_ATTRIBUTES:
            field, allowed = _ENUM_ATTRIBUTES[name]
            if raw not in allowed:
                raise _invalid(name, f"Must be {' or '.join(allowed)}, got {raw!r}.")
            changes[field] = raw
        # An empty string removes a JSON attribute, as SQS does for Policy and RedrivePolicy.
        elif name == "Policy":
            if raw != "":
                _parse_json_object(name, raw)
                try:  # enforced on every call (eventplane.security.resource_policy)
                    parse_resource_policy(raw)
                except MalformedPolicyDocument as exc:
                    raise _invalid(name, exc.message) from None
            changes["policy"] = raw or None
        elif name == "RedrivePolicy":
            changes["redrive_policy"] = None if raw == "" else RedrivePolicy.parse(raw, fifo=fifo)
        elif name == "RedriveAllowPolicy":
            changes["redrive_allow_policy"] = None if raw == "" else RedriveAllowPolicy.parse(raw)
    return changes


def parse_create(name: str, attributes: Mapping[str, str]) -> QueueConfig:
    """Validate a CreateQueue request (name and attributes) and build the queue's config."""
    fifo_raw = attributes.get("FifoQueue")
    fifo = fifo_raw is not None and _parse_bool("FifoQueue", fifo_raw)
    validate_queue_name(name, fifo)
    if fifo_raw is not None and not fifo:
        # SQS rejects FifoQueue=false outright; a standard queue is made by omitting it.
        raise InvalidAttributeName(
            "Unknown Attribute FifoQueue. FifoQueue can only be true; omit it to create a "
            "standard queue."
        )
    for attribute in attributes:
        _check_settable(attribute, fifo)
    config = QueueConfig(fifo=fifo, **_parse_values(attributes, fifo=fifo))
    config._check_consistent()
    return config


def validate_attribute_names(names: Iterable[str]) -> set[str]:
    """The attribute names a GetQueueAttributes request asks for, with "All" expanded."""
    wanted: set[str] = set()
    for name in names:
        if name == "All":
            wanted.update(ALL_ATTRIBUTE_NAMES)
        elif name in ALL_ATTRIBUTE_NAMES or name in _KMS:
            # KMS names are real SQS attributes; eventplane never has a value for them, so they
            # are accepted (SDKs ask for them) and simply never returned.
            wanted.add(name)
        else:
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
    return wanted
