"""Accounts: whose a resource is, and whose the call is.

A resource belongs to the account of the principal that created it: its registry spec
holds that account under ``ACCOUNT`` when it is not the installation's (a spec without
it, as every resource written before accounts existed, is the installation's). Queue,
topic, function, event bus, table, state machine and activity names are per account
(each account has its own default bus), as on AWS (``eventplane.names``: another
account's are kept under an internal name that carries the account); the other
capabilities' names stay unique per installation.

The caller's account comes from the principal the front door authenticated (the gRPC
interceptor and the AWS-protocol gateway both set ``current_principal``). The platform's
own principals (``replica``, ``internal``) and calls with authentication off act for the
installation, and list calls show them every account's resources: without a caller
there is no one to scope by.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventplane import arn as arns
from eventplane.security.authorize import TRUSTED
from eventplane.security.interceptor import current_principal

__all__ = [
    "ACCOUNT",
    "TRUSTED",
    "caller_account",
    "listing_account",
    "owned_by",
    "owner_of",
]

# The registry spec field naming a resource's owner account.
ACCOUNT = "account"


def caller_account() -> str:
    """The account a resource created by the current call belongs to."""
    principal = current_principal.get()
    if principal is None or principal.via in TRUSTED:
        return arns.identity().account
    return principal.account


def listing_account() -> str | None:
    """The account whose resources a list call shows; None: every account's."""
    principal = current_principal.get()
    if principal is None or principal.via in TRUSTED:
        return None
    return principal.account


def owner_of(spec: Mapping[str, Any]) -> str:
    """The account a resource's registry spec says it belongs to."""
    return str(spec.get(ACCOUNT) or arns.identity().account)


def owned_by(spec: Mapping[str, Any], account: str) -> dict[str, Any]:
    """``spec`` saying it belongs to ``account`` (the field left out for the installation,
    so what existing resources and single-account installations store is unchanged)."""
    out = {k: v for k, v in spec.items() if k != ACCOUNT}
    if account != arns.identity().account:
        out[ACCOUNT] = account
    return out
