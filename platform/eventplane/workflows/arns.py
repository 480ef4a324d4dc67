"""Step Functions names and ARNs: state machines, executions and their validation.

Names are per account (``eventplane.names``): the cores key a machine or an activity
(its registry record, versions, aliases, Map Runs' item processors ``machine/label``)
by its internal name, ``<account>.<name>`` for another account's than the
installation's. The parsers here turn an ARN into that internal name (in the ARN's
account, else, for ARNs pasted from AWS and records made before names were per
account, the plain name; an empty account is the caller's); the builders turn an
internal name back into an ARN of the plain name in its owner's account.

``use`` hands this module the server's lookup (``workflows.accounts.Owners``): which
records exist and whose they are, from memory. Without one, nothing is known: an ARN
names its account's internal name, a plain name the installation's.
"""

from __future__ import annotations

import re
from typing import Protocol

from eventplane import arn, names
from eventplane.security.accounts import caller_account
from eventplane.workflows.errors import InvalidArn, InvalidName


class Lookup(Protocol):
    """(kind, name) -> the record's owner account, None: no such record (or unknown);
    ``peek``: as the view holds it, without catching up with Kafka on a miss."""

    def __call__(self, kind: str, name: str, peek: bool = False) -> str | None: ...


def _nobody(kind: str, name: str, peek: bool = False) -> str | None:
    return None


_owner: Lookup = _nobody

MACHINE = "statemachine"  # the registry kinds (``workflows.accounts``)
ACTIVITY = "activity"
_ACCOUNT_ID = re.compile(r"[0-9]{12}")


def use(owner: Lookup) -> None:
    """Where ARNs built from here look up their owner account (the server's registry)."""
    global _owner
    _owner = owner


_BAD_NAME = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")


def internal(kind: str, name: str, account: str, lookup: Lookup | None = None) -> str:
    """The internal name of the ``kind`` record an ARN of ``account`` names ``name``
    (a Distributed Map's item processor ``machine/label`` is its machine's and label).

    A 12-digit account's record, else (ARNs pasted from AWS carry other account ids)
    the installation's of that plain name; an empty account (a name without an ARN) is
    the caller's, whose records made before names were per account keep their plain
    names; any other account field, the installation's. None found: the first
    candidate (whose "does not exist" the caller answers)."""
    owner = lookup or _owner
    base, slash, label = name.partition("/")
    if not account:
        mine = caller_account()
        first = names.qualify(base, mine)
        if first != base and owner(kind, base, True) == mine and owner(kind, first) is None:
            first = base  # the caller's, made before names were per account
        return first + slash + label
    if not _ACCOUNT_ID.fullmatch(account):
        return name
    found = names.candidates(base, account, account)
    if len(found) > 1:
        # From the view first: an ARN pasted from AWS (another account's id, the
        # installation's machine) must not cost a catch-up with Kafka on each call.
        for candidate in found:
            if owner(kind, candidate, True) is not None:
                return candidate + slash + label
    chosen = next((c for c in found if owner(kind, c) is not None), found[0])
    return chosen + slash + label


def shown(kind: str, internal_name: str) -> tuple[str | None, str]:
    """(owner account, plain name) of an internal name, as ARNs and answers show it:
    a qualified name's account, else its record's owner in the view (a record another
    account made before names were per account says whose it is; None: the
    installation's)."""
    if names.looks_qualified(internal_name):
        return names.unqualify(internal_name)
    return _owner(kind, internal_name.split("/", 1)[0], True), internal_name


def plain(internal_name: str) -> str:
    """The name a caller sees of a machine's or an activity's internal name."""
    return names.plain(internal_name)


def check_resource_name(name: str, what: str = "name") -> str:
    """A new machine's or activity's name: AWS's rule, and not the shape of an internal
    name (``<12 digits>.<name>``), which would read as another account's."""
    check_name(name, what)
    if names.looks_qualified(name):
        raise InvalidName(
            f"Invalid Name: '{name}' ({what} must not start with 12 digits and a dot: "
            "that reads as another account's name)"
        )
    return name


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
    """The owner account of the machine of internal name ``name`` (None: unknown, the
    installation's); a Distributed Map's item processor (``machine/label``) is its
    machine's."""
    return shown(MACHINE, name)[0]


def state_machine_arn(name: str) -> str:
    """The ARN of the machine of internal name ``name``."""
    account, plain_name = shown(MACHINE, name)
    return arn.state_machine_arn(plain_name, account)


def execution_arn(machine: str, name: str, express: bool = False) -> str:
    """The ARN of execution ``name`` of the machine of internal name ``machine``."""
    account, plain_name = shown(MACHINE, machine)
    return arn.execution_arn(plain_name, name, express=express, account=account)


def _account(text: str) -> str:
    """The account field of an ARN (already parsed: well formed)."""
    return text.split(":", 5)[4]


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
    """The machine's internal name; InvalidArn unless ``arn`` is a state machine ARN."""
    name = _after(arn, "stateMachine:")
    if name is None:
        raise InvalidArn(f"Invalid Arn: '{arn}' is not a state machine ARN ({field})")
    if not name or ":" in name:
        raise InvalidArn(f"Invalid Arn: '{arn}' is not a state machine ARN ({field})")
    return internal(MACHINE, name, _account(arn))


def parse_execution_arn(arn: str, field: str = "executionArn") -> tuple[str, str]:
    """(machine's internal name, execution name); InvalidArn unless ``arn`` is an
    execution ARN."""
    for kind in ("execution:", "express:"):
        rest = _after(arn, kind)
        if rest is not None:
            machine, _, name = rest.partition(":")
            if machine and name and ":" not in name:
                return internal(MACHINE, machine, _account(arn)), name
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
    """(machine's internal name, qualifier): None for the machine itself, digits for a
    version, else an alias name. InvalidArn unless ``arn`` is one of those three forms."""
    rest = _after(arn, "stateMachine:")
    if rest is None:
        raise InvalidArn(f"Invalid Arn: '{arn}' is not a state machine ARN ({field})")
    name, sep, qualifier = rest.partition(":")
    if not name or (sep and (not qualifier or ":" in qualifier)):
        raise InvalidArn(f"Invalid Arn: '{arn}' is not a state machine ARN ({field})")
    return internal(MACHINE, name, _account(arn)), (qualifier if sep else None)


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
    """The ARN of the activity of internal name ``name``."""
    account, plain_name = shown(ACTIVITY, name)
    return arn.activity_arn(plain_name, account)


def parse_activity_arn(text: str, field: str = "activityArn") -> str:
    """The activity's internal name; InvalidArn unless ``text`` is an activity ARN."""
    name = _after(text, "activity:") or ""
    if not name or ":" in name:
        raise InvalidArn(f"Invalid Arn: '{text}' is not an activity ARN ({field})")
    return internal(ACTIVITY, name, _account(text))
