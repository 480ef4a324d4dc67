"""A bus's resource-based policy (PutPermission, RemovePermission): who else may put
events on it, with the statements EventBridge generates.

``PutPermission`` either adds one statement (``StatementId``, ``Action``
``events:PutEvents``, ``Principal`` an account id or ``"*"``, optionally a ``Condition``
on ``aws:PrincipalOrgID``) or, with ``Policy``, replaces the whole document. Every
document is compiled by ``eventplane.security.resource_policy`` before it is kept, so
what DescribeEventBus shows is what authorization enforces.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from eventplane.errors import ResourceNotFound, ValidationException
from eventplane.errors.security import MalformedPolicyDocument
from eventplane.security.resource_policy import parse_resource_policy

__all__ = ["PUT_EVENTS", "put_policy", "put_statement", "remove_statement"]

PUT_EVENTS: Final = "events:PutEvents"
_SID = re.compile(r"[a-zA-Z0-9-_]{1,64}")
_ACCOUNT = re.compile(r"\d{12}")


def _statements(policy: str) -> list[dict[str, Any]]:
    if not policy:
        return []
    raw = json.loads(policy).get("Statement") or []
    return [raw] if isinstance(raw, dict) else list(raw)


def _document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":"))


def put_statement(
    policy: str,
    bus_arn: str,
    *,
    statement_id: str,
    action: str,
    principal: str,
    condition: Mapping[str, str] | None = None,
) -> str:
    """``policy`` with the statement ``statement_id`` granting ``principal`` ``action`` on
    the bus (a statement with the same id is replaced).

    Raises:
        ValidationException: naming the parameter at fault.
    """
    if _SID.fullmatch(statement_id or "") is None:
        raise ValidationException(
            f"StatementId {statement_id!r} must be 1-64 letters, digits, '-' or '_'."
        )
    if action != PUT_EVENTS:
        raise ValidationException(f"Action {action!r} is not supported: use {PUT_EVENTS}.")
    if principal == "*":
        who: Any = "*"
    elif _ACCOUNT.fullmatch(principal or ""):
        who = {"AWS": f"arn:aws:iam::{principal}:root"}
    else:
        raise ValidationException(f"Principal {principal!r} must be a 12-digit account id or *.")
    statement: dict[str, Any] = {
        "Sid": statement_id,
        "Effect": "Allow",
        "Principal": who,
        "Action": action,
        "Resource": bus_arn,
    }
    if condition:
        kind, key, value = (condition.get(k, "") for k in ("Type", "Key", "Value"))
        if kind != "StringEquals" or key.lower() != "aws:principalorgid" or not value:
            raise ValidationException(
                "Condition must be {Type: StringEquals, Key: aws:PrincipalOrgID, Value: <org id>}."
            )
        statement["Condition"] = {"StringEquals": {key: value}}
    kept = [s for s in _statements(policy) if s.get("Sid") != statement_id]
    return put_policy(_document([*kept, statement]))


def put_policy(document: str) -> str:
    """A whole policy document, checked as authorization will read it.

    Raises:
        ValidationException: the document is not a valid resource policy.
    """
    try:
        parse_resource_policy(document)
    except MalformedPolicyDocument as exc:
        raise ValidationException(exc.message) from None
    return document


def remove_statement(policy: str, statement_id: str) -> str:
    """``policy`` without the statement ``statement_id`` ("" when none is left).

    Raises:
        ResourceNotFound: no statement has that id.
    """
    statements = _statements(policy)
    kept = [s for s in statements if s.get("Sid") != statement_id]
    if len(kept) == len(statements):
        raise ResourceNotFound("Statement with the provided id does not exist.")
    return _document(kept) if kept else ""
