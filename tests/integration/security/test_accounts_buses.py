"""Event buses per account on a real server (``eventplane.names``): two accounts each have
a bus ``orders`` of their own and, above all, a default bus of their own. Events one
account puts (by PutEvents, or a state machine's status changes) reach only its own
buses' rules; another account's bus is reached only by its ARN and through its policy.
On the gRPC door (tokens) and through boto3 (access keys of two accounts) alike."""

from __future__ import annotations

import json
import uuid
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
ALICE_TOKEN = "ep-accbuses-alice-0123456789abcdef"  # account A, no policies
BOB_TOKEN = "ep-accbuses-bob-0123456789abcdef"  # account B, no policies
KEY_A = ("AKIDACCBUSESA0000001", "acc-buses-a-secret")
KEY_B = ("AKIDACCBUSESB0000001", "acc-buses-b-secret")
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
# How long a queue is watched for what must not arrive, once what must arrive has.
QUIET_S = 3


@pytest.fixture(scope="module")
def server(
    eventplane_kafka: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EventplaneProcess]:
    tokens = tmp_path_factory.mktemp("acc-buses") / "tokens.yaml"
    tokens.write_text(
        json.dumps(
            {
                "tokens": [
                    {"principal": "alice", "account": A, "sha256": sha256_hex(ALICE_TOKEN)},
                    {"principal": "bob", "account": B, "sha256": sha256_hex(BOB_TOKEN)},
                ]
            }
        )
    )
    keys = f"{KEY_A[0]}:{KEY_A[1]}:{A}:alice,{KEY_B[0]}:{KEY_B[1]}:{B}:bob"
    proc = EventplaneProcess(
        eventplane_kafka,
        roles="api,queues,fanout,bus,workflows",
        cluster=unique_cluster(),
        env={
            "EVENTPLANE_AUTH_TOKENS_FILE": str(tokens),
            "EVENTPLANE_GATEWAY_CREDENTIALS": keys,
            "EVENTPLANE_RECEIPT_SECRET": "a-cluster-secret-for-acc-buses",
        },
    )
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def alice(server: EventplaneProcess) -> Iterator[Client]:
    with Client(server.endpoint, token=ALICE_TOKEN, timeout=30) as ep:
        yield ep


@pytest.fixture(scope="module")
def bob(server: EventplaneProcess) -> Iterator[Client]:
    with Client(server.endpoint, token=BOB_TOKEN, timeout=30) as ep:
        yield ep


def _aws(server: EventplaneProcess, service: str, key: tuple[str, str]) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.gateway_url,
        region_name="us-east-1",
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
        config=Config(retries={"max_attempts": 1}),
    )


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def _refused(call: Any, code: str) -> EventplaneError:
    with pytest.raises(EventplaneError) as info:
        call()
    assert info.value.code == code, info.value
    return info.value


def _event(source: str, bus: str | None = None, n: int = 0) -> dict[str, Any]:
    entry: dict[str, Any] = {"Source": source, "DetailType": "t", "Detail": {"n": n}}
    if bus is not None:
        entry["EventBusName"] = bus
    return entry


def _queue(ep: Client, name: str) -> tuple[str, str]:
    url = ep.queues.create_queue(name)
    return url, ep.queues.get_queue_attributes(url, ["QueueArn"])["QueueArn"]


def _watch(ep: Client, url: str, rule: str, bus: str | None, pattern: dict[str, Any]) -> None:
    """A rule on ``bus`` (None: the default bus) sending what matches to the queue."""
    arn = ep.queues.get_queue_attributes(url, ["QueueArn"])["QueueArn"]
    kwargs: dict[str, Any] = {} if bus is None else {"event_bus_name": bus}
    ep.events.put_rule(rule, event_pattern=pattern, **kwargs)
    ep.events.put_targets(rule, [{"Id": "q", "Arn": arn}], **kwargs)


