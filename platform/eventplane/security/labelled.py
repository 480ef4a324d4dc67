"""AddPermission and RemovePermission (SQS, SNS): a labelled Allow statement in a
resource's policy document, the same document the ``Policy`` attribute holds and
authorization enforces (``resource_policy.py``).

Each service checks its own parameters and words its own errors; this module only edits
the document: a statement per label (its ``Sid``), granting the named accounts
(``arn:aws:iam::<account>:root``) the named actions on the resource.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

__all__ = ["ACCOUNT", "LABEL", "LabelExists", "LabelMissing", "add_statement", "remove_statement"]

LABEL = re.compile(r"[A-Za-z0-9_-]{1,80}")
ACCOUNT = re.compile(r"[0-9]{12}")


class LabelExists(ValueError):
    """The policy has a statement of that label already."""


class LabelMissing(ValueError):
    """The policy has no statement of that label."""


def _one_or_all(values: Sequence[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


def _statements(doc: dict[str, Any]) -> list[Any]:
    found = doc.get("Statement") or []
    return found if isinstance(found, list) else [found]


def add_statement(
    policy: str,
    policy_id: str,
    label: str,
    accounts: Sequence[str],
    actions: Sequence[str],
    resource: str,
) -> str:
    """``policy`` (JSON text; empty: none yet, made with ``policy_id``) with the statement
    ``label`` added."""
    doc: dict[str, Any] = (
        json.loads(policy) if policy else {"Version": "2012-10-17", "Id": policy_id}
    )
    statements = _statements(doc)
    if any(isinstance(s, dict) and s.get("Sid") == label for s in statements):
        raise LabelExists(label)
    principals = [f"arn:aws:iam::{account}:root" for account in accounts]
    statements.append(
        {
            "Sid": label,
            "Effect": "Allow",
            "Principal": {"AWS": _one_or_all(principals)},
            "Action": _one_or_all(actions),
            "Resource": resource,
        }
    )
    doc["Statement"] = statements
    return json.dumps(doc, separators=(",", ":"))


def remove_statement(policy: str, label: str) -> str:
    """``policy`` without the statement ``label`` (empty text when none is left)."""
    doc: dict[str, Any] = json.loads(policy) if policy else {}
    statements = _statements(doc)
    kept = [s for s in statements if not (isinstance(s, dict) and s.get("Sid") == label)]
    if len(kept) == len(statements):
        raise LabelMissing(label)
    if not kept:
        return ""
    doc["Statement"] = kept
    return json.dumps(doc, separators=(",", ":"))
