"""Per-account resource names: the one representation of "account A's queue ``orders``".

On AWS, names are unique per account: account 111111111111 and account 222222222222 may
each have a queue ``orders``. Here every capability keys its resources by one internal
name (the registry key, and the source of every Kafka topic name derived from the
resource). That internal name is:

- the plain name, for resources of the installation's own account
  (``EVENTPLANE_ACCOUNT_ID``): exactly what was stored before accounts existed, so
  nothing is migrated and single-account installations see no change;
- ``<account>.<name>`` for resources of any other account, e.g.
  ``111111111111.orders`` (Kafka topic ``eventplane.q.111111111111.orders``).

The dot keeps Kafka's topic-name rules (``[a-zA-Z0-9._-]``, one character of the 249
allowed spent per dot, 13 per account). Queue, topic and function names cannot hold a
dot (bar ``.fifo`` at their end), so their internal names never collide. Names that
may hold dots (buses, archives, tables, state machines, activities) are refused when
they look qualified (:func:`looks_qualified`).

The internal form never leaves the platform: names, ARNs, URLs, list results, events
and records show the plain name and the owner's account (:func:`unqualify`). Callers
name a resource by its plain name (in their own account) or by ARN or URL (in the
account those name): :func:`candidates` lists the internal names to try.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "PER_ACCOUNT",
    "candidates",
    "configure",
    "home",
    "looks_qualified",
    "plain",
    "qualify",
    "resolutions",
    "unqualify",
]

# The AWS services (ARN service names) whose resources are named per account so far; the
# others' names are still unique per installation (their cores find a resource by its
# name whatever account an ARN gives, and authorization checks it in the installation's).
PER_ACCOUNT: Final = frozenset({"sqs", "sns", "lambda", "events", "dynamodb", "states"})

_QUALIFIED = re.compile(r"([0-9]{12})\.(.+)", re.DOTALL)

# The installation's account; ``eventplane.arn.configure`` keeps it in step.
_home = "000000000000"


def configure(account: str) -> None:
    """Set the installation's account (``eventplane.arn.configure`` does)."""
    global _home
    _home = account


def home() -> str:
    """The installation's account: its resources keep their plain names internally."""
    return _home


def qualify(name: str, account: str | None) -> str:
    """The internal name of ``account``'s resource ``name`` (None: the installation's)."""
    if not account or account == _home:
        return name
    return f"{account}.{name}"


def unqualify(internal: str) -> tuple[str, str]:
    """(owner account, plain name) of an internal name."""
    found = _QUALIFIED.fullmatch(internal)
    if found is None:
        return _home, internal
    return found.group(1), found.group(2)


def plain(internal: str) -> str:
    """The name a caller sees of the internal name ``internal``."""
    return unqualify(internal)[1]


def looks_qualified(name: str) -> bool:
    """Whether ``name`` has an internal name's shape (12 digits and a dot first)."""
    return _QUALIFIED.fullmatch(name) is not None


def candidates(name: str, named: str | None, caller: str) -> tuple[str, ...]:
    """The internal names a reference to ``name`` resolves to, in order.

    ``named``: the account an ARN or URL gives (None or "" for a plain name, which
    resolves in the ``caller``'s account only). A named account that holds no such
    resource falls back to the installation's (ARNs pasted from AWS carry other account
    ids; single-account installations keep working with them, as before); a plain name
    never reaches another account's resource.
    """
    if not named:
        return (qualify(name, caller),)
    first = qualify(name, named)
    return (first,) if first == name else (first, name)


def resolutions(internal: str) -> tuple[str, ...]:
    """The internal names a kept reference (a target's or mapping's ``internal`` name)
    resolves to: :func:`candidates` in the account it names."""
    account, name = unqualify(internal)
    return candidates(name, account, account)
