"""Resource policies (a queue's Policy): principals, and how they combine with identity
policies: explicit deny in either wins, else an allow in either, else denied."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eventplane.errors.security import AccessDeniedException, MalformedPolicyDocument
from eventplane.security.actions import Rule, rule_for
from eventplane.security.authorize import authorize
from eventplane.security.policy import Decision, PolicySet, parse_policy
from eventplane.security.resource_policy import (
    ResourcePolicies,
    combine,
    parse_resource_policy,
)
from eventplane.security.tokens import Principal

QUEUE = "arn:aws:sqs:local:000000000000:orders"
OTHER = "arn:aws:sqs:local:000000000000:payments"


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_principal_forms() -> None:
    policy = parse_resource_policy(
        _doc(
            {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sqs:SendMessage"},
            {
                "Effect": "Allow",
                "Principal": {"AWS": ["arn:aws:iam::444455556666:user/ci"]},
                "Action": "sqs:ReceiveMessage",
                "Resource": QUEUE,
            },
            {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:*"},
        )
    )
    assert policy.evaluate("anyone", "111122223333", "sqs:SendMessage", QUEUE) is Decision.ALLOW
    assert policy.evaluate("ci", "444455556666", "sqs:ReceiveMessage", QUEUE) is Decision.ALLOW
    assert (
        policy.evaluate("bob", "444455556666", "sqs:ReceiveMessage", QUEUE)
        is Decision.IMPLICIT_DENY
    )
    assert (
        policy.evaluate("ci", "444455556666", "sqs:ReceiveMessage", OTHER) is Decision.IMPLICIT_DENY
    )
    assert policy.evaluate("", "", "sqs:SendMessage", QUEUE, service="sns.amazonaws.com") is (
        Decision.ALLOW
    )
    assert policy.evaluate("x", "999999999999", "sqs:SendMessage", QUEUE) is Decision.IMPLICIT_DENY


def test_not_principal_and_star() -> None:
    policy = parse_resource_policy(
        _doc(
            {"Effect": "Allow", "Principal": "*", "Action": "sqs:*"},
            {
                "Effect": "Deny",
                "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "sqs:DeleteQueue",
            },
        )
    )
    assert policy.evaluate("a", "111122223333", "sqs:DeleteQueue", QUEUE) is Decision.ALLOW
    assert policy.evaluate("a", "222233334444", "sqs:DeleteQueue", QUEUE) is (
        Decision.EXPLICIT_DENY
    )


@pytest.mark.parametrize(
    ("statement", "fragment"),
    [
        ({"Effect": "Allow", "Action": "sqs:*"}, "exactly one of Principal or NotPrincipal"),
        ({"Effect": "Allow", "Principal": {"AWS": "bob"}, "Action": "sqs:*"}, "invalid principal"),
        ({"Effect": "Allow", "Principal": {"Federated": "x"}, "Action": "sqs:*"}, "Federated"),
        ({"Effect": "Allow", "Principal": "*", "Action": "send"}, "service:action"),
        ({"Effect": "Maybe", "Principal": "*", "Action": "sqs:*"}, "Effect"),
    ],
)
def test_malformed_documents_name_the_statement(statement: dict[str, Any], fragment: str) -> None:
    with pytest.raises(MalformedPolicyDocument, match="Statement\\[0\\]") as info:
        parse_resource_policy(_doc(statement))
    assert fragment in info.value.message


def test_empty_documents_have_no_effect() -> None:
    assert parse_resource_policy("{}").statements == ()
    assert parse_resource_policy('{"Version": "2012-10-17", "Statement": []}').statements == ()


@pytest.mark.parametrize(
    ("identity", "resource", "expected"),
    [
        (None, None, Decision.ALLOW),
        (None, Decision.IMPLICIT_DENY, Decision.ALLOW),
        (None, Decision.EXPLICIT_DENY, Decision.EXPLICIT_DENY),
        (Decision.IMPLICIT_DENY, Decision.ALLOW, Decision.ALLOW),
        (Decision.ALLOW, Decision.IMPLICIT_DENY, Decision.ALLOW),
        (Decision.ALLOW, Decision.EXPLICIT_DENY, Decision.EXPLICIT_DENY),
        (Decision.EXPLICIT_DENY, Decision.ALLOW, Decision.EXPLICIT_DENY),
        (Decision.IMPLICIT_DENY, None, Decision.IMPLICIT_DENY),
    ],
)
def test_combine(identity: Decision | None, resource: Decision | None, expected: Decision) -> None:
    assert combine(identity, resource) is expected


class _Req:
    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url


def _resources(policy: str | None) -> ResourcePolicies:
    resources = ResourcePolicies()
    resources.register("arn:aws:sqs:", lambda arn: policy if arn == QUEUE else None)
    return resources


def test_authorize_applies_a_queues_policy_to_every_principal() -> None:
    rule = rule_for("/eventplane.v1.Queues/SendMessage")
    assert rule is not None
    deny_ci = _doc(
        {
            "Effect": "Deny",
            "Principal": {"AWS": "arn:aws:iam::000000000000:user/ci"},
            "Action": "sqs:SendMessage",
        }
    )
    unrestricted = Principal(name="ci", via="token")
    outcome = authorize(
        unrestricted, rule, _Req("orders"), secure=False, resources=_resources(deny_ci)
    )
    assert outcome is not None and isinstance(outcome.error, AccessDeniedException)
    assert outcome.error.message.endswith("with an explicit deny in a resource-based policy")
    # Other queues and other principals are untouched.
    assert (
        authorize(
            unrestricted, rule, _Req("payments"), secure=False, resources=_resources(deny_ci)
        ).error
        is None
    )  # type: ignore[union-attr]
    admin = Principal(name="admin", via="token")
    assert (
        authorize(admin, rule, _Req("orders"), secure=False, resources=_resources(deny_ci)).error
        is None
    )  # type: ignore[union-attr]


def test_a_queue_policy_grants_what_identity_policies_do_not() -> None:
    rule = rule_for("/eventplane.v1.Queues/ReceiveMessage")
    assert rule is not None
    nothing = PolicySet(
        [parse_policy({"Statement": [{"Effect": "Deny", "Action": "sns:*", "Resource": "*"}]})]
    )
    reader = Principal(name="reader", via="token", policies=nothing)
    grant = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::000000000000:user/reader"},
            "Action": "sqs:ReceiveMessage",
        }
    )
    assert (
        authorize(reader, rule, _Req("orders"), secure=False, resources=_resources(grant)) is None
    )
    denied = authorize(reader, rule, _Req("orders"), secure=False, resources=_resources(None))
    assert denied is not None and denied.error is not None
    assert "because no identity-based policy allows" in denied.error.message


def test_a_queue_policy_requiring_tls_sees_how_an_unrestricted_caller_came() -> None:
    # The interceptor asks the transport only when a policy with conditions takes part;
    # a principal without identity policies used to be taken as plaintext here.
    rule = rule_for("/eventplane.v1.Queues/SendMessage")
    assert rule is not None
    tls_only = _doc(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )
    admin = Principal(name="admin", via="token")
    over_tls = authorize(
        admin, rule, _Req("orders"), secure=lambda: True, resources=_resources(tls_only)
    )
    assert over_tls is not None and over_tls.error is None  # allowed (and audited)
    in_clear = authorize(
        admin, rule, _Req("orders"), secure=lambda: False, resources=_resources(tls_only)
    )
    assert in_clear is not None and isinstance(in_clear.error, AccessDeniedException)


def test_the_transport_is_not_asked_when_no_condition_can_look() -> None:
    rule = rule_for("/eventplane.v1.Queues/SendMessage")
    assert rule is not None
    plain = PolicySet(
        [parse_policy({"Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]})]
    )
    asked: list[int] = []

    def secure() -> bool:
        asked.append(1)
        return True

    ci = Principal(name="ci", via="token", policies=plain)
    assert (
        authorize(ci, rule, _Req("orders"), secure=secure, resources=_resources(None)) is not None
    )
    assert asked == []


class _Capability:
    """A capability's owner and policy lookups over a dict, counting what they read, with
    a version that changes as its resources do (as Registry.version)."""

    def __init__(self) -> None:
        self.owners: dict[str, str] = {}
        self.policies: dict[str, str] = {}
        self.changes = 0
        self.reads = 0

    def owner(self, arn: str) -> str | None:
        self.reads += 1
        return self.owners.get(arn)

    def policy(self, arn: str) -> str | None:
        self.reads += 1
        return self.policies.get(arn)

    def version(self) -> int:
        return self.changes

    def set(self, arn: str, owner: str, policy: str | None = None) -> None:
        self.owners[arn] = owner
        if policy is None:
            self.policies.pop(arn, None)
        else:
            self.policies[arn] = policy
        self.changes += 1


def _grant(account: str) -> str:
    return json.dumps(
        {
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": account}, "Action": "sqs:SendMessage"}
            ]
        }
    )


OWNED = "arn:aws:sqs:local:111111111111:orders"


def test_an_existing_resources_owner_and_policy_are_read_once_per_version() -> None:
    cap = _Capability()
    cap.set(OWNED, "111111111111", _grant("222222222222"))
    resources = ResourcePolicies()
    resources.register("arn:aws:sqs:", cap.policy, cap.owner, version=cap.version)

    for _ in range(3):
        assert resources.owner(OWNED) == (True, "111111111111")
        found = resources.find(OWNED)
        assert found is not None
    assert cap.reads == 2  # one owner and one policy read, then the remembered answers

    # The policy removed (the version moves): the next call reads it again and sees it gone.
    cap.set(OWNED, "111111111111", None)
    assert resources.owner(OWNED) == (True, "111111111111")
    assert resources.find(OWNED) is None
    assert cap.reads == 4


def test_a_missing_resource_is_looked_up_every_time() -> None:
    """A miss is never remembered: a resource created through another replica (whose
    lookups catch up with the registry) is found on the next call."""
    cap = _Capability()
    resources = ResourcePolicies()
    resources.register("arn:aws:sqs:", cap.policy, cap.owner, version=cap.version)
    assert resources.owner(OWNED) == (True, None)
    assert resources.owner(OWNED) == (True, None)
    assert cap.reads == 2
    cap.owners[OWNED] = "111111111111"  # no version change: the lookup itself finds it
    assert resources.owner(OWNED) == (True, "111111111111")


def test_answers_are_not_remembered_without_a_version_or_an_account() -> None:
    cap = _Capability()
    cap.set(OWNED, "111111111111")
    unversioned = ResourcePolicies()
    unversioned.register("arn:aws:sqs:", cap.policy, cap.owner)
    for _ in range(2):
        unversioned.owner(OWNED)
    assert cap.reads == 2

    bare = "arn:aws:sqs:local::orders"  # whose depends on the caller
    cap.set(bare, "111111111111")
    versioned = ResourcePolicies()
    versioned.register("arn:aws:sqs:", cap.policy, cap.owner, version=cap.version)
    cap.reads = 0
    for _ in range(2):
        assert versioned.owner(bare) == (True, "111111111111")
    assert cap.reads == 2  # the owner read afresh each time


def test_a_changed_grant_decides_the_next_call() -> None:
    """End to end through authorize: another account's send allowed by the queue's policy,
    then denied as soon as the policy no longer names it."""
    rule = rule_for("/eventplane.v1.Queues/SendMessage")
    assert rule is not None
    cap = _Capability()
    cap.set(OWNED, "111111111111", _grant("222222222222"))
    resources = ResourcePolicies()
    resources.register("arn:aws:sqs:", cap.policy, cap.owner, version=cap.version)
    other = Principal(name="b", account="222222222222", via="token")
    url = "http://localhost/111111111111/orders"
    for _ in range(2):
        allowed = authorize(other, rule, _Req(url), secure=True, resources=resources)
        assert allowed is not None and allowed.error is None
    cap.set(OWNED, "111111111111", _grant("333333333333"))
    denied = authorize(other, rule, _Req(url), secure=True, resources=resources)
    assert denied is not None and denied.error is not None


def _sender(account: str, effect: str = "Allow") -> Principal:
    statement = {"Effect": effect, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:*:*:*"}
    return Principal(
        name="app",
        account=account,
        via="token",
        policies=PolicySet([parse_policy({"Statement": [statement]})]),
    )


def _owned_queue() -> tuple[Rule, _Capability, ResourcePolicies]:
    """SendMessage's rule, and a queue of account 111111111111 with no policy."""
    rule = rule_for("/eventplane.v1.Queues/SendMessage")
    assert rule is not None
    cap = _Capability()
    cap.set(OWNED, "111111111111")
    resources = ResourcePolicies()
    resources.register("arn:aws:sqs:", cap.policy, cap.owner, version=cap.version)
    return rule, cap, resources


