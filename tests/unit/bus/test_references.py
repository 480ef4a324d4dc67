"""Bus names per account (eventplane.bus.references, eventplane.names): which bus a name or
an ARN reaches from which account, each account's own default bus, buses made before
names were per account, and how a bus's ARN, its rules' and its port show them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from eventplane import names
from eventplane.arn import bus_arn
from eventplane.bus.models import (
    ARCHIVE,
    BUS,
    RULE,
    ArchiveDef,
    BusDef,
    RuleDef,
    bus_reference,
    rule_name_from_arn,
)
from eventplane.bus.port import BusPort
from eventplane.bus.references import Move, is_default, lookup, moves, owner_of, policy_of
from eventplane.delivery.payload import Payload, TargetUnavailable
from eventplane.errors import ValidationException
from eventplane.registry import Resource

HOME = names.home()
A, B = "111111111111", "222222222222"
SOURCE = "aws.states"


class MemoryRegistry:
    def __init__(self) -> None:
        self.resources: dict[tuple[str, str], Resource] = {}

    def get(self, kind: str, name: str) -> Resource | None:
        return self.resources.get((kind, name))

    peek = get

    def put(self, kind: str, name: str, spec: Mapping[str, Any]) -> Resource:
        r = Resource(kind, name, dict(spec), 1, 1, 2)
        self.resources[(kind, name)] = r
        return r


@pytest.fixture
def registry() -> MemoryRegistry:
    r = MemoryRegistry()
    r.put(BUS, "default", BusDef("default").to_spec())
    r.put(BUS, "orders", BusDef("orders").to_spec())
    r.put(BUS, f"{A}.orders", BusDef(f"{A}.orders", account=A).to_spec())
    r.put(BUS, f"{A}.default", BusDef(f"{A}.default", account=A).to_spec())
    # B's bus made while names were unique per installation: kept under its plain name.
    r.put(BUS, "legacy", BusDef("legacy", account=B).to_spec())
    return r


def find(registry: MemoryRegistry, name: str, account: str | None, caller: str) -> str | None:
    return lookup(registry, BUS, name, account, caller)  # type: ignore[arg-type]


def test_a_bare_name_is_the_callers_own(registry: MemoryRegistry) -> None:
    assert find(registry, "orders", None, HOME) == "orders"
    assert find(registry, "orders", None, A) == f"{A}.orders"
    assert find(registry, "orders", None, B) is None  # never another account's


def test_an_arn_is_in_its_account_else_the_installations(registry: MemoryRegistry) -> None:
    assert find(registry, "orders", A, B) == f"{A}.orders"
    assert find(registry, "orders", HOME, A) == "orders"
    # An ARN pasted from AWS (an account with no such bus): the installation's.
    assert find(registry, "orders", "999999999999", HOME) == "orders"


def test_each_account_has_its_own_default_bus(registry: MemoryRegistry) -> None:
    assert find(registry, "default", None, HOME) == "default"
    assert find(registry, "default", None, A) == f"{A}.default"
    # B has not used its default bus yet: none, never the installation's (nor A's).
    assert find(registry, "default", None, B) is None
    assert find(registry, "default", B, B) is None
    assert find(registry, "default", "999999999999", B) is None
    # The installation's callers with an ARN pasted from AWS: the installation's.
    assert find(registry, "default", "999999999999", HOME) == "default"
    assert is_default(f"{B}.default") and is_default("default")
    assert not is_default(f"{B}.orders")


def test_a_bus_made_before_names_were_per_account_stays_its_owners(
    registry: MemoryRegistry,
) -> None:
    assert find(registry, "legacy", None, B) == "legacy"
    assert find(registry, "legacy", B, A) == "legacy"
    assert find(registry, "legacy", None, A) is None


def test_names_of_an_internal_names_shape_reach_nothing(registry: MemoryRegistry) -> None:
    assert find(registry, f"{A}.orders", None, HOME) is None
    assert find(registry, f"{A}.orders", B, B) is None
    assert lookup(registry, ARCHIVE, f"{A}.kept", None, A) is None  # type: ignore[arg-type]
    with pytest.raises(ValidationException) as refused:
        bus_reference(f"{A}.orders", "Name")
    assert refused.value.message.startswith(f"Name '{A}.orders' is not valid")
    with pytest.raises(ValidationException):
        bus_reference(f"arn:aws:events:local:{B}:event-bus/{A}.default")


def test_references_give_the_arns_account() -> None:
    assert bus_reference("") == (None, "default")
    assert bus_reference("orders") == (None, "orders")
    assert bus_reference(f"arn:aws:events:local:{A}:event-bus/team/orders") == (A, "team/orders")
    assert rule_name_from_arn(f"arn:aws:events:local:{A}:rule/orders/r") == (f"{A}.orders", "r")
    assert rule_name_from_arn(f"arn:aws:events:local:{HOME}:rule/r") == ("default", "r")


def test_arns_show_the_plain_name_in_the_owners_account() -> None:
    bus = BusDef(f"{A}.orders", account=A)
    assert (bus.plain, bus.arn) == ("orders", bus_arn("orders", A))
    rule = RuleDef.build(f"{A}.default", "r", '{"source": ["s"]}', None, account=A)
    assert (rule.bus_plain, rule.arn) == ("default", f"arn:aws:events:local:{A}:rule/r")
    rule = RuleDef.build(f"{A}.orders", "r", '{"source": ["s"]}', None, account=A)
    assert rule.arn == f"arn:aws:events:local:{A}:rule/orders/r"


def _from(account: str, origin: str = "workflow") -> Payload:
    source = f"arn:aws:states:local:{account}:stateMachine:m"
    return Payload("{}", origin=origin, source=SOURCE, detail_type="t", source_arn=source)


def test_the_port_writes_to_the_bus_of_the_targets_account(registry: MemoryRegistry) -> None:
    port = BusPort(registry)  # type: ignore[arg-type]
    out = port.record(f"{A}.default", _from(A))
    assert out.topic.endswith(f".bus.{A}.default")
    assert port.record("default", _from(HOME)).topic.endswith(".bus.default")


def test_the_port_never_puts_an_accounts_events_on_the_installations_default_bus(
    registry: MemoryRegistry,
) -> None:
    """B has no default bus yet: B's status events are nobody's, not the installation's."""
    port = BusPort(registry)  # type: ignore[arg-type]
    with pytest.raises(TargetUnavailable) as missing:
        port.record(f"{B}.default", _from(B))
    assert missing.value.message == "Event bus default does not exist"
    # The installation's own sender with an ARN of an unknown account: its default bus.
    assert port.record("999999999999.default", _from(HOME)).topic.endswith(".bus.default")
    with pytest.raises(TargetUnavailable):
        port.record(f"{A}.{B}.default", _from(A))


