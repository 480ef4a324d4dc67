"""Channel set-up and call plumbing shared by Client and AsyncClient."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

# eventplane.errors holds every error class (capabilities' codes included), so a
# server error arrives as its own class (QueueDoesNotExist, ...) in a program
# that only uses the SDK, without loading any capability.
from eventplane.client._credentials import TOKEN_ENV, TokenChannel, resolve_tls
from eventplane.errors.rpc import from_rpc
from eventplane.tracing import (
    REQUEST_ID_KEY,
    TRACE_ID_KEY,
    TraceContext,
    current_trace,
)

DEFAULT_TARGET = "127.0.0.1:50051"
ENDPOINT_ENV = "EVENTPLANE_ENDPOINT"
# Lambda takes zip packages up to 50 MB in CreateFunction and UpdateFunctionCode.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024

R = TypeVar("R")
T = TypeVar("T")
Page = tuple[list[T], str | None]  # one page's items and the next page's token (None: last)


async def every_page(fetch: Callable[[str | None], Awaitable[Page[T]]]) -> list[T]:
    """Every item of a paged list call; ``await fetch(token)`` returns one page."""
    items: list[T] = []
    token: str | None = None
    while True:
        page, next_token = await fetch(token)
        items.extend(page)
        # A server that hands back the token it was given would loop forever.
        if next_token is None or next_token == token:
            return items
        token = next_token


# gRPC's own retry: UNAVAILABLE (server restarting, connection refused) is
# retried with backoff. Other codes are answers, and reach the caller.
_SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{}],
                "retryPolicy": {
                    "maxAttempts": 5,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "2s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


def resolve_target(target: str | None) -> str:
    """The explicit target, else $EVENTPLANE_ENDPOINT (set inside functions), else local."""
    return target or os.environ.get(ENDPOINT_ENV) or DEFAULT_TARGET


def channel_options() -> list[tuple[str, Any]]:
    return [
        ("grpc.service_config", _SERVICE_CONFIG),
        ("grpc.enable_retries", 1),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        # A client is a connection of its own: gRPC's default shares one per target
        # among all of a process's channels, so several clients would all land on one
        # server worker (`--processes`) or pod behind a connection-balancing Service.
        ("grpc.use_local_subchannel_pool", 1),
    ]


def credentials(
    tls: bool,
    root_certificates: bytes | None,
    certificate_chain: bytes | None = None,
    private_key: bytes | None = None,
) -> grpc.ChannelCredentials | None:
    tls_env = resolve_tls()
    root_certificates = root_certificates or tls_env.ca
    certificate_chain = certificate_chain or tls_env.cert
    private_key = private_key or tls_env.key
    if not tls and root_certificates is None and certificate_chain is None:
        return None
    return grpc.ssl_channel_credentials(
        root_certificates=root_certificates,
        private_key=private_key,
        certificate_chain=certificate_chain,
    )


def open_channel(
    grpc_module: Any,
    target: str,
    tls: bool,
    root_certificates: bytes | None,
    *,
    certificate_chain: bytes | None = None,
    private_key: bytes | None = None,
    token: str | None = None,
) -> Any:
    """A channel from ``grpc`` (blocking) or ``grpc.aio``, with the SDK's options."""
    creds = credentials(tls, root_certificates, certificate_chain, private_key)
    token = token or os.environ.get(TOKEN_ENV) or None
    channel = (
        grpc_module.insecure_channel(target, options=channel_options())
        if creds is None
        else grpc_module.secure_channel(target, creds, options=channel_options())
    )
    return TokenChannel(channel, token) if token else channel


def call_metadata() -> tuple[tuple[str, str], ...]:
    """Trace ids for an outgoing call: continue the current trace, or start one."""
    parent = current_trace()
    ctx = TraceContext.new(parent.trace_id if parent else None)
    return ((REQUEST_ID_KEY, ctx.request_id), (TRACE_ID_KEY, ctx.trace_id))


def invoke(method: Callable[..., R], request: Any, timeout: float | None) -> R:
    try:
        return method(request, timeout=timeout, metadata=call_metadata())
    except grpc.RpcError as exc:
        raise from_rpc(exc) from None


async def ainvoke(method: Callable[..., Awaitable[R]], request: Any, timeout: float | None) -> R:
    try:
        return await method(request, timeout=timeout, metadata=call_metadata())
    except grpc.RpcError as exc:
        raise from_rpc(exc) from None
