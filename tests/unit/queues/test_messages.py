"""Message rules: body, attributes, sizes, digests, batches, FIFO ids and receive limits."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from eventplane.errors import EventplaneError, InvalidParameterValue, MissingParameter
from eventplane.errors.queues import (
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    InvalidMessageContents,
    TooManyEntriesInBatchRequest,
)
from eventplane.queues.attributes import QueueConfig
from eventplane.queues.messages import (
    MessageAttribute,
    md5_of_body,
    md5_of_message_attributes,
    message_size,
    validate_batch_entry_ids,
    validate_batch_size,
    validate_body,
    validate_message_attributes,
    validate_receive,
    validate_send_for_queue,
    validate_size,
    validate_visibility_timeout,
)

STANDARD = QueueConfig(delay_seconds=7)
FIFO = QueueConfig(fifo=True, delay_seconds=3)
FIFO_CBD = QueueConfig(fifo=True, content_based_deduplication=True)
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


@contextmanager
def raises(cls: type[EventplaneError], *fragments: str) -> Iterator[None]:
    """The exact error class, with a message naming every fragment (field, value, ...)."""
    with pytest.raises(cls) as info:
        yield
    assert type(info.value) is cls
    for fragment in fragments:
        assert fragment in info.value.message, info.value.message


def s(value: str, data_type: str = "String") -> MessageAttribute:
    return MessageAttribute(data_type, string_value=value)


def b(value: bytes, data_type: str = "Binary") -> MessageAttribute:
    return MessageAttribute(data_type, binary_value=value)


# --- body -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ["x", "\t", "\n", "\r", " ", "\ud7ff", "\ue000", "\ufffd", "\U00010000", "\U0010ffff", "{}"],
)
def test_body_accepts_allowed_characters(body: str) -> None:
    validate_body(body)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("\x00", "U+0000 at index 0"),
        ("ab\x08", "U+0008 at index 2"),
        ("\x0b", "U+000B"),
        ("\x1f", "U+001F"),
        ("a\ud800", "U+D800 at index 1"),
        ("\udfff", "U+DFFF"),
        ("\ufffe", "U+FFFE"),
        ("\uffff", "U+FFFF"),
    ],
)
def test_body_rejects_other_characters(body: str, where: str) -> None:
    with raises(InvalidMessageContents, "MessageBody", where):
        validate_body(body)
    with raises(InvalidMessageContents, "Entries.1.MessageBody"):
        validate_body(body, "Entries.1.MessageBody")


def test_empty_body_is_a_missing_parameter() -> None:
    with raises(MissingParameter, "MessageBody"):
        validate_body("")


# --- message attributes ---------------------------------------------------------------------


def test_up_to_ten_attributes() -> None:
    validate_message_attributes({f"a{i}": s("v") for i in range(10)})
    with raises(InvalidParameterValue, "[11]", "[10]", "message attributes"):
        validate_message_attributes({f"a{i}": s("v") for i in range(11)})


@pytest.mark.parametrize(
    "name", ["a", "A.b", "a-b_c.9", "x" * 256, "AWSx", "Amazonian", "my.AWS.thing"]
)
def test_attribute_names_accepted(name: str) -> None:
    validate_message_attributes({name: s("v")})


@pytest.mark.parametrize(
    "name",
    [
        "",
        "x" * 257,
        "AWS.x",
        "aws.x",
        "aWs.x",
        "Amazon.x",
        "AMAZON.x",
        ".a",
        "a.",
        "a..b",
        "a b",
        "a!",
        "attr.1øßä",
        "a/b",
    ],
)
def test_attribute_names_rejected(name: str) -> None:
    with raises(InvalidParameterValue, f"attribute name '{name}'"):
        validate_message_attributes({name: s("v")})


@pytest.mark.parametrize(
    "attribute",
    [
        s("v"),
        s("7", "Number"),
        b(b"\x00\xff"),
        s("v", "String.json"),
        s("1.5", "Number.float"),
        b(b"gif", "Binary.gif"),
        s("v", "String." + "x" * 249),
    ],
)
def test_data_types_accepted(attribute: MessageAttribute) -> None:
    validate_message_attributes({"n": attribute})


@pytest.mark.parametrize(
    ("data_type", "fragment"),
    [
        ("Invalid", "supported type prefixes"),
        ("string", "supported type prefixes"),
        ("StringX", "supported type prefixes"),
        ("String.", "supported type prefixes"),
        (".String", "supported type prefixes"),
        ("String." + "x" * 250, "256"),
        ("String.\x00", "type of message (user) attribute"),
        ("", "non-empty message attribute type"),
    ],
)
def test_data_types_rejected(data_type: str, fragment: str) -> None:
    with raises(InvalidParameterValue, "'n'", fragment):
        validate_message_attributes({"n": s("v", data_type)})


@pytest.mark.parametrize(
    ("attribute", "kind"),
    [
        (s(""), "String"),
        (MessageAttribute("String"), "String"),
        (MessageAttribute("String", binary_value=b"v"), "String"),
        (s("", "Number"), "Number"),
        (b(b""), "Binary"),
        (MessageAttribute("Binary", string_value="v"), "Binary"),
        (s("", "String.custom"), "String"),
    ],
)
def test_values_must_be_present_and_non_empty(attribute: MessageAttribute, kind: str) -> None:
    with raises(InvalidParameterValue, "'n'", f"non-empty value of type '{kind}'"):
        validate_message_attributes({"n": attribute})


def test_attribute_must_have_a_single_value() -> None:
    with raises(InvalidParameterValue, "'n'", "single value"):
        validate_message_attributes({"n": MessageAttribute("String", "v", b"v")})


@pytest.mark.parametrize("data_type", ["String", "Number"])
def test_string_values_use_the_body_character_set(data_type: str) -> None:
    validate_message_attributes({"n": s("é\U0001f600", "String")})
    with raises(InvalidParameterValue, "'n'", "U+0008"):
        validate_message_attributes({"n": s("1\x08", data_type)})


@pytest.mark.parametrize(
    "value",
    [
        "0",
        "-0",
        "-1",
        "+1",
        "1.5",
        ".5",
        "5.",
        "1e10",
        "1E-128",
        "-1E-128",
        "9.9E125",
        "1" * 38,
        "0.000" + "1" * 38,
        "1" + "0" * 100,  # trailing zeros do not count towards precision
        "0" * 50 + "1",  # nor do leading zeros
    ],
)
def test_numbers_accepted(value: str) -> None:
    validate_message_attributes({"n": s(value, "Number")})


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("abc", "Can't cast"),
        ("1,5", "Can't cast"),
        ("1 ", "Can't cast"),
        ("NaN", "Can't cast"),
        ("Infinity", "Can't cast"),
        ("0x10", "Can't cast"),
        ("1e", "Can't cast"),
        ("1" * 39, "38 digits"),
        ("1." + "1" * 38, "38 digits"),
        ("1E-129", "10^-128"),
        ("1E126", "10^+126"),
        ("-1E126", "10^+126"),
    ],
)
def test_numbers_rejected(value: str, fragment: str) -> None:
    with raises(InvalidParameterValue, "'n'", fragment):
        validate_message_attributes({"n": s(value, "Number")})


# --- sizes ----------------------------------------------------------------------------------


def test_message_size_counts_body_and_every_attribute_part() -> None:
    assert message_size("héllo", {}) == 6  # UTF-8 bytes, not characters
    attrs = {"name": s("välue"), "bin": b(b"\x00\x01\x02", "Binary.x")}
    assert message_size("ab", attrs) == 2 + (4 + 6 + 6) + (3 + 8 + 3)


def test_validate_size_boundary() -> None:
    attrs = {"k": s("v")}  # 1 + 6 + 1 = 8 bytes
    validate_size("x" * 92, attrs, 100)
    with raises(InvalidParameterValue, "shorter than 100 bytes", "101 bytes"):
        validate_size("x" * 93, attrs, 100)


# --- digests --------------------------------------------------------------------------------


def test_md5_of_body() -> None:
    assert md5_of_body("hello") == "5d41402abc4b2a76b9719d911017c592"
    assert md5_of_body("é") == hashlib.md5("é".encode()).hexdigest()


# Published vectors: the aws-md5-of-message-attributes npm package's README, the "AmazonSample"
# cases in ydb's SQS tests, the sqslite test suite and the message-attributes-md5-checksum tests.
MD5_VECTORS = [
    ({"attribName1": s("attribValue 1")}, "19e27d4e946b072f3f58da80d94fd778"),
    (
        {"customNumberTypeAttrib": s("4563442423554324324264524243.32543234", "Number.float")},
        "9fe1b90bbd9965bdf77bac517c7d2495",
    ),
    ({"binaryAttribute": b(b"Hello binary world!")}, "31a92b15d92f8db860eda32aceb656c3"),
    (
        {
            "attribName1": s("attribValue 1"),
            "customNumberTypeAttrib": s("4563442423554324324264524243.32543234", "Number.float"),
            "binaryAttribute": b(b"Hello binary world!"),
        },
        "c932db14a896c663f83c260297d594ff",
    ),
    (
        {
            "test_attribute_name_2": s("test_attribute_value_2"),
            "test_attribute_name_1": s("test_attribute_value_1"),
        },
        "d53f3b558fe951154770f25cb63dbba9",
    ),
    ({"test_attribute_name": b(b"test_attribute_value")}, "23f6bd27ea87aab7dfeadcc9aebee495"),
    ({"ordinal": s("1", "Number"), "category": s("test")}, "d21ae90c49061e927f57df5f5d72be1f"),
    ({"SellerName": s("Example Store")}, "cd28f3b68aeee4b2eac9c66f2f694b58"),
]


@pytest.mark.parametrize(("attrs", "expected"), MD5_VECTORS)
def test_md5_of_message_attributes_matches_published_vectors(
    attrs: dict[str, MessageAttribute], expected: str
) -> None:
    assert md5_of_message_attributes(attrs) == expected
    assert md5_of_message_attributes(dict(reversed(attrs.items()))) == expected


def test_md5_of_message_attributes_by_hand() -> None:
    # Sorted by name; each part is a 4-byte big-endian length then the bytes; one transport
    # byte (1 string/number, 2 binary) sits between the data type and the value.
    encoded = (
        b"\x00\x00\x00\x01a"
        b"\x00\x00\x00\x06Binary"
        b"\x02"
        b"\x00\x00\x00\x02\xff\x00"
        b"\x00\x00\x00\x01b"
        b"\x00\x00\x00\x0cNumber.float"
        b"\x01"
        b"\x00\x00\x00\x031.5"
    )
    attrs = {"b": s("1.5", "Number.float"), "a": b(b"\xff\x00")}
    assert md5_of_message_attributes(attrs) == hashlib.md5(encoded).hexdigest()


def test_md5_of_no_attributes_is_empty() -> None:
    assert md5_of_message_attributes({}) == ""


# --- batches --------------------------------------------------------------------------------


def test_batch_entry_counts() -> None:
    validate_batch_entry_ids(["a"])
    validate_batch_entry_ids([str(i) for i in range(10)])
    with raises(EmptyBatchRequest, "Entries"):
        validate_batch_entry_ids([])
    with raises(TooManyEntriesInBatchRequest, "Entries", "11", "10"):
        validate_batch_entry_ids([str(i) for i in range(11)])


@pytest.mark.parametrize("entry_id", ["a", "A-b_9", "x" * 80])
def test_batch_entry_ids_accepted(entry_id: str) -> None:
    validate_batch_entry_ids([entry_id])


@pytest.mark.parametrize("entry_id", ["", "x" * 81, "a b", "a.b", "é", "a!"])
def test_batch_entry_ids_rejected(entry_id: str) -> None:
    with raises(InvalidBatchEntryId, "parameter Id", entry_id):
        validate_batch_entry_ids(["ok", entry_id])


def test_batch_entry_ids_must_be_distinct() -> None:
    with raises(BatchEntryIdsNotDistinct, "Id dup repeated"):
        validate_batch_entry_ids(["dup", "x", "dup"])
    validate_batch_entry_ids(["Dup", "dup"])  # ids are case-sensitive


def test_batch_size_boundary() -> None:
    validate_batch_size(1_048_576, 1_048_576)
    with raises(BatchRequestTooLong, "1048576 bytes", "1048577 bytes"):
        validate_batch_size(1_048_577, 1_048_576)


# --- send -----------------------------------------------------------------------------------


def send(
    config: QueueConfig,
    *,
    delay_seconds: int | None = None,
    group_id: str = "",
    dedup_id: str = "",
    body: str = "b",
) -> tuple[int, str]:
    return validate_send_for_queue(
        config, delay_seconds=delay_seconds, group_id=group_id, dedup_id=dedup_id, body=body
    )


def test_standard_queue_delay() -> None:
    assert send(STANDARD) == (7, "")
    assert send(STANDARD, delay_seconds=0) == (0, "")
    assert send(STANDARD, delay_seconds=900) == (900, "")


@pytest.mark.parametrize("config", [STANDARD, FIFO])
@pytest.mark.parametrize("delay", [-1, 901])
def test_delay_range(config: QueueConfig, delay: int) -> None:
    with raises(InvalidParameterValue, f"Value {delay} for parameter DelaySeconds", "0 to 900"):
        send(config, delay_seconds=delay, group_id="g")


def test_standard_queue_accepts_group_id_for_fair_queues() -> None:
    assert send(STANDARD, group_id="tenant-1") == (7, "")
    with raises(InvalidParameterValue, "parameter MessageGroupId"):
        send(STANDARD, group_id="bad id")


def test_standard_queue_rejects_dedup_id() -> None:
    with raises(InvalidParameterValue, "parameter MessageDeduplicationId", "queue type"):
        send(STANDARD, dedup_id="d")


def test_fifo_requires_group_id() -> None:
    with raises(MissingParameter, "MessageGroupId"):
        send(FIFO, dedup_id="d")


def test_fifo_rejects_per_message_delay_but_accepts_zero() -> None:
    assert send(FIFO, group_id="g", dedup_id="d") == (3, "d")
    assert send(FIFO, group_id="g", dedup_id="d", delay_seconds=0) == (3, "d")
    with raises(InvalidParameterValue, "Value 5 for parameter DelaySeconds", "queue type"):
        send(FIFO, group_id="g", dedup_id="d", delay_seconds=5)


def test_fifo_needs_dedup_id_or_content_based_deduplication() -> None:
    with raises(InvalidParameterValue, "ContentBasedDeduplication", "MessageDeduplicationId"):
        send(FIFO, group_id="g")
    body = "héllo"
    expected = hashlib.sha256(body.encode()).hexdigest()
    assert send(FIFO_CBD, group_id="g", body=body) == (0, expected)
    # An explicit id overrides the content-based one.
    assert send(FIFO_CBD, group_id="g", body=body, dedup_id="mine") == (0, "mine")


@pytest.mark.parametrize("parameter", ["MessageGroupId", "MessageDeduplicationId"])
@pytest.mark.parametrize("value", ["a", "x" * 128, PUNCTUATION, "Aa0" + PUNCTUATION])
def test_fifo_ids_accepted(parameter: str, value: str) -> None:
    if parameter == "MessageGroupId":
        send(FIFO, group_id=value, dedup_id="d")
    else:
        send(FIFO, group_id="g", dedup_id=value)


@pytest.mark.parametrize("parameter", ["MessageGroupId", "MessageDeduplicationId"])
@pytest.mark.parametrize("value", ["x" * 129, "a b", "é", "a\tb", "a\x00"])
def test_fifo_ids_rejected(parameter: str, value: str) -> None:
    group_id, dedup_id = (value, "d") if parameter == "MessageGroupId" else ("g", value)
    with raises(InvalidParameterValue, f"parameter {parameter}", "1 to 128"):
        send(FIFO, group_id=group_id, dedup_id=dedup_id)


# --- receive and visibility -----------------------------------------------------------------


@pytest.mark.parametrize(("given", "effective"), [(None, 1), (1, 1), (10, 10)])
def test_max_number_of_messages(given: int | None, effective: int) -> None:
    assert validate_receive(given, None, None, "") == effective


# An explicit 0 is out of SQS's 1-10 range; only an absent value means 1.
@pytest.mark.parametrize("given", [-1, 0, 11])
def test_max_number_of_messages_rejected(given: int) -> None:
    with raises(InvalidParameterValue, f"Value {given} for parameter MaxNumberOfMessages"):
        validate_receive(given, None, None, "")


@pytest.mark.parametrize("wait", [None, 0, 20])
def test_wait_time_accepted(wait: int | None) -> None:
    validate_receive(1, wait, None, "")


@pytest.mark.parametrize("wait", [-1, 21])
def test_wait_time_rejected(wait: int) -> None:
    with raises(InvalidParameterValue, f"Value {wait} for parameter WaitTimeSeconds", "20"):
        validate_receive(1, wait, None, "")


@pytest.mark.parametrize("visibility", [None, 0, 43_200])
def test_receive_visibility_accepted(visibility: int | None) -> None:
    validate_receive(1, None, visibility, "")


@pytest.mark.parametrize("visibility", [-1, 43_201])
def test_receive_visibility_rejected(visibility: int) -> None:
    with raises(InvalidParameterValue, f"Value {visibility} for parameter VisibilityTimeout"):
        validate_receive(1, None, visibility, "")


@pytest.mark.parametrize("attempt_id", ["a", "x" * 128, PUNCTUATION])
def test_attempt_id_accepted(attempt_id: str) -> None:
    validate_receive(1, None, None, attempt_id)


@pytest.mark.parametrize("attempt_id", ["x" * 129, "a b", "é"])
def test_attempt_id_rejected(attempt_id: str) -> None:
    with raises(InvalidParameterValue, "parameter ReceiveRequestAttemptId", "1 to 128"):
        validate_receive(1, None, None, attempt_id)


@pytest.mark.parametrize("value", [0, 43_200])
def test_visibility_timeout_accepted(value: int) -> None:
    validate_visibility_timeout(value)


@pytest.mark.parametrize("value", [-1, 43_201])
def test_visibility_timeout_rejected(value: int) -> None:
    with raises(InvalidParameterValue, f"Value {value} for parameter VisibilityTimeout", "43200"):
        validate_visibility_timeout(value)
