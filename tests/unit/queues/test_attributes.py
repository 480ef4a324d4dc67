"""Queue attribute rules: every limit at its boundaries, every error class and its wording."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from eventplane.errors import EventplaneError, InvalidParameterValue, MissingParameter
from eventplane.errors.queues import InvalidAttributeName, InvalidAttributeValue
from eventplane.queues.attributes import (
    ALL_ATTRIBUTE_NAMES,
    QueueConfig,
    RedriveAllowPolicy,
    RedrivePolicy,
    name_from_ref,
    parse_create,
    queue_arn,
    queue_url,
    validate_attribute_names,
    validate_queue_name,
)

FIFO = {"FifoQueue": "true"}
DLQ = queue_arn("dlq")
FIFO_DLQ = queue_arn("dlq.fifo")


@contextmanager
def raises(cls: type[EventplaneError], *fragments: str) -> Iterator[None]:
    """The exact error class, with a message naming every fragment (field, value, ...)."""
    with pytest.raises(cls) as info:
        yield
    assert type(info.value) is cls
    for fragment in fragments:
        assert fragment in info.value.message, info.value.message


def create(attributes: dict[str, str], *, fifo: bool = False) -> QueueConfig:
    name = "q.fifo" if fifo else "q"
    return parse_create(name, {**FIFO, **attributes} if fifo else attributes)


# --- defaults -------------------------------------------------------------------------------


def test_defaults_match_sqs() -> None:
    config = parse_create("q", {})
    assert config == QueueConfig()
    assert config.attributes() == {
        "VisibilityTimeout": "30",
        "DelaySeconds": "0",
        "MessageRetentionPeriod": "345600",
        "MaximumMessageSize": "1048576",
        "ReceiveMessageWaitTimeSeconds": "0",
        "SqsManagedSseEnabled": "false",
        "Partitions": "4",
    }


def test_fifo_defaults() -> None:
    config = parse_create("q.fifo", FIFO)
    assert config.fifo
    assert config.attributes() == {
        "VisibilityTimeout": "30",
        "DelaySeconds": "0",
        "MessageRetentionPeriod": "345600",
        "MaximumMessageSize": "1048576",
        "ReceiveMessageWaitTimeSeconds": "0",
        "FifoQueue": "true",
        "ContentBasedDeduplication": "false",
        "DeduplicationScope": "queue",
        "FifoThroughputLimit": "perQueue",
        "SqsManagedSseEnabled": "false",
        "Partitions": "4",
    }


# --- integer attributes ---------------------------------------------------------------------

INT_LIMITS = [
    ("VisibilityTimeout", "visibility_timeout", 0, 43_200),
    ("DelaySeconds", "delay_seconds", 0, 900),
    ("MessageRetentionPeriod", "message_retention_period", 60, 1_209_600),
    ("MaximumMessageSize", "maximum_message_size", 1_024, 1_048_576),
    ("ReceiveMessageWaitTimeSeconds", "receive_message_wait_time_seconds", 0, 20),
    ("Partitions", "partitions", 1, 64),
]


@pytest.mark.parametrize(("name", "field", "low", "high"), INT_LIMITS)
@pytest.mark.parametrize("edge", ["low", "high"])
def test_int_attribute_accepts_its_bounds(
    name: str, field: str, low: int, high: int, edge: str
) -> None:
    value = low if edge == "low" else high
    config = create({name: str(value)})
    assert getattr(config, field) == value
    assert config.attributes()[name] == str(value)


@pytest.mark.parametrize(("name", "field", "low", "high"), INT_LIMITS)
@pytest.mark.parametrize("edge", ["below", "above"])
def test_int_attribute_rejects_outside_bounds(
    name: str, field: str, low: int, high: int, edge: str
) -> None:
    value = str(low - 1 if edge == "below" else high + 1)
    with raises(InvalidAttributeValue, f"parameter {name}", value, str(low), str(high)):
        create({name: value})


@pytest.mark.parametrize(("name", "field", "low", "high"), INT_LIMITS)
@pytest.mark.parametrize("raw", ["", "abc", "1.5", " 30", "0x10", "1_000", "٣٠"])
def test_int_attribute_rejects_non_integers(
    name: str, field: str, low: int, high: int, raw: str
) -> None:
    with raises(InvalidAttributeValue, f"parameter {name}"):
        create({name: raw})


@pytest.mark.parametrize(("name", "field", "low", "high"), INT_LIMITS[:-1])
def test_set_attributes_applies_the_same_limits(name: str, field: str, low: int, high: int) -> None:
    config = QueueConfig()
    assert getattr(config.with_updates({name: str(high)}), field) == high
    with raises(InvalidAttributeValue, f"parameter {name}"):
        config.with_updates({name: str(high + 1)})
    with raises(InvalidAttributeValue, f"parameter {name}"):
        config.with_updates({name: str(low - 1)})


# --- booleans and enums ---------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("True", True), ("FALSE", False)])
def test_booleans_are_case_insensitive_and_rendered_lower_case(raw: str, expected: bool) -> None:
    config = create({"ContentBasedDeduplication": raw, "SqsManagedSseEnabled": raw}, fifo=True)
    assert config.content_based_deduplication is expected
    assert config.sqs_managed_sse_enabled is expected
    assert config.attributes()["ContentBasedDeduplication"] == str(expected).lower()
    assert config.attributes()["SqsManagedSseEnabled"] == str(expected).lower()


@pytest.mark.parametrize("name", ["ContentBasedDeduplication", "SqsManagedSseEnabled", "FifoQueue"])
@pytest.mark.parametrize("raw", ["", "yes", "1", "truee"])
def test_booleans_reject_other_values(name: str, raw: str) -> None:
    with raises(InvalidAttributeValue, f"parameter {name}"):
        create({name: raw}, fifo=name != "FifoQueue")


@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        ("DeduplicationScope", "deduplication_scope", "messageGroup"),
        ("DeduplicationScope", "deduplication_scope", "queue"),
        ("FifoThroughputLimit", "fifo_throughput_limit", "perQueue"),
    ],
)
def test_fifo_enums_accept_documented_values(name: str, field: str, value: str) -> None:
    assert getattr(create({name: value}, fifo=True), field) == value


@pytest.mark.parametrize("name", ["DeduplicationScope", "FifoThroughputLimit"])
@pytest.mark.parametrize("raw", ["", "MessageGroup", "perqueue", "all"])
def test_fifo_enums_reject_other_values(name: str, raw: str) -> None:
    with raises(InvalidAttributeValue, f"parameter {name}"):
        create({name: raw}, fifo=True)


def test_high_throughput_needs_message_group_scope() -> None:
    high = {"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}
    assert create(high, fifo=True).fifo_throughput_limit == "perMessageGroupId"
    with raises(InvalidAttributeValue, "FifoThroughputLimit", "DeduplicationScope"):
        create({"FifoThroughputLimit": "perMessageGroupId"}, fifo=True)
    # SetQueueAttributes checks the merged result, in both directions.
    config = create(high, fifo=True)
    with raises(InvalidAttributeValue, "FifoThroughputLimit", "DeduplicationScope"):
        config.with_updates({"DeduplicationScope": "queue"})
    both = config.with_updates({"DeduplicationScope": "queue", "FifoThroughputLimit": "perQueue"})
    assert both.deduplication_scope == "queue"


# --- which names may be set -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"]
)
def test_fifo_only_attributes_are_rejected_on_standard_queues(name: str) -> None:
    with raises(InvalidAttributeName, name, "FifoQueue"):
        create({name: "queue"})
    with raises(InvalidAttributeName, name, "FifoQueue"):
        QueueConfig().with_updates({name: "queue"})


READ_ONLY = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
]


@pytest.mark.parametrize("name", READ_ONLY)
def test_read_only_attributes_cannot_be_set(name: str) -> None:
    with raises(InvalidAttributeName, name, "read-only"):
        create({name: "1"})
    with raises(InvalidAttributeName, name, "read-only"):
        QueueConfig().with_updates({name: "1"})


@pytest.mark.parametrize("name", ["KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds"])
def test_kms_attributes_are_rejected(name: str) -> None:
    with raises(InvalidAttributeName, name, "KMS"):
        create({name: "alias/aws/sqs"})
    with raises(InvalidAttributeName, name, "KMS"):
        QueueConfig().with_updates({name: "300"})


@pytest.mark.parametrize("name", ["Foo", "visibilityTimeout", "All", "Tags", ""])
def test_unknown_attributes_are_rejected(name: str) -> None:
    with raises(InvalidAttributeName, f"Unknown Attribute {name}."):
        create({name: "1"})
    with raises(InvalidAttributeName, f"Unknown Attribute {name}."):
        QueueConfig().with_updates({name: "1"})


def test_names_are_checked_before_values() -> None:
    with raises(InvalidAttributeName, "Foo"):
        create({"VisibilityTimeout": "bad", "Foo": "1"})


# --- FifoQueue and queue names --------------------------------------------------------------


def test_fifo_queue_false_is_rejected_like_sqs() -> None:
    with raises(InvalidAttributeName, "FifoQueue"):
        parse_create("q", {"FifoQueue": "false"})


def test_fifo_name_requires_fifo_attribute_and_vice_versa() -> None:
    with raises(InvalidParameterValue, "parameter QueueName", "q.fifo", "FifoQueue"):
        parse_create("q.fifo", {})
    with raises(InvalidParameterValue, "parameter QueueName", ".fifo"):
        parse_create("q", FIFO)
    with raises(InvalidParameterValue, "parameter QueueName"):
        parse_create("q.fifo", {"FifoQueue": "false"})


@pytest.mark.parametrize("name", ["a", "A-b_9", "x" * 80])
def test_standard_names_accepted(name: str) -> None:
    validate_queue_name(name, False)


@pytest.mark.parametrize("name", ["a.fifo", "x" * 75 + ".fifo"])
def test_fifo_names_accepted(name: str) -> None:
    validate_queue_name(name, True)


@pytest.mark.parametrize(
    ("name", "fifo"),
    [
        ("", False),
        ("x" * 81, False),
        ("a b", False),
        ("a.b", False),
        ("é", False),
        ("q/1", False),
        ("a.fifo", False),
        ("a", True),
        (".fifo", True),
        ("x" * 76 + ".fifo", True),
        ("a.b.fifo", True),
        ("a.FIFO", True),
    ],
)
def test_invalid_names_rejected(name: str, fifo: bool) -> None:
    with raises(InvalidParameterValue, "parameter QueueName"):
        validate_queue_name(name, fifo)


def test_fifo_queue_cannot_be_set_later() -> None:
    for config in (QueueConfig(), create({}, fifo=True)):
        with raises(InvalidAttributeName, "FifoQueue"):
            config.with_updates({"FifoQueue": "true"})


# --- Partitions -----------------------------------------------------------------------------


def test_partitions_are_immutable() -> None:
    config = create({"Partitions": "8"})
    assert config.with_updates({"Partitions": "8"}) == config
    with raises(InvalidAttributeValue, "Partitions", "8"):
        config.with_updates({"Partitions": "9"})
    with raises(InvalidAttributeValue, "Partitions"):
        config.with_updates({"Partitions": "65"})


# --- RedrivePolicy --------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 1000, "1", "1000"])
def test_redrive_policy_accepts_count_as_number_or_string(count: int | str) -> None:
    raw = json.dumps({"deadLetterTargetArn": DLQ, "maxReceiveCount": count})
    config = create({"RedrivePolicy": raw})
    assert config.redrive_policy == RedrivePolicy(
        dead_letter_target_arn=DLQ, max_receive_count=int(count)
    )
    # Rendered as SQS does: compact JSON, count as a number.
    assert config.attributes()["RedrivePolicy"] == (
        f'{{"deadLetterTargetArn":"{DLQ}","maxReceiveCount":{int(count)}}}'
    )


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ({"deadLetterTargetArn": DLQ, "maxReceiveCount": 0}, "maxReceiveCount"),
        ({"deadLetterTargetArn": DLQ, "maxReceiveCount": 1001}, "maxReceiveCount"),
        ({"deadLetterTargetArn": DLQ, "maxReceiveCount": "0"}, "maxReceiveCount"),
        ({"deadLetterTargetArn": DLQ, "maxReceiveCount": True}, "maxReceiveCount"),
        ({"deadLetterTargetArn": DLQ, "maxReceiveCount": 5.0}, "maxReceiveCount"),
        ({"deadLetterTargetArn": DLQ, "maxReceiveCount": "five"}, "maxReceiveCount"),
        ({"deadLetterTargetArn": DLQ, "maxReceiveCount": None}, "maxReceiveCount"),
        ({"deadLetterTargetArn": DLQ}, "maxReceiveCount"),
        ({"maxReceiveCount": 3}, "deadLetterTargetArn"),
        ({"deadLetterTargetArn": "dlq", "maxReceiveCount": 3}, "deadLetterTargetArn"),
        ({"deadLetterTargetArn": 5, "maxReceiveCount": 3}, "deadLetterTargetArn"),
        (
            {"deadLetterTargetArn": "arn:aws:sns:local:000000000000:t", "maxReceiveCount": 3},
            "deadLetterTargetArn",
        ),
        (
            {"deadLetterTargetArn": queue_arn("bad name"), "maxReceiveCount": 3},
            "deadLetterTargetArn",
        ),
        ({"deadLetterTargetArn": DLQ, "maxReceiveCount": 3, "x": 1}, "'x'"),
        ({"deadLetterTargetArn": FIFO_DLQ, "maxReceiveCount": 3}, "same type"),
    ],
)
def test_redrive_policy_rejects(doc: dict[str, object], fragment: str) -> None:
    with raises(InvalidAttributeValue, "parameter RedrivePolicy", fragment):
        create({"RedrivePolicy": json.dumps(doc)})


@pytest.mark.parametrize("raw", ["{", "[]", '"x"', "null", "not json"])
def test_redrive_policy_must_be_a_json_object(raw: str) -> None:
    with raises(InvalidAttributeValue, "parameter RedrivePolicy", "JSON object"):
        create({"RedrivePolicy": raw})


def test_fifo_queue_needs_fifo_dead_letter_queue() -> None:
    good = json.dumps({"deadLetterTargetArn": FIFO_DLQ, "maxReceiveCount": 3})
    assert create({"RedrivePolicy": good}, fifo=True).redrive_policy is not None
    bad = json.dumps({"deadLetterTargetArn": DLQ, "maxReceiveCount": 3})
    with raises(InvalidAttributeValue, "parameter RedrivePolicy", "same type"):
        create({"RedrivePolicy": bad}, fifo=True)


def test_empty_redrive_policy_removes_it() -> None:
    raw = json.dumps({"deadLetterTargetArn": DLQ, "maxReceiveCount": 3})
    config = create({"RedrivePolicy": raw})
    cleared = config.with_updates({"RedrivePolicy": ""})
    assert cleared.redrive_policy is None
    assert "RedrivePolicy" not in cleared.attributes()
    assert config.redrive_policy is not None  # with_updates returns a new config


# --- RedriveAllowPolicy ---------------------------------------------------------------------


@pytest.mark.parametrize("permission", ["allowAll", "denyAll"])
def test_redrive_allow_policy_simple_permissions(permission: str) -> None:
    config = create({"RedriveAllowPolicy": json.dumps({"redrivePermission": permission})})
    assert config.redrive_allow_policy == RedriveAllowPolicy(redrive_permission=permission)
    assert config.attributes()["RedriveAllowPolicy"] == f'{{"redrivePermission":"{permission}"}}'


@pytest.mark.parametrize("count", [1, 10])
def test_redrive_allow_policy_by_queue(count: int) -> None:
    arns = [queue_arn(f"src{i}") for i in range(count)]
    raw = json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": arns})
    config = create({"RedriveAllowPolicy": raw})
    assert config.redrive_allow_policy == RedriveAllowPolicy(
        redrive_permission="byQueue", source_queue_arns=tuple(arns)
    )
    assert json.loads(config.attributes()["RedriveAllowPolicy"]) == json.loads(raw)


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ({"redrivePermission": "byQueue", "sourceQueueArns": []}, "sourceQueueArns"),
        (
            {
                "redrivePermission": "byQueue",
                "sourceQueueArns": [queue_arn(f"s{i}") for i in range(11)],
            },
            "sourceQueueArns",
        ),
        ({"redrivePermission": "byQueue"}, "sourceQueueArns"),
        ({"redrivePermission": "byQueue", "sourceQueueArns": "x"}, "sourceQueueArns"),
        ({"redrivePermission": "byQueue", "sourceQueueArns": ["nope"]}, "sourceQueueArns"),
        ({"redrivePermission": "allowAll", "sourceQueueArns": [DLQ]}, "sourceQueueArns"),
        ({"redrivePermission": "denyAll", "sourceQueueArns": [DLQ]}, "sourceQueueArns"),
        ({"redrivePermission": "AllowAll"}, "redrivePermission"),
        ({}, "redrivePermission"),
        ({"redrivePermission": "allowAll", "extra": 1}, "'extra'"),
    ],
)
def test_redrive_allow_policy_rejects(doc: dict[str, object], fragment: str) -> None:
    with raises(InvalidAttributeValue, "parameter RedriveAllowPolicy", fragment):
        create({"RedriveAllowPolicy": json.dumps(doc)})


def test_empty_redrive_allow_policy_removes_it() -> None:
    config = create({"RedriveAllowPolicy": '{"redrivePermission":"denyAll"}'})
    assert config.with_updates({"RedriveAllowPolicy": ""}).redrive_allow_policy is None


# --- Policy ---------------------------------------------------------------------------------

POLICY = '{ "Version": "2012-10-17", "Statement": [] }'


def test_policy_is_stored_verbatim() -> None:
    config = create({"Policy": POLICY})
    assert config.policy == POLICY
    assert config.attributes()["Policy"] == POLICY


@pytest.mark.parametrize("raw", ["{", "[]", "42", "policy"])
def test_policy_must_be_a_json_object(raw: str) -> None:
    with raises(InvalidAttributeValue, "parameter Policy"):
        create({"Policy": raw})
    with raises(InvalidAttributeValue, "parameter Policy"):
        QueueConfig().with_updates({"Policy": raw})


def test_policy_must_be_a_valid_resource_policy() -> None:
    # Enforced on every call, so refused on the way in rather than ignored later.
    no_principal = '{"Statement": [{"Effect": "Allow", "Action": "sqs:*"}]}'
    with raises(InvalidAttributeValue, "parameter Policy", "Principal or NotPrincipal"):
        create({"Policy": no_principal})
    bad_action = '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "send"}]}'
    with raises(InvalidAttributeValue, "parameter Policy", "Statement[0].Action"):
        QueueConfig().with_updates({"Policy": bad_action})


def test_empty_policy_means_none() -> None:
    assert create({"Policy": ""}).policy is None
    config = create({"Policy": POLICY}).with_updates({"Policy": ""})
    assert config.policy is None
    assert "Policy" not in config.attributes()


def test_empty_json_object_policy_is_kept() -> None:
    assert create({"Policy": "{}"}).policy == "{}"


# --- SetQueueAttributes as a whole ----------------------------------------------------------


def test_with_updates_changes_only_what_is_given() -> None:
    config = create({"VisibilityTimeout": "60", "DelaySeconds": "5"})
    updated = config.with_updates({"DelaySeconds": "7"})
    assert updated == QueueConfig(visibility_timeout=60, delay_seconds=7)
    assert config.delay_seconds == 5
    assert config.with_updates({}) == config


# --- differs_from ---------------------------------------------------------------------------


def test_differs_from() -> None:
    base = create({"VisibilityTimeout": "60"})
    assert base.differs_from(create({"VisibilityTimeout": "60"})) is None
    assert base.differs_from(QueueConfig()) == "VisibilityTimeout"
    # The first differing attribute in GetQueueAttributes order is named.
    other = QueueConfig(visibility_timeout=61, delay_seconds=3)
    assert base.differs_from(other) == "VisibilityTimeout"
    assert base.differs_from(other, names={"DelaySeconds"}) == "DelaySeconds"
    assert base.differs_from(other, names={"MaximumMessageSize"}) is None
    assert QueueConfig().differs_from(QueueConfig(partitions=8)) == "Partitions"
    assert QueueConfig().differs_from(QueueConfig(policy="{}")) == "Policy"
    assert QueueConfig().differs_from(create({}, fifo=True)) == "FifoQueue"


# --- spec round trip ------------------------------------------------------------------------

CONFIGS = [
    QueueConfig(),
    QueueConfig(visibility_timeout=0, delay_seconds=900, partitions=64, policy=POLICY),
    QueueConfig(
        fifo=True,
        content_based_deduplication=True,
        deduplication_scope="messageGroup",
        fifo_throughput_limit="perMessageGroupId",
        sqs_managed_sse_enabled=True,
        redrive_policy=RedrivePolicy(dead_letter_target_arn=FIFO_DLQ, max_receive_count=7),
        redrive_allow_policy=RedriveAllowPolicy(
            redrive_permission="byQueue", source_queue_arns=(DLQ, FIFO_DLQ)
        ),
    ),
    QueueConfig(redrive_allow_policy=RedriveAllowPolicy(redrive_permission="denyAll")),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_spec_round_trips_through_json(config: QueueConfig) -> None:
    spec = json.loads(json.dumps(config.to_spec()))
    assert QueueConfig.from_spec(spec) == config
    assert QueueConfig.from_spec(spec).to_spec() == config.to_spec()


def test_from_spec_fills_missing_fields_with_defaults() -> None:
    assert QueueConfig.from_spec({"fifo": True}) == QueueConfig(fifo=True)


# --- GetQueueAttributes names ---------------------------------------------------------------


def test_all_attribute_names_cover_static_and_dynamic() -> None:
    static = set(CONFIGS[2].attributes())
    assert static <= set(ALL_ATTRIBUTE_NAMES)
    assert set(READ_ONLY) <= set(ALL_ATTRIBUTE_NAMES)
    assert len(ALL_ATTRIBUTE_NAMES) == len(set(ALL_ATTRIBUTE_NAMES))


def test_validate_attribute_names() -> None:
    assert validate_attribute_names([]) == set()
    assert validate_attribute_names(["All"]) == set(ALL_ATTRIBUTE_NAMES)
    assert validate_attribute_names(["All", "QueueArn"]) == set(ALL_ATTRIBUTE_NAMES)
    assert validate_attribute_names(["QueueArn", "Partitions"]) == {"QueueArn", "Partitions"}
    # Real SQS names eventplane never has a value for are accepted, not returned.
    assert validate_attribute_names(["KmsMasterKeyId"]) == {"KmsMasterKeyId"}


@pytest.mark.parametrize("name", ["Foo", "all", "queueArn", ""])
def test_validate_attribute_names_rejects_unknown(name: str) -> None:
    with raises(InvalidAttributeName, f"Unknown Attribute {name}."):
        validate_attribute_names(["QueueArn", name])


# --- ARNs, URLs and references --------------------------------------------------------------


def test_arn_and_url() -> None:
    assert queue_arn("orders") == "arn:aws:sqs:local:000000000000:orders"
    assert queue_url("orders.fifo") == "eventplane://queues/orders.fifo"


@pytest.mark.parametrize(
    ("ref", "name"),
    [
        ("orders", "orders"),
        ("orders.fifo", "orders.fifo"),
        (queue_url("orders"), "orders"),
        (queue_arn("orders.fifo"), "orders.fifo"),
        ("arn:aws:sqs:us-east-1:123456789012:orders", "orders"),
        ("https://sqs.us-east-1.amazonaws.com/123456789012/orders", "orders"),
        ("http://localhost:4566/000000000000/orders.fifo", "orders.fifo"),
        ("x" * 80, "x" * 80),
    ],
)
def test_name_from_ref(ref: str, name: str) -> None:
    assert name_from_ref(ref) == name


@pytest.mark.parametrize(
    "ref",
    [
        "bad name",
        "x" * 81,
        "eventplane://queues/",
        "eventplane://queues/a/b",
        "arn:aws:sns:local:000000000000:orders",
        "arn:aws:sqs:local:000000000000:",
        "arn:aws:sqs:orders",
        "https://sqs.us-east-1.amazonaws.com/orders",
        "https://sqs.us-east-1.amazonaws.com/1/bad name",
    ],
)
def test_name_from_ref_rejects(ref: str) -> None:
    with raises(InvalidParameterValue, "parameter QueueUrl", ref):
        name_from_ref(ref)
    with raises(InvalidParameterValue, "parameter SourceArn"):
        name_from_ref(ref, field="SourceArn")


def test_name_from_ref_requires_a_value() -> None:
    with raises(MissingParameter, "QueueUrl"):
        name_from_ref("")
