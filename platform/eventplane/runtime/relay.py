"""Relaying calls for the roles this process does not run to the pods that do.

In a split deployment each workload runs some roles: the api pods only the front door,
the queue owners only Queues, and so on. A call for a service whose role this process
does not run (a client's call on the api Service, a workflow task's ``sqs:sendMessage``,
a function handler's ``Client()``) would end in UNIMPLEMENTED. With
``EVENTPLANE_ROLE_ENDPOINTS`` naming where each role is served, this process relays such
a call there and answers with what that pod answered (status, AWS error code, trailing
metadata), so every pod is a complete front door.

Credentials: the call was authenticated and authorized here, by the same interceptor
and policies as everywhere. A bearer token (an API key, a JWT, a function's
execution-role token) travels on unchanged, so the serving pod checks it again. A call
whose credentials cannot travel (this process's own components, a client certificate)
goes with the cluster's relay token (an HMAC of the shared receipt secret), which the
serving pod accepts as a replica's. A relayed call is never relayed again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import grpc
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message

from eventplane.client._channel import MAX_MESSAGE_BYTES
from eventplane.config import ROLES, Settings
from eventplane.observability.metrics import RELAYED_CALLS
from eventplane.runtime.registry import CAPABILITIES
from eventplane.security.interceptor import INTERNAL, current_principal
from eventplane.security.peers import peer_channel
from eventplane.security.replicas import FORWARDED_KEY, RELAY_SCOPE, forward_token

# Where the server keeps its RoleRelay in ServerContext.extras (the gateway relays too).
RELAY_KEY = "role_relay"

# Metadata that belongs to this hop, not to the call.
_HOP_KEYS = frozenset({"user-agent", ":authority", "content-type", "te", FORWARDED_KEY})


def service_roles() -> dict[str, str]:
    """Every gRPC service this build declares -> the role that serves it."""
    return {name: c.role for c in CAPABILITIES for name in c.component_class().service_names}


class RoleRelay(grpc.GenericRpcHandler):
    """The server's last handler: the services of roles served elsewhere."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._local = frozenset(settings.roles)
        # A process that runs every role relays nothing: it need not import every
        # capability's component to learn whose services are whose.
        self._roles = service_roles() if self._local != frozenset(ROLES) else {}
        self._endpoints: Mapping[str, str] = settings.role_endpoints
        self._token = forward_token(settings.receipt_secret, RELAY_SCOPE)
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._handlers: dict[str, grpc.RpcMethodHandler] = {}

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        method = details.method
        handler = self._handlers.get(method)
        if handler is not None:
            return handler
        service = method.lstrip("/").partition("/")[0]
        role = self._roles.get(service)
        if role is None or role in self._local:
            return None  # not ours to relay: grpc answers UNIMPLEMENTED as usual
        request_class = _request_class(method)
        if request_class is None:
            return None
        address = self._endpoints.get(role)
        if address is None:
            handler = self._unserved(service, role, request_class)
        else:
            handler = self._relay(method, role, address, request_class)
        self._handlers[method] = handler
        return handler

    def relays(self, method: str) -> bool:
        """Whether calls of ``method`` go to another process (whose checks then apply)."""
        role = self._roles.get(method.lstrip("/").partition("/")[0])
        return role is not None and self.endpoint_of(role) is not None

    @property
    def token(self) -> str:
        """What a relayed call carries when the caller's credentials cannot travel."""
        return self._token

    def endpoint_of(self, role: str) -> str | None:
        """Where ``role`` is served, when this process does not run it and one is named."""
        if role in self._local:
            return None
        return self._endpoints.get(role)

    def _unserved(
        self, service: str, role: str, request_class: type[Message]
    ) -> grpc.RpcMethodHandler:
        local = ",".join(self._settings.roles)
        message = (
            f"{service.rsplit('.', 1)[-1]} is served by the {role!r} role, which this server "
            f"does not run (EVENTPLANE_ROLES={local}); call a server that runs it, or set "
            f"EVENTPLANE_ROLE_ENDPOINTS ({role}=HOST:PORT) to have this one relay the call"
        )

        async def refuse(request: Any, context: grpc.aio.ServicerContext) -> Any:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, message)

        return grpc.unary_unary_rpc_method_handler(
            refuse, request_deserializer=request_class.FromString
        )

    def _relay(
        self, method: str, role: str, address: str, request_class: type[Message]
    ) -> grpc.RpcMethodHandler:
        call = self.channel(address).unary_unary(method)  # bytes out, bytes back
        token = self._token

        async def relay(request: Any, context: grpc.aio.ServicerContext) -> bytes:
            incoming = tuple(context.invocation_metadata() or ())
            if any(key == FORWARDED_KEY for key, _ in incoming):
                RELAYED_CALLS.labels(role, "LOOP").inc()
                await context.abort(
                    grpc.StatusCode.UNIMPLEMENTED,
                    f"a relayed call reached a server without the {role!r} role: "
                    f"EVENTPLANE_ROLE_ENDPOINTS points {role} at {address}, which does not "
                    "serve it",
                )
            metadata = _outgoing(incoming, token)
            remaining = context.time_remaining()
            try:
                rpc = call(request.SerializeToString(), metadata=metadata, timeout=remaining)
                response: bytes = await rpc
                context.set_trailing_metadata(tuple(await rpc.trailing_metadata() or ()))
            except grpc.aio.AioRpcError as exc:
                RELAYED_CALLS.labels(role, exc.code().name).inc()
                details = exc.details() or ""
                if exc.code() is grpc.StatusCode.UNAVAILABLE and not exc.trailing_metadata():
                    details = f"the {role!r} role's API at {address} is unreachable: {details}"
                await context.abort(exc.code(), details, tuple(exc.trailing_metadata() or ()))
                raise  # abort raises; this line is for type checkers
            RELAYED_CALLS.labels(role, "OK").inc()
            return response

        return grpc.unary_unary_rpc_method_handler(
            relay, request_deserializer=request_class.FromString
        )

    def channel(self, address: str) -> grpc.aio.Channel:
        channel = self._channels.get(address)
        if channel is None:
            channel = self._channels[address] = peer_channel(
                self._settings,
                address,
                [
                    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                    ("grpc.use_local_subchannel_pool", 1),
                ],
            )
        return channel

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()


def _outgoing(
    incoming: Sequence[tuple[str, Any]], token: str
) -> tuple[tuple[str, str | bytes], ...]:
    """The relayed call's metadata: the caller's, with credentials that can travel."""
    principal = current_principal.get()
    keep: list[tuple[str, str | bytes]] = []
    bearer = False
    for key, value in incoming:
        if key in _HOP_KEYS or key.startswith("grpc-"):
            continue
        if key == "authorization":
            if principal is INTERNAL:
                continue  # this process's own token means nothing elsewhere
            bearer = True
        keep.append((key, value))
    if not bearer:
        keep.append((FORWARDED_KEY, token))
    return tuple(keep)


def _request_class(method: str) -> type[Message] | None:
    """The request message class of ``/package.Service/Method``, if the build declares it.

    Every eventplane RPC is unary (a unit test keeps it so), which is all a relay serves.
    """
    service, _, name = method.lstrip("/").partition("/")
    try:
        found = descriptor_pool.Default().FindServiceByName(service).FindMethodByName(name)
    except KeyError:
        return None
    if found is None or found.client_streaming or found.server_streaming:
        return None
    request_class: type[Message] = message_factory.GetMessageClass(found.input_type)
    return request_class
