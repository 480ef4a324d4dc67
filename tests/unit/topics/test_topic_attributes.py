"""Topic and subscription attribute rules: every rule, its error class and its wording."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from eventplane.errors import EventplaneError, lookup
from eventplane.queues.attributes import queue_arn
from eventplane.topics.attributes import (
    SubscriptionConfig,
    TopicConfig,
    parse_create,
    parse_subscribe,
    parse_subscription_arn,
    subscription_arn,
    topic_arn,
    topic_name_from_ref,
    validate_topic_name,
)
from eventplane.topics.errors import InvalidFilterPolicy, InvalidParameter, NotFound

STANDARD = TopicConfig()
FIFO = TopicConfig(fifo=True)
URL = "https://example.com/hook"


@contextmanager
def raises(cls: type[EventplaneError], *fragments: str) -> Iterator[None]:
    """The exact error class, with a message naming every fragment (field, value, ...)."""
    with pytest.raises(cls) as info:
        yield
    assert type(info.value) is cls
    for fragment in fragments:
        assert fragment in info.value.message, info.value.message


def subscribe(
    attributes: dict[str, str] | None = None,
    *,
    protocol: str = "sqs",
    endpoint: str = "q",
    topic: TopicConfig = STANDARD,
) -> SubscriptionConfig:
    return parse_subscribe(protocol, endpoint, attributes or {}, topic)


# --- errors -------------------------------------------------------------------------------


def test_error_codes_map_to_their_classes() -> None:
    assert lookup("InvalidParameter") is InvalidParameter
    assert lookup("NotFound") is NotFound
    assert lookup("ParameterValueInvalid") is not None
    assert issubclass(InvalidFilterPolicy, InvalidParameter)
    assert InvalidFilterPolicy.code == "InvalidParameter"
    assert NotFound("Topic does not exist").code == "NotFound"


# --- ARNs and names -----------------------------------------------------------------------


def test_arns() -> None:
    assert topic_arn("t") == "arn:aws:sns:local:000000000000:t"
    assert subscription_arn("t", "abc-1") == "arn:aws:sns:local:000000000000:t:abc-1"
    assert parse_subscription_arn(subscription_arn("t.fifo", "abc-1")) == ("t.fifo", "abc-1")


@pytest.mark.parametrize(
    "ref", ["t", "arn:aws:sns:local:000000000000:t", "arn:aws:sns:us-east-1:123456789012:t"]
)
def test_topic_name_from_ref_accepts_names_and_any_arn(ref: str) -> None:
    assert topic_name_from_ref(ref) == "t"


@pytest.mark.parametrize(
    "ref", ["", "bad name", "arn:aws:sqs:local:000000000000:t", "arn:aws:sns:x", "a" * 257]
)
def test_topic_name_from_ref_rejects_other_refs(ref: str) -> None:
    with raises(InvalidParameter, "Invalid parameter: TopicArn"):
        topic_name_from_ref(ref)
    with raises(InvalidParameter, "Invalid parameter: TargetArn"):
        topic_name_from_ref(ref, field="TargetArn")


@pytest.mark.parametrize(
    "ref",
    [
        "arn:aws:sns:local:000000000000:t",
        "arn:aws:sns:local:000000000000:t:",
        "arn:aws:sqs:local:000000000000:t:id",
        "arn:aws:sns:local:000000000000:bad name:id",
        "t:id",
    ],
)
def test_parse_subscription_arn_rejects_bad_shapes(ref: str) -> None:
    with raises(InvalidParameter, "Invalid parameter: SubscriptionArn"):
        parse_subscription_arn(ref)


@pytest.mark.parametrize(
    ("name", "fifo"),
    [
        ("t", False),
        ("a" * 256, False),
        ("A-z_09", False),
        ("t.fifo", True),
        ("a" * 251 + ".fifo", True),
    ],
)
def test_valid_topic_names(name: str, fifo: bool) -> None:
    validate_topic_name(name, fifo)


@pytest.mark.parametrize(
    ("name", "fifo", "fragment"),
    [
        ("", False, "between 1 and 256"),
        ("a" * 257, False, "between 1 and 256"),
        ("a.b", False, "between 1 and 256"),
        ("a b", False, "between 1 and 256"),
        ("t.fifo", False, "requires the attribute FifoTopic=true"),
        ("t", True, "must end with .fifo"),
        ("a" * 252 + ".fifo", True, "must end with .fifo"),
        (".fifo", True, "must end with .fifo"),
    ],
)
def test_invalid_topic_names(name: str, fifo: bool, fragment: str) -> None:
    with raises(InvalidParameter, "Invalid parameter: Topic Name", fragment):
        validate_topic_name(name, fifo)


# --- topics -------------------------------------------------------------------------------


def test_topic_defaults() -> None:
    config = parse_create("t", {})
    assert config == TopicConfig()
    attributes = config.attributes()
    assert attributes["DisplayName"] == ""
    assert attributes["Partitions"] == "4"
    assert "FifoTopic" not in attributes and "ContentBasedDeduplication" not in attributes
    effective = json.loads(attributes["EffectiveDeliveryPolicy"])
    assert effective["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3
    assert set(attributes) == {"DisplayName", "EffectiveDeliveryPolicy", "Partitions"}


def test_fifo_topic_attributes() -> None:
    config = parse_create("t.fifo", {"FifoTopic": "True", "ContentBasedDeduplication": "true"})
    assert config.fifo and config.content_based_deduplication
    attributes = config.attributes()
    assert attributes["FifoTopic"] == "true"
    assert attributes["ContentBasedDeduplication"] == "true"
    assert (
        parse_create("u.fifo", {"FifoTopic": "true"}).attributes()["ContentBasedDeduplication"]
        == "false"
    )


def test_fifo_throughput_scope() -> None:
    # Topic scope (the default) deduplicates across the topic: one partition keeps it exact.
    topic_scope = parse_create("t.fifo", {"FifoTopic": "true"})
    assert topic_scope.fifo_throughput_scope == "Topic"
    assert topic_scope.partitions == 1
    assert topic_scope.attributes()["FifoThroughputScope"] == "Topic"
    assert topic_scope.attributes()["Partitions"] == "1"
    assert parse_create("t.fifo", {"FifoTopic": "true", "Partitions": "1"}) == topic_scope
    with raises(InvalidParameter, "Invalid parameter: Partitions", "FifoThroughputScope=Topic"):
        parse_create("t.fifo", {"FifoTopic": "true", "Partitions": "4"})
    group_scope = parse_create(
        "t.fifo", {"FifoTopic": "true", "FifoThroughputScope": "MessageGroup"}
    )
    assert (group_scope.fifo_throughput_scope, group_scope.partitions) == ("MessageGroup", 4)
    assert (
        parse_create(
            "t.fifo",
            {"FifoTopic": "true", "FifoThroughputScope": "MessageGroup", "Partitions": "8"},
        ).partitions
        == 8
    )
    # SNS: Topic -> MessageGroup is allowed, never back.
    widened = topic_scope.with_update("FifoThroughputScope", "MessageGroup")
    assert (widened.fifo_throughput_scope, widened.partitions) == ("MessageGroup", 1)
    assert widened.with_update("FifoThroughputScope", "MessageGroup") == widened
    with raises(InvalidParameter, "Invalid parameter: FifoThroughputScope", "back to Topic"):
        group_scope.with_update("FifoThroughputScope", "Topic")
    with raises(InvalidParameter, "Invalid parameter: FifoThroughputScope", "[Group]"):
        parse_create("t.fifo", {"FifoTopic": "true", "FifoThroughputScope": "Group"})
    with raises(InvalidParameter, "Invalid parameter: FifoThroughputScope", "FIFO topics"):
        parse_create("t", {"FifoThroughputScope": "Topic"})
    with raises(InvalidParameter, "Invalid parameter: FifoThroughputScope", "FIFO topics"):
        TopicConfig().with_update("FifoThroughputScope", "MessageGroup")
    assert "FifoThroughputScope" not in TopicConfig().attributes()


def test_all_settable_topic_attributes() -> None:
    policy = '{"Version": "2012-10-17", "Statement": []}'
    delivery = '{"http": {"defaultHealthyRetryPolicy": {"numRetries": 5}}}'
    config = parse_create(
        "t",
        {"DisplayName": "Alerts", "Policy": policy, "DeliveryPolicy": delivery, "Partitions": "8"},
    )
    attributes = config.attributes()
    assert attributes["DisplayName"] == "Alerts"
    assert attributes["Policy"] == policy
    assert attributes["DeliveryPolicy"] == delivery
    assert attributes["Partitions"] == "8"
    effective = json.loads(attributes["EffectiveDeliveryPolicy"])
    assert effective["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 5
    assert effective["http"]["defaultHealthyRetryPolicy"]["minDelayTarget"] == 20


@pytest.mark.parametrize(
    ("attributes", "fragments"),
    [
        ({"Colour": "red"}, ("Invalid parameter: Attributes", "Unknown attribute Colour")),
        ({"TopicArn": "x"}, ("Invalid parameter: Attributes", "TopicArn is read-only")),
        ({"KmsMasterKeyId": "k"}, ("Invalid parameter: Attributes", "KMS")),
        ({"ContentBasedDeduplication": "true"}, ("ContentBasedDeduplication", "FIFO topics")),
        ({"FifoTopic": "yes"}, ("Invalid parameter: FifoTopic", "true or false")),
        ({"DisplayName": "x" * 101}, ("Invalid parameter: DisplayName", "100")),
        ({"Policy": "[]"}, ("Invalid parameter: Policy", "JSON object")),
        ({"Policy": "{"}, ("Invalid parameter: Policy", "JSON object")),
        (
            {"Policy": '{"Statement": [{"Effect": "Allow", "Action": "sns:*"}]}'},
            ("Invalid parameter: Policy", "Principal or NotPrincipal"),
        ),
        ({"DeliveryPolicy": "nope"}, ("Invalid parameter: DeliveryPolicy", "JSON object")),
        (
            {"DeliveryPolicy": '{"healthyRetryPolicy": {"numRetries": 1}}'},
            ("Invalid parameter: DeliveryPolicy", '"http"'),
        ),
        (
            {"DeliveryPolicy": '{"http": {"defaultHealthyRetryPolicy": {"numRetries": 101}}}'},
            ("Invalid parameter: DeliveryPolicy", "numRetries"),
        ),
        ({"Partitions": "0"}, ("Invalid parameter: Partitions", "1 to 64")),
        ({"Partitions": "65"}, ("Invalid parameter: Partitions", "1 to 64")),
        ({"Partitions": "four"}, ("Invalid parameter: Partitions", "1 to 64")),
    ],
)
def test_invalid_topic_attributes(attributes: dict[str, str], fragments: tuple[str, ...]) -> None:
    with raises(InvalidParameter, *fragments):
        parse_create("t", attributes)


def test_partition_bounds() -> None:
    assert parse_create("t", {"Partitions": "1"}).partitions == 1
    assert parse_create("t", {"Partitions": "64"}).partitions == 64


def test_topic_updates() -> None:
    config = parse_create("t", {})
    assert config.with_update("DisplayName", "Ops").display_name == "Ops"
    with_policy = config.with_update("Policy", "{}")
    assert with_policy.policy == "{}"
    assert with_policy.with_update("Policy", "").policy is None
    delivery = '{"http": {"defaultHealthyRetryPolicy": {"numRetries": 0}}}'
    assert config.with_update("DeliveryPolicy", delivery).delivery_policy == delivery
    # Setting the partition count it already has is accepted.
    assert config.with_update("Partitions", "4") == config
    fifo = parse_create("t.fifo", {"FifoTopic": "true"})
    assert fifo.with_update("ContentBasedDeduplication", "true").content_based_deduplication


@pytest.mark.parametrize(
    ("name", "value", "fragments"),
    [
        (
            "FifoTopic",
            "true",
            ("Invalid parameter: AttributeName", "only when the topic is created"),
        ),
        ("Partitions", "8", ("Invalid parameter: Partitions", "cannot change")),
        ("Owner", "me", ("Invalid parameter: AttributeName", "read-only")),
        ("Colour", "red", ("Invalid parameter: AttributeName", "Unknown attribute Colour")),
        ("ContentBasedDeduplication", "true", ("ContentBasedDeduplication", "FIFO topics")),
        ("DisplayName", "x" * 101, ("Invalid parameter: DisplayName",)),
    ],
)
def test_invalid_topic_updates(name: str, value: str, fragments: tuple[str, ...]) -> None:
    with raises(InvalidParameter, *fragments):
        TopicConfig().with_update(name, value)


def test_topic_differs_from() -> None:
    base = parse_create("t", {"DisplayName": "a"})
    assert base.differs_from(parse_create("t", {"DisplayName": "a"})) is None
    assert base.differs_from(parse_create("t", {"DisplayName": "b"})) == "DisplayName"
    assert TopicConfig().differs_from(parse_create("t", {"Partitions": "2"})) == "Partitions"
    assert (
        base.differs_from(
            parse_create("t", {"DisplayName": "a", "Partitions": "2"}), ["DisplayName"]
        )
        is None
    )


def test_topic_spec_round_trip() -> None:
    config = parse_create(
        "t.fifo",
        {
            "FifoTopic": "true",
            "ContentBasedDeduplication": "true",
            "DisplayName": "d",
            "Policy": "{}",
            "DeliveryPolicy": '{"http": {}}',
            "FifoThroughputScope": "MessageGroup",
            "Partitions": "2",
        },
    )
    spec = json.loads(json.dumps(config.to_spec()))
    assert TopicConfig.from_spec(spec) == config
    assert TopicConfig.from_spec({}) == TopicConfig()
    assert TopicConfig.parse_create("t", {}) == parse_create("t", {})


# --- subscriptions: protocol and endpoint -------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    ["q", queue_arn("q"), "eventplane://queues/q"],
)
def test_sqs_endpoint_is_normalized_to_the_queue_name(endpoint: str) -> None:
    config = subscribe(endpoint=endpoint)
    assert config.endpoint == "q"
    assert config.attributes()["Endpoint"] == queue_arn("q")


@pytest.mark.parametrize(
    "endpoint",
    [
        "arn:aws:sqs:us-east-1:123456789012:q",
        "https://sqs.us-east-1.amazonaws.com/123456789012/q",
        "eventplane://queues/123456789012/q",
    ],
)
def test_an_sqs_endpoint_of_another_account_is_that_accounts_queue(endpoint: str) -> None:
    # Queue names are per account: the subscription keeps the queue's internal name and
    # shows its ARN in its account.
    config = subscribe(endpoint=endpoint)
    assert config.endpoint == "123456789012.q"
    assert config.attributes()["Endpoint"] == "arn:aws:sqs:local:123456789012:q"


def test_a_bare_sqs_endpoint_is_the_subscribers_accounts_queue() -> None:
    config = parse_subscribe("sqs", "q", {}, TopicConfig(), "111111111111")
    assert config.endpoint == "111111111111.q"
    assert config.attributes()["Endpoint"] == "arn:aws:sqs:local:111111111111:q"


@pytest.mark.parametrize("protocol", ["http", "https"])
def test_http_endpoints(protocol: str) -> None:
    url = f"{protocol}://user:pw@example.com:8080/path?x=1"
    config = subscribe(protocol=protocol, endpoint=url)
    assert config.endpoint == url
    assert config.attributes()["Endpoint"] == url
    assert config.attributes()["Protocol"] == protocol


@pytest.mark.parametrize(
    ("protocol", "endpoint", "fragments"),
    [
        ("function", "arn:aws:sqs:local:000000000000:q", ("Invalid parameter: Endpoint",)),
        ("lambda", "not a name!", ("Invalid parameter: Endpoint", "function ARN or name")),
        ("email", "a@b.c", ("Invalid parameter: Protocol", "does not support this protocol")),
        ("SQS", "q", ("Invalid parameter: Protocol", "'SQS'")),
        ("sqs", "", ("Invalid parameter: Endpoint",)),
        ("sqs", "bad name", ("Invalid parameter: Endpoint", "bad name")),
        ("sqs", "arn:aws:sns:local:000000000000:t", ("Invalid parameter: Endpoint",)),
        ("http", "https://example.com", ("Invalid parameter: Endpoint", "match the specified")),
        ("https", "http://example.com", ("Invalid parameter: Endpoint", "match the specified")),
        ("http", "example.com", ("Invalid parameter: Endpoint", "match the specified")),
        ("http", "http:///path", ("Invalid parameter: Endpoint", "no host")),
        ("http", "http://example.com:port/", ("Invalid parameter: Endpoint", "port")),
    ],
)
def test_invalid_protocols_and_endpoints(
    protocol: str, endpoint: str, fragments: tuple[str, ...]
) -> None:
    with raises(InvalidParameter, *fragments):
        subscribe(protocol=protocol, endpoint=endpoint)


def test_fifo_topics_deliver_only_to_fifo_queues() -> None:
    assert subscribe(endpoint="q.fifo", topic=FIFO).fifo
    # SNS's wording.
    with raises(InvalidParameter, "Invalid parameter: Endpoint Reason: Please use FIFO SQS queue"):
        subscribe(endpoint="q", topic=FIFO)
    with raises(InvalidParameter, "Invalid parameter: Endpoint Reason: Please use FIFO SQS queue"):
        subscribe(protocol="https", endpoint=URL, topic=FIFO)
    with raises(InvalidParameter, "Invalid parameter: Endpoint Reason: Please use FIFO SQS queue"):
        subscribe(protocol="http", endpoint="http://example.com/", topic=FIFO)
    with raises(
        InvalidParameter,
        "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard "
        "SNS topics",
    ):
        subscribe(endpoint="q.fifo", topic=STANDARD)


# --- subscriptions: attributes ------------------------------------------------------------


def test_subscription_defaults() -> None:
    config = subscribe()
    assert config == SubscriptionConfig(protocol="sqs", endpoint="q")
    assert config.matcher() is None
    assert config.attributes() == {
        "Protocol": "sqs",
        "Endpoint": queue_arn("q"),
        "RawMessageDelivery": "false",
        "ConfirmationWasAuthenticated": "true",
        "PendingConfirmation": "false",
    }


def test_all_subscription_attributes() -> None:
    delivery = '{"healthyRetryPolicy": {"numRetries": 5}}'
    config = subscribe(
        {
            "FilterPolicy": '{"store": ["a"]}',
            "FilterPolicyScope": "MessageAttributes",
            "RawMessageDelivery": "TRUE",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": queue_arn("dlq")}),
            "DeliveryPolicy": delivery,
        },
        protocol="https",
        endpoint=URL,
    )
    assert config.raw_message_delivery
    assert config.redrive_policy == "dlq"
    assert config.attributes() == {
        "Protocol": "https",
        "Endpoint": URL,
        "RawMessageDelivery": "true",
        "ConfirmationWasAuthenticated": "true",
        "PendingConfirmation": "false",
        "FilterPolicy": '{"store": ["a"]}',
        "FilterPolicyScope": "MessageAttributes",
        "RedrivePolicy": '{"deadLetterTargetArn":"arn:aws:sqs:local:000000000000:dlq"}',
        "DeliveryPolicy": delivery,
    }


def test_filter_policy_is_compiled_once_and_matches() -> None:
    config = subscribe({"FilterPolicy": '{"store": ["a"]}'})
    matcher = config.matcher()
    assert matcher is not None and matcher is config.matcher()
    assert matcher.matches_attributes({"store": {"DataType": "String", "StringValue": "a"}})
    assert not matcher.matches_attributes({"store": {"DataType": "String", "StringValue": "b"}})


def test_body_scope_allows_nested_policies_in_any_attribute_order() -> None:
    nested = '{"order": {"kind": ["big"]}}'
    # Scope given after the policy in the mapping: still compiled for MessageBody.
    config = subscribe({"FilterPolicy": nested, "FilterPolicyScope": "MessageBody"})
    matcher = config.matcher()
    assert matcher is not None and matcher.scope == "MessageBody"
    assert matcher.matches_body('{"order": {"kind": "big"}}')
    with raises(InvalidFilterPolicy, "Invalid parameter: FilterPolicy", "nested"):
        subscribe({"FilterPolicy": nested})


@pytest.mark.parametrize(
    ("attributes", "cls", "fragments"),
    [
        ({"FilterPolicy": "{"}, InvalidFilterPolicy, ("Invalid parameter: FilterPolicy",)),
        (
            {"FilterPolicy": '{"a": [1], "b": [1], "c": [1], "d": [1], "e": [1], "f": [1]}'},
            InvalidFilterPolicy,
            ("Invalid parameter: FilterPolicy", "5 keys"),
        ),
        (
            {"FilterPolicyScope": "Body"},
            InvalidParameter,
            ("Invalid parameter: FilterPolicyScope", "[Body]"),
        ),
        ({"RawMessageDelivery": "yes"}, InvalidParameter, ("RawMessageDelivery", "true or false")),
        ({"RedrivePolicy": "{"}, InvalidParameter, ("Invalid parameter: RedrivePolicy", "JSON")),
        (
            {"RedrivePolicy": '{"deadLetterTargetArn": "dlq"}'},
            InvalidParameter,
            ("Invalid parameter: RedrivePolicy", "SQS queue ARN"),
        ),
        (
            {"RedrivePolicy": '{"deadLetterTargetArn": "arn:aws:sns:local:000000000000:t"}'},
            InvalidParameter,
            ("Invalid parameter: RedrivePolicy", "SQS queue ARN"),
        ),
        (
            {"RedrivePolicy": json.dumps({"deadLetterTargetArn": queue_arn("bad name")})},
            InvalidParameter,
            ("Invalid parameter: RedrivePolicy", "invalid queue"),
        ),
        (
            {"RedrivePolicy": json.dumps({"deadLetterTargetArn": queue_arn("d"), "x": 1})},
            InvalidParameter,
            ("Invalid parameter: RedrivePolicy", "Unknown key 'x'"),
        ),
        (
            {"RedrivePolicy": json.dumps({"deadLetterTargetArn": queue_arn("d.fifo")})},
            InvalidParameter,
            ("Invalid parameter: RedrivePolicy", "standard queue"),
        ),
        (
            {"DeliveryPolicy": '{"healthyRetryPolicy": {}}'},
            InvalidParameter,
            ("Invalid parameter: DeliveryPolicy", "http and https"),
        ),
        ({"Colour": "red"}, InvalidParameter, ("Invalid parameter: Attributes", "Colour")),
        ({"Protocol": "http"}, InvalidParameter, ("Invalid parameter: Attributes", "read-only")),
    ],
)
def test_invalid_subscription_attributes(
    attributes: dict[str, str], cls: type[EventplaneError], fragments: tuple[str, ...]
) -> None:
    with raises(cls, *fragments):
        subscribe(attributes)


def test_fifo_subscription_needs_a_fifo_dead_letter_queue() -> None:
    fifo_dlq = json.dumps({"deadLetterTargetArn": queue_arn("dlq.fifo")})
    config = subscribe({"RedrivePolicy": fifo_dlq}, endpoint="q.fifo", topic=FIFO)
    assert config.redrive_policy == "dlq.fifo"
    with raises(InvalidParameter, "Invalid parameter: RedrivePolicy", "FIFO queue"):
        config.with_update("RedrivePolicy", json.dumps({"deadLetterTargetArn": queue_arn("d")}))


@pytest.mark.parametrize(
    ("policy", "fragment"),
    [
        ('{"http": {}}', 'no "http" key'),
        ('{"healthyRetryPolicy": {"minDelayTarget": 0}}', "minDelayTarget"),
        ('{"healthyRetryPolicy": {"maxDelayTarget": 3601}}', "maxDelayTarget"),
        ('{"healthyRetryPolicy": {"minDelayTarget": 30, "maxDelayTarget": 10}}', "must not exceed"),
        ('{"healthyRetryPolicy": {"numRetries": -1}}', "numRetries"),
        ('{"healthyRetryPolicy": {"numRetries": true}}', "numRetries"),
        ('{"healthyRetryPolicy": {"numRetries": 2, "numNoDelayRetries": 3}}', "must not exceed"),
        ('{"healthyRetryPolicy": {"backoffFunction": "cubic"}}', "backoffFunction"),
        ('{"healthyRetryPolicy": {"numRetries": 100, "minDelayTarget": 60}}', "3600"),
        ('{"throttlePolicy": {"maxReceivesPerSecond": 0}}', "maxReceivesPerSecond"),
        ('{"requestPolicy": {"headerContentType": "nonsense"}}', "headerContentType"),
        ('{"healthyRetryPolicy": []}', "healthyRetryPolicy"),
    ],
)
def test_invalid_subscription_delivery_policies(policy: str, fragment: str) -> None:
    with raises(InvalidParameter, "Invalid parameter: DeliveryPolicy", fragment):
        subscribe({"DeliveryPolicy": policy}, protocol="http", endpoint="http://example.com")


def test_subscription_updates() -> None:
    config = subscribe()
    with_policy = config.with_update("FilterPolicy", '{"a": ["b"]}')
    assert with_policy.matcher() is not None
    removed = with_policy.with_update("FilterPolicy", "")
    assert removed.filter_policy is None and removed.matcher() is None
    assert "FilterPolicy" not in removed.attributes()
    assert config.with_update("RawMessageDelivery", "true").raw_message_delivery
    dlq = config.with_update("RedrivePolicy", json.dumps({"deadLetterTargetArn": queue_arn("d")}))
    assert dlq.redrive_policy == "d"
    assert dlq.with_update("RedrivePolicy", "").redrive_policy is None
    body = config.with_update("FilterPolicyScope", "MessageBody")
    nested = body.with_update("FilterPolicy", '{"a": {"b": ["c"]}}')
    assert nested.matcher() is not None
    # Changing the scope recompiles the policy: a nested policy cannot go back.
    with raises(InvalidFilterPolicy, "Invalid parameter: FilterPolicy", "nested"):
        nested.with_update("FilterPolicyScope", "MessageAttributes")
    http = subscribe(protocol="http", endpoint="http://example.com")
    updated = http.with_update("DeliveryPolicy", '{"healthyRetryPolicy": {"numRetries": 1}}')
    assert updated.delivery_policy is not None
    assert updated.with_update("DeliveryPolicy", "").delivery_policy is None


@pytest.mark.parametrize(
    ("name", "value", "fragments"),
    [
        ("Endpoint", "x", ("Invalid parameter: AttributeName", "read-only")),
        ("Colour", "x", ("Invalid parameter: AttributeName", "Unknown attribute Colour")),
        ("FilterPolicyScope", "x", ("Invalid parameter: FilterPolicyScope",)),
        ("DeliveryPolicy", "{}", ("Invalid parameter: DeliveryPolicy", "http and https")),
    ],
)
def test_invalid_subscription_updates(name: str, value: str, fragments: tuple[str, ...]) -> None:
    with raises(InvalidParameter, *fragments):
        subscribe().with_update(name, value)


def test_filter_policy_scope_is_reported_only_with_a_policy() -> None:
    config = subscribe({"FilterPolicyScope": "MessageBody"})
    assert "FilterPolicyScope" not in config.attributes()
    assert config.filter_policy_scope == "MessageBody"


def test_subscription_spec_round_trip() -> None:
    config = subscribe(
        {
            "FilterPolicy": '{"a": {"b": ["c"]}}',
            "FilterPolicyScope": "MessageBody",
            "RawMessageDelivery": "true",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": queue_arn("d")}),
            "DeliveryPolicy": '{"healthyRetryPolicy": {"numRetries": 1}}',
        },
        protocol="http",
        endpoint="http://example.com/x",
    )
    back = SubscriptionConfig.from_spec(json.loads(json.dumps(config.to_spec())))
    assert back == config
    assert back.matcher() is not None
    assert SubscriptionConfig.parse_subscribe("sqs", "q", {}, STANDARD) == subscribe()


@pytest.mark.parametrize(
    ("protocol", "endpoint", "stored", "reported"),
    [
        ("lambda", "arn:aws:lambda:local:000000000000:function:f", "f", "function:f"),
        ("function", "f", "f", "function:f"),
        ("lambda", "arn:aws:lambda:us-east-1:123:function:f:live", "f:live", "function:f:live"),
    ],
)
def test_function_subscriptions_name_the_function(
    protocol: str, endpoint: str, stored: str, reported: str
) -> None:
    config = parse_subscribe(protocol, endpoint, {}, TopicConfig())
    assert (config.protocol, config.endpoint) == ("lambda", stored)
    assert config.endpoint_ref() == f"arn:aws:lambda:local:000000000000:{reported}"
