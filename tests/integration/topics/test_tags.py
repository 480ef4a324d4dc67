"""Topic tags over gRPC (the SDK) and the CLI, end to end: a real broker and server process.

The gateway's boto3 tag calls are covered in tests/integration/gateway/test_sns.py; these
go through the gRPC front door onto the same core, so SNS's limits and codes must match.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator

import pytest

from eventplane.client import Client
from eventplane.errors import EventplaneError, NotFoundError
from eventplane.testing import EventplaneProcess
from eventplane.topics.errors import InvalidParameter, TagLimitExceeded

pytestmark = pytest.mark.integration


@pytest.fixture
def client(eventplane_server: EventplaneProcess) -> Iterator[Client]:
    with eventplane_server.client() as c:
        yield c


@pytest.fixture
def topic(client: Client) -> Iterator[str]:
    """A fresh topic's ARN; deleted afterwards."""
    arn = client.topics.create_topic(f"tags-{uuid.uuid4().hex[:12]}")
    yield arn
    with contextlib.suppress(EventplaneError):
        client.topics.delete_topic(arn)


def test_tags_are_added_overwritten_removed_and_listed(client: Client, topic: str) -> None:
    assert client.topics.list_tags_for_resource(topic) == {}
    client.topics.tag_resource(topic, {"team": "a", "env": "dev"})
    client.topics.tag_resource(topic, {"team": "b", "Team": "c"})  # keys are case-sensitive
    assert client.topics.list_tags_for_resource(topic) == {"team": "b", "Team": "c", "env": "dev"}
    client.topics.untag_resource(topic, ["team", "not-there"])
    assert client.topics.list_tags_for_resource(topic) == {"Team": "c", "env": "dev"}
    # A topic is named by its ARN or its bare name alike.
    name = topic.rsplit(":", 1)[-1]
    client.topics.tag_resource(name, {"by": "name"})
    assert client.topics.list_tags_for_resource(name) == {"Team": "c", "env": "dev", "by": "name"}
    # Attributes leave the tags alone.
    client.topics.set_topic_attributes(topic, "DisplayName", "shop")
    assert client.topics.list_tags_for_resource(topic) == {"Team": "c", "env": "dev", "by": "name"}


def test_create_topic_tags_are_listed(client: Client, topic: str) -> None:
    tagged = client.topics.create_topic(topic.rsplit(":", 1)[-1] + "-tagged", tags={"t": "1"})
    try:
        assert client.topics.list_tags_for_resource(tagged) == {"t": "1"}
    finally:
        client.topics.delete_topic(tagged)


def test_more_than_fifty_tags_is_tag_limit_exceeded(client: Client, topic: str) -> None:
    with pytest.raises(TagLimitExceeded) as too_many:
        client.topics.tag_resource(topic, {f"k{i}": "v" for i in range(51)})
    assert too_many.value.code == "TagLimitExceeded"
    assert "at most 50 tags per resource, this request would make 51" in too_many.value.message

    client.topics.tag_resource(topic, {f"k{i}": "v" for i in range(50)})
    with pytest.raises(TagLimitExceeded, match="this request would make 51"):
        client.topics.tag_resource(topic, {"one-more": "v"})
    assert len(client.topics.list_tags_for_resource(topic)) == 50


@pytest.mark.parametrize(
    ("tags", "complaint"),
    [
        ({"aws:owner": "x"}, "tag key 'aws:owner': the aws: prefix is reserved for AWS use"),
        ({"k" * 129: "x"}, "a key is 1 to 128 characters long"),
        ({"k": "v" * 257}, "tag value of 'k': a value is at most 256 characters long"),
    ],
)
def test_bad_tags_are_invalid_parameter_naming_the_problem(
    client: Client, topic: str, tags: dict[str, str], complaint: str
) -> None:
    with pytest.raises(InvalidParameter) as info:
        client.topics.tag_resource(topic, tags)
    assert info.value.code == "InvalidParameter"
    assert info.value.message.startswith("Invalid parameter: Tags Reason: ")
    assert complaint in info.value.message
    assert client.topics.list_tags_for_resource(topic) == {}


def test_nothing_to_tag_or_untag_is_invalid_parameter(client: Client, topic: str) -> None:
    with pytest.raises(InvalidParameter, match="Invalid parameter: Tags"):
        client.topics.tag_resource(topic, {})
    with pytest.raises(InvalidParameter, match="Invalid parameter: TagKeys"):
        client.topics.untag_resource(topic, [])


def test_a_missing_topic_is_resource_not_found(client: Client, topic: str) -> None:
    gone = topic + "-gone"
    calls: list[Callable[[], object]] = [
        lambda: client.topics.tag_resource(gone, {"k": "v"}),
        lambda: client.topics.untag_resource(gone, ["k"]),
        lambda: client.topics.list_tags_for_resource(gone),
    ]
    for call in calls:
        with pytest.raises(NotFoundError) as info:
            call()
        assert (info.value.code, info.value.message) == (
            "ResourceNotFound",
            "Resource does not exist",
        )


# --- the CLI, as a user runs it ---------------------------------------------------------


def _cli(server: EventplaneProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTPLANE_")}
    env["EVENTPLANE_ENDPOINT"] = server.endpoint
    return subprocess.run(
        [sys.executable, "-m", "eventplane.cli", "topic", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_tag_untag_tags(
    eventplane_server: EventplaneProcess, client: Client, topic: str
) -> None:
    name = topic.rsplit(":", 1)[-1]
    tagged = _cli(eventplane_server, "tag", name, "team=shop", "env=dev")
    assert (tagged.returncode, tagged.stdout) == (0, f"tagged {name} with env, team\n")
    assert client.topics.list_tags_for_resource(topic) == {"team": "shop", "env": "dev"}

    untagged = _cli(eventplane_server, "untag", topic, "env")
    assert untagged.returncode == 0, untagged.stderr
    listed = _cli(eventplane_server, "tags", topic, "--json")
    assert (listed.returncode, json.loads(listed.stdout)) == (0, {"team": "shop"})

    too_many = _cli(eventplane_server, "tag", name, *(f"k{i}=v" for i in range(50)))
    assert too_many.returncode == 1
    assert too_many.stderr.startswith("eventplane: TagLimitExceeded: ")
    missing = _cli(eventplane_server, "tags", topic + "-gone")
    assert (missing.returncode, missing.stderr) == (
        1,
        "eventplane: ResourceNotFound: Resource does not exist\n",
    )