def _received(ep: Client, url: str, count: int) -> list[dict[str, Any]]:
    """The first ``count`` events the queue receives, then whatever else arrives within
    QUIET_S (what must not arrive has had the time the others took, and more)."""
    got: list[dict[str, Any]] = []

    def enough() -> bool:
        for m in ep.queues.receive_message(url, max_number_of_messages=10, wait_time_seconds=1):
            got.append(json.loads(m.body))
            ep.queues.delete_message(url, m.receipt_handle)
        return len(got) >= count

    eventually(enough, timeout=60)
    for m in ep.queues.receive_message(url, max_number_of_messages=10, wait_time_seconds=QUIET_S):
        got.append(json.loads(m.body))
    return got


def test_the_same_bus_name_in_two_accounts(
    server: EventplaneProcess, alice: Client, bob: Client
) -> None:
    """Each account has its own ``orders``: created, listed, described and used apart."""
    tag = _tag()
    name = f"orders-{tag}"
    bus_a = alice.events.create_event_bus(name)
    bus_b = bob.events.create_event_bus(name)
    assert (bus_a, bus_b) == (
        f"arn:aws:events:local:{A}:event-bus/{name}",
        f"arn:aws:events:local:{B}:event-bus/{name}",
    )
    # Each on a Kafka topic of its own, named after the account (eventplane.names).
    admin = AdminClient({"bootstrap.servers": server.bootstrap})
    topics = set(admin.list_topics(timeout=10).topics)
    prefix = f"eventplane-{server.cluster}.bus."
    assert {f"{prefix}{A}.{name}", f"{prefix}{B}.{name}"} <= topics
    _refused(lambda: alice.events.create_event_bus(name), "ResourceAlreadyExistsException")
    assert [(b.name, b.arn) for b in alice.events.list_event_buses(name_prefix=name)] == [
        (name, bus_a)
    ]
    assert [(b.name, b.arn) for b in bob.events.list_event_buses(name_prefix=name)] == [
        (name, bus_b)
    ]
    assert alice.events.describe_event_bus(name).arn == bus_a
    assert bob.events.describe_event_bus(name).arn == bus_b

    # A rule of the same name on each, each sending to its own account's queue.
    url_a, _ = _queue(alice, f"q-{tag}")
    url_b, _ = _queue(bob, f"q-{tag}")
    _watch(alice, url_a, "r", name, {"source": [f"s-{tag}"]})
    _watch(bob, url_b, "r", name, {"source": [f"s-{tag}"]})
    rules = [(r.name, r.arn, r.event_bus_name) for r in bob.events.list_rules(event_bus_name=name)]
    assert rules == [("r", f"arn:aws:events:local:{B}:rule/{name}/r", name)]
    assert alice.events.describe_rule("r", event_bus_name=name).arn == (
        f"arn:aws:events:local:{A}:rule/{name}/r"
    )
    assert alice.events.put_events([_event(f"s-{tag}", name, 1)]).failed_entry_count == 0
    assert bob.events.put_events([_event(f"s-{tag}", name, 2)]).failed_entry_count == 0
    got_a, got_b = _received(alice, url_a, 1), _received(bob, url_b, 1)
    assert [(e["account"], e["detail"]["n"]) for e in got_a] == [(A, 1)]
    assert [(e["account"], e["detail"]["n"]) for e in got_b] == [(B, 2)]

    # Deleting A's leaves B's.
    alice.events.remove_targets("r", ["q"], event_bus_name=name)
    alice.events.delete_rule("r", event_bus_name=name)
    alice.events.delete_event_bus(name)
    assert alice.events.list_event_buses(name_prefix=name) == []
    assert bob.events.describe_event_bus(name).arn == bus_b
    assert bob.events.describe_rule("r", event_bus_name=name).arn.endswith(f"{name}/r")


