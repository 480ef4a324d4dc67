"""`eventplane topic ...` against the in-process fake Topics server."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from cli_harness import cli_runner, usage_error
from test_client_topics import ARN, SUB_ARN, FakeTopics, pb_subscription, serve_fake

from eventplane._gen.v1 import topics_pb2 as pb
from eventplane.cli import main
from eventplane.topics.errors import InvalidFilterPolicy


@pytest.fixture
def served() -> Iterator[tuple[FakeTopics, str]]:
    with serve_fake() as pair:
        yield pair


@pytest.fixture
def fake(served: tuple[FakeTopics, str]) -> FakeTopics:
    return served[0]


@pytest.fixture
def run(served: tuple[FakeTopics, str], capsys: pytest.CaptureFixture[str]) -> Any:
    """Run `eventplane topic <args> --endpoint <fake>`; returns (exit code, stdout, stderr)."""

    return cli_runner("topic", served[1], capsys)


# --- topics ----------------------------------------------------------------------------


def test_create_with_attributes_and_fifo(fake: FakeTopics, run: Any) -> None:
    fake.responses["CreateTopic"] = pb.CreateTopicResponse(topic_arn=ARN + ".fifo")
    code, out, _ = run(
        "create", "orders.fifo", "--attribute", "DisplayName=Orders", "--fifo", "--json"
    )
    assert code == 0
    assert json.loads(out) == {"topic_arn": ARN + ".fifo"}
    req = fake.only("CreateTopic")
    assert req.name == "orders.fifo"
    assert dict(req.attributes) == {"DisplayName": "Orders", "FifoTopic": "true"}


def test_create_prints_the_arn(fake: FakeTopics, run: Any) -> None:
    fake.responses["CreateTopic"] = pb.CreateTopicResponse(topic_arn=ARN)
    assert run("create", "orders") == (0, ARN + "\n", "")
    assert dict(fake.only("CreateTopic").attributes) == {}


def test_list(fake: FakeTopics, run: Any) -> None:
    pages = {
        "": pb.ListTopicsResponse(topic_arns=["a"], next_token="t"),
        "t": pb.ListTopicsResponse(topic_arns=["b"]),
    }
    fake.responses["ListTopics"] = lambda req: pages[req.next_token]
    code, out, _ = run("list", "--json")
    assert (code, json.loads(out)) == (0, {"topic_arns": ["a", "b"]})
    assert run("list")[:2] == (0, "a\nb\n")


def test_delete(fake: FakeTopics, run: Any) -> None:
    assert run("delete", "orders") == (0, "deleted topic orders\n", "")
    assert fake.only("DeleteTopic").topic_arn == "orders"
    code, out, _ = run("delete", ARN, "--json")
    assert (code, json.loads(out)) == (0, {"deleted": ARN})


def test_attributes_get_and_set(fake: FakeTopics, run: Any) -> None:
    fake.responses["GetTopicAttributes"] = pb.GetTopicAttributesResponse(
        attributes={"TopicArn": ARN, "DisplayName": "Orders"}
    )
    code, out, _ = run("attributes", "get", "orders", "--json")
    assert (code, json.loads(out)) == (0, {"TopicArn": ARN, "DisplayName": "Orders"})
    assert run("attributes", "get", "orders")[1] == f"DisplayName: Orders\nTopicArn: {ARN}\n"
    code, out, _ = run(
        "attributes", "set", "orders", "DisplayName=Shop", "ContentBasedDeduplication=true"
    )
    assert (code, out) == (0, "updated ContentBasedDeduplication, DisplayName on orders\n")
    sets = [(r.topic_arn, r.attribute_name, r.attribute_value) for _, r in fake.calls[2:]]
    assert sets == [
        ("orders", "DisplayName", "Shop"),
        ("orders", "ContentBasedDeduplication", "true"),
    ]


# --- subscriptions ---------------------------------------------------------------------


def test_subscribe_with_filter_policy_and_raw(fake: FakeTopics, run: Any) -> None:
    fake.responses["Subscribe"] = pb.SubscribeResponse(subscription_arn=SUB_ARN)
    policy = {"region": ["eu-west-1"], "price": [{"numeric": [">=", 10]}]}
    code, out, _ = run(
        "subscribe", "orders",
        "--protocol", "sqs",
        "--notification-endpoint", "orders-eu",
        "--filter-policy", json.dumps(policy),
        "--filter-policy-scope", "MessageBody",
        "--raw",
        "--json",
    )  # fmt: skip
    assert (code, json.loads(out)) == (0, {"subscription_arn": SUB_ARN})
    req = fake.only("Subscribe")
    assert (req.topic_arn, req.protocol, req.endpoint) == ("orders", "sqs", "orders-eu")
    attrs = dict(req.attributes)
    assert json.loads(attrs.pop("FilterPolicy")) == policy
    assert attrs == {"FilterPolicyScope": "MessageBody", "RawMessageDelivery": "true"}


def test_subscribe_plain_prints_the_arn(fake: FakeTopics, run: Any) -> None:
    fake.responses["Subscribe"] = pb.SubscribeResponse(subscription_arn=SUB_ARN)
    code, out, _ = run(
        "subscribe", "orders", "--protocol", "https", "--notification-endpoint", "https://x/hook"
    )
    assert (code, out) == (0, SUB_ARN + "\n")
    req = fake.only("Subscribe")
    assert (req.protocol, req.endpoint, dict(req.attributes)) == ("https", "https://x/hook", {})


@pytest.mark.parametrize(
    ("extra", "complaint"),
    [
        (["--protocol", "sqs", "--notification-endpoint", "q", "--filter-policy", "{"], "JSON"),
        (["--protocol", "sqs", "--notification-endpoint", "q", "--filter-policy", "[1]"], "object"),
        (["--protocol", "lambda", "--notification-endpoint", "q"], "--protocol"),
        (["--notification-endpoint", "q"], "--protocol"),
        (["--protocol", "sqs"], "--notification-endpoint"),
    ],
)
def test_subscribe_usage_errors(
    fake: FakeTopics,
    run: Any,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    complaint: str,
) -> None:
    assert complaint in usage_error(run, capsys, "subscribe", "orders", *extra)
    assert fake.calls == []


def test_unsubscribe(fake: FakeTopics, run: Any) -> None:
    code, out, _ = run("unsubscribe", SUB_ARN, "--json")
    assert (code, json.loads(out)) == (0, {"unsubscribed": SUB_ARN})
    assert fake.only("Unsubscribe").subscription_arn == SUB_ARN
    assert run("unsubscribe", SUB_ARN)[1] == f"unsubscribed {SUB_ARN}\n"


def test_subscriptions_of_every_topic(fake: FakeTopics, run: Any) -> None:
    fake.responses["ListSubscriptions"] = pb.ListSubscriptionsResponse(
        subscriptions=[pb_subscription(1), pb_subscription(2)]
    )
    code, out, _ = run("subscriptions", "--json")
    assert code == 0
    assert json.loads(out) == {
        "subscriptions": [
            {
                "subscription_arn": f"{ARN}:s{n}",
                "owner": "000000000000",
                "protocol": "sqs",
                "endpoint": f"q{n}",
                "topic_arn": ARN,
            }
            for n in (1, 2)
        ]
    }
    assert run("subscriptions")[1] == f"{ARN}:s1  sqs q1\n{ARN}:s2  sqs q2\n"
    assert [rpc for rpc, _ in fake.calls] == ["ListSubscriptions", "ListSubscriptions"]


def test_subscriptions_of_one_topic(fake: FakeTopics, run: Any) -> None:
    fake.responses["ListSubscriptionsByTopic"] = pb.ListSubscriptionsResponse(
        subscriptions=[pb_subscription(1)]
    )
    assert run("subscriptions", "--topic", "orders") == (0, f"{ARN}:s1  sqs q1\n", "")
    assert fake.only("ListSubscriptionsByTopic").topic_arn == "orders"


# --- publish ---------------------------------------------------------------------------


def test_publish_with_typed_attributes(fake: FakeTopics, run: Any) -> None:
    fake.responses["Publish"] = pb.PublishResponse(message_id="m-1", sequence_number="9")
    blob = base64.b64encode(b"\x00\xff").decode()
    code, out, _ = run(
        "publish", "orders.fifo", "--message", "hello", "--subject", "greeting",
        "--group-id", "g", "--dedup-id", "d",
        "--attribute", "plain=red",
        "--attribute", "count=Number:3",
        "--attribute", 'regions=String.Array:["eu","us"]',
        "--attribute", "blob=Binary:" + blob,
        "--json",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out) == {"message_id": "m-1", "sequence_number": "9"}
    req = fake.only("Publish")
    assert (req.topic_arn, req.message, req.subject) == ("orders.fifo", "hello", "greeting")
    assert (req.message_group_id, req.message_deduplication_id) == ("g", "d")
    attrs = {
        k: (v.data_type, v.string_value, v.binary_value) for k, v in req.message_attributes.items()
    }
    assert attrs == {
        "plain": ("String", "red", b""),
        "count": ("Number", "3", b""),
        "regions": ("String.Array", '["eu","us"]', b""),
        "blob": ("Binary", "", b"\x00\xff"),
    }


def test_publish_reads_the_message_from_stdin(
    fake: FakeTopics, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.responses["Publish"] = pb.PublishResponse(message_id="m-1")
    monkeypatch.setattr("sys.stdin", io.StringIO('{"order": 1}\n'))
    assert run("publish", "orders") == (0, "published m-1\n", "")
    req = fake.only("Publish")
    assert req.message == '{"order": 1}\n'
    assert (req.subject, req.message_group_id, len(req.message_attributes)) == ("", "", 0)


def test_publish_human_output_names_the_sequence(fake: FakeTopics, run: Any) -> None:
    fake.responses["Publish"] = pb.PublishResponse(message_id="m-1", sequence_number="42")
    out = run("publish", "orders.fifo", "--message", "x", "--group-id", "g")[1]
    assert out == "published m-1 (sequence 42)\n"


def test_publish_rejects_a_bad_attribute_as_usage_error(
    fake: FakeTopics, run: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    err = usage_error(run, capsys, "publish", "orders", "--message", "x", "--attribute", "novalue")
    assert "--attribute" in err
    assert fake.calls == []


# --- errors and plumbing ---------------------------------------------------------------


def test_error_exits_1_with_one_line(fake: FakeTopics, run: Any) -> None:
    fake.errors["Subscribe"] = InvalidFilterPolicy("FilterPolicy: too complex")
    code, out, err = run(
        "subscribe", "orders", "--protocol", "sqs", "--notification-endpoint", "q", "--json"
    )
    assert (code, out) == (1, "")
    assert err == "eventplane: InvalidParameter: FilterPolicy: too complex\n"


def test_endpoint_from_the_environment(
    served: tuple[FakeTopics, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake, target = served
    monkeypatch.setenv("EVENTPLANE_ENDPOINT", target)
    fake.responses["ListTopics"] = pb.ListTopicsResponse(topic_arns=[ARN])
    assert main(["topic", "list"]) == 0
    assert capsys.readouterr().out == ARN + "\n"


def test_topic_needs_an_action(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["topic"])
    assert info.value.code == 2
    assert "ACTION" in capsys.readouterr().err
