"""Queue and topic tags in the SDK, sync and async, against the recording fake services."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_grpc import run_async
from test_client_queues import FakeQueues
from test_client_queues import serve_fake as serve_queues
from test_client_topics import FakeTopics
from test_client_topics import serve_fake as serve_topics

from eventplane._gen.v1 import queues_pb2, topics_pb2
from eventplane.client import AsyncClient, Client
from eventplane.errors import InvalidParameterValue, NotFoundError
from eventplane.errors.queues import QueueDoesNotExist
from eventplane.topics.errors import TaggedResourceNotFound, TagLimitExceeded

URL = "eventplane://queues/orders"
ARN = "arn:aws:sns:local:000000000000:orders"


@pytest.fixture
def queues() -> Iterator[tuple[FakeQueues, str]]:
    with serve_queues() as pair:
        yield pair


@pytest.fixture
def topics() -> Iterator[tuple[FakeTopics, str]]:
    with serve_topics() as pair:
        yield pair


# --- queues ----------------------------------------------------------------------------


def test_tag_queue_sends_the_tags(queues: tuple[FakeQueues, str]) -> None:
    fake, target = queues
    with Client(target, timeout=5) as ep:
        assert ep.queues.tag_queue(URL, {"team": "shop", "Team": "ops"}) is None
    req = fake.only("TagQueue")
    assert (req.queue_url, dict(req.tags)) == (URL, {"team": "shop", "Team": "ops"})


def test_untag_queue_sends_the_keys_in_order(queues: tuple[FakeQueues, str]) -> None:
    fake, target = queues
    with Client(target, timeout=5) as ep:
        assert ep.queues.untag_queue(URL, ["team", "env"]) is None
    req = fake.only("UntagQueue")
    assert (req.queue_url, list(req.tag_keys)) == (URL, ["team", "env"])


def test_list_queue_tags_returns_a_dict(queues: tuple[FakeQueues, str]) -> None:
    fake, target = queues
    fake.responses["ListQueueTags"] = queues_pb2.ListQueueTagsResponse(
        tags={"team": "shop", "env": "dev"}
    )
    with Client(target, timeout=5) as ep:
        tags = ep.queues.list_queue_tags("orders")
    assert tags == {"team": "shop", "env": "dev"}
    assert type(tags) is dict
    assert fake.only("ListQueueTags").queue_url == "orders"


def test_list_queue_tags_of_an_untagged_queue_is_empty(queues: tuple[FakeQueues, str]) -> None:
    _, target = queues
    with Client(target, timeout=5) as ep:
        assert ep.queues.list_queue_tags(URL) == {}


def test_queue_tag_errors_arrive_typed(queues: tuple[FakeQueues, str]) -> None:
    fake, target = queues
    fake.errors["TagQueue"] = InvalidParameterValue(
        "Invalid tags: at most 50 tags per resource, this request would make 51."
    )
    fake.errors["ListQueueTags"] = QueueDoesNotExist("The specified queue does not exist.")
    with Client(target, timeout=5) as ep:
        with pytest.raises(InvalidParameterValue, match="at most 50 tags") as info:
            ep.queues.tag_queue(URL, {f"k{i}": "v" for i in range(51)})
        assert info.value.code == "InvalidParameterValue"
        with pytest.raises(QueueDoesNotExist) as missing:
            ep.queues.list_queue_tags(URL + "-gone")
        assert missing.value.code == "QueueDoesNotExist"


def test_async_queue_tags(queues: tuple[FakeQueues, str]) -> None:
    fake, target = queues
    fake.responses["ListQueueTags"] = queues_pb2.ListQueueTagsResponse(tags={"team": "shop"})

    async def use(client: AsyncClient) -> dict[str, str]:
        await client.queues.tag_queue(URL, {"team": "shop"})
        await client.queues.untag_queue(URL, ["env"])
        return await client.queues.list_queue_tags(URL)

    assert run_async(target, use) == {"team": "shop"}
    assert [name for name, _ in fake.calls] == ["TagQueue", "UntagQueue", "ListQueueTags"]
    assert dict(fake.calls[0][1].tags) == {"team": "shop"}
    assert list(fake.calls[1][1].tag_keys) == ["env"]


# --- topics ----------------------------------------------------------------------------


def test_tag_resource_sends_the_tags(topics: tuple[FakeTopics, str]) -> None:
    fake, target = topics
    with Client(target, timeout=5) as ep:
        assert ep.topics.tag_resource(ARN, {"team": "shop", "env": "dev"}) is None
    req = fake.only("TagResource")
    assert (req.resource_arn, dict(req.tags)) == (ARN, {"team": "shop", "env": "dev"})


def test_untag_resource_sends_the_keys(topics: tuple[FakeTopics, str]) -> None:
    fake, target = topics
    with Client(target, timeout=5) as ep:
        assert ep.topics.untag_resource("orders", ("team",)) is None
    req = fake.only("UntagResource")
    assert (req.resource_arn, list(req.tag_keys)) == ("orders", ["team"])


def test_list_tags_for_resource_returns_a_dict(topics: tuple[FakeTopics, str]) -> None:
    fake, target = topics
    fake.responses["ListTagsForResource"] = topics_pb2.ListTagsForResourceResponse(
        tags={"team": "shop"}
    )
    with Client(target, timeout=5) as ep:
        assert ep.topics.list_tags_for_resource(ARN) == {"team": "shop"}
    assert fake.only("ListTagsForResource").resource_arn == ARN


def test_topic_tag_errors_arrive_with_sns_codes(topics: tuple[FakeTopics, str]) -> None:
    fake, target = topics
    fake.errors["TagResource"] = TagLimitExceeded(
        "Could not complete request: tag quota of per resource exceeded"
    )
    fake.errors["ListTagsForResource"] = TaggedResourceNotFound("Resource does not exist")
    with Client(target, timeout=5) as ep:
        with pytest.raises(TagLimitExceeded, match="tag quota") as limit:
            ep.topics.tag_resource(ARN, {f"k{i}": "v" for i in range(51)})
        assert limit.value.code == "TagLimitExceeded"
        with pytest.raises(NotFoundError, match="Resource does not exist") as missing:
            ep.topics.list_tags_for_resource(ARN + "-gone")
        assert missing.value.code == "ResourceNotFound"


def test_async_topic_tags(topics: tuple[FakeTopics, str]) -> None:
    fake, target = topics
    fake.responses["ListTagsForResource"] = topics_pb2.ListTagsForResourceResponse(
        tags={"env": "dev"}
    )

    async def use(client: AsyncClient) -> dict[str, str]:
        await client.topics.tag_resource(ARN, {"env": "dev", "team": "shop"})
        await client.topics.untag_resource(ARN, ["team"])
        return await client.topics.list_tags_for_resource(ARN)

    assert run_async(target, use) == {"env": "dev"}
    assert [name for name, _ in fake.calls] == [
        "TagResource",
        "UntagResource",
        "ListTagsForResource",
    ]


def test_one_string_of_keys_is_refused_before_any_call(
    queues: tuple[FakeQueues, str], topics: tuple[FakeTopics, str]
) -> None:
    # list("team") would remove the keys t, e, a and m.
    (qfake, qtarget), (tfake, ttarget) = queues, topics
    with Client(qtarget, timeout=5) as ep, pytest.raises(TypeError, match="tag_keys"):
        ep.queues.untag_queue(URL, "team")
    with Client(ttarget, timeout=5) as ep, pytest.raises(TypeError, match="tag_keys"):
        ep.topics.untag_resource(ARN, "team")
    assert not qfake.calls and not tfake.calls
