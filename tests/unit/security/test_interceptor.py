"""The interceptor's side of a decision: what it tells authorize about the call's transport."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import grpc
import pytest

from eventplane._gen.v1 import queues_pb2
from eventplane.security.interceptor import Authenticator, AuthInterceptor
from eventplane.security.resource_policy import ResourcePolicies
from eventplane.security.tokens import TokenStore, sha256_hex

METHOD = "/eventplane.v1.Queues/SendMessage"
QUEUE = "arn:aws:sqs:local:000000000000:orders"
TLS_ONLY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": QUEUE,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
)


class _Refused(Exception):
    pass


class _Context:
    def __init__(self, *, tls: bool) -> None:
        self.tls = tls

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", "Bearer admin-token"),)

    def auth_context(self) -> dict[str, list[bytes]]:
        return {"transport_security_type": [b"ssl"]} if self.tls else {}

    async def abort(self, code: grpc.StatusCode, message: str, *_: Any) -> None:
        raise _Refused(code, message)


def _serve(*, tls: bool) -> str:
    store = TokenStore([{"principal": "admin", "sha256": sha256_hex("admin-token")}])
    resources = ResourcePolicies()
    resources.register("arn:aws:sqs:", lambda arn: TLS_ONLY if arn == QUEUE else None)
    interceptor = AuthInterceptor(Authenticator(store, mtls=False), resources)

    async def inner(request: Any, context: Any) -> str:
        return "sent"

    wrapped = interceptor._wrap(METHOD, grpc.unary_unary_rpc_method_handler(inner))
    request = queues_pb2.SendMessageRequest(queue_url="eventplane://queues/orders")
    return asyncio.run(wrapped.unary_unary(request, _Context(tls=tls)))  # type: ignore[misc]


def test_a_queue_policy_requiring_tls_lets_an_unrestricted_caller_in_over_tls() -> None:
    # A principal without identity policies used to be taken as a plaintext caller.
    assert _serve(tls=True) == "sent"


def test_a_queue_policy_requiring_tls_refuses_a_plaintext_call() -> None:
    with pytest.raises(_Refused) as info:
        _serve(tls=False)
    assert info.value.args[0] is grpc.StatusCode.PERMISSION_DENIED
