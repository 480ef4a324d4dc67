"""A state machine definition as typed, frozen dataclasses.

``parse_definition`` validates the JSON text (``validation.validate_document``)
and builds one dataclass per state type with every ASL field, the query
language already resolved per state (the state's own ``QueryLanguage``, else
the machine's, else JSONPath). Map item processors and Parallel branches are
nested ``StateMachineDef``s; their states inherit the top-level language, not
the Map's or Parallel's own (as AWS does). Fields absent from the definition keep AWS's
defaults: ``InputPath``/``OutputPath``/``ResultPath`` default to ``"$"``, and a
definition's explicit ``null`` is kept as ``None`` (it means "discard").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from eventplane.workflows.asl.diagnostics import Diagnostic
from eventplane.workflows.asl.errors import InvalidDefinition
from eventplane.workflows.asl.validation import MachineType, validate_document

__all__ = [
    "CatcherDef",
    "ChoiceRule",
    "ChoiceState",
    "Diagnostic",
    "FailState",
    "MapState",
    "ParallelState",
    "PassState",
    "QueryLanguage",
    "RetrierDef",
    "StateDef",
    "StateMachineDef",
    "SucceedState",
    "TaskState",
    "WaitState",
    "build_machine",
    "parse_definition",
    "validate_definition",
]

QueryLanguage = Literal["JSONPath", "JSONata"]


@dataclass(frozen=True, kw_only=True)
class RetrierDef:
    error_equals: tuple[str, ...]
    interval_seconds: int = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: int | None = None
    jitter_strategy: Literal["FULL", "NONE"] = "NONE"
    comment: str | None = None


@dataclass(frozen=True, kw_only=True)
class CatcherDef:
    error_equals: tuple[str, ...]
    next: str
    result_path: str | None = "$"  # JSONPath mode; None = discard the error output
    output: Any = None  # JSONata mode
    assign: Mapping[str, Any] | None = None
    comment: str | None = None


@dataclass(frozen=True, kw_only=True)
class StateDef:
    """Fields every state type shares. ``raw`` is the state's JSON as written."""

    name: str
    type: str
    query_language: QueryLanguage
    comment: str | None = None
    next: str | None = None
    end: bool = False
    input_path: str | None = "$"
    output_path: str | None = "$"
    assign: Mapping[str, Any] | None = None
    output: Any = None  # JSONata mode only
    has_output: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, kw_only=True)
class PassState(StateDef):
    parameters: Any = None
    result: Any = None
    has_result: bool = False
    result_path: str | None = "$"


@dataclass(frozen=True, kw_only=True)
class TaskState(StateDef):
    resource: str = ""
    parameters: Any = None  # JSONPath mode
    arguments: Any = None  # JSONata mode
    result_selector: Any = None
    result_path: str | None = "$"
    retry: tuple[RetrierDef, ...] = ()
    catch: tuple[CatcherDef, ...] = ()
    timeout_seconds: int | str | None = None  # a "{% %}" string in JSONata mode
    timeout_seconds_path: str | None = None
    heartbeat_seconds: int | str | None = None
    heartbeat_seconds_path: str | None = None
    credentials: Any = None


@dataclass(frozen=True, kw_only=True)
class ChoiceRule:
    """A rule of Choices (``next`` set) or a nested rule of And/Or/Not.

    ``operator``/``value`` hold the comparison (``"NumericGreaterThan"``, 10);
    ``condition`` the JSONata expression of a JSONata rule.
    """

    next: str | None = None
    variable: str | None = None
    operator: str | None = None
    value: Any = None
    and_: tuple[ChoiceRule, ...] | None = None
    or_: tuple[ChoiceRule, ...] | None = None
    not_: ChoiceRule | None = None
    condition: Any = None
    assign: Mapping[str, Any] | None = None
    output: Any = None
    has_output: bool = False
    comment: str | None = None


@dataclass(frozen=True, kw_only=True)
class ChoiceState(StateDef):
    choices: tuple[ChoiceRule, ...] = ()
    default: str | None = None


@dataclass(frozen=True, kw_only=True)
class WaitState(StateDef):
    seconds: int | str | None = None
    timestamp: str | None = None
    seconds_path: str | None = None
    timestamp_path: str | None = None


@dataclass(frozen=True, kw_only=True)
class SucceedState(StateDef):
    pass


@dataclass(frozen=True, kw_only=True)
class FailState(StateDef):
    error: str | None = None
    error_path: str | None = None
    cause: str | None = None
    cause_path: str | None = None


