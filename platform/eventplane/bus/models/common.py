"""What every bus sub-resource shares: registry kinds, EventBridge's limits, names and ARNs,
and compiling an event pattern."""

from __future__ import annotations

import re
from typing import Final

from eventplane import arn as arns
from eventplane import names
from eventplane.arn import archive_arn as archive_arn
from eventplane.arn import bus_arn as bus_arn
from eventplane.arn import replay_arn as replay_arn
from eventplane.arn import rule_arn as rule_arn
from eventplane.arn import schema_arn as schema_arn
from eventplane.bus.errors import InvalidEventPattern
from eventplane.bus.patterns import compile_pattern
from eventplane.errors import ResourceNotFound, ValidationException
from eventplane.matching import CompiledPattern, PatternError

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
    return bus_reference(ref, field)[1]


def bus_reference(ref: str, field: str = "EventBusName") -> tuple[str | None, str]:
    """(account, name) of the bus ``ref`` names: empty (the default bus), a name or an ARN.

    The account is the one an ARN gives, None for a name (the caller's: bus names are per
    account, ``eventplane.names``). A name of an internal name's shape
    (``<12 digits>.<name>``) is refused: it would be another account's bus inside.
    """
    if not ref:
        return None, DEFAULT_BUS
    name, account = ref, None
    if ref.startswith("arn:"):
        found = arns.parse_as(ref, arns.Kind.BUS)
        if found is None:
            raise ValidationException(f"{field} is not a valid event bus ARN: {ref!r}")
        name, account = found.name, found.arn.account or None
    if not _BUS_NAME.fullmatch(name):
        raise ValidationException(
            f"{field} {name!r} is not valid: 1-256 characters of letters, digits, '.', '-', '_' "
            "or '/'"
        )
    if names.looks_qualified(name):
        raise ValidationException(
            f"{field} {name!r} is not valid: an event bus name can't start with 12 digits and "
            "a dot (reserved for the buses of other accounts)"
        )
    return account, name


def archive_name_from_ref(ref: str, field: str = "ArchiveName") -> str:
    return archive_reference(ref, field)[1]


def archive_reference(ref: str, field: str = "ArchiveName") -> tuple[str | None, str]:
    """(account, name) of the archive ``ref`` names (a name or an ARN); the account is an
    ARN's, None for a name (the caller's). Archive names cannot hold an internal name's
    shape (``<12 digits>.<name>``)."""
    found = arns.parse_as(ref, arns.Kind.ARCHIVE) if ref.startswith("arn:") else None
    name, account = (found.name, found.arn.account or None) if found else (ref, None)
    validate_name(name, field, _ARCHIVE_NAME, 48)
    if names.looks_qualified(name):
        raise ValidationException(
            f"{field} {name!r} is not valid: an archive name can't start with 12 digits and a "
            "dot (reserved for the archives of other accounts)"
        )
    return account, name


def rule_name_from_arn(ref: str) -> tuple[str, str]:
    """(bus's internal name, rule) of a rule ARN: the bus in the ARN's account."""
    found = arns.parse_as(ref, arns.Kind.RULE)
    if found is None or found.parent is None:
        raise ValidationException(f"{ref!r} is not a valid rule ARN")
    return names.qualify(found.parent, found.arn.account), found.name


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


def not_found(what: str, name: str) -> ResourceNotFound:
    return ResourceNotFound(f"{what} {name} does not exist.")


def missing_resource(arn: str) -> ResourceNotFound:
    """EventBridge's "does not exist" for the bus or rule ``arn`` names."""
    kind, _, rest = arn.split(":", 5)[-1].partition("/")
    if kind == "event-bus":
        return not_found("Event bus", rest)
    if kind == "rule":
        bus, _, name = rest.rpartition("/")
        return not_found("Rule", f"{name} on EventBus {bus or 'default'}")
    if kind in ("archive", "replay"):
        return not_found(kind.capitalize(), rest)
    return ResourceNotFound(f"Resource {arn} does not exist.")