def test_a_repeat_call_is_decided_once_until_its_resource_changes() -> None:
    rule, cap, resources = _owned_queue()
    app = _sender("111111111111")
    assert app.policies is not None
    url = "http://localhost/111111111111/orders"

    def send() -> Any:
        return authorize(app, rule, _Req(url), secure=True, resources=resources)

    for _ in range(4):
        allowed = send()
        assert allowed is not None and allowed.error is None
    assert len(app.policies.calls) == 1  # remembered after the owner was known
    reads = cap.reads
    send()
    assert cap.reads == reads  # the remembered decision: no lookup at all

    # The queue gets a policy that denies the sender: the next call is decided afresh.
    deny = {"Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage"}
    cap.set(OWNED, "111111111111", _doc(deny))
    denied = send()
    assert denied is not None and isinstance(denied.error, AccessDeniedException)

    # Then it passes to another account: the sender's own policy no longer suffices.
    cap.set(OWNED, "222222222222")
    assert send() is not None and send().error is not None  # type: ignore[union-attr]


def test_denials_are_never_remembered() -> None:
    rule, _, resources = _owned_queue()
    app = _sender("111111111111", effect="Deny")
    assert app.policies is not None
    for _ in range(3):
        out = authorize(
            app,
            rule,
            _Req("http://localhost/111111111111/orders"),
            secure=True,
            resources=resources,
        )
        assert out is not None and isinstance(out.error, AccessDeniedException)
    assert app.policies.calls == {}
