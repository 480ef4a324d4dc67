"""Step Functions names and ARNs: state machines, executions and their validation."""

from __future__ import annotations

import re

from eventplane import arn
from eventplane.workflows.errors import InvalidArn, InvalidName

_PREFIX = arn.format_arn("states", "")
_BAD_NAME = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")


def check_name(name: str, what: str = "name") -> str:
    """AWS's rule: 1-80 characters, none of whitespace, brackets, wildcards, specials."""
    if not 1 <= len(name) <= 80:
        raise InvalidName(f"Invalid Name: '{name}' ({what} must be 1 to 80 characters long)")
    if _BAD_NAME.search(name):
        raise InvalidName(
            f"Invalid Name: '{name}' ({what} must not contain whitespace, brackets, wildcards "
            'or any of " # % \\ ^ | ~ ` $ & , ; : /)'
        )
    return name


def state_machine_arn(name: str) -> str:
    return arn.state_machine_arn(name)


def execution_arn(machine: str, name: str, express: bool = False) -> str:
    return arn.execution_arn(machine, name, express=express)


def parse_state_machine_arn(arn: str, field: str = "stateMachineArn") -> str:
    """The machine's name; InvalidArn unless ``arn`` is a state machine ARN."""
    if not arn.startswith(_PREFIX + "stateMachine:"):
        raise InvalidArn(f"Invalid Arn: '{arn}' is not a state machine ARN ({field})")
    name = arn[len(_PREFIX + "stateMachine:") :]
    if not name or ":" in name:
        raise InvalidArn(f"Invalid Arn: '{arn}' is not a state machine ARN ({field})")
    return name


def parse_execution_arn(arn: str, field: str = "executionArn") -> tuple[str, str]:
    """(machine name, execution name); InvalidArn unless ``arn`` is an execution ARN."""
    for kind in ("execution:", "express:"):
        if arn.startswith(_PREFIX + kind):
            machine, _, name = arn[len(_PREFIX + kind) :].partition(":")
            if machine and name and ":" not in name:
                return machine, name
    raise InvalidArn(f"Invalid Arn: '{arn}' is not an execution ARN ({field})")


_ALIAS_NAME = re.compile(r"^(?=.*[a-zA-Z_\-.])[a-zA-Z0-9_\-.]{1,80}$")


def check_alias_name(name: str) -> str:
    """AWS's rule: 1-80 of letters, digits, ``-``, ``_``, ``.``, not only digits (that
    would read as a version number)."""
    if not _ALIAS_NAME.match(name or ""):
        raise InvalidName(
            f"Invalid Name: '{name}' (an alias name is 1 to 80 letters, digits, '-', '_' or "
            "'.', and not only digits)"
        )
    return name


def version_arn(machine: str, version: int) -> str:
    return f"{state_machine_arn(machine)}:{version}"


def alias_arn(machine: str, alias: str) -> str:
    return f"{state_machine_arn(machine)}:{alias}"


def parse_qualified_arn(arn: str, field: str = "stateMachineArn") -> tuple[str, str | None]:
    """(machine name, qualifier): None for the machine itself, digits for a version,
    else an alias name. InvalidArn unless ``arn`` is one of those three forms."""
    prefix = _PREFIX + "stateMachine:"
    if not arn.startswith(prefix):
        raise InvalidArn(f"Invalid Arn: '{arn}' is not a state machine ARN ({field})")
    name, sep, qualifier = arn[len(prefix) :].partition(":")
    if not name or (sep and (not qualifier or ":" in qualifier)):
        raise InvalidArn(f"Invalid Arn: '{arn}' is not a state machine ARN ({field})")
    return name, (qualifier if sep else None)


def parse_version_arn(arn: str, field: str = "stateMachineVersionArn") -> tuple[str, int]:
    """(machine name, version number); InvalidArn unless ``arn`` names a version."""
    name, qualifier = parse_qualified_arn(arn, field)
    if qualifier is None or not (qualifier.isascii() and qualifier.isdigit()):
        raise InvalidArn(f"Invalid Arn: '{arn}' is not a state machine version ARN ({field})")
    return name, int(qualifier)


def parse_alias_arn(arn: str, field: str = "stateMachineAliasArn") -> tuple[str, str]:
    """(machine name, alias name); InvalidArn unless ``arn`` names an alias."""
    name, qualifier = parse_qualified_arn(arn, field)
    if qualifier is None or (qualifier.isascii() and qualifier.isdigit()):
        raise InvalidArn(f"Invalid Arn: '{arn}' is not a state machine alias ARN ({field})")
    return name, qualifier


def activity_arn(name: str) -> str:
    return arn.activity_arn(name)


def parse_activity_arn(text: str, field: str = "activityArn") -> str:
    """The activity's name; InvalidArn unless ``text`` is an activity ARN."""
    prefix = _PREFIX + "activity:"
    name = text[len(prefix) :] if text.startswith(prefix) else ""
    if not name or ":" in name:
        raise InvalidArn(f"Invalid Arn: '{text}' is not an activity ARN ({field})")
    return name
