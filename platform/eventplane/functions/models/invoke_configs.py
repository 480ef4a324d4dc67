"""Asynchronous invocation configuration: retries, event age and destinations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from eventplane import arn as arns
from eventplane.functions.errors import (
    InvalidParameterValueException,
)
from eventplane.functions.models.common import (
    _ANY_ARN,
    DEFAULT_RETRY_ATTEMPTS,
    LATEST,
    MAX_EVENT_AGE,
    MAX_RETRY_ATTEMPTS,
    MIN_EVENT_AGE,
    _in_range,
    _pattern,
    function_arn,
    invoke_config_key,
)
from eventplane.registry import Resource
from eventplane.security.accounts import owned_by, owner_of

# --- asynchronous invocation configuration ----------------------------------------------------


_DESTINATION_KINDS: Final = {
    arns.TargetKind.QUEUE: "queue",
    arns.TargetKind.TOPIC: "topic",
    arns.TargetKind.BUS: "bus",
    arns.TargetKind.FUNCTION: "function",
}


def destination_kind(arn: str) -> tuple[str, str]:
    """(kind, name) of a destination ARN: queue, topic, bus or function."""
    found = arns.parse_as(arn, arns.Kind.QUEUE, arns.Kind.TOPIC, arns.Kind.BUS, arns.Kind.FUNCTION)
    target = arns.target(arn) if found is not None else None
    if found is not None and target is not None:
        return _DESTINATION_KINDS[target.kind], found.name
    raise InvalidParameterValueException(
        f"The destination ARN {arn} is invalid: use a queue (arn:aws:sqs:...), topic "
        "(arn:aws:sns:...), event bus (arn:aws:events:...:event-bus/<name>) or function "
        "(arn:aws:lambda:...:function:<name>) ARN."
    )


def _destination(arn: str | None, member: str) -> str | None:
    if not arn:
        return None
    if _ANY_ARN.fullmatch(arn) is None:
        raise _pattern(member, arn, r"^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:.*")
    destination_kind(arn)
    return arn


@dataclass(frozen=True)
class InvokeConfig:
    """PutFunctionEventInvokeConfig: retries, maximum age and destinations of async events."""

    function: str
    qualifier: str = LATEST
    maximum_retry_attempts: int = DEFAULT_RETRY_ATTEMPTS
    maximum_event_age_seconds: int = MAX_EVENT_AGE
    on_success: str | None = None  # destination ARN
    on_failure: str | None = None
    last_modified: str = ""
    account: str = field(default_factory=lambda: arns.identity().account)  # the function's

    @property
    def key(self) -> str:
        return invoke_config_key(self.function, self.qualifier)

    @property
    def function_arn(self) -> str:
        return function_arn(self.function, self.qualifier, self.account)

    @staticmethod
    def build(
        function: str,
        qualifier: str | None = None,
        *,
        maximum_retry_attempts: int | None = None,
        maximum_event_age_seconds: int | None = None,
        on_success: str | None = None,
        on_failure: str | None = None,
        last_modified: str = "",
        account: str | None = None,
    ) -> InvokeConfig:
        attempts = (
            DEFAULT_RETRY_ATTEMPTS
            if maximum_retry_attempts is None
            else _in_range("maximumRetryAttempts", maximum_retry_attempts, 0, MAX_RETRY_ATTEMPTS)
        )
        age = (
            MAX_EVENT_AGE
            if maximum_event_age_seconds is None
            else _in_range(
                "maximumEventAgeInSeconds", maximum_event_age_seconds, MIN_EVENT_AGE, MAX_EVENT_AGE
            )
        )
        return InvokeConfig(
            function,
            qualifier or LATEST,
            attempts,
            age,
            _destination(on_success, "destinationConfig.onSuccess.destination"),
            _destination(on_failure, "destinationConfig.onFailure.destination"),
            last_modified,
            account or arns.identity().account,
        )

    def to_spec(self) -> dict[str, Any]:
        spec = {
            "function": self.function,
            "qualifier": self.qualifier,
            "maximum_retry_attempts": self.maximum_retry_attempts,
            "maximum_event_age_seconds": self.maximum_event_age_seconds,
            "on_success": self.on_success,
            "on_failure": self.on_failure,
            "last_modified": self.last_modified,
        }
        return owned_by(spec, self.account)

    @staticmethod
    def from_resource(r: Resource) -> InvokeConfig:
        s = r.spec
        return InvokeConfig(
            s["function"],
            s.get("qualifier") or LATEST,
            int(s.get("maximum_retry_attempts", DEFAULT_RETRY_ATTEMPTS)),
            int(s.get("maximum_event_age_seconds", MAX_EVENT_AGE)),
            s.get("on_success") or None,
            s.get("on_failure") or None,
            s.get("last_modified", ""),
            owner_of(s),
        )
