"""What a published message looks like: Publish rules, the SNS JSON envelope, HTTP headers.

Pure functions, so the service validates a Publish before it touches Kafka and tests can pin
every rule. Wording and codes follow SNS: ``InvalidParameter`` for the message, subject,
structure and FIFO ids; ``ParameterValueInvalid`` for message attributes.

eventplane does not sign notifications. The envelope keeps SNS's keys so that consumers
written for SNS parse it unchanged, but ``Signature`` is empty and ``SigningCertURL`` points
nowhere fetchable (see ``UNSIGNED_CERT_URL``): an SNS signature verifier therefore rejects
the message instead of trusting it. Trust comes from who can reach your Kafka and eventplane.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from eventplane.errors import InvalidParameterValue
from eventplane.errors.queues import BatchRequestTooLong
from eventplane.messaging.attributes import (
    MessageAttribute,
    message_size,
    validate_message_attributes,
)
from eventplane.topics.errors import InvalidParameter, ParameterValueInvalid
from eventplane.topics.http_delivery import DEFAULT_CONTENT_TYPE

MAX_MESSAGE_BYTES: Final = 262_144
MAX_SUBJECT_LENGTH: Final = 100
SIGNATURE_VERSION: Final = "1"
UNSIGNED: Final = ""
"""The ``Signature`` of every eventplane notification: there is none."""
UNSIGNED_CERT_URL: Final = "eventplane://topics/unsigned"
"""The ``SigningCertURL``: no certificate exists, and SNS verifiers refuse non-AWS hosts."""
USER_AGENT: Final = "eventplane"
# Keys of MessageStructure=json that name a protocol; SNS requires their values be strings.
_PROTOCOL_KEYS: Final = frozenset(
    {"default", "sqs", "http", "https", "lambda", "function", "email", "email-json", "sms"}
)
# Subjects: "UTF-8 text with no line breaks or control characters" (Publish's Subject),
# so no C0/C1 control character and no Unicode line or paragraph separator.
_SUBJECT = re.compile(r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# MessageGroupId and MessageDeduplicationId: 1-128 ASCII letters, digits and punctuation.
_FIFO_ID = re.compile(r"[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}")


def _structured(message: str) -> dict[str, Any]:
    try:
        document = json.loads(message)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise InvalidParameter(
            "Invalid parameter: Message Structure - JSON message body failed to parse"
        )
    if "default" not in document:
        raise InvalidParameter(
            "Invalid parameter: Message Structure - No default entry in JSON message body"
        )
    for key in _PROTOCOL_KEYS & document.keys():
        if not isinstance(document[key], str):
            raise InvalidParameter(
                f"Invalid parameter: Message Structure - The value of {key!r} must be a string"
            )
    return document


def _check_structure(message_structure: str) -> None:
    if message_structure not in ("", "json"):
        raise InvalidParameter(
            f"Invalid parameter: MessageStructure Reason: Invalid value [{message_structure}]. "
            "The only valid value is json"
        )


def message_for_protocol(message: str, message_structure: str, protocol: str) -> str:
    """The text a subscriber of ``protocol`` receives.

    With ``message_structure == "json"`` the message is a JSON object of per-protocol texts;
    the protocol's own key wins, ``default`` covers the rest.
    """
    _check_structure(message_structure)
    if message_structure != "json":
        return message
    document = _structured(message)
    text = document.get(protocol, document["default"])
    return str(text)


def _check_subject(subject: str) -> None:
    if len(subject) > MAX_SUBJECT_LENGTH or _SUBJECT.fullmatch(subject) is None:
        raise InvalidParameter(
            "Invalid parameter: Subject Reason: Subjects must be UTF-8 text with no line breaks "
            f"or control characters, and at most {MAX_SUBJECT_LENGTH} characters long."
        )


def _check_string_array(name: str, value: str) -> None:
    try:
        values = json.loads(value)
    except ValueError:
        values = None
    if not isinstance(values, list) or any(isinstance(v, dict | list) for v in values):
        raise ParameterValueInvalid(
            f"The message attribute '{name}' with type 'String.Array' must be a JSON array of "
            f"strings, numbers, true, false or null, got {value!r}."
        )


def _check_attributes(attributes: Mapping[str, MessageAttribute]) -> None:
    # SNS shares SQS's attribute rules; it reports them under its own code.
    try:
        validate_message_attributes(attributes)
    except InvalidParameterValue as err:
        raise ParameterValueInvalid(err.message) from None
    for name, attribute in attributes.items():
        if attribute.data_type == "String.Array":
            _check_string_array(name, attribute.string_value or "")


def _check_fifo_id(parameter: str, value: str) -> None:
    if _FIFO_ID.fullmatch(value) is None:
        raise InvalidParameter(
            f"Invalid parameter: {parameter} Reason: {parameter} can only include alphanumeric "
            "and punctuation characters. 1 to 128 in length."
        )


def validate_batch_size(entries: list[tuple[str, Mapping[str, MessageAttribute]]]) -> None:
    """PublishBatch: the messages and attributes of all entries together are at most
    256 KiB, as one message is (an entry that is not valid UTF-8 fails on its own)."""
    total = 0
    for message, attributes in entries:
        try:
            total += message_size(message, attributes)
        except UnicodeEncodeError:
            continue
    if total > MAX_MESSAGE_BYTES:
        raise BatchRequestTooLong(
            "The length of all the messages put together is more than the limit: "
            f"{total} bytes, at most {MAX_MESSAGE_BYTES}."
        )


def validate_publish(
    message: str,
    subject: str,
    attributes: Mapping[str, MessageAttribute],
    message_structure: str,
    *,
    fifo: bool,
    group_id: str,
    dedup_id: str,
    content_based: bool,
) -> str:
    """Check one Publish (or PublishBatch entry) against SNS's rules.

    ``subject``, ``group_id`` and ``dedup_id`` use "" for absent.

    Returns:
        The effective deduplication id: ``dedup_id``, else the SHA-256 of the message on a
        topic with content-based deduplication, else "" (standard topics).

    Raises:
        InvalidParameter: The message, subject, structure or a FIFO id is invalid.
        ParameterValueInvalid: A message attribute is invalid.
    """
    if not message:
        raise InvalidParameter("Invalid parameter: Empty message")
    try:
        size = message_size(message, attributes)
    except UnicodeEncodeError:
        raise InvalidParameter(
            "Invalid parameter: Message Reason: Messages must be valid UTF-8 text."
        ) from None
    if size > MAX_MESSAGE_BYTES:
        raise InvalidParameter("Invalid parameter: Message too long")
    if subject:
        _check_subject(subject)
    _check_structure(message_structure)
    if message_structure == "json":
        _structured(message)
    _check_attributes(attributes)
    if not fifo:
        for parameter, value in (
            ("MessageDeduplicationId", dedup_id),
            ("MessageGroupId", group_id),
        ):
            if value:
                raise InvalidParameter(
                    f"Invalid parameter: {parameter} Reason: The request includes {parameter} "
                    "parameter that is not valid for this topic type"
                )
        return ""
    if not group_id:
        raise InvalidParameter(
            "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
        )
    _check_fifo_id("MessageGroupId", group_id)
    if dedup_id:
        _check_fifo_id("MessageDeduplicationId", dedup_id)
        return dedup_id
    if not content_based:
        raise InvalidParameter(
            "Invalid parameter: The topic should either have ContentBasedDeduplication enabled "
            "or MessageDeduplicationId provided explicitly"
        )
    return hashlib.sha256(message.encode()).hexdigest()


def _timestamp(timestamp_ms: int) -> str:
    seconds, millis = divmod(timestamp_ms, 1000)
    moment = datetime.fromtimestamp(seconds, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{millis:03d}Z"


def _attribute_value(attribute: MessageAttribute) -> str:
    if attribute.binary_value is not None:
        return base64.b64encode(attribute.binary_value).decode("ascii")
    return attribute.string_value or ""


def unsubscribe_url(subscription_arn: str) -> str:
    return f"eventplane://topics/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"


def subscribe_url(topic_arn: str, token: str) -> str:
    return f"eventplane://topics/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={token}"


def subscription_confirmation(
    *, message_id: str, topic_arn: str, token: str, timestamp_ms: int
) -> str:
    """The SubscriptionConfirmation message SNS POSTs to a new http/https endpoint: its
    ``Token`` is what ConfirmSubscription takes. Laid out like ``notification``."""
    document = {
        "Type": "SubscriptionConfirmation",
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": (
            f"You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the "
            "subscription, visit the SubscribeURL included in this message."
        ),
        "SubscribeURL": subscribe_url(topic_arn, token),
        "Timestamp": _timestamp(timestamp_ms),
        "SignatureVersion": SIGNATURE_VERSION,
        "Signature": UNSIGNED,
        "SigningCertURL": UNSIGNED_CERT_URL,
    }
    return json.dumps(document, indent=2, separators=(",", " : "), ensure_ascii=False)


def notification(
    *,
    message_id: str,
    topic_arn: str,
    subject: str | None,
    message: str,
    timestamp_ms: int,
    attributes: Mapping[str, MessageAttribute],
    subscription_arn: str,
    sequence_number: str | None = None,
) -> str:
    """The SNS JSON envelope a queue or HTTP/S endpoint receives without raw delivery.

    Keys in SNS's order; ``Subject`` only when given, ``MessageAttributes`` only when there
    are any (Binary values base64), ``SequenceNumber`` for FIFO topics. Laid out like SNS's
    own (two-space indent, ``"Key" : value``).
    """
    document: dict[str, Any] = {"Type": "Notification", "MessageId": message_id}
    if sequence_number is not None:
        document["SequenceNumber"] = sequence_number
    document["TopicArn"] = topic_arn
    if subject:
        document["Subject"] = subject
    document["Message"] = message
    document["Timestamp"] = _timestamp(timestamp_ms)
    document["SignatureVersion"] = SIGNATURE_VERSION
    document["Signature"] = UNSIGNED
    document["SigningCertURL"] = UNSIGNED_CERT_URL
    document["UnsubscribeURL"] = unsubscribe_url(subscription_arn)
    if attributes:
        document["MessageAttributes"] = {
            name: {"Type": attribute.data_type, "Value": _attribute_value(attribute)}
            for name, attribute in attributes.items()
        }
    return json.dumps(document, indent=2, separators=(",", " : "), ensure_ascii=False)


def filter_attributes(attributes: Mapping[str, MessageAttribute]) -> dict[str, dict[str, str]]:
    """Message attributes in the shape ``CompiledFilterPolicy.matches_attributes`` takes."""
    out: dict[str, dict[str, str]] = {}
    for name, attribute in attributes.items():
        entry = {"DataType": attribute.data_type}
        if attribute.string_value is not None:
            entry["StringValue"] = attribute.string_value
        if attribute.binary_value is not None:
            entry["BinaryValue"] = base64.b64encode(attribute.binary_value).decode("ascii")
        out[name] = entry
    return out


def http_headers(
    *,
    message_id: str,
    topic_arn: str,
    subscription_arn: str,
    raw: bool,
    content_type: str = DEFAULT_CONTENT_TYPE,
    message_type: str = "Notification",
) -> dict[str, str]:
    """The headers of a notification POST; ``content_type`` comes from the delivery policy.

    A SubscriptionConfirmation (``message_type``) names no subscription, as in SNS.
    """
    headers = {
        "x-amz-sns-message-type": message_type,
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": topic_arn,
        "x-amz-sns-subscription-arn": subscription_arn,
        "x-amz-sns-rawdelivery": "true" if raw else "false",
        "Content-Type": content_type,
        "User-Agent": USER_AGENT,
    }
    if message_type != "Notification":
        del headers["x-amz-sns-subscription-arn"], headers["x-amz-sns-rawdelivery"]
    return headers
