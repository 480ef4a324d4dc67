"""Queue tags over gRPC (the SDK) and the CLI, end to end: a real broker and server process.

The gateway's boto3 tag calls are covered in tests/integration/gateway/; these go
through the gRPC front door onto the same core, so the limits and codes must match.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable

import pytest

from eventplane.client import Client
from eventplane.errors import InvalidParameterValue, MissingParameter
from eventplane.errors.queues import QueueDoesNotExist
from eventplane.testing import EventplaneProcess

pytestmark = pytest.mark.integration

MakeQueue = Callable[..., str]


def test_tags_are_added_overwritten_removed_and_listed(
    client: Client, make_queue: MakeQueue
) -> None:
    url = make_queue()
    assert client.queues.list_queue_tags(url) == {}
    client.queues.tag_queue(url, {"team": "a", "env": "dev"})
    client.queues.tag_queue(url, {"team": "b", "Team": "c"})  # keys are case-sensitive
    assert client.queues.list_queue_tags(url) == {"team": "b", "Team": "c", "env": "dev"}
    client.queues.untag_queue(url, ["team", "not-there"])
    assert client.queues.list_queue_tags(url) == {"Team": "c", "env": "dev"}
    # A queue is named by its URL or its name alike.
    name = url.rsplit("/", 1)[-1]
    assert client.queues.list_queue_tags(name) == {"Team": "c", "env": "dev"}
    # Tags leave the attributes alone, and attributes leave the tags alone.
    client.queues.set_queue_attributes(url, {"VisibilityTimeout": 41})
    assert client.queues.list_queue_tags(url) == {"Team": "c", "env": "dev"}
    assert client.queues.get_queue_attributes(url, ["VisibilityTimeout"]) == {
        "VisibilityTimeout": "41"
    }


def test_create_queue_tags_are_listed(client: Client, make_queue: MakeQueue) -> None:
    url = make_queue()
    name = url.rsplit("/", 1)[-1] + "-tagged"
    tagged = client.queues.create_queue(name, tags={"team": "shop"})
    try:
        assert client.queues.list_queue_tags(tagged) == {"team": "shop"}
    finally:
        client.queues.delete_queue(tagged)


def test_the_fifty_tag_limit_counts_the_tags_the_queue_has(
    client: Client, make_queue: MakeQueue
) -> None:
    url = make_queue()
    with pytest.raises(InvalidParameterValue) as too_many:
        client.queues.tag_queue(url, {f"k{i}": "v" for i in range(51)})
    assert too_many.value.code == "InvalidParameterValue"
    assert "at most 50 tags per resource, this request would make 51" in too_many.value.message

    client.queues.tag_queue(url, {f"k{i}": "v" for i in range(50)})  # exactly 50 is fine
    client.queues.tag_queue(url, {"k0": "overwritten"})  # overwriting adds nothing
    with pytest.raises(InvalidParameterValue, match="this request would make 51"):
        client.queues.tag_queue(url, {"one-more": "v"})
    tags = client.queues.list_queue_tags(url)
    assert len(tags) == 50
    assert tags["k0"] == "overwritten"
    assert "one-more" not in tags


@pytest.mark.parametrize(
    ("tags", "complaint"),
    [
        ({"aws:owner": "x"}, "tag key 'aws:owner': the aws: prefix is reserved for AWS use"),
        ({"AWS:owner": "x"}, "the aws: prefix is reserved"),
        ({"k" * 129: "x"}, "a key is 1 to 128 characters long"),
        ({"": "x"}, "a key is 1 to 128 characters long"),
        ({"k": "v" * 257}, "tag value of 'k': a value is at most 256 characters long"),
    ],
)
def test_bad_tags_are_refused_naming_the_problem(
    client: Client, make_queue: MakeQueue, tags: dict[str, str], complaint: str
) -> None:
    url = make_queue()
    client.queues.tag_queue(url, {"kept": "yes"})
    with pytest.raises(InvalidParameterValue) as info:
        client.queues.tag_queue(url, tags)
    assert info.value.code == "InvalidParameterValue"
    assert complaint in info.value.message
    assert client.queues.list_queue_tags(url) == {"kept": "yes"}  # nothing half-applied


def test_the_longest_key_and_value_are_accepted(client: Client, make_queue: MakeQueue) -> None:
    url = make_queue()
    client.queues.tag_queue(url, {"k" * 128: "v" * 256})
    assert client.queues.list_queue_tags(url) == {"k" * 128: "v" * 256}


def test_nothing_to_tag_or_untag_is_a_missing_parameter(
    client: Client, make_queue: MakeQueue
) -> None:
    url = make_queue()
    with pytest.raises(MissingParameter, match="parameter Tags"):
        client.queues.tag_queue(url, {})
    with pytest.raises(MissingParameter, match="parameter TagKeys"):
        client.queues.untag_queue(url, [])


def test_a_missing_queue_is_queue_does_not_exist(client: Client, make_queue: MakeQueue) -> None:
    gone = make_queue() + "-gone"
    calls: list[Callable[[], object]] = [
        lambda: client.queues.tag_queue(gone, {"k": "v"}),
        lambda: client.queues.untag_queue(gone, ["k"]),
        lambda: client.queues.list_queue_tags(gone),
    ]
    for call in calls:
        with pytest.raises(QueueDoesNotExist) as info:
            call()
        assert info.value.code == "QueueDoesNotExist"
        assert info.value.message == "The specified queue does not exist."


# --- the CLI, as a user runs it ---------------------------------------------------------


def _cli(server: EventplaneProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTPLANE_")}
    env["EVENTPLANE_ENDPOINT"] = server.endpoint
    return subprocess.run(
        [sys.executable, "-m", "eventplane.cli", "queue", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_tag_untag_tags(
    eventplane_server: EventplaneProcess, client: Client, make_queue: MakeQueue
) -> None:
    url = make_queue()
    name = url.rsplit("/", 1)[-1]
    tagged = _cli(eventplane_server, "tag", name, "team=shop", "env=dev")
    assert (tagged.returncode, tagged.stdout) == (0, f"tagged {name} with env, team\n")
    assert client.queues.list_queue_tags(url) == {"team": "shop", "env": "dev"}

    untagged = _cli(eventplane_server, "untag", url, "env")
    assert untagged.returncode == 0, untagged.stderr
    listed = _cli(eventplane_server, "tags", name, "--json")
    assert (listed.returncode, json.loads(listed.stdout)) == (0, {"team": "shop"})
    assert _cli(eventplane_server, "tags", name).stdout == "team=shop\n"

    refused = _cli(eventplane_server, "tag", name, "aws:x=1")
    assert refused.returncode == 1
    assert refused.stderr.startswith("eventplane: InvalidParameterValue: Invalid tags: ")
    assert "aws: prefix is reserved" in refused.stderr
    missing = _cli(eventplane_server, "tags", name + "-gone")
    assert (missing.returncode, missing.stderr) == (
        1,
        "eventplane: QueueDoesNotExist: The specified queue does not exist.\n",
    )
