"""Accounts for state machines and activities: whose a Step Functions ARN is, the ARNs
built in the owner's account, the role a task acts as and what it may start, and the
Performer's credentials for that role."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, cast

import pytest

from eventplane import arn as arn_mod
from eventplane.errors import EventplaneError
from eventplane.registry import Registry, Resource
from eventplane.security.interceptor import current_principal
from eventplane.security.roles import role_of
from eventplane.security.tokens import Principal
from eventplane.workflows import arns
from eventplane.workflows.accounts import (
    ACTIVITY,
    MACHINE,
    Owners,
    acting_role,
    caller_role,
    check_child,
    check_role,
    mine,
    owned,
    owned_machine,
)
from eventplane.workflows.perform import Performer

A, B = "111111111111", "222222222222"
INSTALLATION = arn_mod.DEFAULT_ACCOUNT


class FakeRegistry:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], Resource] = {}

    def put(self, kind: str, name: str, spec: dict[str, Any]) -> None:
        self.records[kind, name] = Resource(kind, name, spec, 1, 0, 0)

    def get(self, kind: str, name: str) -> Resource | None:
        return self.records.get((kind, name))

    peek = get


@pytest.fixture
def owners() -> Iterator[tuple[FakeRegistry, Owners]]:
    registry = FakeRegistry()
    owners = Owners(cast(Registry, registry))
    registry.put(MACHINE, "mine", {"definition": "{}"})  # before accounts: the installation's
    registry.put(MACHINE, "orders", {"definition": "{}", "account": A})
    registry.put(MACHINE, "roled", {"roleArn": f"arn:aws:iam::{A}:role/r", "account": A})
    registry.put(ACTIVITY, "approve", {"account": B})
    arns.use(owners.of_kind)
    try:
        yield registry, owners
    finally:
        arns.use(lambda kind, name, peek=False: None)


def _as(account: str) -> Any:
    return current_principal.set(Principal(name="p", account=account))


def test_arns_carry_the_owners_account(owners: tuple[FakeRegistry, Owners]) -> None:
    assert arns.state_machine_arn("orders") == f"arn:aws:states:local:{A}:stateMachine:orders"
    assert arns.execution_arn("orders", "r") == f"arn:aws:states:local:{A}:execution:orders:r"
    assert arns.version_arn("orders", 2).endswith(f":{A}:stateMachine:orders:2")
    assert arns.activity_arn("approve") == f"arn:aws:states:local:{B}:activity:approve"
    # A Distributed Map's children run the item processor "machine/label": its machine's.
    assert arns.execution_arn("orders/Map", "c") == (
        f"arn:aws:states:local:{A}:execution:orders/Map:c"
    )
    # No account in the spec, or no such machine: the installation's, as before.
    assert f":{INSTALLATION}:stateMachine:mine" in arns.state_machine_arn("mine")
    assert f":{INSTALLATION}:stateMachine:gone" in arns.state_machine_arn("gone")


def test_the_owner_of_each_kind_of_arn(owners: tuple[FakeRegistry, Owners]) -> None:
    _, o = owners
    base = "arn:aws:states:local:999999999999:"  # the account in the ARN is not the answer
    assert o.of_arn(base + "stateMachine:orders") == A
    assert o.of_arn(base + "stateMachine:orders:3") == A
    assert o.of_arn(base + "stateMachine:orders:live") == A
    assert o.of_arn(base + "execution:orders:run") == A
    assert o.of_arn(base + "express:orders:run") == A
    assert o.of_arn(base + "mapRun:orders/Map:abc") == A
    assert o.of_arn(base + "activity:approve") == B
    assert o.of_arn(base + "stateMachine:mine") == INSTALLATION
    assert o.of_arn(base + "stateMachine:gone") is None
    # A deleted machine's execution stays its ARN's account's.
    assert o.of_arn(f"arn:aws:states:local:{A}:execution:gone:run") == A


def test_a_task_acts_as_its_machines_role(owners: tuple[FakeRegistry, Owners]) -> None:
    _, o = owners
    assert o.role_of(f"arn:aws:states:local:{INSTALLATION}:execution:mine:r") is None
    assert o.role_of(f"arn:aws:states:local:{A}:execution:orders:r") == (
        f"arn:aws:iam::{A}:role/eventplane"
    )
    assert o.role_of(f"arn:aws:states:local:{A}:express:roled:r") == f"arn:aws:iam::{A}:role/r"
    assert o.role_of(f"arn:aws:states:local:{A}:execution:roled/Map:c") == (
        f"arn:aws:iam::{A}:role/r"
    )
    assert o.of_arn(f"arn:aws:states:local:{A}:execution:orders/Map:c") == A
    assert o.role_of("not:an:arn") is None
    assert o.role_of(f"arn:aws:states:local:{B}:execution:gone:r") == (
        f"arn:aws:iam::{B}:role/eventplane"
    )


def test_a_role_of_another_account_is_refused() -> None:
    assert check_role(f"arn:aws:iam::{A}:role/r", A) == f"arn:aws:iam::{A}:role/r"
    assert check_role("", A) == ""
    with pytest.raises(EventplaneError) as info:
        check_role(f"arn:aws:iam::{B}:role/r", A)
    assert info.value.code == "InvalidArn"
    reset = _as(A)
    try:
        assert owned_machine({"roleArn": ""})["account"] == A
        with pytest.raises(EventplaneError):
            owned_machine({"roleArn": f"arn:aws:iam::{B}:role/r"})
        assert caller_role("") == f"arn:aws:iam::{A}:role/eventplane"
    finally:
        current_principal.reset(reset)
    assert caller_role("") is None  # no caller: the platform acts, as before
    assert "account" not in owned({"tags": {}})


def test_list_calls_show_the_callers_records(owners: tuple[FakeRegistry, Owners]) -> None:
    registry, _ = owners
    found = list(registry.records.values())
    reset = _as(A)
    try:
        assert sorted(r.name for r in mine(found)) == ["orders", "roled"]
    finally:
        current_principal.reset(reset)
    assert len(mine(found)) == len(found)  # the platform sees every account's


def test_a_task_starts_its_own_accounts_machines_only(
    owners: tuple[FakeRegistry, Owners],
) -> None:
    orders = f"arn:aws:states:local:{A}:stateMachine:orders"
    with acting_role(f"arn:aws:iam::{A}:role/eventplane"):
        check_child(orders)
        check_child(orders + ":live")
        with pytest.raises(EventplaneError) as info:
            check_child(f"arn:aws:states:local:{INSTALLATION}:stateMachine:mine")
    assert info.value.code == "AccessDeniedException"
    with acting_role(f"arn:aws:iam::{B}:role/eventplane"), pytest.raises(EventplaneError) as info:
        check_child(orders)
    assert f"on resource: {orders} because no resource-based policy" in info.value.message
    with pytest.raises(EventplaneError):
        check_child(orders)  # the platform's own principal acts for the installation only
    check_child(f"arn:aws:states:local:{INSTALLATION}:stateMachine:mine")


def test_the_performer_acts_as_the_role() -> None:
    performer = Performer("127.0.0.1:1", "internal-token", "cluster-secret")
    assert performer._credentials() == "internal-token"
    role = f"arn:aws:iam::{A}:role/eventplane"
    with acting_role(role):
        token = performer._credentials()
        assert token is not None and role_of("cluster-secret", token) == role
    without = Performer("127.0.0.1:1", "internal-token", "")
    with acting_role(role):
        out = asyncio.run(without.perform("arn:aws:states:::sqs:sendMessage", {}, False))
    assert (out.ok, out.error) == (False, "States.TaskFailed")
    assert "EVENTPLANE_RECEIPT_SECRET" in (out.cause or "")


def test_names_are_per_account(owners: tuple[FakeRegistry, Owners]) -> None:
    """A's and B's ``shop`` are two records (B's under ``B.shop``); an ARN names its
    account's; a record made before names were per account keeps its plain name."""
    registry, o = owners
    registry.put(MACHINE, f"{A}.shop", {"definition": "{}", "account": A})
    registry.put(MACHINE, f"{B}.shop", {"definition": "{}", "account": B})
    registry.put(ACTIVITY, f"{A}.approve", {"account": A})
    sm = "arn:aws:states:local:{}:stateMachine:shop"
    assert arns.parse_state_machine_arn(sm.format(A)) == f"{A}.shop"
    assert arns.parse_qualified_arn(sm.format(B) + ":live") == (f"{B}.shop", "live")
    assert arns.parse_execution_arn(f"arn:aws:states:local:{B}:execution:shop/Map:c") == (
        f"{B}.shop/Map",
        "c",
    )
    assert arns.state_machine_arn(f"{B}.shop") == sm.format(B)
    assert arns.execution_arn(f"{A}.shop/Map", "c", True) == (
        f"arn:aws:states:local:{A}:express:shop/Map:c"
    )
    assert arns.plain(f"{A}.shop") == "shop"
    assert o.of_arn(sm.format(B)) == B and o.of_arn(sm.format(A) + ":1") == A
    # Activities alike: A's approve is new, B's (made before) keeps its plain name.
    assert arns.parse_activity_arn(f"arn:aws:states:local:{A}:activity:approve") == f"{A}.approve"
    assert arns.parse_activity_arn(f"arn:aws:states:local:{B}:activity:approve") == "approve"
    assert o.of_arn(f"arn:aws:states:local:{A}:activity:approve") == A
    assert o.of_arn(f"arn:aws:states:local:{B}:activity:approve") == B
    # A's machine made before names were per account: its ARNs still reach it.
    assert arns.parse_state_machine_arn(f"arn:aws:states:local:{A}:stateMachine:orders") == "orders"
    # No such machine in the ARN's account: its internal name there (the installation's
    # of that name for ARNs pasted from AWS, when there is one).
    assert arns.parse_state_machine_arn(sm.format("333333333333")) == "333333333333.shop"
    assert (
        arns.parse_state_machine_arn("arn:aws:states:eu-west-1:999999999999:stateMachine:mine")
        == "mine"
    )
    # No account (a bare name): the caller's, including its records made before.
    bare = "arn:aws:states:local::stateMachine:{}"
    reset = _as(B)
    try:
        assert arns.parse_state_machine_arn(bare.format("shop")) == f"{B}.shop"
        assert arns.parse_state_machine_arn(bare.format("orders")) == f"{B}.orders"
    finally:
        current_principal.reset(reset)
    reset = _as(A)
    try:
        assert arns.parse_state_machine_arn(bare.format("orders")) == "orders"
    finally:
        current_principal.reset(reset)
    assert arns.parse_state_machine_arn(bare.format("mine")) == "mine"  # the platform's


def test_a_new_name_may_not_look_like_another_accounts() -> None:
    assert arns.check_resource_name("orders.v2") == "orders.v2"
    with pytest.raises(EventplaneError) as info:
        arns.check_resource_name(f"{A}.orders")
    assert info.value.code == "InvalidName"


class CountingRegistry(FakeRegistry):
    """Counts the lookups that would catch up with Kafka on a miss (``peek`` does not)."""

    def __init__(self) -> None:
        super().__init__()
        self.gets: list[str] = []

    def get(self, kind: str, name: str) -> Resource | None:
        self.gets.append(name)
        return super().get(kind, name)


def test_an_arn_pasted_from_aws_is_found_in_the_view() -> None:
    registry = CountingRegistry()
    registry.put(MACHINE, "mine", {"definition": "{}"})
    arns.use(Owners(cast(Registry, registry)).of_kind)
    try:
        pasted = "arn:aws:states:eu-west-1:999999999999:stateMachine:mine"
        assert arns.parse_state_machine_arn(pasted) == "mine"
        assert registry.gets == []  # no miss of 999999999999.mine asked of Kafka
    finally:
        arns.use(lambda kind, name, peek=False: None)
