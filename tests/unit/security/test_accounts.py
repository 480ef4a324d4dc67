"""Accounts: a resource's owner decides the account in the ARN a call is checked on, and a
principal of another account gets in only through the resource's policy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from eventplane import arn as arns
from eventplane._gen.v1 import events_pb2, queues_pb2
from eventplane.bus.models import BusDef
from eventplane.bus.port import _check_account
from eventplane.delivery.payload import Payload, TargetUnavailable
from eventplane.errors import EventplaneError
from eventplane.errors.queues import QueueDoesNotExist
from eventplane.queues.attributes import QueueConfig, parse_create
from eventplane.queues.control import check_config
from eventplane.queues.port import _check_policy
from eventplane.queues.queue_def import QueueDef
from eventplane.security.accounts import (
    caller_account,
    listing_account,
    owned_by,
    owner_of,
)
from eventplane.security.actions import rule_for
from eventplane.security.authorize import Outcome, authorize
from eventplane.security.interceptor import INTERNAL, current_principal
from eventplane.security.policy import PolicySet, parse_policy
from eventplane.security.resource_policy import ResourcePolicies, grants_account
from eventplane.security.tokens import Principal
from eventplane.topics.attributes.topics import TopicConfig
from eventplane.topics.models import TopicDef
from eventplane.topics.port import _check_sender as topic_check

A, B = "111111111111", "222222222222"
INSTALLATION = arns.DEFAULT_ACCOUNT


class Queues:
    """An in-memory queue directory: name -> (owner, policy)."""

    def __init__(self) -> None:
        self.queues: dict[str, tuple[str, str | None]] = {}

    def directory(self) -> ResourcePolicies:
        found = ResourcePolicies()
        found.register(
            "arn:aws:sqs:",
            lambda arn: self.queues.get(arn.rsplit(":", 1)[-1], ("", None))[1],
            lambda arn: (
                self.queues[name][0] if (name := arn.rsplit(":", 1)[-1]) in self.queues else None
            ),
            lambda _arn: QueueDoesNotExist("The specified queue does not exist."),
        )
        return found


@pytest.fixture
def queues() -> Queues:
    return Queues()


def _call(queues: Queues, method: str, principal: Principal, **fields: Any) -> Outcome | None:
    rule = rule_for(f"/eventplane.v1.Queues/{method}")
    assert rule is not None
    request = getattr(queues_pb2, f"{method}Request")(**fields)
    return authorize(principal, rule, request, secure=False, resources=queues.directory())


def _denied(outcome: Outcome | None) -> str:
    assert outcome is not None and outcome.error is not None, outcome
    return outcome.error.message


def _grant(account: str, action: str = "sqs:SendMessage", effect: str = "Allow") -> str:
    statement = {"Effect": effect, "Principal": {"AWS": account}, "Action": action}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_the_owner_calls_on_its_own_arn(queues: Queues) -> None:
    queues.queues["orders"] = (A, None)
    alice = Principal(name="alice", account=A)
    sent = _call(queues, "SendMessage", alice, queue_url="eventplane://queues/orders")
    assert sent is not None and sent.error is None
    assert sent.resource == f"arn:aws:sqs:local:{A}:orders"


def test_an_identity_policy_on_the_owners_account_applies(queues: Queues) -> None:
    queues.queues["orders"] = (A, None)
    only_b = {
        "Statement": {"Effect": "Allow", "Action": "sqs:*", "Resource": f"arn:aws:sqs:*:{B}:*"}
    }
    alice = Principal(name="alice", account=A, policies=PolicySet([parse_policy(only_b)]))
    message = _denied(_call(queues, "SendMessage", alice, queue_url="orders"))
    assert f"arn:aws:sqs:local:{A}:orders" in message


def test_another_accounts_principal_granted_nothing_is_told_there_is_no_such_queue(
    queues: Queues,
) -> None:
    queues.queues["orders"] = (A, None)
    bob = Principal(name="bob", account=B)  # no identity policies: full access in B
    for method in ("SendMessage", "GetQueueAttributes", "ReceiveMessage", "DeleteQueue"):
        outcome = _call(queues, method, bob, queue_url="orders")
        assert outcome is not None and isinstance(outcome.error, QueueDoesNotExist)
        assert outcome.error.message == "The specified queue does not exist."
        # Audited (and counted) as a denial, on the queue's own ARN.
        assert outcome.resource == f"arn:aws:sqs:local:{A}:orders"
    # Named by an ARN of B's account, it is still A's queue, and still not B's to see.
    outcome = _call(queues, "SendMessage", bob, queue_url=f"arn:aws:sqs:local:{B}:orders")
    assert outcome is not None and isinstance(outcome.error, QueueDoesNotExist)
    # A policy that grants B's account something lets it know the queue: the calls the
    # policy does not allow are denied, as AWS words it.
    queues.queues["orders"] = (A, _grant(B))
    message = _denied(_call(queues, "PurgeQueue", bob, queue_url="orders"))
    assert message == (
        "User: bob is not authorized to perform: sqs:PurgeQueue on resource: "
        f"arn:aws:sqs:local:{A}:orders because no resource-based policy allows the "
        "sqs:PurgeQueue action"
    )
    # A grant to another account says nothing to B; a deny naming B is an answer about
    # the queue: denied, not hidden.
    queues.queues["orders"] = (A, _grant("333333333333"))
    outcome = _call(queues, "SendMessage", bob, queue_url="orders")
    assert outcome is not None and isinstance(outcome.error, QueueDoesNotExist)
    queues.queues["orders"] = (A, _grant(B, effect="Deny"))
    message = _denied(_call(queues, "SendMessage", bob, queue_url="orders"))
    assert message.endswith("with an explicit deny in a resource-based policy")


def test_a_grant_lets_the_other_account_in_and_a_deny_still_wins(queues: Queues) -> None:
    queues.queues["orders"] = (A, _grant(B))
    bob = Principal(name="bob", account=B)
    sent = _call(queues, "SendMessage", bob, queue_url="orders")
    assert sent is not None and sent.error is None
    _denied(_call(queues, "PurgeQueue", bob, queue_url="orders"))  # granted SendMessage only
    deny = json.loads(_grant(B))
    deny["Statement"].append(
        {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{B}:user/bob"}, "Action": "sqs:*"}
    )
    queues.queues["orders"] = (A, json.dumps(deny))
    message = _denied(_call(queues, "SendMessage", bob, queue_url="orders"))
    assert message.endswith("with an explicit deny in a resource-based policy")


def test_across_accounts_the_callers_own_policies_must_allow_too(queues: Queues) -> None:
    queues.queues["orders"] = (A, _grant(B))
    nothing = Principal(name="bob", account=B, policies=PolicySet([]))
    message = _denied(_call(queues, "SendMessage", nothing, queue_url="orders"))
    assert message.endswith("because no identity-based policy allows the sqs:SendMessage action")
    sends = {"Statement": {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}}
    allowed = Principal(name="bob", account=B, policies=PolicySet([parse_policy(sends)]))
    sent = _call(queues, "SendMessage", allowed, queue_url="orders")
    assert sent is not None and sent.error is None


def test_creating_checks_the_callers_arn_and_unknown_queues_are_the_callers(
    queues: Queues,
) -> None:
    queues.queues["orders"] = (A, _grant(B, "sqs:CreateQueue", "Deny"))
    bob = Principal(name="bob", account=B)
    created = _call(queues, "CreateQueue", bob, queue_name="orders")
    # Allowed here (the core refuses the name), checked on B's ARN, A's policy not applied.
    assert created is not None and created.error is None
    assert created.resource == f"arn:aws:sqs:local:{B}:orders"
    missing = _call(queues, "SendMessage", bob, queue_url="nowhere")
    assert missing is not None and missing.resource == f"arn:aws:sqs:local:{B}:nowhere"


def test_list_calls_are_not_scoped_by_the_authorizer(queues: Queues) -> None:
    queues.queues["orders"] = (A, None)
    assert _call(queues, "ListQueues", Principal(name="bob", account=B)) is None


def test_the_platforms_own_principals_pass(queues: Queues) -> None:
    queues.queues["orders"] = (A, None)
    assert _call(queues, "SendMessage", INTERNAL, queue_url="orders") is None


@pytest.fixture
def as_principal() -> Iterator[Any]:
    tokens = []

    def use(principal: Principal | None) -> None:
        tokens.append(current_principal.set(principal))

    yield use
    for token in reversed(tokens):
        current_principal.reset(token)


def test_the_callers_account(as_principal: Any) -> None:
    as_principal(None)
    assert (caller_account(), listing_account()) == (INSTALLATION, None)
    as_principal(INTERNAL)
    assert (caller_account(), listing_account()) == (INSTALLATION, None)
    as_principal(Principal(name="bob", account=B, via="sigv4"))
    assert (caller_account(), listing_account()) == (B, B)


def test_specs_name_their_owner_only_when_it_is_not_the_installation() -> None:
    assert owned_by({"config": {}}, INSTALLATION) == {"config": {}}
    assert owned_by({"config": {}, "account": A}, INSTALLATION) == {"config": {}}
    assert owned_by({"config": {}}, A) == {"config": {}, "account": A}
    assert owner_of({"config": {}}) == INSTALLATION
    assert owner_of({"account": A}) == A


def test_arn_accounts() -> None:
    assert arns.account_of(f"arn:aws:sqs:local:{A}:q") == A
    assert arns.account_of("*") == ""
    assert arns.with_account(f"arn:aws:sqs:local:{A}:q", B) == f"arn:aws:sqs:local:{B}:q"
    assert arns.with_account("*", B) == "*"
    assert arns.queue_arn("q", A) == f"arn:aws:sqs:local:{A}:q"
    assert arns.topic_arn("t") == f"arn:aws:sns:local:{INSTALLATION}:t"


# --- deliveries across accounts -----------------------------------------------------------


def _rule_payload(account: str, **fields: Any) -> Any:
    return Payload(
        "{}", origin="bus", source_arn=f"arn:aws:events:local:{account}:rule/r", **fields
    )


def test_a_rule_reaches_another_accounts_bus_only_through_its_policy() -> None:

    bus = BusDef("inbox", account=A)
    _check_account(bus, _rule_payload(A))  # the bus's own account
    with pytest.raises(TargetUnavailable):  # each account has its own default bus
        _check_account(BusDef("default", account=INSTALLATION), _rule_payload(B))
    _check_account(BusDef(f"{B}.default", account=B), _rule_payload(B))
    _check_account(bus, Payload("{}", origin="delivery"))  # a destination, not a rule
    with pytest.raises(TargetUnavailable) as refused:
        _check_account(bus, _rule_payload(B))
    assert refused.value.code == "AccessDenied"
    granted = BusDef("inbox", account=A, policy=_grant(B, "events:PutEvents"))
    _check_account(granted, _rule_payload(B))
    other = BusDef("inbox", account=A, policy=_grant("333333333333", "events:PutEvents"))
    with pytest.raises(TargetUnavailable):
        _check_account(other, _rule_payload(B))


def test_a_queue_without_a_policy_takes_only_its_own_accounts_deliveries() -> None:

    queue = QueueDef("q", QueueConfig(), incarnation=1, updated_ms=0, tags={}, account=A)
    _check_policy(queue, Payload("{}", origin="topic", source_arn=f"arn:aws:sns:local:{A}:t"))
    _check_policy(queue, Payload("{}", origin="delivery"))
    with pytest.raises(TargetUnavailable) as refused:
        _check_policy(queue, Payload("{}", origin="topic", source_arn=f"arn:aws:sns:local:{B}:t"))
    assert refused.value.code == "AccessDenied"
    with pytest.raises(TargetUnavailable):
        _check_policy(queue, _rule_payload(B))


def test_a_dead_letter_queue_is_of_the_sources_account() -> None:
    dlq = QueueDef("dlq", QueueConfig(), incarnation=1, updated_ms=0, tags={}, account=A)
    target = f"arn:aws:sqs:local:{A}:dlq"
    redrive = {"RedrivePolicy": json.dumps({"deadLetterTargetArn": target, "maxReceiveCount": 3})}
    config = parse_create("src", redrive)
    assert check_config(config, False, {target: dlq}.get, A).redrive_policy is not None
    with pytest.raises(EventplaneError) as refused:
        check_config(config, False, {target: dlq}.get, B)
    assert "owner should be same as the source" in refused.value.message


def test_each_account_puts_events_on_its_own_default_bus() -> None:
    """PutEvents without a bus is checked on the caller's own default bus; a deny in the
    installation's default bus's policy does not reach another account's."""
    installation = f"arn:aws:events:local:{INSTALLATION}:event-bus/default"
    deny_all = json.dumps(
        {
            "Statement": {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "events:PutEvents",
                "Resource": installation,
            }
        }
    )
    policy: dict[str, str | None] = {installation: None}
    buses = ResourcePolicies()
    buses.register(
        "arn:aws:events:",
        lambda arn: policy.get(arn),
        lambda arn: arn.split(":")[4] if arn.endswith("/default") else None,
    )
    rule = rule_for("/eventplane.v1.EventBuses/PutEvents")
    assert rule is not None
    request = events_pb2.PutEventsRequest(entries=[events_pb2.PutEventsRequestEntry()])
    bob, alice = Principal(name="bob", account=B), Principal(name="alice", account=A)
    for who in (bob, alice):
        sent = authorize(who, rule, request, secure=False, resources=buses)
        own = f"arn:aws:events:local:{who.account}:event-bus/default"
        assert sent is not None and sent.error is None and sent.resource == own
    policy[installation] = deny_all
    allowed = authorize(bob, rule, request, secure=False, resources=buses)
    assert allowed is not None and allowed.error is None
    # The installation's default bus named by its ARN: another account's, refused.
    request = events_pb2.PutEventsRequest(
        entries=[events_pb2.PutEventsRequestEntry(event_bus_name=installation)]
    )
    assert "explicit deny" in _denied(authorize(bob, rule, request, secure=False, resources=buses))


