"""Buses, rules and their targets (retry policy, dead-letter queue, input transformer)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventplane import arn as arns
from eventplane import names
from eventplane.bus.models.common import (
    _TARGET_ID,
    ENABLED,
    MAX_EVENT_AGE_SECONDS,
    MAX_RETRY_ATTEMPTS,
    MIN_EVENT_AGE_SECONDS,
    bus_arn,
    compile_event_pattern,
    rule_arn,
    validate_name,
)
from eventplane.bus.schedule import Schedule, parse_schedule
from eventplane.bus.transform import TargetInput
from eventplane.errors import EventplaneError, ValidationException
from eventplane.matching import CompiledPattern
from eventplane.registry import Resource
from eventplane.security.accounts import owned_by, owner_of

# --- definitions ----------------------------------------------------------------------------


def _installation() -> str:
    return arns.identity().account


@dataclass(frozen=True)
class BusDef:
    # The internal name (``eventplane.names``): the registry key and what the bus's Kafka
    # topic is named after; callers see ``plain`` and ``account`` (in its ARN).
    name: str
    description: str = ""
    schema_validation: bool = False
    created_ms: int = 0
    # The resource-based policy (PutPermission) as JSON text; "" for none.
    policy: str = ""
    updated_ms: int = 0  # when the bus (its description, policy, ...) last changed
    # TagResource / CreateEventBus tags, key -> value.
    tags: Mapping[str, str] = field(default_factory=dict, compare=False)
    # The account the bus belongs to (its creator's; each account has its own default bus).
    account: str = field(default_factory=_installation)

    @property
    def plain(self) -> str:
        return names.plain(self.name)

    @property
    def arn(self) -> str:
        return bus_arn(self.plain, self.account)

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "description": self.description,
            "schema_validation": self.schema_validation,
        }
        if self.policy:
            spec["policy"] = self.policy
        if self.tags:
            spec["tags"] = dict(self.tags)
        return owned_by(spec, self.account)

    @staticmethod
    def from_resource(r: Resource) -> BusDef:
        return BusDef(
            r.name,
            r.spec.get("description", ""),
            bool(r.spec.get("schema_validation", False)),
            r.created_at,
            r.spec.get("policy", ""),
            r.updated_at,
            dict(r.spec.get("tags") or {}),
            owner_of(r.spec),
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
    # the internal name of the queue/topic/bus/function (``eventplane.names``), or the URL
    endpoint: str
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
        "(arn:aws:lambda:...:function:<name>), state machine "
        "(arn:aws:states:...:stateMachine:<name>) or http(s) URL"
    )


@dataclass(frozen=True)
class RuleDef:
    bus: str  # the bus's internal name (``eventplane.names``)
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
    # TagResource / PutRule (on creation) tags, key -> value.
    tags: Mapping[str, str] = field(default_factory=dict, compare=False)
    # The account the rule belongs to: its bus's (each account has its own default bus).
    account: str = field(default_factory=_installation)

    @property
    def key(self) -> str:
        return rule_key(self.bus, self.name)

    @property
    def bus_plain(self) -> str:
        """The bus's name as callers see it."""
        return names.plain(self.bus)

    @property
    def arn(self) -> str:
        return rule_arn(self.bus_plain, self.name, self.account)

    @property
    def enabled(self) -> bool:
        return self.state == ENABLED

    def to_spec(self) -> dict[str, Any]:
        return owned_by(self._spec(), self.account)

    def _spec(self) -> dict[str, Any]:
        return {
            "bus": self.bus,
            "name": self.name,
            "event_pattern": self.event_pattern,
            "schedule_expression": self.schedule_expression,
            "state": self.state,
            "description": self.description,
            "targets": [t.to_spec() for t in self.targets],
            "schedule_since_ms": self.schedule_since_ms,
            **({"tags": dict(self.tags)} if self.tags else {}),
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
        tags: Mapping[str, str] | None = None,
        account: str | None = None,
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
            dict(tags or {}),
            account or _installation(),
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
            tags=s.get("tags"),
            account=owner_of(s),
        )


def rule_key(bus: str, rule: str) -> str:
    return f"{bus}:{rule}"