def test_each_account_has_its_own_default_bus(alice: Client, bob: Client) -> None:
    """PutEvents without a bus goes to the caller's own default bus: a rule on the default
    bus sees its own account's events only."""
    tag = _tag()
    default_a = alice.events.describe_event_bus("")
    default_b = bob.events.describe_event_bus("")
    assert (default_a.name, default_a.arn) == (
        "default",
        f"arn:aws:events:local:{A}:event-bus/default",
    )
    assert default_b.arn == f"arn:aws:events:local:{B}:event-bus/default"
    assert [b.arn for b in bob.events.list_event_buses(name_prefix="default")] == [default_b.arn]

    url_a, _ = _queue(alice, f"d-{tag}")
    url_b, _ = _queue(bob, f"d-{tag}")
    pattern = {"source": [f"s-{tag}"]}
    _watch(alice, url_a, f"all-{tag}", None, pattern)
    _watch(bob, url_b, f"all-{tag}", None, pattern)
    assert (
        alice.events.describe_rule(f"all-{tag}").arn == f"arn:aws:events:local:{A}:rule/all-{tag}"
    )
    assert [r.name for r in bob.events.list_rules(name_prefix=f"all-{tag}")] == [f"all-{tag}"]

    for n in range(3):
        assert alice.events.put_events([_event(f"s-{tag}", None, n)]).failed_entry_count == 0
        assert (
            bob.events.put_events([_event(f"s-{tag}", "default", 10 + n)]).failed_entry_count == 0
        )
    got_a, got_b = _received(alice, url_a, 3), _received(bob, url_b, 3)
    assert sorted((e["account"], e["detail"]["n"]) for e in got_a) == [(A, 0), (A, 1), (A, 2)]
    assert sorted((e["account"], e["detail"]["n"]) for e in got_b) == [(B, 10), (B, 11), (B, 12)]

    # By its own ARN too; another account's default bus by ARN: as if there were none.
    own = bob.events.put_events([_event(f"s-{tag}", default_b.arn, 20)])
    assert own.failed_entry_count == 0
    _refused(
        lambda: bob.events.put_events([_event(f"s-{tag}", default_a.arn, 21)]),
        "ResourceNotFoundException",
    )
    got_a, got_b = _received(alice, url_a, 0), _received(bob, url_b, 1)
    assert got_a == []
    assert [(e["account"], e["detail"]["n"]) for e in got_b] == [(B, 20)]


def test_a_rule_reaches_another_accounts_default_bus_through_its_policy(
    alice: Client, bob: Client
) -> None:
    """A's rule targets B's default bus by ARN: delivered once B's policy on its own
    default bus lets A put events, and seen there by B's rules only."""
    tag = _tag()
    default_b = bob.events.describe_event_bus("").arn
    url_a, _ = _queue(alice, f"x-{tag}")
    url_b, _ = _queue(bob, f"x-{tag}")
    dlq, dlq_arn = _queue(alice, f"dlq-{tag}")
    _watch(bob, url_b, f"in-{tag}", None, {"source": [f"s-{tag}"]})
    _watch(alice, url_a, f"mine-{tag}", None, {"source": [f"s-{tag}"]})
    alice.events.put_rule(f"fwd-{tag}", event_pattern={"source": [f"s-{tag}"]})
    target = {
        "Id": "b",
        "Arn": default_b,
        "RetryPolicy": {"MaximumRetryAttempts": 0},
        "DeadLetterConfig": {"Arn": dlq_arn},
    }
    alice.events.put_targets(f"fwd-{tag}", [target])

    alice.events.put_events([_event(f"s-{tag}", None, 1)])
    dead = []

    def dead_lettered() -> bool:
        dead.extend(alice.queues.receive_message(dlq, message_attribute_names=["All"]))
        return bool(dead)

    eventually(dead_lettered, timeout=60)
    assert dead[0].message_attributes["ERROR_CODE"].string_value == "AccessDenied"
    assert [e["detail"]["n"] for e in _received(alice, url_a, 1)] == [1]  # A's own rule

    bob.events.put_permission(statement_id="a", principal=A, action="events:PutEvents")
    assert json.loads(bob.events.describe_event_bus("").policy)["Statement"][0]["Resource"] == (
        default_b
    )
    alice.events.put_events([_event(f"s-{tag}", None, 2)])
    got_b = _received(bob, url_b, 1)
    assert [(e["account"], e["detail"]["n"]) for e in got_b] == [(A, 2)]
    assert [e["detail"]["n"] for e in _received(alice, url_a, 1)] == [2]
    # B's own events on its default bus do not travel back to A.
    bob.events.put_events([_event(f"s-{tag}", None, 3)])
    assert [e["detail"]["n"] for e in _received(bob, url_b, 1)] == [3]
    assert _received(alice, url_a, 0) == []


