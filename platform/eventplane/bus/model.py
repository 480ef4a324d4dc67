"""Buses, rules, targets, archives, replays and schemas as the registry holds them,
and the records the bus writes to Kafka.

Pure (no Kafka I/O): definitions are parsed, validated and compiled here, so a rule's
event pattern and its targets' input transformers are compiled once, when the rule is
written or first read at a new generation, and never per event.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from eventplane import arn as arns
from eventplane.arn import archive_arn as archive_arn
from eventplane.arn import bus_arn as bus_arn
from eventplane.arn import replay_arn as replay_arn
from eventplane.arn import rule_arn as rule_arn
from eventplane.arn import schema_arn as schema_arn
from eventplane.bus.errors import InvalidEventPattern
from eventplane.bus.patterns import CompiledPattern, PatternError, compile_pattern
from eventplane.bus.schedule import Schedule, parse_schedule
from eventplane.bus.transform import TargetInput
from eventplane.errors import EventplaneError, ResourceNotFound, ValidationException
from eventplane.kafka import codec
from eventplane.registry import Resource

# Registry kinds.
BUS: Final = "event-bus"
RULE: Final = "rule"
ARCHIVE: Final = "archive"
REPLAY: Final = "replay"
SCHEMA: Final = "schema"

DEFAULT_BUS: Final = "default"
ENABLED: Final = "ENABLED"
DISABLED: Final = "DISABLED"
MAX_TARGETS_PER_RULE: Final = 5  # EventBridge's quota
MAX_RETRY_ATTEMPTS: Final = 185
MAX_EVENT_AGE_SECONDS: Final = 86_400
MIN_EVENT_AGE_SECONDS: Final = 60

EVENT_SCHEMA: Final = "eventplane.v1.BusEvent"
DELIVERY_SCHEMA: Final = "eventplane.v1.BusDelivery"
STATE_SCHEMA: Final = "eventplane.v1.BusState"

_BUS_NAME = re.compile(r"[/.\-_A-Za-z0-9]{1,256}")
_RULE_NAME = re.compile(r"[.\-_A-Za-z0-9]{1,64}")
_ARCHIVE_NAME = re.compile(r"[.\-_A-Za-z0-9]{1,48}")
_TARGET_ID = re.compile(r"[.\-_A-Za-z0-9]{1,64}")


# --- names and ARNs (formatted by eventplane.arn) ---------------------------------------------


def bus_name_from_ref(ref: str, field: str = "EventBusName") -> str:
    """The bus named by ``ref``: empty (the default bus), a name or an ARN."""
    if not ref:
        return DEFAULT_BUS
    name = ref
    if ref.startswith("arn:"):
        found = arns.parse_as(ref, arns.Kind.BUS)
        if found is None:
            raise ValidationException(f"{field} is not a valid event bus ARN: {ref!r}")
        name = found.name
    if not _BUS_NAME.fullmatch(name):
        raise ValidationException(
            f"{field} {name!r} is not valid: 1-256 characters of letters, digits, '.', '-', '_' "
            "or '/'"
        )
    return name


def archive_name_from_ref(ref: str, field: str = "ArchiveName") -> str:
    found = arns.parse_as(ref, arns.Kind.ARCHIVE) if ref.startswith("arn:") else None
    name = found.name if found else ref
    validate_name(name, field, _ARCHIVE_NAME, 48)
    return name


def rule_name_from_arn(ref: str) -> tuple[str, str]:
    """(bus, rule) of a rule ARN."""
    found = arns.parse_as(ref, arns.Kind.RULE)
    if found is None or found.parent is None:
        raise ValidationException(f"{ref!r} is not a valid rule ARN")
    return found.parent, found.name


def validate_name(
    name: str, field: str, pattern: re.Pattern[str] = _RULE_NAME, limit: int = 64
) -> str:
    if not name:
        raise ValidationException(
            f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
            "Member must not be null"
        )
    if not pattern.fullmatch(name):
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at '{field}' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern {pattern.pattern} and "
            f"have length at most {limit}"
        )
    return name


def compile_event_pattern(text: str, field: str = "EventPattern") -> CompiledPattern:
    try:
        return compile_pattern(text)
    except PatternError as exc:
        raise InvalidEventPattern(f"Event pattern is not valid. Reason: {exc.describe()}") from None


# --- definitions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BusDef:
    name: str
    description: str = ""
    schema_validation: bool = False
    created_ms: int = 0

    @property
    def arn(self) -> str:
        return bus_arn(self.name)

    def to_spec(self) -> dict[str, Any]:
        return {"description": self.description, "schema_validation": self.schema_validation}

    @staticmethod
    def from_resource(r: Resource) -> BusDef:
        return BusDef(
            r.name,
            r.spec.get("description", ""),
            bool(r.spec.get("schema_validation", False)),
            r.created_at,
        )


@dataclass(frozen=True)
class RetryPolicy:
    maximum_retry_attempts: int = MAX_RETRY_ATTEMPTS
    maximum_event_age_seconds: int = MAX_EVENT_AGE_SECONDS


@dataclass(frozen=True)
class TargetDef:
    """One target of a rule, with its input compiled."""

    id: str
    arn: str
    kind: str  # sqs, sns, bus, http, function
    endpoint: str  # queue/topic/bus/function name, or the URL
    input: str | None = None
    input_path: str | None = None
    input_transformer: Mapping[str, Any] | None = None
    retry: RetryPolicy = RetryPolicy()
    dead_letter_arn: str | None = None
    message_group_id: str | None = None
    compiled: TargetInput = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    @staticmethod
    def parse(spec: Mapping[str, Any]) -> TargetDef:
        """Validate one target as PutTargets receives it (boto3 keys); raises per target."""
        target_id = str(spec.get("Id", ""))
        validate_name(target_id, "Targets.member.Id", _TARGET_ID, 64)
        arn = str(spec.get("Arn", ""))
        kind, endpoint = target_kind(arn)
        retry_spec = spec.get("RetryPolicy") or {}
        attempts = retry_spec.get("MaximumRetryAttempts")
        age = retry_spec.get("MaximumEventAgeInSeconds")
        if attempts is not None and not 0 <= int(attempts) <= MAX_RETRY_ATTEMPTS:
            raise ValidationException(
                f"RetryPolicy.MaximumRetryAttempts must be between 0 and {MAX_RETRY_ATTEMPTS} "
                f"(target {target_id}), got {attempts}"
            )
        if age is not None and not MIN_EVENT_AGE_SECONDS <= int(age) <= MAX_EVENT_AGE_SECONDS:
            raise ValidationException(
                f"RetryPolicy.MaximumEventAgeInSeconds must be between {MIN_EVENT_AGE_SECONDS} "
                f"and {MAX_EVENT_AGE_SECONDS} (target {target_id}), got {age}"
            )
        dlq = (spec.get("DeadLetterConfig") or {}).get("Arn") or None
        if dlq is not None and arns.parse_as(dlq, arns.Kind.QUEUE) is None:
            raise ValidationException(
                f"DeadLetterConfig.Arn must be a queue ARN (arn:aws:sqs:...) (target {target_id}), "
                f"got {dlq!r}"
            )
        transformer = spec.get("InputTransformer") or None
        target = TargetDef(
            id=target_id,
            arn=arn,
            kind=kind,
            endpoint=endpoint,
            input=spec.get("Input") or None,
            input_path=spec.get("InputPath") or None,
            input_transformer=dict(transformer) if transformer else None,
            retry=RetryPolicy(
                MAX_RETRY_ATTEMPTS if attempts is None else int(attempts),
                MAX_EVENT_AGE_SECONDS if age is None else int(age),
            ),
            dead_letter_arn=dlq,
            message_group_id=(spec.get("SqsParameters") or {}).get("MessageGroupId") or None,
        )
        return target.with_compiled()

    def with_compiled(self) -> TargetDef:
        try:
            compiled = TargetInput.compile(
                input=self.input,
                input_path=self.input_path,
                input_transformer=self.input_transformer,
            )
        except EventplaneError as exc:
            raise type(exc)(f"{exc.message} (target {self.id})") from None
        object.__setattr__(self, "compiled", compiled)
        return self

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"Id": self.id, "Arn": self.arn}
        if self.input is not None:
            spec["Input"] = self.input
        if self.input_path is not None:
            spec["InputPath"] = self.input_path
        if self.input_transformer is not None:
            spec["InputTransformer"] = dict(self.input_transformer)
        spec["RetryPolicy"] = {
            "MaximumRetryAttempts": self.retry.maximum_retry_attempts,
            "MaximumEventAgeInSeconds": self.retry.maximum_event_age_seconds,
        }
        if self.dead_letter_arn is not None:
            spec["DeadLetterConfig"] = {"Arn": self.dead_letter_arn}
        if self.message_group_id is not None:
            spec["SqsParameters"] = {"MessageGroupId": self.message_group_id}
        return spec


def target_kind(arn: str) -> tuple[str, str]:
    """(kind, endpoint) of a target ARN; the seam where new target kinds plug in."""
    if not arn:
        raise ValidationException("Targets.member.Arn must not be empty")
    found = arns.target(arn)
    if found is not None:
        return found.kind.value, found.endpoint
    raise ValidationException(
        f"Target Arn {arn!r} is not supported: use a queue (arn:aws:sqs:...), topic "
        "(arn:aws:sns:...), event bus (arn:aws:events:...:event-bus/<name>), function "
        "(arn:aws:lambda:...:function:<name>) or http(s) URL"
    )


@dataclass(frozen=True)
class RuleDef:
    bus: str
    name: str
    event_pattern: str | None
    schedule_expression: str | None
    state: str = ENABLED
    description: str = ""
    targets: tuple[TargetDef, ...] = ()
    created_ms: int = 0
    # When the schedule last started to count (enabled, or its expression changed):
    # ticks before it never fire, as in EventBridge.
    schedule_since_ms: int = 0
    pattern: CompiledPattern | None = field(default=None, compare=False, repr=False)
    schedule: Schedule | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        return rule_key(self.bus, self.name)

    @property
    def arn(self) -> str:
        return rule_arn(self.bus, self.name)

    @property
    def enabled(self) -> bool:
        return self.state == ENABLED

    def to_spec(self) -> dict[str, Any]:
        return {
            "bus": self.bus,
            "name": self.name,
            "event_pattern": self.event_pattern,
            "schedule_expression": self.schedule_expression,
            "state": self.state,
            "description": self.description,
            "targets": [t.to_spec() for t in self.targets],
            "schedule_since_ms": self.schedule_since_ms,
        }

    @staticmethod
    def build(
        bus: str,
        name: str,
        event_pattern: str | None,
        schedule_expression: str | None,
        *,
        state: str = ENABLED,
        description: str = "",
        targets: Sequence[TargetDef] = (),
        created_ms: int = 0,
        schedule_since_ms: int = 0,
        min_rate_seconds: float = 60.0,
    ) -> RuleDef:
        pattern = compile_event_pattern(event_pattern) if event_pattern else None
        schedule = (
            parse_schedule(schedule_expression, min_rate_seconds=min_rate_seconds)
            if schedule_expression
            else None
        )
        return RuleDef(
            bus,
            name,
            event_pattern or None,
            schedule_expression or None,
            state,
            description,
            tuple(targets),
            created_ms,
            schedule_since_ms,
            pattern,
            schedule,
        )

    @staticmethod
    def from_resource(r: Resource, *, min_rate_seconds: float = 60.0) -> RuleDef:
        s = r.spec
        return RuleDef.build(
            s["bus"],
            s["name"],
            s.get("event_pattern"),
            s.get("schedule_expression"),
            state=s.get("state", ENABLED),
            description=s.get("description", ""),
            targets=[TargetDef.parse(t) for t in s.get("targets", [])],
            created_ms=r.created_at,
            schedule_since_ms=int(s.get("schedule_since_ms", 0)),
            min_rate_seconds=min_rate_seconds,
        )


def rule_key(bus: str, rule: str) -> str:
    return f"{bus}:{rule}"


@dataclass(frozen=True)
class ArchiveDef:
    name: str
    bus: str
    description: str = ""
    event_pattern: str | None = None
    retention_days: int = 0
    created_ms: int = 0
    pattern: CompiledPattern | None = field(default=None, compare=False, repr=False)

    @property
    def arn(self) -> str:
        return archive_arn(self.name)

    @property
    def retention_ms(self) -> int:
        return -1 if self.retention_days == 0 else self.retention_days * 86_400_000

    def to_spec(self) -> dict[str, Any]:
        return {
            "bus": self.bus,
            "description": self.description,
            "event_pattern": self.event_pattern,
            "retention_days": self.retention_days,
        }

    @staticmethod
    def build(
        name: str,
        bus: str,
        *,
        description: str = "",
        event_pattern: str | None = None,
        retention_days: int = 0,
        created_ms: int = 0,
    ) -> ArchiveDef:
        if retention_days < 0:
            raise ValidationException(
                f"RetentionDays must be 0 (indefinitely) or more, got {retention_days}"
            )
        pattern = compile_event_pattern(event_pattern) if event_pattern else None
        return ArchiveDef(
            name, bus, description, event_pattern or None, retention_days, created_ms, pattern
        )

    @staticmethod
    def from_resource(r: Resource) -> ArchiveDef:
        s = r.spec
        return ArchiveDef.build(
            r.name,
            s["bus"],
            description=s.get("description", ""),
            event_pattern=s.get("event_pattern"),
            retention_days=int(s.get("retention_days", 0)),
            created_ms=r.created_at,
        )


# Replay states, as EventBridge names them.
STARTING, RUNNING, CANCELLING = "STARTING", "RUNNING", "CANCELLING"
COMPLETED, CANCELLED, FAILED = "COMPLETED", "CANCELLED", "FAILED"
FINISHED: Final = (COMPLETED, CANCELLED, FAILED)


@dataclass(frozen=True)
class ReplayDef:
    name: str
    archive: str
    bus: str
    start_ms: int
    end_ms: int
    rules: tuple[str, ...] = ()  # rule names on the bus; empty: every rule
    description: str = ""
    state: str = STARTING
    state_reason: str = ""
    replay_start_ms: int = 0
    replay_end_ms: int = 0
    events_replayed: int = 0
    last_replayed_ms: int = 0

    @property
    def arn(self) -> str:
        return replay_arn(self.name)

    def to_spec(self) -> dict[str, Any]:
        return {
            "archive": self.archive,
            "bus": self.bus,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "rules": list(self.rules),
            "description": self.description,
            "state": self.state,
            "state_reason": self.state_reason,
            "replay_start_ms": self.replay_start_ms,
            "replay_end_ms": self.replay_end_ms,
            "events_replayed": self.events_replayed,
            "last_replayed_ms": self.last_replayed_ms,
        }

    @staticmethod
    def from_resource(r: Resource) -> ReplayDef:
        s = r.spec
        return ReplayDef(
            r.name,
            s["archive"],
            s["bus"],
            int(s["start_ms"]),
            int(s["end_ms"]),
            tuple(s.get("rules", ())),
            s.get("description", ""),
            s.get("state", STARTING),
            s.get("state_reason", ""),
            int(s.get("replay_start_ms", 0)),
            int(s.get("replay_end_ms", 0)),
            int(s.get("events_replayed", 0)),
            int(s.get("last_replayed_ms", 0)),
        )


# --- records on Kafka -----------------------------------------------------------------------


@dataclass(frozen=True)
class BusEvent:
    """One event on ``eventplane.bus.<bus>``: the envelope plus routing facts."""

    event: Mapping[str, Any]
    ingestion_ms: int
    replay_name: str | None = None
    rule_filter: tuple[str, ...] = ()
    scheduled_rule: str | None = None
    text: str | None = None  # the envelope's JSON text when it was read from Kafka

    @property
    def event_json(self) -> str:
        return self.text if self.text is not None else json.dumps(self.event, separators=(",", ":"))

    @property
    def archivable(self) -> bool:
        return self.replay_name is None and self.scheduled_rule is None


def encode_event(e: BusEvent) -> tuple[bytes, list[tuple[str, bytes]]]:
    return codec.encode(
        EVENT_SCHEMA,
        {
            "event": e.event_json,
            "ingestion_ms": e.ingestion_ms,
            "replay_name": e.replay_name,
            "rule_filter": list(e.rule_filter),
            "scheduled_rule": e.scheduled_rule,
        },
    )


def decode_event(value: bytes, headers: Sequence[tuple[str, bytes | None]]) -> BusEvent:
    _, rec = codec.decode(value, headers)
    text = rec["event"]
    return BusEvent(
        json.loads(text),
        rec["ingestion_ms"],
        rec["replay_name"],
        tuple(rec["rule_filter"]),
        rec["scheduled_rule"],
        text,
    )


@dataclass(frozen=True)
class Delivery:
    """A delivery still to be made to one target (``eventplane.bus.deliveries``)."""

    bus: str
    rule: str
    target_id: str
    event_id: str
    event: str
    payload: str
    attempt: int
    first_ms: int
    due_ms: int
    last_error_code: str | None = None
    last_error: str | None = None


def encode_delivery(d: Delivery) -> tuple[bytes, list[tuple[str, bytes]]]:
    return codec.encode(DELIVERY_SCHEMA, d.__dict__)


def decode_delivery(value: bytes, headers: Sequence[tuple[str, bytes | None]]) -> Delivery:
    _, rec = codec.decode(value, headers)
    return Delivery(**rec)


def not_found(what: str, name: str) -> ResourceNotFound:
    return ResourceNotFound(f"{what} {name} does not exist.")