def test_rules_and_archives_of_other_accounts_move_to_their_own_default_bus() -> None:
    """Made on the default bus while it was every account's: each to its account's own,
    under the same name (and ARN); the installation's and custom buses' stay."""
    pattern = '{"source": ["s"]}'
    rules = [
        RuleDef.build("default", "b", pattern, None, account=B),
        RuleDef.build("default", "mine", pattern, None),
        RuleDef.build("legacy", "c", pattern, None, account=B),
        RuleDef.build(f"{A}.default", "a", pattern, None, account=A),
    ]
    found = [Resource(RULE, r.key, r.to_spec(), 1, 1, 2) for r in rules]
    [move] = moves(RULE, found)
    assert (move.old, move.new, move.bus, move.account) == (
        "default:b",
        f"{B}.default:b",
        f"{B}.default",
        B,
    )
    moved = RuleDef.from_resource(Resource(RULE, move.new, move.spec, 1, 1, 2))
    assert (moved.key, moved.arn, moved.event_pattern) == (
        f"{B}.default:b",
        rules[0].arn,
        pattern,
    )
    archives = [ArchiveDef.build("kept", "default", account=B), ArchiveDef.build("own", "default")]
    found = [Resource(ARCHIVE, a.name, a.to_spec(), 1, 1, 2) for a in archives]
    assert moves(ARCHIVE, found) == [
        Move(
            ARCHIVE,
            "kept",
            "kept",
            {**archives[0].to_spec(), "bus": f"{B}.default"},
            f"{B}.default",
            B,
        )
    ]


def test_authorization_finds_the_owner_and_policy_in_the_arns_account(
    registry: MemoryRegistry,
) -> None:
    policy = '{"Statement": []}'
    registry.put(BUS, f"{A}.orders", BusDef(f"{A}.orders", account=A, policy=policy).to_spec())
    reg: Any = registry
    assert owner_of(reg, bus_arn("orders", A)) == A
    assert policy_of(reg, bus_arn("orders", A)) == policy
    assert owner_of(reg, bus_arn("orders", HOME)) == HOME
    assert policy_of(reg, bus_arn("orders", HOME)) is None
    assert owner_of(reg, bus_arn("default", A)) == A
    # B's default bus, not used yet: no owner (the caller's own new resource), and never
    # the installation's.
    assert owner_of(reg, bus_arn("default", B)) is None
    assert owner_of(reg, f"arn:aws:events:local:{B}:rule/r") is None
    # A rule to be on a bus is the bus's; B's bus made before names were per account.
    assert owner_of(reg, f"arn:aws:events:local:{A}:rule/orders/r") == A
    assert owner_of(reg, bus_arn("legacy", B)) == B
    assert owner_of(reg, bus_arn(f"{A}.orders", B)) is None
    registry.put(
        ARCHIVE, f"{A}.kept", ArchiveDef.build(f"{A}.kept", "default", account=A).to_spec()
    )
    assert owner_of(reg, f"arn:aws:events:local:{A}:archive/kept") == A
    assert owner_of(reg, f"arn:aws:events:local:{B}:archive/kept") is None
