"""A state machine as a delivery target: the port writes StartExecution's inbox record."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest

from eventplane import arn
from eventplane.delivery import Payload, Router, TargetUnavailable
from eventplane.kafka import naming
from eventplane.registry import Registry, Resource
from eventplane.workflows import records
from eventplane.workflows.model import Start
from eventplane.workflows.port import StateMachinePort

DEFINITION = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


class _Registry:
    def __init__(self) -> None:
        self.resources: dict[tuple[str, str], Resource] = {}

    def put(self, kind: str, name: str, spec: dict[str, Any]) -> None:
        self.resources[(kind, name)] = Resource(kind, name, spec, 1, 1, 1)

    def get(self, kind: str, name: str) -> Resource | None:
        return self.resources.get((kind, name))

    peek = get


@pytest.fixture
def router() -> Router:
    registry = _Registry()
    registry.put("statemachine", "orders", {"definition": DEFINITION, "type": "STANDARD"})
    registry.put("statemachine", "fast", {"definition": DEFINITION, "type": "EXPRESS"})
    return Router(registry)  # type: ignore[arg-type]


def test_the_record_starts_an_execution_with_the_body_as_input(router: Router) -> None:
    out = router.record(arn.state_machine_arn("orders"), Payload('{"id": "e-1"}'))
    assert out.topic == naming.WF_INBOX
    rec = records.decode_inbox(out.value, out.headers)
    assert isinstance(rec.inbox, Start) and rec.inbox.input == '{"id": "e-1"}'
    assert rec.state_machine_arn == arn.state_machine_arn("orders")
    assert rec.definition == DEFINITION
    prefix = "arn:aws:states:local:000000000000:execution:orders:"
    assert rec.execution_arn.startswith(prefix) and out.key == rec.execution_arn
    again = records.decode_inbox(
        *_value_headers(router.record(rec.state_machine_arn, Payload("{}")))
    )
    assert again.execution_arn != rec.execution_arn  # each delivery: a new generated name


def _value_headers(out: Any) -> tuple[bytes, Any]:
    return out.value, out.headers


@pytest.mark.parametrize(
    ("machine", "body", "code"),
    [
        ("missing", "{}", "StateMachineDoesNotExist"),
        ("fast", "{}", "InvalidParameter"),
        ("orders", "not json", "InvalidExecutionInput"),
        ("orders", json.dumps("x" * 300_000), "InvalidExecutionInput"),
    ],
)
def test_what_cannot_start_is_unavailable(
    router: Router, machine: str, body: str, code: str
) -> None:
    with pytest.raises(TargetUnavailable) as caught:
        router.record(arn.state_machine_arn(machine), Payload(body))
    assert caught.value.code == code


A, B = "111111111111", "222222222222"
HOME = arn.DEFAULT_ACCOUNT


class _Accounts:
    """Machines of two accounts; counts the lookups that would catch up with Kafka."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], Resource] = {}
        self.gets: list[str] = []

    def put(self, name: str, spec: dict[str, Any]) -> None:
        self.records["statemachine", name] = Resource("statemachine", name, spec, 1, 0, 0)

    def peek(self, kind: str, name: str) -> Resource | None:
        return self.records.get((kind, name))

    def get(self, kind: str, name: str) -> Resource | None:
        self.gets.append(name)
        return self.records.get((kind, name))


def _execution(port: StateMachinePort, target: str, sender: str) -> str:
    found = arn.target(target)
    assert found is not None
    rule = f"arn:aws:events:local:{sender}:rule/r"
    out = port.record(found.endpoint, Payload("{}", source_arn=rule))
    assert out.key is not None
    return out.key


def test_a_rule_starts_its_accounts_machine_of_a_shared_name() -> None:
    registry = _Accounts()
    registry.put("orders", {"definition": DEFINITION})  # the installation's
    registry.put(f"{A}.orders", {"definition": DEFINITION, "account": A})
    registry.put("legacy", {"definition": DEFINITION, "account": B})  # made before: plain key
    port = StateMachinePort(cast(Registry, registry))
    mine = _execution(port, f"arn:aws:states:local:{A}:stateMachine:orders", A)
    assert mine.startswith(f"arn:aws:states:local:{A}:execution:orders:")
    theirs = _execution(port, f"arn:aws:states:local:{HOME}:stateMachine:orders", HOME)
    assert theirs.startswith(f"arn:aws:states:local:{HOME}:execution:orders:")
    old = _execution(port, f"arn:aws:states:local:{B}:stateMachine:legacy", B)
    assert old.startswith(f"arn:aws:states:local:{B}:execution:legacy:")
    # An ARN pasted from AWS reaches the installation's, from the view (no catch-up).
    pasted = _execution(port, "arn:aws:states:us-east-1:999999999999:stateMachine:orders", HOME)
    assert pasted.startswith(f"arn:aws:states:local:{HOME}:execution:orders:")
    assert registry.gets == []
    # B has no orders: its ARN falls back to the installation's (as a pasted one), which
    # takes no deliveries from B's rules; a name nobody holds does not exist in B.
    with pytest.raises(TargetUnavailable) as info:
        _execution(port, f"arn:aws:states:local:{B}:stateMachine:orders", B)
    assert info.value.code == "AccessDenied"
    with pytest.raises(TargetUnavailable) as info:
        _execution(port, f"arn:aws:states:local:{B}:stateMachine:nothing", B)
    assert info.value.code == "StateMachineDoesNotExist"
    assert f"'arn:aws:states:local:{B}:stateMachine:nothing'" in str(info.value)
