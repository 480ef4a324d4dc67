"""Authorization of AWS-protocol calls: the same policies and rules as the gRPC door.

A verified access key stands for a principal (its own id, or the ``principal`` named with
it in ``EVENTPLANE_GATEWAY_CREDENTIALS``) whose identity policies live in the tokens file
(``EVENTPLANE_AUTH_TOKENS_FILE``: its ``principals:`` section or a token entry of that
name). Each action is checked with its gRPC twin's rule (``security.actions.rule_for_aws``)
after the request is parsed, so ``sqs:SendMessage`` on ``orders-*`` means the same through
boto3 as through the SDK; denials and allowed mutating calls are audited alike. A key whose
principal has no policies keeps full access, as a token without ``policies`` does; a
resource's own policy (a queue's ``Policy``) takes part as on the gRPC door.
"""

from __future__ import annotations

from typing import Any

from eventplane.gateway.sigv4 import Principal
from eventplane.security import Principal as SecurityPrincipal
from eventplane.security import TokenStore
from eventplane.security.authorize import audit, authorize
from eventplane.security.aws_actions import rule_for_aws
from eventplane.security.resource_policy import ResourcePolicies

__all__ = ["GatewayAuthorizer"]

VIA = "sigv4"


class GatewayAuthorizer:
    def __init__(
        self, store: TokenStore | None = None, resources: ResourcePolicies | None = None
    ) -> None:
        self._store = store
        self._resources = resources
        self._principals: dict[tuple[str, str], SecurityPrincipal] = {}

    def principal(self, signer: Principal) -> SecurityPrincipal:
        """The security principal a verified key stands for (built once per name and account)."""
        key = (signer.principal_name, signer.account)
        found = self._principals.get(key)
        if found is None:
            policies = self._store.policies_of(key[0]) if self._store is not None else None
            found = SecurityPrincipal(name=key[0], account=key[1], via=VIA, policies=policies)
            self._principals[key] = found
        return found

    def check(
        self,
        signer: Principal,
        service: str,
        action: str,
        request: Any,
        request_id: str,
        *,
        secure: bool,
    ) -> None:
        """Raises AccessDeniedException, worded as AWS words it, unless the call is allowed.

        ``secure``: whether the client's connection is TLS (``aws:SecureTransport``).
        """
        rule = rule_for_aws(service, action)
        principal = self.principal(signer)
        outcome = authorize(principal, rule, request, secure=secure, resources=self._resources)
        if outcome is None:
            return
        audit(principal, f"{service}:{action}", outcome, request_id)
        if outcome.error is not None:
            raise outcome.error
