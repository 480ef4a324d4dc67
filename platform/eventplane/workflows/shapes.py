"""The typed shapes the Workflows core takes and returns, in AWS's terms."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventplane.errors import ValidationException
from eventplane.errors.workflows import InvalidToken

MAX_PAYLOAD = 256 * 1024

# ListExecutions' statusFilter; PENDING_REDRIVE is for a Map Run's children only.
STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")


def check_status_filter(status_filter: str) -> str:
    """ListExecutions' statusFilter, checked (empty: no filter)."""
    if status_filter and status_filter not in STATUSES:
        raise ValidationException(f"statusFilter must be one of {', '.join(STATUSES)}")
    return status_filter


def redrive_filter_keeps(redrive_filter: str) -> Callable[[int], bool]:
    """ListExecutions' redriveFilter, checked: given an execution's redrive count,
    whether the filter keeps it (REDRIVEN: redriven at least once; NOT_REDRIVEN: never;
    empty: every execution)."""
    if redrive_filter not in ("", "REDRIVEN", "NOT_REDRIVEN"):
        raise ValidationException(
            f"redriveFilter must be REDRIVEN or NOT_REDRIVEN, got {redrive_filter!r}"
        )
    if not redrive_filter:
        return lambda count: True
    redriven = redrive_filter == "REDRIVEN"
    return lambda count: (count > 0) == redriven


@dataclass(frozen=True, slots=True)
class StateMachine:
    """A machine, or one of its versions (then ``state_machine_arn`` is the version's
    ARN and ``description`` the version's). ``state_machine_version_arn`` is set by a
    Create/UpdateStateMachine that published a version."""

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
    state_machine_version_arn: str | None = None
    # AWS's LoggingConfiguration and TracingConfiguration members, as stored (accepted
    # and described; eventplane sends no logs or traces of its own).
    logging_configuration: dict[str, Any] | None = None
    tracing_configuration: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Execution:
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
    state_machine_alias_arn: str | None = None
    redrive_count: int = 0
    redrive_date: int | None = None
    redrive_status: str | None = None
    redrive_status_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Diagnostics:
    """ValidateStateMachineDefinition's diagnostics (``asl.Diagnostic``), and whether
    more were found than shown."""

    items: list[Any]
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Any]
    next_token: str | None


def require(value: Any, member: str) -> Any:
    """``value``, or AWS's ValidationException for a required member left out (or empty)."""
    if value is None or value == "" or value == []:
        raise ValidationException(
            f"1 validation error detected: Value null at '{member}' failed to satisfy "
            "constraint: Member must not be null"
        )
    return value


def included_data(value: str) -> bool:
    """Whether IncludedData lets an answer carry the execution's input and output."""
    if value not in ("", "ALL_DATA", "METADATA_ONLY"):
        raise ValidationException(f"includedData must be ALL_DATA or METADATA_ONLY, got {value!r}")
    return value != "METADATA_ONLY"


def json_text(text: str, field: str, error: type[Exception], default: str = "{}") -> str:
    text = text or default
    if len(text.encode()) > MAX_PAYLOAD:
        raise error(f"{field} exceeds the maximum size of 262144 bytes")
    try:
        json.loads(text)
    except ValueError as exc:
        raise error(f"Invalid {field}: {exc}") from None
    except RecursionError:  # the decoder recurses per level of nesting
        raise error(f"Invalid {field}: it nests too deeply") from None
    return text


def page_bounds(max_results: int, next_token: str, size: int) -> tuple[int, int]:
    if not 0 <= max_results <= 1000:
        raise ValidationException(f"maxResults must be between 0 and 1000, got {max_results}")
    if next_token and not (next_token.isascii() and next_token.isdigit()):
        raise InvalidToken(f"Invalid Token: '{next_token[:80]}' (nextToken)")
    start = int(next_token) if next_token else 0
    return start, min(size, start + (max_results or 100))


def page(items: list[Any], max_results: int, next_token: str) -> Page:
    start, end = page_bounds(max_results, next_token, len(items))
    return Page(items[start:end], str(end) if end < len(items) else None)
