"""Which table a request names: table names are per account (``eventplane.names``).

Account A and account B may each have a table ``orders``. The installation's table keeps
its plain name inside (registry key, Kafka topics, stores, metric labels); another
account's is ``<account>.<name>``. A caller names a table by its plain name (a
TableName: the caller's account's table) or by ARN (a table or stream ARN: the table in
the account the ARN gives, else, for ARNs pasted from AWS, the installation's of that
name). Names, ARNs, lists and stream descriptions show the plain name in its owner's
account.

A table another account created while names were unique per installation is kept under
its plain name with that account in its spec: its owner's references still reach it.

Requests one replica forwards to another carry the internal name (the forwarded call
runs as the replica, not as the caller): ``resolve`` takes it as it is there.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

from eventplane import arn as arns
from eventplane import names
from eventplane.errors import ResourceNotFound
from eventplane.security.accounts import caller_account
from eventplane.security.peers import FORWARDED
from eventplane.tables.errors import ResourceInUseException, ValidationException

__all__ = [
    "GIVEN",
    "check_new_name",
    "internal",
    "internal_names",
    "new_name",
    "not_found",
    "of_arn",
    "resolve",
]

# The owner account of the table of an internal name; None: no such table.
Owner = Callable[[str], str | None]


def not_found(name: str) -> ResourceNotFound:
    """DynamoDB's "not found" for the table a caller named ``name`` (plain or internal)."""
    return ResourceNotFound(f"Requested resource not found: Table: {names.plain(name)} not found")


def check_new_name(name: str) -> None:
    """A CreateTable name may hold dots, but not look like another account's internal
    name (12 digits and a dot first)."""
    if names.looks_qualified(name):
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at 'tableName' failed to satisfy "
            "constraint: a table name may not start with 12 digits and a dot here (that "
            "form names another account's table inside eventplane)"
        )


def new_name(owner_of: Owner, name: str, account: str) -> str:
    """The internal name CreateTable gives ``account``'s new table ``name``.

    ValidationException when ``name`` ends in ``.stream`` (the suffix of a table's stream
    topic) or looks like an internal name; ResourceInUseException
    when the account has a table of that name (or made one before names were per
    account), or when another account's made before holds the plain name the
    installation's would take. Another account's table of that name does not count.
    """
    if name.endswith(".stream"):
        raise ValidationException(
            "TableName may not end in '.stream' here: that suffix names a table's stream"
        )
    check_new_name(name)
    qualified = names.qualify(name, account)
    if internal(owner_of, name, None, account) is not None or owner_of(qualified) is not None:
        raise ResourceInUseException(f"Table already exists: {name}")
    return qualified


def internal(owner_of: Owner, name: str, account: str | None, caller: str) -> str | None:
    """The internal name of table ``name`` in the account an ARN gives (None: a bare name,
    in ``caller``'s), or None when that account has no such table.

    A table found counts only when it is that account's (an ARN's fallback: the
    installation's), so a bare name shaped like an internal one never reaches another
    account's table.
    """
    owner = account or caller
    home = names.home()
    found = names.candidates(name, account, owner)
    for candidate in found:
        expected = owner if candidate == found[0] else home
        if owner_of(candidate) == expected:
            return candidate
    if found[0] != name and not names.looks_qualified(name) and owner_of(name) == owner:
        return name  # made by another account before names were per account
    return None


def resolve(owner_of: Owner, ref: str) -> str:
    """The internal name of the table a request's TableName (a plain name or a table ARN)
    names, for the current caller; ResourceNotFound naming it when there is none. A
    forwarded call's name is the internal one already."""
    if FORWARDED.get():
        return ref
    account: str | None = None
    name = ref
    if ref.startswith("arn:"):
        found = arns.parse_as(ref, arns.Kind.TABLE)
        if found is None:
            raise ValidationException(
                f"1 validation error detected: Value '{ref}' at 'tableName' failed to satisfy "
                "constraint: Member must be a table name or a table ARN"
            )
        account, name = found.arn.account, found.name
    resolved = internal(owner_of, name, account, caller_account())
    if resolved is None:
        raise not_found(name)
    return resolved


def of_arn(owner_of: Owner, arn: str, *kinds: arns.Kind) -> tuple[str, arns.Resource] | None:
    """(internal name, parsed ARN) of the table a table or stream ARN names, or None when
    the ARN is none of ``kinds`` or names no table of its account."""
    found = arns.parse_as(arn, *kinds)
    if found is None:
        return None
    account = found.arn.account
    resolved = internal(owner_of, found.name, account, account)
    return (resolved, found) if resolved is not None else None


# The table names an item request gave, by internal name (``routed`` sets it per call).
GIVEN: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("tables_given")


def internal_names(request: Any, internal: Callable[[str], str]) -> dict[str, str]:
    """Rewrite the table names of an item request (``table_name``, BatchGet/BatchWrite's
    ``request_items``, a transaction's items') in place to the internal names
    ``internal`` gives, so the request can be served and forwarded as it is (a forwarded
    call runs as the replica, not as the caller). Returns the name
    each internal name was given as (what BatchGetItem's responses are keyed by)."""
    given: dict[str, str] = {}

    def resolved(name: str) -> str:
        found = internal(name)
        given[found] = name
        return found

    if hasattr(request, "transact_items"):
        for item in request.transact_items:
            item.table_name = resolved(item.table_name)
    elif hasattr(request, "request_items"):
        items = {resolved(name): entry for name, entry in request.request_items.items()}
        request.ClearField("request_items")
        for name, entry in items.items():
            request.request_items[name].CopyFrom(entry)
    else:
        request.table_name = resolved(request.table_name)
    return given