def test_status_events_go_to_the_machines_own_accounts_default_bus(
    alice: Client, bob: Client
) -> None:
    """A state machine's status changes reach its own account's default bus only."""
    tag = _tag()
    url_a, _ = _queue(alice, f"sf-{tag}")
    url_b, _ = _queue(bob, f"sf-{tag}")
    machine = f"m-{tag}"
    pattern = {"source": ["aws.states"], "detail": {"name": [f"run-{tag}"]}}
    _watch(alice, url_a, f"sf-{tag}", None, pattern)
    _watch(bob, url_b, f"sf-{tag}", None, pattern)
    arn = bob.workflows.create_state_machine(machine, PASS).state_machine_arn
    bob.workflows.start_execution(arn, {}, name=f"run-{tag}")
    got = _received(bob, url_b, 2)
    # A standard queue keeps no order.
    assert sorted(e["detail"]["status"] for e in got) == ["RUNNING", "SUCCEEDED"]
    assert {e["account"] for e in got} == {B}
    assert {e["detail"]["stateMachineArn"] for e in got} == {arn}
    assert _received(alice, url_a, 0) == []


def test_bus_names_of_an_internal_names_shape_are_refused(alice: Client) -> None:
    refused = _refused(lambda: alice.events.create_event_bus(f"{B}.orders"), "ValidationException")
    assert "Name" in refused.message and "12 digits" in refused.message
    failed = alice.events.put_events([_event("s", f"{B}.default")]).entries[0]
    assert failed.error_code == "InvalidArgument"
    assert failed.error_message is not None and "EventBusName" in failed.error_message
    # A target ARN naming B's default bus by its internal name in A's account.
    rule = f"r-{_tag()}"
    alice.events.put_rule(rule, event_pattern={"source": ["s"]})
    inside = f"arn:aws:events:local:{A}:event-bus/{B}.default"
    put = alice.events.put_targets(rule, [{"Id": "t", "Arn": inside}])
    assert [(f.target_id, f.error_code) for f in put.failed_entries] == [
        ("t", "ValidationException")
    ]


def test_boto3_buses_and_default_buses_of_two_accounts(server: EventplaneProcess) -> None:
    tag = _tag()
    events_a, events_b = _aws(server, "events", KEY_A), _aws(server, "events", KEY_B)
    name = f"gw-{tag}"
    arn_a = events_a.create_event_bus(Name=name)["EventBusArn"]
    arn_b = events_b.create_event_bus(Name=name)["EventBusArn"]
    assert (arn_a, arn_b) == (
        f"arn:aws:events:local:{A}:event-bus/{name}",
        f"arn:aws:events:local:{B}:event-bus/{name}",
    )
    listed = events_b.list_event_buses(NamePrefix=name)["EventBuses"]
    assert [(b["Name"], b["Arn"]) for b in listed] == [(name, arn_b)]
    default = events_b.describe_event_bus()
    assert (default["Name"], default["Arn"]) == (
        "default",
        f"arn:aws:events:local:{B}:event-bus/default",
    )
    rule = events_b.put_rule(
        Name=f"r-{tag}", EventBusName=arn_b, EventPattern=json.dumps({"source": ["s"]})
    )
    assert rule["RuleArn"] == f"arn:aws:events:local:{B}:rule/{name}/r-{tag}"
    described = events_b.describe_rule(Name=f"r-{tag}", EventBusName=name)
    assert (described["EventBusName"], described["Arn"]) == (name, rule["RuleArn"])
    assert events_a.list_rules(EventBusName=name)["Rules"] == []
    # A's rule ARN of the same name on A's bus does not reach B's rule.
    with pytest.raises(ClientError) as info:
        events_a.describe_rule(Name=f"r-{tag}", EventBusName=name)
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    tags = events_b.list_tags_for_resource(ResourceARN=rule["RuleArn"])["Tags"]
    assert tags == []
    events_b.tag_resource(ResourceARN=arn_b, Tags=[{"Key": "team", "Value": "b"}])
    assert events_b.list_tags_for_resource(ResourceARN=arn_b)["Tags"] == [
        {"Key": "team", "Value": "b"}
    ]
    assert events_a.list_tags_for_resource(ResourceARN=arn_a)["Tags"] == []