def _from_function(account: str) -> Any:
    """A function's destination or dead-letter record (its ARN names the sender)."""
    return Payload(
        "{}", origin="destination", source_arn=f"arn:aws:lambda:local:{account}:function:f"
    )


def test_a_functions_destination_queue_of_another_account_needs_its_policy() -> None:
    queue = QueueDef("q", QueueConfig(), incarnation=1, updated_ms=0, tags={}, account=A)
    _check_policy(queue, _from_function(A))  # the queue's own account
    _check_policy(queue, Payload("{}", origin="destination"))  # no sender named: as before
    with pytest.raises(TargetUnavailable) as refused:
        _check_policy(queue, _from_function(B))
    assert refused.value.code == "AccessDenied"
    granted = QueueDef(
        "q", QueueConfig(policy=_grant(B)), incarnation=1, updated_ms=0, tags={}, account=A
    )
    _check_policy(granted, _from_function(B))
    with pytest.raises(TargetUnavailable):
        _check_policy(granted, _from_function("333333333333"))


def test_a_functions_destination_topic_or_bus_of_another_account_needs_its_policy() -> None:
    topic = TopicDef("t", TopicConfig(), {}, account=A)
    topic_check(topic, _from_function(A))
    with pytest.raises(TargetUnavailable):
        topic_check(topic, _from_function(B))
    topic_check(
        TopicDef("t", TopicConfig(policy=_grant(B, "sns:Publish")), {}, A), _from_function(B)
    )
    bus = BusDef("inbox", account=A)
    with pytest.raises(TargetUnavailable):
        _check_account(bus, _from_function(B))
    _check_account(
        BusDef("inbox", account=A, policy=_grant(B, "events:PutEvents")), _from_function(B)
    )


def test_grants_account() -> None:
    arn = f"arn:aws:sqs:local:{A}:q"
    assert grants_account(_grant(B), B, "sqs:SendMessage", arn)
    assert not grants_account(_grant(B), B, "sqs:DeleteMessage", arn)
    assert not grants_account(_grant(B, effect="Deny"), B, "sqs:SendMessage", arn)
    assert not grants_account(None, B, "sqs:SendMessage", arn)
    assert not grants_account("not json", B, "sqs:SendMessage", arn)
