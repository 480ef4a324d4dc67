"""`eventplane queue tag|untag|tags` and `eventplane topic tag|untag|tags` against the
in-process fake services."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cli_harness import as_json, cli_runner, usage_error
from test_client_queues import FakeQueues
from test_client_queues import serve_fake as serve_queues
from test_client_topics import FakeTopics
from test_client_topics import serve_fake as serve_topics

from eventplane._gen.v1 import queues_pb2, topics_pb2
from eventplane.errors import InvalidParameterValue
from eventplane.errors.queues import QueueDoesNotExist
from eventplane.topics.errors import TaggedResourceNotFound, TagLimitExceeded

ARN = "arn:aws:sns:local:000000000000:orders"


@pytest.fixture
def queues() -> Iterator[tuple[FakeQueues, str]]:
    with serve_queues() as pair:
        yield pair


@pytest.fixture
def topics() -> Iterator[tuple[FakeTopics, str]]:
    with serve_topics() as pair:
        yield pair


@pytest.fixture
def queue(queues: tuple[FakeQueues, str], capsys: pytest.CaptureFixture[str]) -> Any:
    return cli_runner("queue", queues[1], capsys)


@pytest.fixture
def topic(topics: tuple[FakeTopics, str], capsys: pytest.CaptureFixture[str]) -> Any:
    return cli_runner("topic", topics[1], capsys)


# --- queues ----------------------------------------------------------------------------


def test_queue_tag_sends_every_pair(queues: tuple[FakeQueues, str], queue: Any) -> None:
    fake = queues[0]
    # A value may hold '=' and ':'; only the first '=' separates key from value.
    assert queue("tag", "orders", "team=shop", "url=http://x/?a=b") == (
        0,
        "tagged orders with team, url\n",
        "",
    )
    req = fake.only("TagQueue")
    assert (req.queue_url, dict(req.tags)) == ("orders", {"team": "shop", "url": "http://x/?a=b"})


def test_queue_tag_json(queues: tuple[FakeQueues, str], queue: Any) -> None:
    assert as_json(queue("tag", "orders", "env=", "--json")) == {
        "queue": "orders",
        "tags": {"env": ""},
    }
    assert dict(queues[0].only("TagQueue").tags) == {"env": ""}


def test_queue_untag(queues: tuple[FakeQueues, str], queue: Any) -> None:
    assert queue("untag", "eventplane://queues/orders", "team", "env") == (
        0,
        "removed team, env from eventplane://queues/orders\n",
        "",
    )
    req = queues[0].only("UntagQueue")
    assert (req.queue_url, list(req.tag_keys)) == ("eventplane://queues/orders", ["team", "env"])
    assert as_json(queue("untag", "orders", "team", "--json")) == {
        "queue": "orders",
        "removed": ["team"],
    }


def test_queue_tags_human_and_json(queues: tuple[FakeQueues, str], queue: Any) -> None:
    fake = queues[0]
    fake.responses["ListQueueTags"] = queues_pb2.ListQueueTagsResponse(
        tags={"team": "shop", "env": "dev"}
    )
    assert queue("tags", "orders") == (0, "env=dev\nteam=shop\n", "")
    assert as_json(queue("tags", "orders", "--json")) == {"team": "shop", "env": "dev"}
    assert [req.queue_url for _, req in fake.calls] == ["orders", "orders"]


def test_queue_tags_of_an_untagged_queue(queues: tuple[FakeQueues, str], queue: Any) -> None:
    assert queue("tags", "orders") == (0, "no tags\n", "")
    assert as_json(queue("tags", "orders", "--json")) == {}


def test_queue_tag_errors_exit_1_with_the_code(queues: tuple[FakeQueues, str], queue: Any) -> None:
    fake = queues[0]
    fake.errors["TagQueue"] = InvalidParameterValue(
        "Invalid tags: tag key 'aws:x': the aws: prefix is reserved for AWS use."
    )
    fake.errors["ListQueueTags"] = QueueDoesNotExist("The specified queue does not exist.")
    code, out, err = queue("tag", "orders", "aws:x=1")
    assert (code, out) == (1, "")
    assert err == (
        "eventplane: InvalidParameterValue: Invalid tags: tag key 'aws:x': "
        "the aws: prefix is reserved for AWS use.\n"
    )
    assert queue("tags", "gone", "--json") == (
        1,
        "",
        "eventplane: QueueDoesNotExist: The specified queue does not exist.\n",
    )


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("tag", "orders"), "the following arguments are required: KEY=VALUE"),
        (("tag", "orders", "team"), "expected KEY=VALUE, got 'team'"),
        (("tag", "orders", "=shop"), "expected KEY=VALUE, got '=shop'"),
        (("untag", "orders"), "the following arguments are required: KEY"),
        (("tags",), "the following arguments are required: queue"),
    ],
)
def test_queue_tag_usage_errors_call_nothing(
    queues: tuple[FakeQueues, str],
    queue: Any,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    complaint: str,
) -> None:
    assert complaint in usage_error(queue, capsys, *args)
    assert queues[0].calls == []


# --- topics ----------------------------------------------------------------------------


def test_topic_tag_untag_tags(topics: tuple[FakeTopics, str], topic: Any) -> None:
    fake = topics[0]
    fake.responses["ListTagsForResource"] = topics_pb2.ListTagsForResourceResponse(
        tags={"team": "shop"}
    )
    assert topic("tag", ARN, "team=shop", "env=dev") == (
        0,
        f"tagged {ARN} with env, team\n",
        "",
    )
    assert topic("untag", "orders", "env") == (0, "removed env from orders\n", "")
    assert topic("tags", ARN) == (0, "team=shop\n", "")
    assert [name for name, _ in fake.calls] == [
        "TagResource",
        "UntagResource",
        "ListTagsForResource",
    ]
    tag, untag, listed = (req for _, req in fake.calls)
    assert (tag.resource_arn, dict(tag.tags)) == (ARN, {"team": "shop", "env": "dev"})
    assert (untag.resource_arn, list(untag.tag_keys)) == ("orders", ["env"])
    assert listed.resource_arn == ARN


def test_topic_tags_json(topics: tuple[FakeTopics, str], topic: Any) -> None:
    assert as_json(topic("tag", "orders", "team=shop", "--json")) == {
        "topic": "orders",
        "tags": {"team": "shop"},
    }
    assert as_json(topic("untag", "orders", "team", "--json")) == {
        "topic": "orders",
        "removed": ["team"],
    }
    assert as_json(topic("tags", "orders", "--json")) == {}
    assert topic("tags", "orders") == (0, "no tags\n", "")


def test_topic_tag_errors_exit_1_with_the_sns_code(
    topics: tuple[FakeTopics, str], topic: Any
) -> None:
    fake = topics[0]
    fake.errors["TagResource"] = TagLimitExceeded(
        "Could not complete request: tag quota of per resource exceeded"
    )
    fake.errors["UntagResource"] = TaggedResourceNotFound("Resource does not exist")
    code, out, err = topic("tag", "orders", "k=v", "--json")
    assert (code, out) == (1, "")
    assert err.startswith("eventplane: TagLimitExceeded: Could not complete request")
    assert topic("untag", "gone", "k") == (
        1,
        "",
        "eventplane: ResourceNotFound: Resource does not exist\n",
    )


def test_topic_tag_needs_a_pair(
    topics: tuple[FakeTopics, str], topic: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "expected KEY=VALUE" in usage_error(topic, capsys, "tag", "orders", "team")
    assert topics[0].calls == []


def test_help_lists_the_tag_actions(capsys: pytest.CaptureFixture[str]) -> None:
    from eventplane.cli import main

    for command in ("queue", "topic"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = capsys.readouterr().out
        for action in ("tag", "untag", "tags"):
            assert f"\n    {action} " in out, (command, action, out)
