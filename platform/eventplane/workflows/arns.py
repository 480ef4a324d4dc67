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
