"""A function's resource-based policy (AddPermission, RemovePermission, GetPolicy): the
statements Lambda generates, in its words and with its limits.

One policy per function qualifier, as Lambda keeps them: the unqualified function
(stored under ``$LATEST``), each version and each alias has its own. Statements are
built the way Lambda builds them, so ``GetPolicy`` shows what AWS would show::

    {"Sid": "events", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
     "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:...:function:f",
     "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:events:...:rule/r"}}}

and each policy is compiled by ``eventplane.security.resource_policy`` before it is kept,
so what is stored is what authorization enforces.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any, Final

from eventplane.errors.security import MalformedPolicyDocument
from eventplane.functions.errors import (
    InvalidParameterValueException,
    PolicyLengthExceededException,
    PreconditionFailedException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from eventplane.functions.models.common import (
    _ANY_ARN,
    LATEST,
    _not_null,
    _pattern,
    _too_long,
    function_arn,
)
from eventplane.registry import Resource
from eventplane.security.resource_policy import parse_resource_policy

__all__ = ["MAX_POLICY_BYTES", "FunctionPolicy", "build_statement", "policy_key"]

MAX_POLICY_BYTES: Final = 20 * 1024
_SID = re.compile(r"[a-zA-Z0-9-_.]+")
_SID_PATTERN = r"^[a-zA-Z0-9-_.]+$"
_ACTION = re.compile(r"lambda:[*]|lambda:[a-zA-Z]+|[*]")
_ACTION_PATTERN = r"^(lambda:[*]|lambda:[a-zA-Z]+|[*])$"
_ACCOUNT = re.compile(r"\d{12}")
_ORG = re.compile(r"o-[a-z0-9]{10,32}")
_IAM = re.compile(r"arn:aws[a-zA-Z-]*:iam::\d{12}:(root|(user|role)/.+)")
_SERVICE = re.compile(r"[a-z0-9.-]+\.amazonaws\.com")


def policy_key(function: str, qualifier: str | None) -> str:
    return f"{function}:{qualifier or LATEST}"


def _principal(principal: str) -> Any:
    """Lambda's Principal for the AddPermission parameter: "*", an account, an IAM ARN or a
    service principal."""
    if principal == "*":
        return "*"
    if _ACCOUNT.fullmatch(principal):
        return {"AWS": f"arn:aws:iam::{principal}:root"}
    if _IAM.fullmatch(principal):
        return {"AWS": principal}
    if _SERVICE.fullmatch(principal):
        return {"Service": principal}
    raise InvalidParameterValueException(
        f"The provided principal was invalid: {principal!r}. Use '*', an account id, an IAM "
        "ARN (arn:aws:iam::<account>:root|user/<name>|role/<name>) or a service principal "
        "(events.amazonaws.com)."
    )


def build_statement(
    function: str,
    qualifier: str | None,
    *,
    statement_id: str,
    action: str,
    principal: str,
    source_arn: str = "",
    source_account: str = "",
    principal_org_id: str = "",
    account: str | None = None,
) -> dict[str, Any]:
    """The statement AddPermission adds, as Lambda generates it; ``account`` is the
    function's (its ARN, the statement's ``Resource``, carries it).

    Raises:
        ValidationException: a missing or malformed StatementId, Action, Principal,
            SourceArn, SourceAccount or PrincipalOrgID.
        InvalidParameterValueException: a principal Lambda does not recognise.
    """
    for member, value in (
        ("statementId", statement_id),
        ("action", action),
        ("principal", principal),
    ):
        if not value:
            raise _not_null(member)
    if len(statement_id) > 100:
        raise _too_long("statementId", statement_id, 100)
    if _SID.fullmatch(statement_id) is None:
        raise _pattern("statementId", statement_id, _SID_PATTERN)
    if _ACTION.fullmatch(action) is None:
        raise _pattern("action", action, _ACTION_PATTERN)
    statement: dict[str, Any] = {
        "Sid": statement_id,
        "Effect": "Allow",
        "Principal": _principal(principal),
        "Action": action,
        "Resource": function_arn(function, qualifier, account),
    }
    equals: dict[str, str] = {}
    if source_account:
        if _ACCOUNT.fullmatch(source_account) is None:
            raise _pattern("sourceAccount", source_account, r"^\d{12}$")
        equals["AWS:SourceAccount"] = source_account
    if principal_org_id:
        if _ORG.fullmatch(principal_org_id) is None:
            raise _pattern("principalOrgID", principal_org_id, r"^o-[a-z0-9]{10,32}$")
        equals["aws:PrincipalOrgID"] = principal_org_id
    condition: dict[str, Any] = {}
    if equals:
        condition["StringEquals"] = equals
    if source_arn:
        if _ANY_ARN.fullmatch(source_arn) is None:
            raise _pattern("sourceArn", source_arn, r"^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:.*")
        condition["ArnLike"] = {"AWS:SourceArn": source_arn}
    if condition:
        statement["Condition"] = condition
    return statement


@dataclass(frozen=True)
class FunctionPolicy:
    """The resource-based policy of one function qualifier and its RevisionId."""

    function: str
    qualifier: str = LATEST
    statements: tuple[dict[str, Any], ...] = ()
    revision_id: str = ""

    @property
    def key(self) -> str:
        return policy_key(self.function, self.qualifier)

    def document(self) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Id": "default", "Statement": list(self.statements)}

    def text(self) -> str:
        return json.dumps(self.document(), separators=(",", ":"))

    def check_revision(self, revision_id: str | None) -> None:
        if revision_id and revision_id != self.revision_id:
            raise PreconditionFailedException(
                "The RevisionId provided does not match the latest RevisionId for the Lambda "
                f"function or alias {function_arn(self.function, self.qualifier)}. Call the "
                "GetFunction or the GetAlias API to retrieve the latest RevisionId for your "
                "resource."
            )

    def add(self, statement: dict[str, Any], revision_id: str) -> FunctionPolicy:
        """This policy with ``statement`` added, checked as authorization will read it.

        Raises:
            ResourceConflictException: a statement with the same Sid exists.
            PolicyLengthExceededException: the policy would pass 20 KB.
        """
        sid = statement["Sid"]
        if any(s.get("Sid") == sid for s in self.statements):
            raise ResourceConflictException(
                f"The statement id ({sid}) provided already exists. Please provide a new "
                "statement id, or remove the existing statement."
            )
        grown = replace(self, statements=(*self.statements, statement), revision_id=revision_id)
        text = grown.text()
        if len(text.encode()) > MAX_POLICY_BYTES:
            raise PolicyLengthExceededException(
                f"The final policy size ({len(text.encode())}) is bigger than the limit "
                f"({MAX_POLICY_BYTES})."
            )
        try:
            parse_resource_policy(text)
        except MalformedPolicyDocument as exc:  # a statement this module built: a bug
            raise InvalidParameterValueException(exc.message) from None
        return grown

    def remove(self, statement_id: str, revision_id: str) -> FunctionPolicy:
        """This policy without the statement ``statement_id``.

        Raises:
            ResourceNotFoundException: no statement has that Sid.
        """
        kept = tuple(s for s in self.statements if s.get("Sid") != statement_id)
        if len(kept) == len(self.statements):
            raise ResourceNotFoundException(
                f"Statement {statement_id} is not found in resource policy."
            )
        return replace(self, statements=kept, revision_id=revision_id)

    def to_spec(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "qualifier": self.qualifier,
            "statements": list(self.statements),
            "revision_id": self.revision_id,
        }

    @staticmethod
    def from_resource(r: Resource) -> FunctionPolicy:
        s = r.spec
        return FunctionPolicy(
            s["function"],
            s.get("qualifier") or LATEST,
            tuple(s.get("statements") or ()),
            s.get("revision_id", ""),
        )