@dataclass(frozen=True, kw_only=True)
class ParallelState(StateDef):
    branches: tuple[StateMachineDef, ...] = ()
    parameters: Any = None
    arguments: Any = None
    result_selector: Any = None
    result_path: str | None = "$"
    retry: tuple[RetrierDef, ...] = ()
    catch: tuple[CatcherDef, ...] = ()


@dataclass(frozen=True, kw_only=True)
class MapState(StateDef):
    item_processor: StateMachineDef | None = None
    processor_mode: Literal["INLINE", "DISTRIBUTED"] = "INLINE"
    execution_type: Literal["STANDARD", "EXPRESS"] | None = None
    items_path: str | None = "$"
    items: Any = None  # JSONata mode: an array or a "{% %}" expression
    item_selector: Any = None  # also the legacy Parameters field
    item_reader: Mapping[str, Any] | None = None
    item_batcher: Mapping[str, Any] | None = None
    result_writer: Mapping[str, Any] | None = None
    max_concurrency: int | str | None = None
    max_concurrency_path: str | None = None
    tolerated_failure_percentage: float | str | None = None
    tolerated_failure_percentage_path: str | None = None
    tolerated_failure_count: int | str | None = None
    tolerated_failure_count_path: str | None = None
    label: str | None = None
    result_selector: Any = None
    result_path: str | None = "$"
    retry: tuple[RetrierDef, ...] = ()
    catch: tuple[CatcherDef, ...] = ()


@dataclass(frozen=True, kw_only=True)
class StateMachineDef:
    start_at: str
    states: Mapping[str, StateDef]
    query_language: QueryLanguage = "JSONPath"
    comment: str | None = None
    version: str | None = None
    timeout_seconds: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def state(self, name: str) -> StateDef:
        return self.states[name]


def validate_definition(text: str, *, machine_type: MachineType = "STANDARD") -> list[Diagnostic]:
    """Every diagnostic for ``text``, ERRORs and WARNINGs, as ValidateStateMachineDefinition."""
    return validate_document(text, machine_type=machine_type)[1]


def parse_definition(text: str, *, machine_type: MachineType = "STANDARD") -> StateMachineDef:
    """Validate and build; raises ``InvalidDefinition`` when any ERROR diagnostic exists."""
    document, diagnostics = validate_document(text, machine_type=machine_type)
    if document is None or any(d.severity == "ERROR" for d in diagnostics):
        raise InvalidDefinition(diagnostics)
    return build_machine(document)


def build_machine(doc: Mapping[str, Any], inherited: QueryLanguage = "JSONPath") -> StateMachineDef:
    """Build from an already-validated document (see ``parse_definition``)."""
    language: QueryLanguage = doc.get("QueryLanguage", inherited)
    states = {name: _build_state(name, s, language) for name, s in doc["States"].items()}
    return StateMachineDef(
        start_at=doc["StartAt"],
        states=states,
        query_language=language,
        comment=doc.get("Comment"),
        version=doc.get("Version"),
        timeout_seconds=doc.get("TimeoutSeconds"),
        raw=doc,
    )


_NULLABLE_PATH_DEFAULT = "$"


def _path(s: Mapping[str, Any], key: str) -> str | None:
    return s.get(key, _NULLABLE_PATH_DEFAULT)


def _common(name: str, s: Mapping[str, Any], language: QueryLanguage) -> dict[str, Any]:
    return {
        "name": name,
        "type": s["Type"],
        "query_language": s.get("QueryLanguage", language),
        "comment": s.get("Comment"),
        "next": s.get("Next"),
        "end": bool(s.get("End", False)),
        "input_path": _path(s, "InputPath"),
        "output_path": _path(s, "OutputPath"),
        "assign": s.get("Assign"),
        "output": s.get("Output"),
        "has_output": "Output" in s,
        "raw": s,
    }


def _retriers(items: Any) -> tuple[RetrierDef, ...]:
    return tuple(
        RetrierDef(
            error_equals=tuple(r["ErrorEquals"]),
            interval_seconds=r.get("IntervalSeconds", 1),
            max_attempts=r.get("MaxAttempts", 3),
            backoff_rate=float(r.get("BackoffRate", 2.0)),
            max_delay_seconds=r.get("MaxDelaySeconds"),
            jitter_strategy=r.get("JitterStrategy", "NONE"),
            comment=r.get("Comment"),
        )
        for r in items or ()
    )


def _catchers(items: Any) -> tuple[CatcherDef, ...]:
    return tuple(
        CatcherDef(
            error_equals=tuple(c["ErrorEquals"]),
            next=c["Next"],
            result_path=_path(c, "ResultPath"),
            output=c.get("Output"),
            assign=c.get("Assign"),
            comment=c.get("Comment"),
        )
        for c in items or ()
    )


