"""A function's resource-based policy (an AsyncFunctionsClient mixin): who else may
invoke it. Mirrors boto3's ``add_permission``, ``remove_permission`` and ``get_policy``."""

from __future__ import annotations

import json
from typing import Any

from eventplane._gen.v1 import functions_pb2 as pb
from eventplane.client._facade import ServiceCore


class PermissionCalls(ServiceCore):
    """AddPermission, RemovePermission and GetPolicy."""

    async def add_permission(
        self,
        function_name: str,
        statement_id: str,
        action: str,
        principal: str,
        *,
        source_arn: str | None = None,
        source_account: str | None = None,
        principal_org_id: str | None = None,
        qualifier: str | None = None,
        revision_id: str | None = None,
    ) -> dict[str, Any]:
        """Allow ``principal`` ``action`` on the function (or one version or alias).

        Args:
            function_name: the function (name or ARN).
            statement_id: the statement's Sid, unique in the policy.
            action: ``lambda:InvokeFunction``, ``lambda:*``, ...
            principal: ``"*"``, an account id, an IAM ARN
                (``arn:aws:iam::<account>:user/<name>``) or a service principal
                (``events.amazonaws.com``).
            source_arn: only when the call comes from this resource (``ArnLike``).
            source_account: only when the source belongs to this account.
            principal_org_id: only for principals of this organization.
            qualifier: a version or alias: its own policy; None: the function's.
            revision_id: refuse the change unless the policy is still at this revision.

        Returns:
            The statement added, as Lambda generates it.

        Raises:
            EventplaneError: ``ResourceConflictException`` for a Sid in use,
                ``PreconditionFailedException`` for a stale ``revision_id``,
                ``PolicyLengthExceededException`` past 20 KB.
        """
        req = pb.AddPermissionRequest(
            function_name=function_name,
            statement_id=statement_id,
            action=action,
            principal=principal,
            source_arn=source_arn or "",
            source_account=source_account or "",
            principal_org_id=principal_org_id or "",
            qualifier=qualifier or "",
            revision_id=revision_id or "",
        )
        r = await self._call(self._stub.AddPermission, req, self._timeout)
        statement: dict[str, Any] = json.loads(r.statement or "{}")
        return statement

    async def remove_permission(
        self,
        function_name: str,
        statement_id: str,
        *,
        qualifier: str | None = None,
        revision_id: str | None = None,
    ) -> None:
        """Remove one statement; ``ResourceNotFoundException`` for an unknown Sid."""
        req = pb.RemovePermissionRequest(
            function_name=function_name,
            statement_id=statement_id,
            qualifier=qualifier or "",
            revision_id=revision_id or "",
        )
        await self._call(self._stub.RemovePermission, req, self._timeout)

    async def get_policy(
        self, function_name: str, *, qualifier: str | None = None
    ) -> tuple[dict[str, Any], str]:
        """(the policy document, its RevisionId); ``ResourceNotFoundException`` when the
        function (or qualifier) has no policy."""
        req = pb.GetPolicyRequest(function_name=function_name, qualifier=qualifier or "")
        r = await self._call(self._stub.GetPolicy, req, self._timeout)
        document: dict[str, Any] = json.loads(r.policy or "{}")
        return document, r.revision_id
