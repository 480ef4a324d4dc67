"""Publish rules, the SNS JSON envelope and the HTTP headers, pinned key by key."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from eventplane.errors import EventplaneError
from eventplane.messaging.attributes import MessageAttribute
from eventplane.topics.envelope import (
    MAX_MESSAGE_BYTES,
    UNSIGNED,
    UNSIGNED_CERT_URL,
    filter_attributes,
    http_headers,
    message_for_protocol,
    notification,
    subscription_confirmation,
    validate_publish,
)
from eventplane.topics.errors import InvalidParameter, ParameterValueInvalid
from eventplane.topics.filter_policy import compile_filter_policy

TOPIC = "arn:aws:sns:local:000000000000:t"
SUB = f"{TOPIC}:0b1d"


@contextmanager
def raises(cls: type[EventplaneError], *fragments: str) -> Iterator[None]:
    with pytest.raises(cls) as info:
        yield
    assert type(info.value) is cls
    for fragment in fragments:
        assert fragment in info.value.message, info.value.message


def publish(
    message: str = "hello",
    *,
    subject: str = "",
    attributes: dict[str, MessageAttribute] | None = None,
    structure: str = "",
    fifo: bool = False,
    group_id: str = "",
    dedup_id: str = "",
    content_based: bool = False,
) -> str:
    return validate_publish(
        message,
        subject,
        attributes or {},
        structure,
        fifo=fifo,
        group_id=group_id,
        dedup_id=dedup_id,
        content_based=content_based,
    )


def envelope(**overrides: object) -> dict[str, object]:
    arguments: dict[str, object] = {
        "message_id": "m-1",
        "topic_arn": TOPIC,
        "subject": None,
        "message": "hello",
        "timestamp_ms": 1_700_000_000_123,
        "attributes": {},
        "subscription_arn": SUB,
    }
    arguments.update(overrides)
    return dict(json.loads(notification(**arguments)))  # type: ignore[arg-type]


# --- the envelope -------------------------------------------------------------------------


def test_envelope_keys_in_sns_order() -> None:
    body = envelope()
    assert list(body) == [
        "Type",
        "MessageId",
        "TopicArn",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
    ]
    assert body["Type"] == "Notification"
    assert body["MessageId"] == "m-1"
    assert body["TopicArn"] == TOPIC
    assert body["Message"] == "hello"
    assert body["SignatureVersion"] == "1"
    assert body["Signature"] == UNSIGNED == ""
    assert body["SigningCertURL"] == UNSIGNED_CERT_URL
    assert body["UnsubscribeURL"] == (
        f"eventplane://topics/?Action=Unsubscribe&SubscriptionArn={SUB}"
    )


def test_envelope_is_laid_out_like_sns() -> None:
    text = notification(
        message_id="m",
        topic_arn=TOPIC,
        subject=None,
        message="x",
        timestamp_ms=0,
        attributes={},
        subscription_arn=SUB,
    )
    assert text.startswith('{\n  "Type" : "Notification",\n  "MessageId" : "m",')


@pytest.mark.parametrize(
    ("timestamp_ms", "expected"),
    [
        (0, "1970-01-01T00:00:00.000Z"),
        (1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
        (1_700_000_000_005, "2023-11-14T22:13:20.005Z"),
        (1_700_000_000_999, "2023-11-14T22:13:20.999Z"),
    ],
)
def test_timestamp_is_iso8601_utc_with_milliseconds(timestamp_ms: int, expected: str) -> None:
    assert envelope(timestamp_ms=timestamp_ms)["Timestamp"] == expected


def test_subject_only_when_given() -> None:
    body = envelope(subject="Hi there")
    assert list(body)[3] == "Subject" and body["Subject"] == "Hi there"
    assert "Subject" not in envelope(subject="")


def test_message_attributes_binary_as_base64() -> None:
    body = envelope(
        attributes={
            "s": MessageAttribute("String", "x"),
            "n": MessageAttribute("Number", "1.5"),
            "a": MessageAttribute("String.Array", '["a", 1]'),
            "b": MessageAttribute("Binary", binary_value=b"\x00\xffhi"),
        }
    )
    assert list(body)[-1] == "MessageAttributes"
    assert body["MessageAttributes"] == {
        "s": {"Type": "String", "Value": "x"},
        "n": {"Type": "Number", "Value": "1.5"},
        "a": {"Type": "String.Array", "Value": '["a", 1]'},
        "b": {"Type": "Binary", "Value": base64.b64encode(b"\x00\xffhi").decode()},
    }


def test_fifo_sequence_number() -> None:
    body = envelope(sequence_number="10000000000000000001")
    assert list(body)[:3] == ["Type", "MessageId", "SequenceNumber"]
    assert body["SequenceNumber"] == "10000000000000000001"
    assert "SequenceNumber" not in envelope()


def test_envelope_keeps_unicode_and_escapes_json() -> None:
    message = 'line1\nline2 "quoted" é ✓'
    assert envelope(message=message)["Message"] == message


# --- filter attributes and headers --------------------------------------------------------


def test_filter_attributes_shape_matches_the_filter_policy() -> None:
    attributes = {
        "store": MessageAttribute("String", "a"),
        "price": MessageAttribute("Number", "10"),
        "blob": MessageAttribute("Binary", binary_value=b"\x01"),
    }
    shaped = filter_attributes(attributes)
    assert shaped == {
        "store": {"DataType": "String", "StringValue": "a"},
        "price": {"DataType": "Number", "StringValue": "10"},
        "blob": {"DataType": "Binary", "BinaryValue": "AQ=="},
    }
    policy = compile_filter_policy('{"store": ["a"], "price": [{"numeric": [">", 5]}]}')
    assert policy.matches_attributes(shaped)
    assert compile_filter_policy('{"blob": [{"exists": false}]}').matches_attributes(shaped)


@pytest.mark.parametrize("raw", [True, False])
def test_http_headers(raw: bool) -> None:
    headers = http_headers(message_id="m", topic_arn=TOPIC, subscription_arn=SUB, raw=raw)
    assert headers == {
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-message-id": "m",
        "x-amz-sns-topic-arn": TOPIC,
        "x-amz-sns-subscription-arn": SUB,
        "x-amz-sns-rawdelivery": "true" if raw else "false",
        "Content-Type": "text/plain; charset=UTF-8",
        "User-Agent": "eventplane",
    }
    custom = http_headers(
        message_id="m",
        topic_arn=TOPIC,
        subscription_arn=SUB,
        raw=raw,
        content_type="application/json",
    )
    assert custom["Content-Type"] == "application/json"


# --- MessageStructure=json ----------------------------------------------------------------


def test_message_for_protocol() -> None:
    structured = json.dumps({"default": "d", "sqs": "q", "https": "s", "other": {"x": 1}})
    assert message_for_protocol(structured, "json", "sqs") == "q"
    assert message_for_protocol(structured, "json", "https") == "s"
    assert message_for_protocol(structured, "json", "http") == "d"
    assert message_for_protocol(json.dumps({"default": ""}), "json", "sqs") == ""
    assert message_for_protocol(structured, "", "sqs") == structured


@pytest.mark.parametrize(
    ("message", "fragment"),
    [
        ("not json", "failed to parse"),
        ('["default"]', "failed to parse"),
        ('{"sqs": "x"}', "No default entry"),
        ('{"default": 1}', "'default' must be a string"),
        ('{"default": "d", "sqs": {"a": 1}}', "'sqs' must be a string"),
    ],
)
def test_invalid_json_structure(message: str, fragment: str) -> None:
    with raises(InvalidParameter, "Invalid parameter: Message Structure", fragment):
        message_for_protocol(message, "json", "sqs")
    with raises(InvalidParameter, "Invalid parameter: Message Structure", fragment):
        publish(message, structure="json")


def test_unknown_message_structure() -> None:
    with raises(InvalidParameter, "Invalid parameter: MessageStructure", "[xml]"):
        publish(structure="xml")
    with raises(InvalidParameter, "Invalid parameter: MessageStructure"):
        message_for_protocol("x", "xml", "sqs")


# --- publish rules ------------------------------------------------------------------------


def test_empty_message() -> None:
    with raises(InvalidParameter, "Invalid parameter: Empty message"):
        publish("")


def test_size_limit_boundaries_count_message_and_attributes() -> None:
    assert publish("x" * MAX_MESSAGE_BYTES) == ""
    with raises(InvalidParameter, "Invalid parameter: Message too long"):
        publish("x" * (MAX_MESSAGE_BYTES + 1))
    # Bytes, not characters: a 2-byte character counts twice.
    with raises(InvalidParameter, "Message too long"):
        publish("é" * (MAX_MESSAGE_BYTES // 2) + "x")
    # Attribute name + type + value count too: "a" + "String" + "xyz" = 10 bytes.
    attributes = {"a": MessageAttribute("String", "xyz")}
    publish("x" * (MAX_MESSAGE_BYTES - 10), attributes=attributes)
    with raises(InvalidParameter, "Message too long"):
        publish("x" * (MAX_MESSAGE_BYTES - 9), attributes=attributes)


# Publish's Subject: "UTF-8 text with no line breaks or control characters, and less than
# 100 characters long" (SNS accepts 100).
@pytest.mark.parametrize(
    "subject", ["S", "Order #1: shipped!", "x" * 100, "~tilde", "é", "Grüße 🚀", " leading space"]
)
def test_valid_subjects(subject: str) -> None:
    publish(subject=subject)


@pytest.mark.parametrize(
    "subject", ["x" * 101, "line\nbreak", "cr\rhere", "tab\t", "nul\x00", "c1\x85", "ls\u2028"]
)
def test_invalid_subjects(subject: str) -> None:
    with raises(InvalidParameter, "Invalid parameter: Subject", "UTF-8"):
        publish(subject=subject)


def test_valid_attributes() -> None:
    publish(
        attributes={
            "s": MessageAttribute("String", "x"),
            "n": MessageAttribute("Number", "-1.5e3"),
            "b": MessageAttribute("Binary", binary_value=b"\x00"),
            "a": MessageAttribute("String.Array", '["x", 1, true, null]'),
            "e": MessageAttribute("String.Array", "[]"),
        }
    )


@pytest.mark.parametrize(
    ("attributes", "fragments"),
    [
        (
            {f"a{i}": MessageAttribute("String", "x") for i in range(11)},
            ("[11]", "[10]"),
        ),
        ({"a": MessageAttribute("Blob", "x")}, ("'a'", "Binary, Number, String")),
        ({"a": MessageAttribute("Number", "ten")}, ("'a'", "number")),
        ({"a": MessageAttribute("String", "")}, ("'a'", "non-empty")),
        ({"bad name": MessageAttribute("String", "x")}, ("'bad name'",)),
        ({"AWS.x": MessageAttribute("String", "x")}, ("'AWS.x'", "reserved")),
        ({"a": MessageAttribute("String.Array", "x")}, ("'a'", "String.Array", "JSON array")),
        ({"a": MessageAttribute("String.Array", '{"k": 1}')}, ("'a'", "JSON array")),
        ({"a": MessageAttribute("String.Array", "[[1]]")}, ("'a'", "JSON array")),
    ],
)
def test_invalid_attributes(
    attributes: dict[str, MessageAttribute], fragments: tuple[str, ...]
) -> None:
    with raises(ParameterValueInvalid, *fragments):
        publish(attributes=attributes)


def test_ten_attributes_are_allowed() -> None:
    publish(attributes={f"a{i}": MessageAttribute("String", "x") for i in range(10)})


def test_standard_topics_reject_fifo_ids() -> None:
    with raises(InvalidParameter, "Invalid parameter: MessageGroupId", "not valid for this topic"):
        publish(group_id="g")
    with raises(
        InvalidParameter, "Invalid parameter: MessageDeduplicationId", "not valid for this topic"
    ):
        publish(dedup_id="d")


def test_fifo_rules() -> None:
    with raises(InvalidParameter, "MessageGroupId parameter is required for FIFO topics"):
        publish(fifo=True, dedup_id="d")
    with raises(InvalidParameter, "ContentBasedDeduplication", "MessageDeduplicationId"):
        publish(fifo=True, group_id="g")
    assert publish(fifo=True, group_id="g", dedup_id="d-1") == "d-1"
    assert publish(fifo=True, group_id="g", dedup_id="d-1", content_based=True) == "d-1"
    expected = hashlib.sha256(b"hello").hexdigest()
    assert publish(fifo=True, group_id="g", content_based=True) == expected


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("MessageGroupId", "has space"),
        ("MessageGroupId", "x" * 129),
        ("MessageDeduplicationId", "é"),
    ],
)
def test_fifo_id_format(parameter: str, value: str) -> None:
    group_id = value if parameter == "MessageGroupId" else "g"
    dedup_id = value if parameter == "MessageDeduplicationId" else "d"
    with raises(InvalidParameter, f"Invalid parameter: {parameter}", "1 to 128"):
        publish(fifo=True, group_id=group_id, dedup_id=dedup_id)
    publish(fifo=True, group_id="x" * 128, dedup_id="!#$%&'()*+,-./:;<=>?@[]^_`{|}~")


def test_subscription_confirmation_carries_the_token() -> None:
    text = subscription_confirmation(
        message_id="m", topic_arn=TOPIC, token="abc", timestamp_ms=1_700_000_000_123
    )
    document = json.loads(text)
    assert list(document)[:4] == ["Type", "MessageId", "Token", "TopicArn"]
    assert (document["Type"], document["Token"], document["TopicArn"]) == (
        "SubscriptionConfirmation",
        "abc",
        TOPIC,
    )
    assert document["SubscribeURL"].endswith(f"TopicArn={TOPIC}&Token=abc")
    assert document["Timestamp"] == "2023-11-14T22:13:20.123Z"
    headers = http_headers(
        message_id="m",
        topic_arn=TOPIC,
        subscription_arn=SUB,
        raw=False,
        message_type="SubscriptionConfirmation",
    )
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert "x-amz-sns-subscription-arn" not in headers
