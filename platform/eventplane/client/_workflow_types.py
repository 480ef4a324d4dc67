"""Result types of ``client.workflows`` and their conversion from the wire."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
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
    description: str = ""
    """A version's description (``describe_state_machine`` of a version ARN)."""
    state_machine_version_arn: str | None = None
    """The version a ``create``/``update_state_machine(publish=True)`` published."""


@dataclass(frozen=True)
class StateMachineVersion:
    """A published version: ``<machine ARN>:<number>`` and when it was published."""

    state_machine_version_arn: str
    creation_date: int


@dataclass(frozen=True)
class RoutingEntry:
    """One version an alias routes to and its share of the executions (0-100)."""

    state_machine_version_arn: str
    weight: int


@dataclass(frozen=True)
class StateMachineAlias:
    state_machine_alias_arn: str
    name: str
    description: str
    routing_configuration: list[RoutingEntry]
    creation_date: int
    update_date: int


@dataclass(frozen=True)
class StateMachineAliasListItem:
    state_machine_alias_arn: str
    creation_date: int


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
    state_machine_version_arn: str | None = None
    """The version it ran, when started through a version or an alias."""
    state_machine_alias_arn: str | None = None
    redrive_count: int = 0
    redrive_date: int | None = None
    redrive_status: str | None = None
    """``REDRIVABLE`` or ``NOT_REDRIVABLE`` (then ``redrive_status_reason`` says why)."""
    redrive_status_reason: str | None = None

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
        m.description,
    )


def routing(entries: Iterable[Any]) -> list[pb.RoutingConfigurationListItem]:
    """RoutingEntry values, ``(arn, weight)`` pairs or AWS-shaped dicts, for the wire."""
    out = []
    for e in entries:
        if isinstance(e, RoutingEntry):
            arn, weight = e.state_machine_version_arn, e.weight
        elif isinstance(e, Mapping):
            arn, weight = e["stateMachineVersionArn"], e["weight"]
        else:
            arn, weight = e
        out.append(pb.RoutingConfigurationListItem(state_machine_version_arn=arn, weight=weight))
    return out


def alias(a: pb.StateMachineAlias) -> StateMachineAlias:
    return StateMachineAlias(
        a.state_machine_alias_arn,
        a.name,
        a.description,
        [RoutingEntry(e.state_machine_version_arn, e.weight) for e in a.routing_configuration],
        a.creation_date,
        a.update_date,
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
        e.state_machine_version_arn if e.HasField("state_machine_version_arn") else None,
        e.state_machine_alias_arn if e.HasField("state_machine_alias_arn") else None,
        e.redrive_count,
        e.redrive_date or None,
        e.redrive_status if e.HasField("redrive_status") else None,
        e.redrive_status_reason if e.HasField("redrive_status_reason") else None,
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


@dataclass(frozen=True)
class Activity:
    """An activity (``create_activity``, ``describe_activity``); epoch milliseconds."""

    activity_arn: str
    name: str
    creation_date: int


@dataclass(frozen=True)
class ActivityTask:
    """``get_activity_task``'s answer: ``task_token`` is empty when no task came."""

    task_token: str
    input: str

    def __bool__(self) -> bool:
        return bool(self.task_token)


@dataclass(frozen=True)
class InspectionData:
    """``test_state`` at DEBUG/TRACE: the JSON text at each processing step."""

    input: str | None = None
    after_arguments: str | None = None
    after_input_path: str | None = None
    after_parameters: str | None = None
    result: str | None = None
    after_result_selector: str | None = None
    after_result_path: str | None = None
    variables: str | None = None


@dataclass(frozen=True)
class TestStateResult:
    """``test_state``: status SUCCEEDED, FAILED, RETRIABLE or CAUGHT_ERROR."""

    __test__ = False  # not a pytest test class, despite its name

    status: str
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    next_state: str | None = None
    inspection_data: InspectionData | None = None


def activity(a: Any) -> Activity:
    return Activity(a.activity_arn, a.name, a.creation_date)


def _opt(msg: Any, name: str) -> str | None:
    return getattr(msg, name) if msg.HasField(name) else None


def test_state_result(r: Any) -> TestStateResult:
    data = None
    if r.HasField("inspection_data"):
        d = r.inspection_data
        data = InspectionData(**{f: _opt(d, f) for f in InspectionData.__dataclass_fields__})
    return TestStateResult(
        r.status,
        _opt(r, "output"),
        _opt(r, "error"),
        _opt(r, "cause"),
        _opt(r, "next_state"),
        data,
    )


def _counts(c: Any) -> dict[str, int]:
    return {
        "pending": c.pending,
        "running": c.running,
        "succeeded": c.succeeded,
        "failed": c.failed,
        "timedOut": c.timed_out,
        "aborted": c.aborted,
        "total": c.total,
        "resultsWritten": c.results_written,
        "failuresNotRedrivable": c.failures_not_redrivable,
        "pendingRedrive": c.pending_redrive,
    }


def map_run(r: Any) -> dict[str, Any]:
    """DescribeMapRun's answer as boto3 shows it (dates in epoch ms; no stopDate while
    running, no redriveDate before a redrive)."""
    doc: dict[str, Any] = {
        "mapRunArn": r.map_run_arn,
        "executionArn": r.execution_arn,
        "status": r.status,
        "startDate": r.start_date,
        "maxConcurrency": r.max_concurrency,
        "toleratedFailurePercentage": r.tolerated_failure_percentage,
        "toleratedFailureCount": r.tolerated_failure_count,
        "itemCounts": _counts(r.item_counts),
        "executionCounts": _counts(r.execution_counts),
        "redriveCount": r.redrive_count,
    }
    if r.stop_date:
        doc["stopDate"] = r.stop_date
    if r.redrive_date:
        doc["redriveDate"] = r.redrive_date
    return doc


def map_run_item(i: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "executionArn": i.execution_arn,
        "mapRunArn": i.map_run_arn,
        "stateMachineArn": i.state_machine_arn,
        "startDate": i.start_date,
    }
    if i.stop_date:
        doc["stopDate"] = i.stop_date
    return doc
