"""Accounts of event source mappings: a mapping is its function's account's, and reads a
source of that account, or a queue whose policy lets that account read it.

Queues and table streams grant other accounts only through resource policies: a queue's
``Policy`` must allow the function's account (its role) ``sqs:ReceiveMessage`` and
``sqs:DeleteMessage``, as Lambda's poller needs on AWS; tables have no policies here, so
another account's stream is refused. Looked up through the server's ``ResourcePolicies``
(the owner and policy lookups the queues and tables register), so this capability reads
no other's internals.
"""

from __future__ import annotations

from eventplane import arn as arns
from eventplane import names
from eventplane.errors.security import AccessDeniedException
from eventplane.functions.errors import InvalidParameterValueException
from eventplane.functions.models import FunctionDef, MappingDef
from eventplane.security.accounts import caller_account, listing_account
from eventplane.security.interceptor import current_principal
from eventplane.security.policy import Decision
from eventplane.security.resource_policy import ResourcePolicies

__all__ = ["QUEUE_ACTIONS", "check_function", "check_source"]

# What a queue's policy must allow the function's account for a mapping to read it.
QUEUE_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage")


def check_function(fn: FunctionDef, account: str | None = None) -> FunctionDef:
    """``fn`` when it is of ``account`` (an updated mapping's), by default the caller's:
    a mapping invokes a function of its own account only (the platform's own principals,
    and calls without authentication, act for every account)."""
    action = "lambda:UpdateEventSourceMapping" if account else "lambda:CreateEventSourceMapping"
    if account is None:
        if listing_account() is None:
            return fn
        account = caller_account()
    if fn.account == account:
        return fn
    principal = current_principal.get()
    name = principal.name if principal is not None else "anonymous"
    raise AccessDeniedException(
        f"User: {name} is not authorized to perform: {action} on resource: {fn.arn} "
        f"because no resource-based policy allows the {action} action"
    )


def check_source(resources: ResourcePolicies | None, mapping: MappingDef, fn: FunctionDef) -> None:
    """InvalidParameterValueException naming the source when it is another account's and
    does not grant the function's account (None ``resources``: nothing to look up)."""
    if resources is None:
        return
    source = mapping.event_source_arn
    if mapping.stream is not None:
        table = source.split("/stream/", 1)[0]
        scoped, owner = resources.owner(table)
        if scoped and owner is not None and owner != fn.account:
            raise InvalidParameterValueException(
                f"Cannot access stream {source}: it is another account's table's, and "
                "tables grant no other account (the function's account is "
                f"{fn.account})."
            )
        return
    owner, name = names.unqualify(mapping.queue)
    queue = arns.queue_arn(name, owner)
    scoped, owner = resources.owner(queue)
    if not scoped or owner is None or owner == fn.account:
        return
    owned = arns.with_account(queue, owner)
    policy = resources.find(owned)
    role = fn.config.role
    allowed = policy is not None and all(
        policy.evaluate(role, fn.account, action, owned) is Decision.ALLOW
        for action in QUEUE_ACTIONS
    )
    if not allowed:
        raise InvalidParameterValueException(
            f"The provided execution role does not have permissions to call ReceiveMessage "
            f"on SQS: {source} is another account's queue, and its Policy does not allow "
            f"account {fn.account} {' and '.join(QUEUE_ACTIONS)}."
        )
