"""Deliveries across accounts: who may write into a target of another account.

A function's destination or dead-letter target, a rule's target and a subscription's
dead-letter queue carry their sender's ARN (``Payload.source_arn``). A target that
belongs to another account than the sender's takes the record only if its resource
policy allows the sender's account the writing action, as AWS lets a cross-account
delivery in; the target's port calls ``admit_sender`` before it writes.
"""

from __future__ import annotations

from eventplane import arn as arns
from eventplane.delivery.payload import Payload, TargetUnavailable
from eventplane.security.resource_policy import grants_account

__all__ = ["admit_sender"]


def admit_sender(
    payload: Payload,
    *,
    owner: str,
    policy: str | None,
    action: str,
    resource: str,
    what: str,
    verb: str,
) -> None:
    """Raises ``TargetUnavailable("AccessDenied")`` for a sender of another account than
    ``owner`` whom the target's ``policy`` does not allow ``action`` on ``resource``
    (``what``/``verb`` word the refusal: "The policy of {what} does not allow account
    {sender} to {verb}")."""
    source = payload.source_arn or ""
    sender = arns.account_of(source)
    if not sender or sender == owner:
        return
    if not grants_account(policy, sender, action, resource, source):
        raise TargetUnavailable(
            "AccessDenied", f"The policy of {what} does not allow account {sender} to {verb}"
        )
