"""Step Functions names and ARNs: state machines, executions and their validation.

The ARNs built here carry their machine's or activity's owner account: ``use`` hands
this module the server's owner lookup (``workflows.accounts.Owners``), asked where each
ARN is built (from memory). Without one, and for a name nobody holds, the installation's.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from eventplane import arn
from eventplane.workflows.errors import InvalidArn, InvalidName

# (kind, name) -> the owner account, None: unknown (the installation's).
_owner: Callable[[str, str], str | None] = lambda kind, name: None  # noqa: E731


def use(owner: Callable[[str, str], str | None]) -> None:
    """Where ARNs built from here look up their owner account (the server's registry)."""
    global _owner
    _owner = owner


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


def machine_account(name: str) -> str | None:
    """The owner account of the machine ``name`` (None: unknown, the installation's); a
    Distributed Map's item processor (``machine/label``) is its machine's."""
    return _owner("statemachine", name.split("/", 1)[0])


def state_machine_arn(name: str) -> str:
    return arn.state_machine_arn(name, machine_account(name))


def execution_arn(machine: str, name: str, express: bool = False) -> str:
    return arn.execution_arn(machine, name, express=express, account=machine_account(machine))


def _after(text: str, kind: str) -> str | None:
    """What follows ``kind`` in a Step Functions ARN (of any region and account, as every
    ARN passed in), or None when ``text`` is not one of that kind."""
    try:
        found = arn.parse(text)
    except arn.InvalidArn:
        return None
    if found.service != "states" or not found.resource.startswith(kind):
        return None
    return found.resource[len(kind) :]


def parse_state_machine_arn(arn: str, field: str = "stateMachineArn") -> str:
    """The machine's name; InvalidArn unless ``arn`` is a state machine ARN."""
    name = _after(arn, "stateMachine:")
    if name is None:
        raise InvalidArn(f"Invalid Arn: '{arn}' is not a state machine ARN ({field})")
    if not name or ":" in name:
        raise InvalidArn(f"Invalid Arn: '{arn}' is not a state machine ARN ({field})")
    return name


def parse_execution_arn(arn: str, field: str = "executionArn") -> tuple[str, str]:
    """(machine name, execution name); InvalidArn unless ``arn`` is an execution ARN."""
    for kind in ("execution:", "express:"):
        rest = _after(arn, kind)
        if rest is not None:
            machine, _, name = rest.partition(":")
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
    rest = _after(arn, "stateMachine:")
    if rest is None:
        raise InvalidArn(f"Invalid Arn: '{arn}' is not a state machine ARN ({field})")
    name, sep, qualifier = rest.partition(":")
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
    return arn.activity_arn(name, _owner("activity", name))


def parse_activity_arn(text: str, field: str = "activityArn") -> str:
    """The activity's name; InvalidArn unless ``text`` is an activity ARN."""
    name = _after(text, "activity:") or ""
    if not name or ":" in name:
        raise InvalidArn(f"Invalid Arn: '{text}' is not an activity ARN ({field})")
    return name