def _rule(r: Mapping[str, Any]) -> ChoiceRule:
    from eventplane.workflows.asl.validation import COMPARISON_OPERATORS

    operator = next((k for k in r if k in COMPARISON_OPERATORS), None)
    return ChoiceRule(
        next=r.get("Next"),
        variable=r.get("Variable"),
        operator=operator,
        value=r[operator] if operator else None,
        and_=tuple(_rule(x) for x in r["And"]) if "And" in r else None,
        or_=tuple(_rule(x) for x in r["Or"]) if "Or" in r else None,
        not_=_rule(r["Not"]) if "Not" in r else None,
        condition=r.get("Condition"),
        assign=r.get("Assign"),
        output=r.get("Output"),
        has_output="Output" in r,
        comment=r.get("Comment"),
    )


def _build_state(name: str, s: Mapping[str, Any], language: QueryLanguage) -> StateDef:
    common = _common(name, s, language)
    kind = s["Type"]
    if kind == "Pass":
        return PassState(
            **common,
            parameters=s.get("Parameters"),
            result=s.get("Result"),
            has_result="Result" in s,
            result_path=_path(s, "ResultPath"),
        )
    if kind == "Task":
        return TaskState(
            **common,
            resource=s["Resource"],
            parameters=s.get("Parameters"),
            arguments=s.get("Arguments"),
            result_selector=s.get("ResultSelector"),
            result_path=_path(s, "ResultPath"),
            retry=_retriers(s.get("Retry")),
            catch=_catchers(s.get("Catch")),
            timeout_seconds=s.get("TimeoutSeconds"),
            timeout_seconds_path=s.get("TimeoutSecondsPath"),
            heartbeat_seconds=s.get("HeartbeatSeconds"),
            heartbeat_seconds_path=s.get("HeartbeatSecondsPath"),
            credentials=s.get("Credentials"),
        )
    if kind == "Choice":
        return ChoiceState(
            **common,
            choices=tuple(_rule(r) for r in s["Choices"]),
            default=s.get("Default"),
        )
    if kind == "Wait":
        return WaitState(
            **common,
            seconds=s.get("Seconds"),
            timestamp=s.get("Timestamp"),
            seconds_path=s.get("SecondsPath"),
            timestamp_path=s.get("TimestampPath"),
        )
    if kind == "Succeed":
        return SucceedState(**common)
    if kind == "Fail":
        return FailState(
            **common,
            error=s.get("Error"),
            error_path=s.get("ErrorPath"),
            cause=s.get("Cause"),
            cause_path=s.get("CausePath"),
        )
    if kind == "Parallel":
        # nested states inherit the machine's language, not the Parallel's (AWS)
        return ParallelState(
            **common,
            branches=tuple(build_machine(b, language) for b in s["Branches"]),
            parameters=s.get("Parameters"),
            arguments=s.get("Arguments"),
            result_selector=s.get("ResultSelector"),
            result_path=_path(s, "ResultPath"),
            retry=_retriers(s.get("Retry")),
            catch=_catchers(s.get("Catch")),
        )
    return _build_map(common, s, language)


def _build_map(common: dict[str, Any], s: Mapping[str, Any], language: QueryLanguage) -> MapState:
    processor = s.get("ItemProcessor") or s.get("Iterator") or {}
    config = processor.get("ProcessorConfig", {})
    return MapState(
        **common,
        item_processor=build_machine(processor, language),
        processor_mode=config.get("Mode", "INLINE"),
        execution_type=config.get("ExecutionType"),
        items_path=_path(s, "ItemsPath"),
        items=s.get("Items"),
        item_selector=s.get("ItemSelector", s.get("Parameters")),
        item_reader=s.get("ItemReader"),
        item_batcher=s.get("ItemBatcher"),
        result_writer=s.get("ResultWriter"),
        max_concurrency=s.get("MaxConcurrency"),
        max_concurrency_path=s.get("MaxConcurrencyPath"),
        tolerated_failure_percentage=s.get("ToleratedFailurePercentage"),
        tolerated_failure_percentage_path=s.get("ToleratedFailurePercentagePath"),
        tolerated_failure_count=s.get("ToleratedFailureCount"),
        tolerated_failure_count_path=s.get("ToleratedFailureCountPath"),
        label=s.get("Label"),
        result_selector=s.get("ResultSelector"),
        result_path=_path(s, "ResultPath"),
        retry=_retriers(s.get("Retry")),
        catch=_catchers(s.get("Catch")),
    )
