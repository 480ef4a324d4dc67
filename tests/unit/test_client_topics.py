"""The Topics SDK against an in-process gRPC server that records what it is sent."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fake_grpc import FakeService, run_async, serve, snake

from eventplane._gen.v1 import queues_pb2, topics_pb2_grpc
from eventplane._gen.v1 import topics_pb2 as pb
from eventplane.client import (
    AsyncClient,
    BatchResultError,
    Client,
    MessageAttribute,
    PublishBatchEntry,
    PublishBatchResult,
    PublishBatchResultEntry,
    PublishResult,
    Subscription,
)
from eventplane.client.topics import AsyncTopicsClient, TopicsClient
from eventplane.errors import (
    EventplaneError,
    InvalidParameterValue,
    InvalidRequestError,
    ResourceNotFound,
)
from eventplane.topics.errors import InvalidFilterPolicy

SERVICE = pb.DESCRIPTOR.services_by_name["Topics"]
RPCS = [m.name for m in SERVICE.methods]
ARN = "arn:aws:sns:local:000000000000:orders"
SUB_ARN = ARN + ":3f1c"


class FakeTopics(FakeService, topics_pb2_grpc.TopicsServicer):
    def __init__(self) -> None:
        super().__init__(pb, "Topics")


@contextmanager
def serve_fake() -> Iterator[tuple[FakeTopics, str]]:
    """A real gRPC server on a free local port, serving a FakeTopics."""
    fake = FakeTopics()
    with serve(fake, topics_pb2_grpc.add_TopicsServicer_to_server) as target:
        yield fake, target


@pytest.fixture
def served() -> Iterator[tuple[FakeTopics, str]]:
    with serve_fake() as pair:
        yield pair


@pytest.fixture
def fake(served: tuple[FakeTopics, str]) -> FakeTopics:
    return served[0]


@pytest.fixture
def ep(served: tuple[FakeTopics, str]) -> Iterator[Client]:
    with Client(served[1], timeout=5) as client:
        yield client


def pb_subscription(n: int) -> pb.Subscription:
    return pb.Subscription(
        subscription_arn=f"{ARN}:s{n}",
        owner="000000000000",
        protocol="sqs",
        endpoint=f"q{n}",
        topic_arn=ARN,
    )


def subscription(n: int) -> Subscription:
    return Subscription(f"{ARN}:s{n}", "000000000000", "sqs", f"q{n}", ARN)


# --- surface ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [TopicsClient, AsyncTopicsClient])
def test_one_method_per_rpc(cls: type) -> None:
    missing = [snake(rpc) for rpc in RPCS if not callable(getattr(cls, snake(rpc), None))]
    assert missing == []


def test_clients_expose_topics(served: tuple[FakeTopics, str]) -> None:
    with Client(served[1]) as client:
        assert isinstance(client.topics, TopicsClient)

    async def check(client: AsyncClient) -> None:
        assert isinstance(client.topics, AsyncTopicsClient)

    run_async(served[1], check)


# --- topics ----------------------------------------------------------------------------


def test_create_topic_sends_attributes_as_sns_strings(fake: FakeTopics, ep: Client) -> None:
    fake.responses["CreateTopic"] = pb.CreateTopicResponse(topic_arn=ARN + ".fifo")
    policy = {"healthyRetryPolicy": {"numRetries": 3}}
    arn = ep.topics.create_topic(
        "orders.fifo",
        {
            "FifoTopic": True,
            "ContentBasedDeduplication": False,
            "DisplayName": "Orders",
            "SignatureVersion": 2,
            "DeliveryPolicy": policy,
        },
        tags={"team": "shop"},
    )
    assert arn == ARN + ".fifo"
    req = fake.only("CreateTopic")
    assert req.name == "orders.fifo"
    attrs = dict(req.attributes)
    assert json.loads(attrs.pop("DeliveryPolicy")) == policy
    assert attrs == {
        "FifoTopic": "true",
        "ContentBasedDeduplication": "false",
        "DisplayName": "Orders",
        "SignatureVersion": "2",
    }
    assert dict(req.tags) == {"team": "shop"}


def test_create_topic_defaults(fake: FakeTopics, ep: Client) -> None:
    ep.topics.create_topic("orders")
    req = fake.only("CreateTopic")
    assert (req.name, dict(req.attributes), dict(req.tags)) == ("orders", {}, {})


def test_list_topics_follows_every_page(fake: FakeTopics, ep: Client) -> None:
    pages = {
        "": pb.ListTopicsResponse(topic_arns=[ARN + "-a", ARN + "-b"], next_token="t1"),
        "t1": pb.ListTopicsResponse(topic_arns=[ARN + "-c"], next_token="t2"),
        "t2": pb.ListTopicsResponse(),
    }
    fake.responses["ListTopics"] = lambda req: pages[req.next_token]
    assert ep.topics.list_topics() == [ARN + "-a", ARN + "-b", ARN + "-c"]
    assert [req.next_token for _, req in fake.calls] == ["", "t1", "t2"]


def test_list_topics_stops_when_the_token_repeats(fake: FakeTopics, ep: Client) -> None:
    fake.responses["ListTopics"] = lambda req: pb.ListTopicsResponse(
        topic_arns=[ARN], next_token="same"
    )
    assert ep.topics.list_topics() == [ARN, ARN]
    assert [req.next_token for _, req in fake.calls] == ["", "same"]


def test_get_topic_attributes(fake: FakeTopics, ep: Client) -> None:
    fake.responses["GetTopicAttributes"] = pb.GetTopicAttributesResponse(
        attributes={"TopicArn": ARN, "SubscriptionsConfirmed": "2"}
    )
    assert ep.topics.get_topic_attributes("orders") == {
        "TopicArn": ARN,
        "SubscriptionsConfirmed": "2",
    }
    assert fake.only("GetTopicAttributes").topic_arn == "orders"


@pytest.mark.parametrize(
    ("call", "rpc", "fields"),
    [
        (lambda c: c.delete_topic(ARN), "DeleteTopic", {"topic_arn": ARN}),
        (
            lambda c: c.set_topic_attributes(ARN, "DisplayName", "Orders"),
            "SetTopicAttributes",
            {"topic_arn": ARN, "attribute_name": "DisplayName", "attribute_value": "Orders"},
        ),
        (
            lambda c: c.set_topic_attributes(ARN, "ContentBasedDeduplication", True),
            "SetTopicAttributes",
            {"attribute_name": "ContentBasedDeduplication", "attribute_value": "true"},
        ),
        (lambda c: c.unsubscribe(SUB_ARN), "Unsubscribe", {"subscription_arn": SUB_ARN}),
        (
            lambda c: c.set_subscription_attributes(SUB_ARN, "FilterPolicy", '{"kind": ["order"]}'),
            "SetSubscriptionAttributes",
            {
                "subscription_arn": SUB_ARN,
                "attribute_name": "FilterPolicy",
                "attribute_value": '{"kind": ["order"]}',
            },
        ),
        (
            lambda c: c.set_subscription_attributes(SUB_ARN, "RawMessageDelivery", False),
            "SetSubscriptionAttributes",
            {"attribute_name": "RawMessageDelivery", "attribute_value": "false"},
        ),
    ],
)
def test_calls_without_a_result(
    fake: FakeTopics, ep: Client, call: Callable[[TopicsClient], Any], rpc: str, fields: dict
) -> None:
    assert call(ep.topics) is None
    req = fake.only(rpc)
    for name, value in fields.items():
        assert getattr(req, name) == value


# --- subscriptions ---------------------------------------------------------------------


def test_subscribe_sends_a_dict_filter_policy_as_json(fake: FakeTopics, ep: Client) -> None:
    fake.responses["Subscribe"] = pb.SubscribeResponse(subscription_arn=SUB_ARN)
    policy = {"region": ["eu-west-1", "eu-central-1"], "price": [{"numeric": [">", 10]}]}
    arn = ep.topics.subscribe(
        ARN,
        "sqs",
        "orders-eu",
        attributes={
            "FilterPolicy": policy,
            "FilterPolicyScope": "MessageAttributes",
            "RawMessageDelivery": True,
        },
    )
    assert arn == SUB_ARN
    req = fake.only("Subscribe")
    assert (req.topic_arn, req.protocol, req.endpoint) == (ARN, "sqs", "orders-eu")
    attrs = dict(req.attributes)
    assert json.loads(attrs.pop("FilterPolicy")) == policy
    assert attrs == {"FilterPolicyScope": "MessageAttributes", "RawMessageDelivery": "true"}


def test_subscribe_passes_a_filter_policy_text_unchanged(fake: FakeTopics, ep: Client) -> None:
    text = '{"kind":   ["order"]}'  # the server sees exactly what the caller wrote
    ep.topics.subscribe(ARN, "https", "https://example.com/hook", attributes={"FilterPolicy": text})
    req = fake.only("Subscribe")
    assert (req.protocol, req.endpoint) == ("https", "https://example.com/hook")
    assert dict(req.attributes) == {"FilterPolicy": text}


def test_subscribe_without_attributes(fake: FakeTopics, ep: Client) -> None:
    assert ep.topics.subscribe(ARN, "sqs", "orders") == ""
    assert dict(fake.only("Subscribe").attributes) == {}


def test_set_subscription_attributes_sends_a_dict_as_json(fake: FakeTopics, ep: Client) -> None:
    policy = {"kind": [{"prefix": "order."}], "$or": [{"a": ["1"]}, {"b": ["2"]}]}
    ep.topics.set_subscription_attributes(SUB_ARN, "FilterPolicy", policy)
    req = fake.only("SetSubscriptionAttributes")
    assert req.attribute_name == "FilterPolicy"
    assert json.loads(req.attribute_value) == policy


def test_list_subscriptions_follows_every_page(fake: FakeTopics, ep: Client) -> None:
    pages = {
        "": pb.ListSubscriptionsResponse(
            subscriptions=[pb_subscription(1), pb_subscription(2)], next_token="t1"
        ),
        "t1": pb.ListSubscriptionsResponse(subscriptions=[pb_subscription(3)]),
    }
    fake.responses["ListSubscriptions"] = lambda req: pages[req.next_token]
    assert ep.topics.list_subscriptions() == [subscription(1), subscription(2), subscription(3)]
    assert [req.next_token for _, req in fake.calls] == ["", "t1"]


def test_list_subscriptions_by_topic_names_the_topic_on_every_page(
    fake: FakeTopics, ep: Client
) -> None:
    pages = {
        "": pb.ListSubscriptionsResponse(subscriptions=[pb_subscription(1)], next_token="t1"),
        "t1": pb.ListSubscriptionsResponse(subscriptions=[pb_subscription(2)]),
    }
    fake.responses["ListSubscriptionsByTopic"] = lambda req: pages[req.next_token]
    assert ep.topics.list_subscriptions_by_topic("orders") == [subscription(1), subscription(2)]
    assert [(r.topic_arn, r.next_token) for _, r in fake.calls] == [
        ("orders", ""),
        ("orders", "t1"),
    ]


def test_get_subscription_attributes(fake: FakeTopics, ep: Client) -> None:
    fake.responses["GetSubscriptionAttributes"] = pb.GetSubscriptionAttributesResponse(
        attributes={"Protocol": "sqs", "RawMessageDelivery": "true"}
    )
    assert ep.topics.get_subscription_attributes(SUB_ARN) == {
        "Protocol": "sqs",
        "RawMessageDelivery": "true",
    }
    assert fake.only("GetSubscriptionAttributes").subscription_arn == SUB_ARN


# --- publish ---------------------------------------------------------------------------


def test_publish_minimal_leaves_optionals_unset(fake: FakeTopics, ep: Client) -> None:
    fake.responses["Publish"] = pb.PublishResponse(message_id="m-1")
    assert ep.topics.publish(ARN, "hello") == PublishResult("m-1", None)
    req = fake.only("Publish")
    assert (req.topic_arn, req.message) == (ARN, "hello")
    assert (req.subject, req.message_structure) == ("", "")
    assert (req.message_group_id, req.message_deduplication_id) == ("", "")
    assert len(req.message_attributes) == 0


def test_publish_all_arguments(fake: FakeTopics, ep: Client) -> None:
    fake.responses["Publish"] = pb.PublishResponse(message_id="m-1", sequence_number="000007")
    message = json.dumps({"default": "hi", "sqs": "hi, queue"})
    result = ep.topics.publish(
        ARN + ".fifo",
        message,
        subject="greeting",
        message_attributes={
            "kind": MessageAttribute("String", string_value="greeting"),
            "regions": {"DataType": "String.Array", "StringValue": '["eu", "us"]'},
            "count": {"DataType": "Number", "StringValue": "3"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
        message_structure="json",
        message_group_id="g1",
        message_deduplication_id="d1",
    )
    assert result == PublishResult("m-1", "000007")
    req = fake.only("Publish")
    assert (req.message, req.subject, req.message_structure) == (message, "greeting", "json")
    assert (req.message_group_id, req.message_deduplication_id) == ("g1", "d1")
    attrs = {
        k: (v.data_type, v.string_value, v.binary_value) for k, v in req.message_attributes.items()
    }
    assert attrs == {
        "kind": ("String", "greeting", b""),
        "regions": ("String.Array", '["eu", "us"]', b""),
        "count": ("Number", "3", b""),
        "blob": ("Binary", "", b"\x00\x01"),
    }
    assert isinstance(req.message_attributes["kind"], queues_pb2.MessageAttributeValue)


@pytest.mark.parametrize(
    ("attribute", "complaint"),
    [
        ({"StringValue": "x"}, "DataType is missing"),
        ({"DataType": "String", "Value": "x"}, "unknown key(s) Value"),
        ("x", "expected a MessageAttribute"),
    ],
)
def test_publish_rejects_malformed_attributes_before_calling(
    fake: FakeTopics, ep: Client, attribute: Any, complaint: str
) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        ep.topics.publish(ARN, "x", message_attributes={"a": attribute})
    assert complaint in info.value.message
    assert fake.calls == []


def test_publish_batch_maps_entries_and_results(fake: FakeTopics, ep: Client) -> None:
    fake.responses["PublishBatch"] = pb.PublishBatchResponse(
        successful=[
            pb.PublishBatchResultEntry(id="1", message_id="m-1"),
            pb.PublishBatchResultEntry(id="3", message_id="m-3", sequence_number="9"),
        ],
        failed=[
            queues_pb2.BatchResultErrorEntry(
                id="2", sender_fault=True, code="InvalidParameter", message="too long"
            )
        ],
    )
    result = ep.topics.publish_batch(
        ARN,
        [
            {"id": "1", "message": "x", "subject": "s"},
            PublishBatchEntry(
                "2",
                "y",
                message_attributes={"k": {"DataType": "String", "StringValue": "v"}},
                message_structure="json",
            ),
            {"id": "3", "message": "z", "message_group_id": "g", "message_deduplication_id": "d"},
        ],
    )
    assert result == PublishBatchResult(
        [PublishBatchResultEntry("1", "m-1", None), PublishBatchResultEntry("3", "m-3", "9")],
        [BatchResultError("2", True, "InvalidParameter", "too long")],
    )
    req = fake.only("PublishBatch")
    assert req.topic_arn == ARN
    first, second, third = req.entries
    assert (first.id, first.message, first.subject, first.message_structure) == ("1", "x", "s", "")
    assert (second.id, second.message, second.message_structure) == ("2", "y", "json")
    assert second.message_attributes["k"].string_value == "v"
    assert (third.message_group_id, third.message_deduplication_id) == ("g", "d")
    assert len(first.message_attributes) == 0


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ({"id": "1", "body": "x"}, "batch entry 0: unknown key(s) body"),
        ({"id": "1"}, "batch entry 0: missing message"),
        (("1", "x"), "expected a PublishBatchEntry or a dict, got tuple"),
        ({"id": "1", "message": "x", "message_attributes": {"a": "x"}}, "'a'"),
    ],
)
def test_publish_batch_rejects_malformed_entries_before_calling(
    fake: FakeTopics, ep: Client, entry: Any, complaint: str
) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        ep.topics.publish_batch(ARN, [entry])
    assert complaint in info.value.message
    assert fake.calls == []


# --- errors ----------------------------------------------------------------------------


def test_filter_policy_error_arrives_with_code_and_message(fake: FakeTopics, ep: Client) -> None:
    message = "Invalid parameter: FilterPolicy: Filter policy is too complex"
    fake.errors["Subscribe"] = InvalidFilterPolicy(message)
    with pytest.raises(InvalidRequestError) as info:
        ep.topics.subscribe(ARN, "sqs", "q", attributes={"FilterPolicy": {"a": ["1"]}})
    assert (info.value.code, info.value.message) == ("InvalidParameter", message)


def test_sns_not_found_code_arrives(fake: FakeTopics, ep: Client) -> None:
    fake.errors["GetTopicAttributes"] = EventplaneError.from_code(
        "NotFound", "Topic does not exist"
    )
    with pytest.raises(EventplaneError) as info:
        ep.topics.get_topic_attributes("nope")
    assert (info.value.code, info.value.message) == ("NotFound", "Topic does not exist")


def test_typed_error_on_a_call_without_a_result(fake: FakeTopics, ep: Client) -> None:
    fake.errors["DeleteTopic"] = ResourceNotFound("topic 'nope' does not exist")
    with pytest.raises(ResourceNotFound, match="'nope'"):
        ep.topics.delete_topic("nope")


def test_error_while_paging_reaches_the_caller(fake: FakeTopics, ep: Client) -> None:
    def first_page(req: pb.ListTopicsRequest) -> pb.ListTopicsResponse:
        fake.errors["ListTopics"] = ResourceNotFound("gone")  # for the second page
        return pb.ListTopicsResponse(topic_arns=[ARN], next_token="t1")

    fake.responses["ListTopics"] = first_page
    with pytest.raises(ResourceNotFound, match="gone"):
        ep.topics.list_topics()
    assert [req.next_token for _, req in fake.calls] == ["", "t1"]


# --- async -----------------------------------------------------------------------------


def test_async_create_subscribe_publish(served: tuple[FakeTopics, str]) -> None:
    fake, target = served
    fake.responses["CreateTopic"] = pb.CreateTopicResponse(topic_arn=ARN)
    fake.responses["Subscribe"] = pb.SubscribeResponse(subscription_arn=SUB_ARN)
    fake.responses["Publish"] = pb.PublishResponse(message_id="m-1", sequence_number="7")

    async def use(client: AsyncClient) -> tuple[str, str, PublishResult]:
        arn = await client.topics.create_topic("orders", {"FifoTopic": True})
        sub = await client.topics.subscribe(
            arn, "sqs", "q", attributes={"FilterPolicy": {"k": ["v"]}}
        )
        sent = await client.topics.publish(
            arn,
            "hi",
            subject="s",
            message_attributes={"k": {"DataType": "String", "StringValue": "v"}},
            message_group_id="g",
        )
        return arn, sub, sent

    assert run_async(target, use) == (ARN, SUB_ARN, PublishResult("m-1", "7"))
    (_, create), (_, subscribe), (_, publish) = fake.calls
    assert dict(create.attributes) == {"FifoTopic": "true"}
    assert json.loads(subscribe.attributes["FilterPolicy"]) == {"k": ["v"]}
    assert (publish.topic_arn, publish.subject, publish.message_group_id) == (ARN, "s", "g")
    assert publish.message_attributes["k"].string_value == "v"


def test_async_listing_follows_pages(served: tuple[FakeTopics, str]) -> None:
    fake, target = served
    topic_pages = {
        "": pb.ListTopicsResponse(topic_arns=["a"], next_token="t"),
        "t": pb.ListTopicsResponse(topic_arns=["b"]),
    }
    sub_pages = {
        "": pb.ListSubscriptionsResponse(subscriptions=[pb_subscription(1)], next_token="t"),
        "t": pb.ListSubscriptionsResponse(subscriptions=[pb_subscription(2)]),
    }
    fake.responses["ListTopics"] = lambda req: topic_pages[req.next_token]
    fake.responses["ListSubscriptions"] = lambda req: sub_pages[req.next_token]
    fake.responses["ListSubscriptionsByTopic"] = lambda req: sub_pages[req.next_token]

    async def use(client: AsyncClient) -> tuple[Any, ...]:
        return (
            await client.topics.list_topics(),
            await client.topics.list_subscriptions(),
            await client.topics.list_subscriptions_by_topic("orders"),
        )

    topics, subs, by_topic = run_async(target, use)
    assert topics == ["a", "b"]
    assert subs == by_topic == [subscription(1), subscription(2)]
    assert [r.topic_arn for rpc, r in fake.calls if rpc == "ListSubscriptionsByTopic"] == [
        "orders",
        "orders",
    ]


def test_async_attributes_and_batch(served: tuple[FakeTopics, str]) -> None:
    fake, target = served
    fake.responses["GetSubscriptionAttributes"] = pb.GetSubscriptionAttributesResponse(
        attributes={"RawMessageDelivery": "true"}
    )
    fake.responses["PublishBatch"] = pb.PublishBatchResponse(
        successful=[pb.PublishBatchResultEntry(id="1", message_id="m-1")]
    )

    async def use(client: AsyncClient) -> tuple[Any, ...]:
        await client.topics.set_subscription_attributes(SUB_ARN, "FilterPolicy", {"k": ["v"]})
        attrs = await client.topics.get_subscription_attributes(SUB_ARN)
        batch = await client.topics.publish_batch(ARN, [{"id": "1", "message": "x"}])
        return attrs, batch

    attrs, batch = run_async(target, use)
    assert attrs == {"RawMessageDelivery": "true"}
    assert batch == PublishBatchResult([PublishBatchResultEntry("1", "m-1", None)], [])
    assert json.loads(fake.calls[0][1].attribute_value) == {"k": ["v"]}


def test_async_typed_error(served: tuple[FakeTopics, str]) -> None:
    fake, target = served
    fake.errors["Unsubscribe"] = ResourceNotFound("subscription does not exist")

    async def use(client: AsyncClient) -> None:
        await client.topics.unsubscribe(SUB_ARN)

    with pytest.raises(ResourceNotFound) as info:
        run_async(target, use)
    assert info.value.message == "subscription does not exist"
