"""Result types of ``client.workflows`` and their conversion from the wire."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eventplane._gen.v1 import workflows_pb2 as pb


@dataclass(frozen=True)
class StateMachine:
    """A state machine (``describe_state_machine``); times are epoch milliseconds."""

    state_machine_arn: str
    name: str
    status: str
    definition: str
    role_arn: str
    type: str
    creation_date: int
    update_date: int
    revision_id: str


@dataclass(frozen=True)
class StateMachineListItem:
    """One ``list_state_machines`` entry: what AWS's ListStateMachines returns (no
    definition; ``describe_state_machine`` has it)."""

    state_machine_arn: str
    name: str
    type: str
    creation_date: int

    @classmethod
    def from_pb(cls, m: pb.StateMachineListItem) -> StateMachineListItem:
        return cls(m.state_machine_arn, m.name, m.type, m.creation_date)


@dataclass(frozen=True)
class Execution:
    """An execution. ``output`` is JSON text once it succeeded; ``error``/``cause`` once
    it failed, timed out or was aborted. ``list_executions`` leaves input/output empty."""

    execution_arn: str
    state_machine_arn: str
    name: str
    status: str
    start_date: int
    stop_date: int | None
    input: str
    output: str | None
    error: str | None
    cause: str | None
    state_transitions: int

    def json(self) -> Any:
        """The output parsed as JSON (None while there is none)."""
        return json.loads(self.output) if self.output is not None else None


@dataclass(frozen=True)
class Diagnostic:
    severity: str
    code: str
    message: str
    location: str


@dataclass(frozen=True)
class ValidationResult:
    """``OK`` or ``FAIL`` and every diagnostic, as ValidateStateMachineDefinition."""

    result: str
    diagnostics: list[Diagnostic]


def json_text(value: Any, field: str) -> str:
    """Text is sent as is (it should be JSON); anything else as ``json.dumps`` of it."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{field} is not JSON-serializable: {exc}") from None


def machine(m: pb.StateMachine) -> StateMachine:
    return StateMachine(
        m.state_machine_arn,
        m.name,
        m.status,
        m.definition,
        m.role_arn,
        m.type,
        m.creation_date,
        m.update_date,
        m.revision_id,
    )


def execution(e: pb.Execution) -> Execution:
    return Execution(
        e.execution_arn,
        e.state_machine_arn,
        e.name,
        e.status,
        e.start_date,
        e.stop_date or None,
        e.input,
        e.output if e.HasField("output") else None,
        e.error if e.HasField("error") else None,
        e.cause if e.HasField("cause") else None,
        e.state_transitions,
    )


def history_event(e: pb.HistoryEvent) -> dict[str, Any]:
    """An event as boto3's get_execution_history shows it (details under their AWS key)."""
    out: dict[str, Any] = {
        "id": e.id,
        "previousEventId": e.previous_event_id,
        "timestamp": e.timestamp,
        "type": e.type,
    }
    if e.details_json:
        out.update(json.loads(e.details_json))
    return out


def validation(r: pb.ValidateStateMachineDefinitionResponse) -> ValidationResult:
    return ValidationResult(
        r.result, [Diagnostic(d.severity, d.code, d.message, d.location) for d in r.diagnostics]
    )
