"""Asynchronous invocation records on ``eventplane.fn.async``, and how to write one: the
function's port.

Every asynchronous path into a function goes through this topic: Invoke with
InvocationType=Event, topic subscriptions and bus rule targets of protocol/kind
``function``, and function destinations. The bus and topic dispatchers write the record
inside their Kafka transactions, so an event reaches the function's queue of
invocations exactly once; the function runs at least once from there.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Final

from eventplane import arn as arns
from eventplane import names
from eventplane.delivery.payload import Payload, TargetUnavailable
from eventplane.delivery.senders import admit_sender
from eventplane.functions.models.common import POLICY
from eventplane.functions.models.permissions import FunctionPolicy, policy_key
from eventplane.kafka import codec, naming
from eventplane.kafka.outgoing import Outgoing
from eventplane.registry import Registry
from eventplane.security.accounts import owner_of

SCHEMA: Final = "eventplane.v1.FunctionInvocation"
ASYNC_TOPIC: Final = naming.FUNCTION_ASYNC
ASYNC_PARTITIONS: Final = 6
FUNCTION_KIND: Final = "function"  # the registry kind of functions (see functions/model.py)


@dataclass(frozen=True)
class Invocation:
    request_id: str
    function: str
    qualifier: str | None
    payload: bytes
    client_context: str | None
    attempt: int
    throttles: int
    first_ms: int
    due_ms: int
    source: str = "invoke"
    last_error: bytes | None = None
    last_function_error: str | None = None


def new_invocation(
    function: str,
    qualifier: str | None,
    payload: bytes,
    *,
    source: str,
    client_context: str | None = None,
    request_id: str | None = None,
    now_ms: int | None = None,
) -> Invocation:
    now = int(time.time() * 1000) if now_ms is None else now_ms
    return Invocation(
        request_id=request_id or str(uuid.uuid4()),
        function=function,
        qualifier=qualifier,
        payload=payload,
        client_context=client_context,
        attempt=0,
        throttles=0,
        first_ms=now,
        due_ms=now,
        source=source,
    )


def encode(inv: Invocation) -> tuple[bytes, list[tuple[str, bytes]]]:
    return codec.encode(SCHEMA, asdict(inv))


def decode(value: bytes, headers: Sequence[tuple[str, bytes | None]]) -> Invocation:
    _, rec = codec.decode(value, headers)
    return Invocation(**rec)


def invocation_record(inv: Invocation) -> Outgoing:
    """An asynchronous invocation, keyed by function so one function's stay in order."""
    value, headers = encode(inv)
    return Outgoing(ASYNC_TOPIC, value, headers, key=inv.function)


class FunctionPort:
    """Invokes a function asynchronously with the payload as its event."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def fifo(self, endpoint: str) -> bool:
        return False

    def record(self, endpoint: str, payload: Payload) -> Outgoing:
        # The endpoint is the function's internal name (``eventplane.names``): in its
        # ARN's account, else (ARNs pasted from AWS) the installation's.
        internal, _, qualifier = endpoint.partition(":")
        name, found = internal, None
        for name in names.resolutions(internal):
            found = self._registry.get(FUNCTION_KIND, name)
            if found is not None:
                break
        if found is None:
            raise TargetUnavailable(
                "ResourceNotFoundException", f"Function {names.plain(internal)} does not exist"
            )
        if payload.origin == "destination":
            self._check_sender(name, qualifier, owner_of(found.spec), payload)
        inv = new_invocation(
            name,
            qualifier or None,
            payload.body.encode(),
            source=payload.origin,
            request_id=payload.message_id,
        )
        return invocation_record(inv)

    def _check_sender(self, name: str, qualifier: str, account: str, payload: Payload) -> None:
        """A function's destination in another account is invoked only if that function's
        AddPermission policy allows the sender's account ``lambda:InvokeFunction``."""
        if arns.account_of(payload.source_arn or "") in ("", account):
            return  # no policy lookup for a sender of the function's own account
        r = self._registry.get(POLICY, policy_key(name, qualifier or None))
        admit_sender(
            payload,
            owner=account,
            policy=FunctionPolicy.from_resource(r).text() if r is not None else None,
            action="lambda:InvokeFunction",
            resource=arns.function_arn(name, qualifier or None, account),
            what=f"function {names.plain(name)}",
            verb="invoke it",
        )
