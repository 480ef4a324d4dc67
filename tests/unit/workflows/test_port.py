"""A state machine as a delivery target: the port writes StartExecution's inbox record."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eventplane import arn
from eventplane.delivery import Payload, Router, TargetUnavailable
from eventplane.kafka import naming
from eventplane.registry import Resource
from eventplane.workflows import records
from eventplane.workflows.model import Start

DEFINITION = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


class _Registry:
    def __init__(self) -> None:
        self.resources: dict[tuple[str, str], Resource] = {}

    def put(self, kind: str, name: str, spec: dict[str, Any]) -> None:
        self.resources[(kind, name)] = Resource(kind, name, spec, 1, 1, 1)

    def get(self, kind: str, name: str) -> Resource | None:
        return self.resources.get((kind, name))


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
