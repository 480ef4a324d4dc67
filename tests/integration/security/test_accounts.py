"""Accounts on a real server: a resource belongs to its creator's account; a principal of
another account neither lists nor uses it until the resource's policy grants that
account, and an explicit Deny still wins. On the gRPC door (tokens) and through boto3
(access keys of two accounts) alike."""

from __future__ import annotations

import base64
import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from confluent_kafka.admin import AdminClient

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.security import sha256_hex
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

pytestmark = pytest.mark.integration

A, B = "111111111111", "222222222222"
ALICE_TOKEN = "ep-accounts-alice-0123456789abcdef"  # account A, no policies
BOB_TOKEN = "ep-accounts-bob-0123456789abcdef"  # account B, no policies
CAROL_TOKEN = "ep-accounts-carol-0123456789abcdef"  # account B, may only publish
KEY_A = ("AKIDACCOUNTSA0000001", "accounts-a-secret")
KEY_B = ("AKIDACCOUNTSB0000001", "accounts-b-secret")
CAROL_POLICY = {"Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}]}


@pytest.fixture(scope="module")
def server(
    eventplane_kafka: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EventplaneProcess]:
    tokens = tmp_path_factory.mktemp("accounts") / "tokens.yaml"
    tokens.write_text(
        json.dumps(
            {
                "tokens": [
                    {"principal": "alice", "account": A, "sha256": sha256_hex(ALICE_TOKEN)},
                    {"principal": "bob", "account": B, "sha256": sha256_hex(BOB_TOKEN)},
                    {
                        "principal": "carol",
                        "account": B,
                        "sha256": sha256_hex(CAROL_TOKEN),
                        "policies": [CAROL_POLICY],
                    },
                ]
            }
        )
    )
    keys = f"{KEY_A[0]}:{KEY_A[1]}:{A}:alice,{KEY_B[0]}:{KEY_B[1]}:{B}:bob"
    proc = EventplaneProcess(
        eventplane_kafka,
        roles="api,queues,fanout,bus,tables,runner",
        cluster=unique_cluster(),
        env={"EVENTPLANE_AUTH_TOKENS_FILE": str(tokens), "EVENTPLANE_GATEWAY_CREDENTIALS": keys},
    )
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def alice(server: EventplaneProcess) -> Iterator[Client]:
    with Client(server.endpoint, token=ALICE_TOKEN, timeout=15) as ep:
        yield ep


@pytest.fixture(scope="module")
def bob(server: EventplaneProcess) -> Iterator[Client]:
    with Client(server.endpoint, token=BOB_TOKEN, timeout=15) as ep:
        yield ep


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def _refused(call: Any, code: str = "AccessDeniedException") -> EventplaneError:
    with pytest.raises(EventplaneError) as info:
        call()
    assert info.value.code == code, info.value
    return info.value


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_another_accounts_queue_is_hidden_until_its_policy_grants_it(
    alice: Client, bob: Client
) -> None:
    tag = _tag()
    url = alice.queues.create_queue(f"orders-{tag}")
    arn = alice.queues.get_queue_attributes(url, ["QueueArn"])["QueueArn"]
    assert arn == f"arn:aws:sqs:local:{A}:orders-{tag}"
    bobs = bob.queues.create_queue(f"bobs-{tag}")

    assert url in alice.queues.list_queues(f"orders-{tag}")
    assert bob.queues.list_queues(f"orders-{tag}") == []
    assert bobs not in alice.queues.list_queues(f"bobs-{tag}")
    assert bobs in bob.queues.list_queues(f"bobs-{tag}")

    # Granted nothing, B is told there is no such queue: nothing of A's shows, not even
    # that the name is taken or whose it is.
    missing = "QueueDoesNotExist"
    refused = _refused(lambda: bob.queues.get_queue_attributes(url, ["All"]), missing)
    assert refused.message == "The specified queue does not exist."
    _refused(lambda: bob.queues.send_message(url, "from b"), missing)
    _refused(lambda: bob.queues.get_queue_url(f"orders-{tag}"), missing)
    _refused(lambda: bob.queues.receive_message(url), missing)
    _refused(lambda: bob.queues.delete_queue(url), missing)

    grant = {"Effect": "Allow", "Principal": {"AWS": B}, "Action": "sqs:SendMessage"}
    alice.queues.set_queue_attributes(url, {"Policy": _policy(grant)})
    bob.queues.send_message(url, "from b")
    got = alice.queues.receive_message(url, wait_time_seconds=5)
    assert [m.body for m in got] == ["from b"]
    refused = _refused(lambda: bob.queues.purge_queue(url))  # only SendMessage was granted
    assert refused.message == (
        f"User: bob is not authorized to perform: sqs:PurgeQueue on resource: {arn} "
        "because no resource-based policy allows the sqs:PurgeQueue action"
    )
    assert bob.queues.list_queues(f"orders-{tag}") == []  # a grant does not list it

    deny = {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{B}:user/bob"}, "Action": "*"}
    alice.queues.set_queue_attributes(url, {"Policy": _policy(grant, deny)})
    denied = _refused(lambda: bob.queues.send_message(url, "again"))
    assert denied.message.endswith("with an explicit deny in a resource-based policy")


def test_a_dead_letter_queue_is_of_the_sources_account(alice: Client, bob: Client) -> None:
    tag = _tag()
    url = alice.queues.create_queue(f"taken-{tag}")
    # As on SQS.
    arn = alice.queues.get_queue_attributes(url, ["QueueArn"])["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 3})
    refused = _refused(
        lambda: bob.queues.create_queue(f"src-{tag}", {"RedrivePolicy": redrive}),
        "InvalidAttributeValue",
    )
    assert "owner should be same as the source" in refused.message


def test_the_same_queue_name_in_two_accounts(
    server: EventplaneProcess, alice: Client, bob: Client
) -> None:
    """Each account has its own ``orders``: created, listed, read and written apart."""
    tag = _tag()
    name = f"orders-{tag}"
    url_a = alice.queues.create_queue(name)
    url_b = bob.queues.create_queue(name)
    assert (url_a, url_b) == (f"eventplane://queues/{A}/{name}", f"eventplane://queues/{B}/{name}")
    # Each on Kafka topics of its own, named after the account (eventplane.names).
    admin = AdminClient({"bootstrap.servers": server.bootstrap})
    topics = set(admin.list_topics(timeout=10).topics)
    prefix = f"eventplane-{server.cluster}.q."
    assert {f"{prefix}{A}.{name}", f"{prefix}{B}.{name}"} <= topics
    assert alice.queues.create_queue(name) == url_a  # idempotent for its owner
    assert (alice.queues.get_queue_url(name), bob.queues.get_queue_url(name)) == (url_a, url_b)
    assert alice.queues.list_queues(name) == [url_a]
    assert bob.queues.list_queues(name) == [url_b]
    arn_a = alice.queues.get_queue_attributes(name, ["QueueArn"])["QueueArn"]
    arn_b = bob.queues.get_queue_attributes(name, ["QueueArn"])["QueueArn"]
    assert (arn_a, arn_b) == (f"arn:aws:sqs:local:{A}:{name}", f"arn:aws:sqs:local:{B}:{name}")

    # Data does not cross: by bare name each account writes and reads its own queue.
    alice.queues.send_message(name, "for a")
    bob.queues.send_message(name, "for b")
    got_a = alice.queues.receive_message(name, max_number_of_messages=10, wait_time_seconds=5)
    got_b = bob.queues.receive_message(name, max_number_of_messages=10, wait_time_seconds=5)
    assert [m.body for m in got_a] == ["for a"]
    assert [m.body for m in got_b] == ["for b"]
    assert alice.queues.receive_message(name, wait_time_seconds=1) == []

    # A's queue by URL or ARN is still A's: hidden from B until A's policy grants it.
    _refused(lambda: bob.queues.send_message(url_a, "x"), "QueueDoesNotExist")
    _refused(lambda: bob.queues.send_message(arn_a, "x"), "QueueDoesNotExist")
    grant = {"Effect": "Allow", "Principal": {"AWS": B}, "Action": "sqs:SendMessage"}
    alice.queues.set_queue_attributes(name, {"Policy": _policy(grant)})
    bob.queues.send_message(arn_a, "b into a")
    got_a = alice.queues.receive_message(name, wait_time_seconds=5)
    assert [m.body for m in got_a] == ["b into a"]
    assert bob.queues.receive_message(name, wait_time_seconds=1) == []
    _refused(lambda: bob.queues.receive_message(url_a))  # only SendMessage was granted

    # Deleting B's leaves A's.
    bob.queues.delete_queue(name)
    _refused(lambda: bob.queues.get_queue_url(name), "QueueDoesNotExist")
    assert alice.queues.get_queue_url(name) == url_a


def test_the_same_topic_name_in_two_accounts(alice: Client, bob: Client) -> None:
    """Each account has its own ``alerts``, its subscriptions and its messages."""
    tag = _tag()
    name = f"alerts-{tag}"
    topic_a, topic_b = alice.topics.create_topic(name), bob.topics.create_topic(name)
    assert (topic_a, topic_b) == (f"arn:aws:sns:local:{A}:{name}", f"arn:aws:sns:local:{B}:{name}")
    assert alice.topics.create_topic(name) == topic_a  # idempotent for its owner
    assert topic_a in alice.topics.list_topics() and topic_b not in alice.topics.list_topics()
    assert topic_b in bob.topics.list_topics() and topic_a not in bob.topics.list_topics()
    assert bob.topics.get_topic_attributes(name)["TopicArn"] == topic_b  # a bare name: B's

    urls = {}
    for ep, topic, account in ((alice, topic_a, A), (bob, topic_b, B)):
        url = ep.queues.create_queue(name)
        queue_arn = ep.queues.get_queue_attributes(url, ["QueueArn"])["QueueArn"]
        subscription = ep.topics.subscribe(name, "sqs", queue_arn)
        assert subscription.startswith(f"arn:aws:sns:local:{account}:{name}:")
        assert [s.subscription_arn for s in ep.topics.list_subscriptions_by_topic(topic)] == [
            subscription
        ]
        assert ep.topics.get_subscription_attributes(subscription)["TopicArn"] == topic
        urls[account] = url

    alice.topics.publish(name, "to a")
    bob.topics.publish(topic_b, "to b")
    for ep, account, topic, expected in ((alice, A, topic_a, "to a"), (bob, B, topic_b, "to b")):
        got: list[Any] = []

        def delivered(ep: Client = ep, url: str = urls[account], got: list[Any] = got) -> bool:
            got.extend(
                ep.queues.receive_message(url, max_number_of_messages=10, wait_time_seconds=1)
            )
            return bool(got)

        eventually(delivered, timeout=30)
        notes = [json.loads(m.body) for m in got]
        assert [(n["TopicArn"], n["Message"]) for n in notes] == [(topic, expected)]

    # A's topic by ARN is still A's: hidden from B until A's policy grants it.
    _refused(lambda: bob.topics.publish(topic_a, "x"), "NotFound")
    bob.topics.delete_topic(name)
    assert topic_b not in bob.topics.list_topics()
    assert alice.topics.get_topic_attributes(name)["TopicArn"] == topic_a


def test_fan_out_and_dead_letters_stay_in_their_account(alice: Client, bob: Client) -> None:
    """A topic's subscription and a redrive policy name queues that both accounts hold:
    each delivery reaches the queue of the account its ARN names."""
    tag = _tag()
    inbox, dlq = f"inbox-{tag}", f"dlq-{tag}"
    for ep in (alice, bob):
        ep.queues.create_queue(dlq)
    dlq_b = bob.queues.get_queue_attributes(dlq, ["QueueArn"])["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_b, "maxReceiveCount": 1})
    bob.queues.create_queue(inbox, {"RedrivePolicy": redrive, "VisibilityTimeout": "0"})
    alice.queues.create_queue(inbox)
    inbox_b = bob.queues.get_queue_attributes(inbox, ["QueueArn"])["QueueArn"]
    assert bob.queues.list_dead_letter_source_queues(dlq) == [f"eventplane://queues/{B}/{inbox}"]
    assert alice.queues.list_dead_letter_source_queues(dlq) == []

    topic = bob.topics.create_topic(f"feed-{tag}")
    subscription = bob.topics.subscribe(topic, "sqs", inbox_b)
    attributes = bob.topics.get_subscription_attributes(subscription)
    assert attributes["Endpoint"] == inbox_b
    bob.topics.publish(topic, "to b's inbox")

    got: list[Any] = []

    def received() -> bool:
        got.extend(bob.queues.receive_message(inbox, wait_time_seconds=1))
        return bool(got)

    eventually(received, timeout=30)
    assert json.loads(got[0].body)["Message"] == "to b's inbox"
    assert alice.queues.receive_message(inbox, wait_time_seconds=1) == []

    # Received once already (maxReceiveCount 1): the next receive moves it to B's DLQ.
    dead: list[Any] = []

    def dead_lettered() -> bool:
        bob.queues.receive_message(inbox, wait_time_seconds=1)
        dead.extend(bob.queues.receive_message(dlq, message_system_attribute_names=["All"]))
        return bool(dead)

    eventually(dead_lettered, timeout=30)
    assert dead[0].attributes["DeadLetterQueueSourceArn"] == inbox_b
    assert alice.queues.receive_message(dlq, wait_time_seconds=1) == []

    # Redrive (a message move task) takes it back to B's inbox, not A's.
    bob.queues.change_message_visibility(dlq, dead[0].receipt_handle, 0)
    handle = bob.queues.start_message_move_task(dlq)
    assert f"{B}.{inbox}" not in base64.urlsafe_b64decode(handle + "==").decode()
    back: list[Any] = []

    def redriven() -> bool:
        back.extend(bob.queues.receive_message(inbox, wait_time_seconds=1))
        return bool(back)

    eventually(redriven, timeout=30)
    assert json.loads(back[0].body)["Message"] == "to b's inbox"
    assert alice.queues.receive_message(inbox, wait_time_seconds=1) == []


def test_another_accounts_topic(server: EventplaneProcess, alice: Client, bob: Client) -> None:
    tag = _tag()
    topic = alice.topics.create_topic(f"news-{tag}")
    assert topic == f"arn:aws:sns:local:{A}:news-{tag}"
    attributes = alice.topics.get_topic_attributes(topic)
    assert (attributes["Owner"], attributes["TopicArn"]) == (A, topic)
    assert topic in alice.topics.list_topics()
    assert topic not in bob.topics.list_topics()
    refused = _refused(lambda: bob.topics.publish(topic, "hi"), "NotFound")
    assert refused.message == "Topic does not exist"
    _refused(lambda: bob.topics.get_topic_attributes(topic), "NotFound")

    # Alice's queue hears the topic; the notification names the topic's ARN in A.
    url = alice.queues.create_queue(f"news-{tag}")
    queue_arn = alice.queues.get_queue_attributes(url, ["QueueArn"])["QueueArn"]
    subscription = alice.topics.subscribe(topic, "sqs", queue_arn)
    assert subscription.startswith(f"{topic}:")
    assert subscription not in [s.subscription_arn for s in bob.topics.list_subscriptions()]

    grant = {"Effect": "Allow", "Principal": {"AWS": B}, "Action": "sns:Publish"}
    alice.topics.set_topic_attributes(topic, "Policy", _policy(grant))
    bob.topics.publish(topic, "from b")
    with Client(server.endpoint, token=CAROL_TOKEN, timeout=15) as carol:
        carol.topics.publish(topic, "from carol")  # B, and her own policy allows Publish

    got: list[dict[str, Any]] = []

    def both_delivered() -> bool:
        messages = alice.queues.receive_message(url, max_number_of_messages=10, wait_time_seconds=1)
        got.extend(json.loads(m.body) for m in messages)
        return len(got) >= 2

    eventually(both_delivered, timeout=30)
    assert {g["TopicArn"] for g in got} == {topic}
    assert sorted(g["Message"] for g in got) == ["from b", "from carol"]


def _aws(server: EventplaneProcess, service: str, key: tuple[str, str]) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.gateway_url,
        region_name="us-east-1",
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
        config=Config(retries={"max_attempts": 1}),
    )


def test_boto3_with_keys_of_two_accounts(server: EventplaneProcess, alice: Client) -> None:
    tag = _tag()
    sqs_a, sqs_b = _aws(server, "sqs", KEY_A), _aws(server, "sqs", KEY_B)
    url = sqs_a.create_queue(QueueName=f"gw-{tag}")["QueueUrl"]
    assert f"/{A}/gw-{tag}" in url
    arn = sqs_a.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    assert arn == f"arn:aws:sqs:local:{A}:gw-{tag}"
    assert url in sqs_a.list_queues(QueueNamePrefix=f"gw-{tag}").get("QueueUrls", [])
    assert sqs_b.list_queues(QueueNamePrefix=f"gw-{tag}").get("QueueUrls", []) == []
    with pytest.raises(ClientError) as info:
        sqs_b.send_message(QueueUrl=url, MessageBody="x")
    assert info.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert A not in info.value.response["Error"]["Message"]
    # B's own queue of the same name: B's URL, B's messages.
    url_b = sqs_b.create_queue(QueueName=f"gw-{tag}")["QueueUrl"]
    assert url_b.endswith(f"/{B}/gw-{tag}")
    assert sqs_b.get_queue_url(QueueName=f"gw-{tag}")["QueueUrl"] == url_b
    assert sqs_a.get_queue_url(QueueName=f"gw-{tag}")["QueueUrl"] == url
    assert sqs_b.list_queues(QueueNamePrefix=f"gw-{tag}")["QueueUrls"] == [url_b]
    assert sqs_b.get_queue_attributes(QueueUrl=url_b, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ] == (f"arn:aws:sqs:local:{B}:gw-{tag}")
    sqs_b.send_message(QueueUrl=f"gw-{tag}", MessageBody="b's own")
    with pytest.raises(ClientError) as info:
        # QueueOwnerAWSAccountId names A's: B is granted nothing there yet.
        sqs_b.get_queue_url(QueueName=f"gw-{tag}", QueueOwnerAWSAccountId=A)
    assert info.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"

    grant = {"Effect": "Allow", "Principal": {"AWS": B}, "Action": "sqs:SendMessage"}
    sqs_a.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _policy(grant)})
    assert sqs_b.send_message(QueueUrl=url, MessageBody="granted")["MessageId"]
    got = sqs_a.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    assert [m["Body"] for m in got] == ["granted"]
    got = sqs_b.receive_message(QueueUrl=url_b, WaitTimeSeconds=5)["Messages"]
    assert [m["Body"] for m in got] == ["b's own"]

    # The gRPC door sees the same owner: alice (A's token) reads the key's queue.
    assert alice.queues.get_queue_attributes(url, ["QueueArn"])["QueueArn"] == arn

    sns_a, sns_b = _aws(server, "sns", KEY_A), _aws(server, "sns", KEY_B)
    topic_b = sns_b.create_topic(Name=f"gw-{tag}")["TopicArn"]
    assert topic_b == f"arn:aws:sns:local:{B}:gw-{tag}"
    assert topic_b not in [t["TopicArn"] for t in sns_a.list_topics()["Topics"]]
    with pytest.raises(ClientError) as info:
        sns_a.publish(TopicArn=topic_b, Message="x")
    assert info.value.response["Error"]["Code"] == "NotFound"
    assert info.value.response["Error"]["Message"] == "Topic does not exist"
    # A's own topic of the same name.
    topic_a = sns_a.create_topic(Name=f"gw-{tag}")["TopicArn"]
    assert topic_a == f"arn:aws:sns:local:{A}:gw-{tag}"
    assert sns_a.publish(TopicArn=topic_a, Message="x")["MessageId"]


def _event(source: str, bus: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"Source": source, "DetailType": "t", "Detail": {"n": 1}}
    if bus is not None:
        entry["EventBusName"] = bus
    return entry


def test_another_accounts_bus_and_rules(alice: Client, bob: Client) -> None:
    tag = _tag()
    bus = alice.events.create_event_bus(f"orders-{tag}")
    assert bus == f"arn:aws:events:local:{A}:event-bus/orders-{tag}"
    rule = alice.events.put_rule(
        "r", event_pattern={"source": [f"s-{tag}"]}, event_bus_name=f"orders-{tag}"
    )
    assert rule == f"arn:aws:events:local:{A}:rule/orders-{tag}/r"
    assert bus in [b.arn for b in alice.events.list_event_buses(name_prefix=f"orders-{tag}")]
    assert bob.events.list_event_buses(name_prefix=f"orders-{tag}") == []
    assert "default" in [b.name for b in bob.events.list_event_buses()]  # its own
    # B's own bus of that name does not exist (names are per account).
    _refused(
        lambda: bob.events.list_rules(event_bus_name=f"orders-{tag}"), "ResourceNotFoundException"
    )
    refused = _refused(
        lambda: bob.events.describe_event_bus(f"orders-{tag}"), "ResourceNotFoundException"
    )
    assert refused.message == f"Event bus orders-{tag} does not exist."
    _refused(
        lambda: bob.events.put_rule(
            "mine", event_pattern={"source": ["x"]}, event_bus_name=f"orders-{tag}"
        ),
        "ResourceNotFoundException",
    )
    _refused(lambda: bob.events.put_events([_event(f"s-{tag}", bus)]), "ResourceNotFoundException")
    failed = bob.events.put_events([_event(f"s-{tag}", f"orders-{tag}")]).entries[0]
    assert failed.error_code == "ResourceNotFoundException"  # B's own: there is none

    # A rule of B's on the default bus is B's: A neither lists nor changes it.
    bobs_rule = bob.events.put_rule(f"b-{tag}", event_pattern={"source": [f"b-{tag}"]})
    assert bobs_rule == f"arn:aws:events:local:{B}:rule/b-{tag}"
    assert [r.name for r in alice.events.list_rules(name_prefix=f"b-{tag}")] == []
    # A's name is a rule on A's own default bus: none (deleting it succeeds, as a missing
    # rule's delete does), B's stays.
    refused = _refused(lambda: alice.events.describe_rule(f"b-{tag}"), "ResourceNotFoundException")
    assert refused.message == f"Rule b-{tag} on EventBus default does not exist."
    alice.events.delete_rule(f"b-{tag}")
    assert bob.events.describe_rule(f"b-{tag}").arn == bobs_rule

    alice.events.put_permission(
        event_bus_name=f"orders-{tag}", statement_id="b", principal=B, action="events:PutEvents"
    )
    # By its ARN: B's bare name is B's own bus (names are per account).
    assert bob.events.put_events([_event(f"s-{tag}", bus)]).failed_entry_count == 0
    _refused(lambda: bob.events.describe_event_bus(bus))  # PutEvents only


def test_a_cross_account_bus_target_needs_the_bus_policy(alice: Client, bob: Client) -> None:
    """B's rule targets A's bus: delivered only once A's bus policy lets B put events."""
    tag = _tag()
    bus = alice.events.create_event_bus(f"inbox-{tag}")
    url = alice.queues.create_queue(f"inbox-{tag}")
    queue_arn = alice.queues.get_queue_attributes(url, ["QueueArn"])["QueueArn"]
    alice.events.put_rule(
        "to-queue", event_pattern={"source": [f"s-{tag}"]}, event_bus_name=f"inbox-{tag}"
    )
    alice.events.put_targets(
        "to-queue", [{"Id": "q", "Arn": queue_arn}], event_bus_name=f"inbox-{tag}"
    )

    dlq = bob.queues.create_queue(f"dlq-{tag}")
    dlq_arn = bob.queues.get_queue_attributes(dlq, ["QueueArn"])["QueueArn"]
    bob.events.put_rule(f"fwd-{tag}", event_pattern={"source": [f"s-{tag}"]})
    bob.events.put_targets(
        f"fwd-{tag}",
        [
            {
                "Id": "a",
                "Arn": bus,
                "RetryPolicy": {"MaximumRetryAttempts": 0},
                "DeadLetterConfig": {"Arn": dlq_arn},
            }
        ],
    )
    bob.events.put_events([_event(f"s-{tag}")])
    dead: list[Any] = []

    def dead_lettered() -> bool:
        dead.extend(bob.queues.receive_message(dlq, message_attribute_names=["All"]))
        return bool(dead)

    eventually(dead_lettered, timeout=60)
    assert dead[0].message_attributes["ERROR_CODE"].string_value == "AccessDenied"
    assert alice.queues.receive_message(url, wait_time_seconds=1) == []

    alice.events.put_permission(
        event_bus_name=f"inbox-{tag}", statement_id="b", principal=B, action="events:PutEvents"
    )
    bob.events.put_events([_event(f"s-{tag}")])
    got: list[Any] = []

    def delivered() -> bool:
        got.extend(alice.queues.receive_message(url, wait_time_seconds=1))
        return bool(got)

    eventually(delivered, timeout=60)
    event = json.loads(got[0].body)
    assert (event["source"], event["account"]) == (f"s-{tag}", B)


def test_another_accounts_table(server: EventplaneProcess, alice: Client, bob: Client) -> None:
    """Tables have no resource policies: another account neither lists nor reaches them."""
    name = f"orders-{_tag()}"
    created = alice.tables.create_table(
        name,
        key_schema=[("pk", "HASH")],
        attribute_definitions=[("pk", "S")],
        stream_view_type="NEW_IMAGE",
        partitions=1,
    )
    assert created.table_arn == f"arn:aws:dynamodb:local:{A}:table/{name}"
    assert created.latest_stream_arn.startswith(f"arn:aws:dynamodb:local:{A}:table/{name}/stream/")
    alice.tables.put_item(name, {"pk": {"S": "1"}})
    assert name in _all_tables(alice)
    assert name not in _all_tables(bob)
    assert created.latest_stream_arn in alice.tables.list_streams(name)
    assert bob.tables.list_streams(name) == []
    missing = "ResourceNotFoundException"  # tables grant no other account anything
    refused = _refused(lambda: bob.tables.get_item(name, {"pk": {"S": "1"}}), missing)
    assert refused.message == f"Requested resource not found: Table: {name} not found"
    _refused(lambda: bob.tables.put_item(name, {"pk": {"S": "2"}}), missing)
    refused = _refused(lambda: bob.tables.describe_stream(created.latest_stream_arn), missing)
    assert A not in refused.message
    # Names are per account: B's own table of that name is another table
    # (test_accounts_tables.py).

    ddb_b = _aws(server, "dynamodb", KEY_B)
    assert name not in ddb_b.list_tables()["TableNames"]
    with pytest.raises(ClientError) as info:
        ddb_b.get_item(TableName=name, Key={"pk": {"S": "1"}})
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    ddb_a = _aws(server, "dynamodb", KEY_A)
    assert ddb_a.get_item(TableName=name, Key={"pk": {"S": "1"}})["Item"] == {"pk": {"S": "1"}}


def _all_tables(ep: Client) -> list[str]:
    names: list[str] = []
    start = ""
    while True:
        page, last = ep.tables.list_tables(start, 100)
        names += page
        if last is None:
            return names
        start = last


def test_boto3_buses_of_two_accounts(server: EventplaneProcess) -> None:
    tag = _tag()
    events_a, events_b = _aws(server, "events", KEY_A), _aws(server, "events", KEY_B)
    bus = events_a.create_event_bus(Name=f"gw-{tag}")["EventBusArn"]
    assert bus == f"arn:aws:events:local:{A}:event-bus/gw-{tag}"
    names = [b["Name"] for b in events_b.list_event_buses(NamePrefix=f"gw-{tag}")["EventBuses"]]
    assert names == []
    entry = {"EventBusName": f"gw-{tag}", "Source": "s", "DetailType": "t", "Detail": "{}"}
    # B's own bus of that name does not exist (names are per account).
    failed = events_b.put_events(Entries=[entry])["Entries"][0]
    assert failed["ErrorCode"] == "ResourceNotFoundException"
    assert failed["ErrorMessage"] == f"Event bus gw-{tag} does not exist."
    # A's by its ARN: as if it did not exist until A's policy grants B.
    with pytest.raises(ClientError) as info:
        events_b.put_events(Entries=[{**entry, "EventBusName": bus}])
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert info.value.response["Error"]["Message"] == f"Event bus gw-{tag} does not exist."
    events_a.put_permission(
        EventBusName=f"gw-{tag}", StatementId="b", Action="events:PutEvents", Principal=B
    )
    # By its ARN: B's bare name is B's own bus (names are per account).
    assert events_b.put_events(Entries=[{**entry, "EventBusName": bus}])["FailedEntryCount"] == 0
    rule = events_b.put_rule(Name=f"gw-{tag}", EventPattern=json.dumps({"source": ["s"]}))
    assert rule["RuleArn"] == f"arn:aws:events:local:{B}:rule/gw-{tag}"
    assert events_a.list_rules(NamePrefix=f"gw-{tag}")["Rules"] == []


def _handler_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return {'echo': event}\n")
    return out.getvalue()


def _named_zip(who: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            "app.py",
            "import os\n"
            "def handler(event, context):\n"
            f"    return {{'who': {who!r}, 'event': event, 'name': context.function_name,\n"
            "            'env': os.environ['AWS_LAMBDA_FUNCTION_NAME'],\n"
            "            'arn': context.invoked_function_arn}\n",
        )
    return out.getvalue()


def test_another_accounts_function(server: EventplaneProcess, alice: Client, bob: Client) -> None:
    name = f"fn-{_tag()}"
    created = alice.functions.create_function(name, "app.handler", zip_file=_handler_zip())
    arn = f"arn:aws:lambda:local:{A}:function:{name}"
    assert (created.function_arn, created.role) == (arn, f"arn:aws:iam::{A}:role/eventplane")
    assert alice.functions.invoke(name, {"n": 1}).json() == {"echo": {"n": 1}}
    assert name in [f.function_name for f in alice.functions.list_functions()]
    assert name not in [f.function_name for f in bob.functions.list_functions()]
    missing = "ResourceNotFoundException"
    # A bare name is B's own function: B has none of that name.
    refused = _refused(lambda: bob.functions.invoke(name, {"n": 2}), missing)
    assert refused.message == f"Function not found: arn:aws:lambda:local:{B}:function:{name}"
    _refused(lambda: bob.functions.get_function(name), missing)
    # By ARN, granted nothing: as if A's did not exist.
    refused = _refused(lambda: bob.functions.invoke(arn, {"n": 2}), missing)
    assert A not in refused.message
    _refused(lambda: bob.functions.get_function(arn), missing)
    # A function runs as a role of its own account, never another's.
    _refused(
        lambda: bob.functions.create_function(
            f"{name}-b", "app.handler", zip_file=_handler_zip(), role=f"arn:aws:iam::{A}:role/x"
        ),
        "InvalidParameterValueException",
    )

    statement = alice.functions.add_permission(name, "b", "lambda:InvokeFunction", B)
    assert statement["Resource"] == arn
    assert bob.functions.invoke(arn, {"n": 3}).json() == {"echo": {"n": 3}}
    _refused(lambda: bob.functions.invoke(name, {"n": 3}), missing)  # still B's own name
    refused = _refused(lambda: bob.functions.get_function(arn))  # InvokeFunction only
    assert refused.message.endswith(
        f"on resource: {arn} because no resource-based policy allows the lambda:GetFunction action"
    )

    lam_b = _aws(server, "lambda", KEY_B)
    assert name not in [f["FunctionName"] for f in lam_b.list_functions()["Functions"]]
    with pytest.raises(ClientError) as info:
        lam_b.get_function(FunctionName=arn)
    assert info.value.response["Error"]["Code"] == "AccessDeniedException"
    with pytest.raises(ClientError) as info:
        lam_b.get_function(FunctionName=name)
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_the_same_function_name_in_two_accounts(
    server: EventplaneProcess, alice: Client, bob: Client
) -> None:
    name = f"handler-{_tag()}"
    arn_a = f"arn:aws:lambda:local:{A}:function:{name}"
    arn_b = f"arn:aws:lambda:local:{B}:function:{name}"
    made_a = alice.functions.create_function(name, "app.handler", zip_file=_named_zip("a"))
    made_b = bob.functions.create_function(name, "app.handler", zip_file=_named_zip("b"))
    assert (made_a.function_name, made_a.function_arn) == (name, arn_a)
    assert (made_b.function_name, made_b.function_arn) == (name, arn_b)
    _refused(
        lambda: bob.functions.create_function(name, "app.handler", zip_file=_named_zip("b")),
        "ResourceConflictException",
    )

    # Each account's name runs its own code, and the handler sees the plain name.
    got_a = alice.functions.invoke(name, {"n": 1}).json()
    got_b = bob.functions.invoke(name, {"n": 2}).json()
    assert got_a == {"who": "a", "event": {"n": 1}, "name": name, "env": name, "arn": arn_a}
    assert got_b == {"who": "b", "event": {"n": 2}, "name": name, "env": name, "arn": arn_b}
    assert [
        f.function_arn for f in alice.functions.list_functions() if f.function_name == name
    ] == [arn_a]
    assert [f.function_arn for f in bob.functions.list_functions() if f.function_name == name] == [
        arn_b
    ]
    assert bob.functions.get_function(name).configuration.function_arn == arn_b

    # Versions, aliases and invoke configurations are per function, so per account.
    version_b = bob.functions.publish_version(name)
    assert version_b.function_arn == f"{arn_b}:1"
    alias_b = bob.functions.create_alias(name, "live", "1")
    assert alias_b.alias_arn == f"{arn_b}:live"
    assert alice.functions.list_aliases(name) == []
    assert [v.version for v in alice.functions.list_versions_by_function(name)] == ["$LATEST"]
    _refused(lambda: alice.functions.get_alias(name, "live"), "ResourceNotFoundException")
    assert bob.functions.invoke(f"{name}:live", {"n": 3}).json()["who"] == "b"

    # B reaches A's by ARN only once A's policy grants it, and runs A's code.
    _refused(lambda: bob.functions.invoke(arn_a, {"n": 4}), "ResourceNotFoundException")
    alice.functions.add_permission(name, "b", "lambda:InvokeFunction", B)
    assert bob.functions.invoke(arn_a, {"n": 4}).json()["who"] == "a"
    assert bob.functions.invoke(name, {"n": 5}).json()["who"] == "b"
    assert alice.functions.get_policy(name)[0]["Statement"]
    _refused(lambda: bob.functions.get_policy(name), "ResourceNotFoundException")  # B's has none

    # Through the gateway with each account's keys.
    lam_a, lam_b = _aws(server, "lambda", KEY_A), _aws(server, "lambda", KEY_B)
    assert lam_a.get_function(FunctionName=name)["Configuration"]["FunctionArn"] == arn_a
    assert lam_b.get_function(FunctionName=name)["Configuration"]["FunctionArn"] == arn_b
    out = json.loads(lam_b.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())
    assert out["who"] == "b"

    # Deleting B's leaves A's.
    bob.functions.delete_function(name)
    _refused(lambda: bob.functions.get_function(name), "ResourceNotFoundException")
    assert alice.functions.invoke(name, {"n": 6}).json()["who"] == "a"


def test_deliveries_to_a_function_name_reach_their_accounts_function(
    alice: Client, bob: Client
) -> None:
    """An SNS subscription's bare function name, a destination and a mapping's function
    are the subscriber's (the mapping's creator's) account's."""
    tag = _tag()
    name = f"handler-{tag}"
    results: dict[str, str] = {}
    for who, ep in (("a", alice), ("b", bob)):
        ep.functions.create_function(name, "app.handler", zip_file=_named_zip(who))
        results[who] = ep.queues.create_queue(f"results-{tag}")
        arn = ep.queues.get_queue_attributes(results[who], ["QueueArn"])["QueueArn"]
        ep.functions.put_function_event_invoke_config(
            name, destination_config={"OnSuccess": {"Destination": arn}}
        )
        ep.topics.create_topic(f"calls-{tag}")
        ep.topics.subscribe(f"calls-{tag}", "lambda", name)
    alice.topics.publish(f"calls-{tag}", "from a's topic")
    bob.topics.publish(f"calls-{tag}", "from b's topic")
    feed = alice.queues.create_queue(f"feed-{tag}")
    feed_arn = alice.queues.get_queue_attributes(feed, ["QueueArn"])["QueueArn"]
    mapping = alice.functions.create_event_source_mapping(feed_arn, name, batch_size=1)
    assert mapping.function_arn == f"arn:aws:lambda:local:{A}:function:{name}"
    alice.queues.send_message(feed, "from a's queue")

    def payloads(ep: Client, queue: str, want: int) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []

        def enough() -> bool:
            for m in ep.queues.receive_message(queue, max_number_of_messages=10):
                got.append(json.loads(m.body)["responsePayload"])
                ep.queues.delete_message(queue, m.receipt_handle)
            return len(got) >= want

        eventually(enough, timeout=60)
        return got

    a_got = payloads(alice, results["a"], 1)
    b_got = payloads(bob, results["b"], 1)
    assert {p["who"] for p in a_got + b_got} == {"a", "b"}
    assert [p["who"] for p in a_got] == ["a"] and [p["who"] for p in b_got] == ["b"]
    assert "from a's topic" in json.dumps(a_got) and "from b's topic" in json.dumps(b_got)

    def drained() -> bool:  # A's mapping ran A's function on A's queue's message
        counts = alice.queues.get_queue_attributes(
            feed, ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )
        return set(counts.values()) == {"0"}

    eventually(drained, timeout=60)
    alice.functions.delete_event_source_mapping(mapping.uuid)


def test_a_mapping_reads_another_accounts_queue_only_through_its_policy(
    server: EventplaneProcess, alice: Client, bob: Client
) -> None:
    tag = _tag()
    name = f"mapped-{tag}"
    alice.functions.create_function(name, "app.handler", zip_file=_handler_zip())
    bobs = bob.queues.create_queue(f"feed-{tag}")
    source = bob.queues.get_queue_attributes(bobs, ["QueueArn"])["QueueArn"]
    assert source == f"arn:aws:sqs:local:{B}:feed-{tag}"
    refused = _refused(
        lambda: alice.functions.create_event_source_mapping(source, name),
        "InvalidParameterValueException",
    )
    assert source in refused.message
    # Nor may B map its own queue to A's function (by its ARN: the bare name is B's).
    fn_arn = f"arn:aws:lambda:local:{A}:function:{name}"
    denied = _refused(lambda: bob.functions.create_event_source_mapping(source, fn_arn))
    assert fn_arn in denied.message
    _refused(
        lambda: bob.functions.create_event_source_mapping(source, name),
        "ResourceNotFoundException",
    )

    reader = {
        "Effect": "Allow",
        "Principal": {"AWS": A},
        "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
    }
    bob.queues.set_queue_attributes(bobs, {"Policy": _policy(reader)})
    mapping = alice.functions.create_event_source_mapping(source, name, enabled=False)
    lam_a, lam_b = _aws(server, "lambda", KEY_A), _aws(server, "lambda", KEY_B)
    found = lam_a.get_event_source_mapping(UUID=mapping.uuid)
    assert found["EventSourceMappingArn"] == (
        f"arn:aws:lambda:local:{A}:event-source-mapping:{mapping.uuid}"
    )
    with pytest.raises(ClientError) as info:
        lam_b.get_event_source_mapping(UUID=mapping.uuid)
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert mapping.function_arn == f"arn:aws:lambda:local:{A}:function:{name}"
    assert [m.uuid for m in alice.functions.list_event_source_mappings(function_name=name)] == [
        mapping.uuid
    ]
    assert bob.functions.list_event_source_mappings(event_source_arn=source) == []
    missing = "ResourceNotFoundException"  # granted nothing: as if it did not exist
    _refused(lambda: bob.functions.get_event_source_mapping(mapping.uuid), missing)
    _refused(lambda: bob.functions.delete_event_source_mapping(mapping.uuid), missing)
    alice.functions.delete_event_source_mapping(mapping.uuid)


def test_another_accounts_archive_replay_and_schema(alice: Client, bob: Client) -> None:
    tag = _tag()
    bus = alice.events.create_event_bus(f"kept-{tag}")
    archive = alice.events.create_archive(f"arch-{tag}", bus)
    assert archive.archive_arn == f"arn:aws:events:local:{A}:archive/arch-{tag}"
    now = int(time.time() * 1000)
    replay = alice.events.start_replay(f"rep-{tag}", f"arch-{tag}", now - 60_000, now - 1000)
    assert replay.replay_arn == f"arn:aws:events:local:{A}:replay/rep-{tag}"
    avro = {"type": "record", "name": "Order", "fields": [{"name": "n", "type": "int"}]}
    schema = alice.events.create_schema(f"sch-{tag}", "Avro", avro)
    assert schema.schema_arn == f"arn:aws:schemas:local:{A}:schema/eventplane/sch-{tag}"

    assert [a.archive_name for a in alice.events.list_archives(name_prefix=f"arch-{tag}")] == [
        f"arch-{tag}"
    ]
    assert bob.events.list_archives(name_prefix=f"arch-{tag}") == []
    assert bob.events.list_replays(name_prefix=f"rep-{tag}") == []
    assert bob.events.list_schemas(name_prefix=f"sch-{tag}") == []
    # Granted nothing (archives, replays and schemas have no policies): as if they did
    # not exist, and nothing of A's in the answer.
    missing = "ResourceNotFoundException"
    refused = _refused(lambda: bob.events.describe_archive(f"arch-{tag}"), missing)
    assert refused.message == f"Archive arch-{tag} does not exist."
    _refused(lambda: bob.events.delete_archive(f"arch-{tag}"), missing)
    refused = _refused(lambda: bob.events.describe_replay(f"rep-{tag}"), missing)
    assert refused.message == f"Replay rep-{tag} does not exist."
    _refused(lambda: bob.events.cancel_replay(f"rep-{tag}"), missing)
    refused = _refused(lambda: bob.events.describe_schema(f"sch-{tag}"), missing)
    assert A not in refused.message
    _refused(lambda: bob.events.delete_schema(f"sch-{tag}"), missing)
    # Nor may B archive A's bus or replay A's archive: as if they did not exist.
    _refused(lambda: bob.events.create_archive(f"arch-{tag}-b", bus), "ResourceNotFoundException")
    _refused(
        lambda: bob.events.start_replay(f"rep-{tag}-b", f"arch-{tag}", now - 60_000, now - 1000),
        "ResourceNotFoundException",
    )
    # Archive names are per account: B's own archive of that name, on B's default bus.
    own = bob.events.create_archive(f"arch-{tag}", "default")
    assert own.archive_arn == f"arn:aws:events:local:{B}:archive/arch-{tag}"
    assert own.event_source_arn == f"arn:aws:events:local:{B}:event-bus/default"
    bob.events.delete_archive(f"arch-{tag}")
    assert alice.events.describe_archive(f"arch-{tag}").archive_arn == archive.archive_arn


def _failing_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    raise ValueError('no')\n")
    return out.getvalue()


def test_a_functions_destination_and_dead_letter_queue_of_another_account_need_its_policy(
    alice: Client, bob: Client
) -> None:
    tag = _tag()
    dest = bob.queues.create_queue(f"dest-{tag}")
    dlq = bob.queues.create_queue(f"fn-dlq-{tag}")
    dest_arn = bob.queues.get_queue_attributes(dest, ["QueueArn"])["QueueArn"]
    dlq_arn = bob.queues.get_queue_attributes(dlq, ["QueueArn"])["QueueArn"]
    name = f"failing-{tag}"
    alice.functions.create_function(
        name, "app.handler", zip_file=_failing_zip(), dead_letter_target_arn=dlq_arn
    )
    alice.functions.put_function_event_invoke_config(
        name,
        maximum_retry_attempts=0,
        destination_config={"OnFailure": {"Destination": dest_arn}},
    )

    # No policy on B's queues: A's function's records do not get in.
    alice.functions.invoke(name, {"n": 1}, invocation_type="Event")
    waited = 0
    while waited < 8:  # the failure is handled within a second or two; nothing must arrive
        assert bob.queues.receive_message(dest, wait_time_seconds=1) == []
        assert bob.queues.receive_message(dlq, wait_time_seconds=1) == []
        waited += 2

    grant = {"Effect": "Allow", "Principal": {"AWS": A}, "Action": "sqs:SendMessage"}
    bob.queues.set_queue_attributes(dest, {"Policy": _policy(grant)})
    bob.queues.set_queue_attributes(dlq, {"Policy": _policy(grant)})
    alice.functions.invoke(name, {"n": 2}, invocation_type="Event")
    got: dict[str, list[Any]] = {"dest": [], "dlq": []}

    def delivered() -> bool:
        got["dest"].extend(bob.queues.receive_message(dest, wait_time_seconds=1))
        got["dlq"].extend(bob.queues.receive_message(dlq, wait_time_seconds=1))
        return bool(got["dest"]) and bool(got["dlq"])

    eventually(delivered, timeout=60)
    record = json.loads(got["dest"][0].body)
    assert record["requestPayload"] == {"n": 2}
    assert json.loads(got["dlq"][0].body) == {"n": 2}


def test_a_rules_dead_letter_queue_of_another_account_needs_its_policy(
    alice: Client, bob: Client
) -> None:
    tag = _tag()
    dlq = alice.queues.create_queue(f"rule-dlq-{tag}")
    dlq_arn = alice.queues.get_queue_attributes(dlq, ["QueueArn"])["QueueArn"]
    bob.events.put_rule(f"dl-{tag}", event_pattern={"source": [f"dl-{tag}"]})
    bob.events.put_targets(
        f"dl-{tag}",
        [
            {
                "Id": "gone",
                "Arn": f"arn:aws:sqs:local:{B}:missing-{tag}",  # fails: dead-lettered
                "RetryPolicy": {"MaximumRetryAttempts": 0},
                "DeadLetterConfig": {"Arn": dlq_arn},
            }
        ],
    )
    bob.events.put_events([_event(f"dl-{tag}")])
    for _ in range(4):  # the failed delivery is dead-lettered within a second or two
        assert alice.queues.receive_message(dlq, wait_time_seconds=1) == []

    grant = {"Effect": "Allow", "Principal": {"AWS": B}, "Action": "sqs:SendMessage"}
    alice.queues.set_queue_attributes(dlq, {"Policy": _policy(grant)})
    bob.events.put_events([_event(f"dl-{tag}")])
    got: list[Any] = []

    def dead_lettered() -> bool:
        got.extend(alice.queues.receive_message(dlq, message_attribute_names=["All"]))
        return bool(got)

    eventually(dead_lettered, timeout=60)
    assert got[0].message_attributes["RULE_ARN"].string_value.endswith(f":{B}:rule/dl-{tag}")


def _error(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def test_sqs_add_permission_grants_another_account_and_remove_permission_takes_it_back(
    server: EventplaneProcess,
) -> None:
    sqs_a, sqs_b = _aws(server, "sqs", KEY_A), _aws(server, "sqs", KEY_B)
    url = sqs_a.create_queue(QueueName=f"shared-{_tag()}")["QueueUrl"]
    send = lambda: sqs_b.send_message(QueueUrl=url, MessageBody="from b")  # noqa: E731
    assert _error(send)[0] == "AWS.SimpleQueueService.NonExistentQueue"
    sqs_a.add_permission(QueueUrl=url, Label="b-sends", AWSAccountIds=[B], Actions=["SendMessage"])
    policy = json.loads(
        sqs_a.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )
    arn = sqs_a.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    assert policy["Statement"] == [
        {
            "Sid": "b-sends",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
            "Action": "SQS:SendMessage",
            "Resource": arn,
        }
    ]
    eventually(lambda: send()["MessageId"])
    # Only what was granted: B still may not receive.
    assert _error(lambda: sqs_b.receive_message(QueueUrl=url))[0] == "AccessDenied"
    assert _error(
        lambda: sqs_a.add_permission(
            QueueUrl=url, Label="b-sends", AWSAccountIds=[B], Actions=["ReceiveMessage"]
        )
    ) == (
        "InvalidParameterValue",
        "Value b-sends for parameter Label is invalid. Reason: Already exists.",
    )
    assert (
        _error(
            lambda: sqs_a.add_permission(
                QueueUrl=url, Label="owner-only", AWSAccountIds=[B], Actions=["DeleteQueue"]
            )
        )[0]
        == "InvalidParameterValue"
    )
    # B cannot grant itself more on A's queue.
    assert (
        _error(
            lambda: sqs_b.add_permission(
                QueueUrl=url, Label="mine", AWSAccountIds=[B], Actions=["ReceiveMessage"]
            )
        )[0]
        == "AccessDenied"
    )
    sqs_a.remove_permission(QueueUrl=url, Label="b-sends")
    assert "Policy" not in sqs_a.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get(
        "Attributes", {}
    )
    eventually(lambda: _error(send)[0] == "AWS.SimpleQueueService.NonExistentQueue")
    assert _error(lambda: sqs_a.remove_permission(QueueUrl=url, Label="b-sends")) == (
        "InvalidParameterValue",
        "Value b-sends for parameter Label is invalid. Reason: can't find label.",
    )


def test_sns_add_permission_lets_another_account_publish_and_no_one_else(
    server: EventplaneProcess,
) -> None:
    sns_a, sns_b = _aws(server, "sns", KEY_A), _aws(server, "sns", KEY_B)
    topic = sns_a.create_topic(Name=f"shared-{_tag()}")["TopicArn"]
    publish = lambda: sns_b.publish(TopicArn=topic, Message="from b")  # noqa: E731
    assert _error(publish)[0] == "NotFound"
    sns_a.add_permission(
        TopicArn=topic, Label="b-publishes", AWSAccountId=[B], ActionName=["Publish"]
    )
    policy = json.loads(sns_a.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    # SNS adds to the topic's default policy, which grants nothing across accounts.
    assert [s["Sid"] for s in policy["Statement"]] == ["__default_statement_ID", "b-publishes"]
    assert policy["Statement"][1]["Action"] == "SNS:Publish"
    eventually(lambda: publish()["MessageId"])
    assert _error(lambda: sns_b.get_topic_attributes(TopicArn=topic))[0] == "AuthorizationError"
    assert (
        _error(
            lambda: sns_a.add_permission(
                TopicArn=topic, Label="b-publishes", AWSAccountId=[B], ActionName=["Publish"]
            )
        )[0]
        == "InvalidParameter"
    )
    sns_a.remove_permission(TopicArn=topic, Label="b-publishes")
    sns_a.remove_permission(TopicArn=topic, Label="b-publishes")  # gone already: no error
    # Refused again (the default statement left grants only the owner's own services).
    eventually(lambda: _error(publish)[0] in ("NotFound", "AuthorizationError"))
