"""Channels from one replica to another, and the internal services they call there.

A replica forwards a call for a partition another replica owns to that replica's
internal service of the capability (``eventplane.internal.QueueOwners``,
``eventplane.internal.TableOwners``), never to the public one: the public services
serve clients only, and the internal ones only replicas holding the forward token.

Plaintext when the gRPC port is. With TLS on, the replica dials its peer with TLS and
presents its own certificate (so forwarding works under mTLS too); it trusts, in this
order, the client CA bundle (EVENTPLANE_TLS_CLIENT_CA_FILE), a ``ca.crt`` beside the
certificate (what cert-manager and the chart's Secret hold), else the certificate itself
(a self-signed one shared by every replica). Replicas dial pod addresses, so the name
checked on the peer's certificate is EVENTPLANE_TLS_SERVER_NAME when set.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from eventplane.client._channel import MAX_MESSAGE_BYTES
from eventplane.config import Settings
from eventplane.security.replicas import FORWARDED_KEY, INTERNAL_PACKAGE, is_forwarded
from eventplane.security.tls import TlsFiles, read_pem
from eventplane.tracing import REQUEST_ID_KEY, TRACE_ID_KEY, current_trace


def peer_roots(files: TlsFiles) -> bytes:
    """The CA bundle a replica trusts for its peers' certificates."""
    if files.client_ca_file:
        return read_pem("EVENTPLANE_TLS_CLIENT_CA_FILE", files.client_ca_file)
    beside = Path(files.cert_file).with_name("ca.crt")
    if beside.is_file():
        return read_pem("EVENTPLANE_TLS_CERT_FILE", str(beside))
    return read_pem("EVENTPLANE_TLS_CERT_FILE", files.cert_file)


def peer_channel(
    settings: Settings, address: str, options: list[tuple[str, Any]]
) -> grpc.aio.Channel:
    """A channel to the replica at ``address``, speaking what the gRPC port speaks."""
    files = TlsFiles.from_settings(settings)
    if files is None:
        return grpc.aio.insecure_channel(address, options=options)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=peer_roots(files),
        private_key=read_pem("EVENTPLANE_TLS_KEY_FILE", files.key_file),
        certificate_chain=read_pem("EVENTPLANE_TLS_CERT_FILE", files.cert_file),
    )
    if settings.tls_server_name:
        options = [*options, ("grpc.ssl_target_name_override", settings.tls_server_name)]
    return grpc.aio.secure_channel(address, credentials, options=options)


class Peers:
    """Channels to the other replicas (one each, kept), stubs of one internal service on
    them, and the metadata of a forwarded call.

    Each capability that forwards makes one for its internal service (``service``, with
    the request and response ``types`` of its methods); the metadata carries its forward
    token (which authenticates the call as a replica's) and the caller's request and
    trace ids.
    """

    def __init__(
        self,
        token: str,
        settings: Settings | None = None,
        *,
        service: str,
        types: Mapping[str, tuple[type[Message], type[Message]]],
    ) -> None:
        self._token = token
        self._settings = settings or Settings()
        self._service = service
        self._types = types
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._stubs: dict[str, PeerStub] = {}

    def channel(self, address: str) -> grpc.aio.Channel:
        channel = self._channels.get(address)
        if channel is None:
            channel = self._channels[address] = peer_channel(
                self._settings,
                address,
                [
                    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ],
            )
        return channel

    def stub(self, address: str) -> PeerStub:
        """The internal service of the replica at ``address``."""
        stub = self._stubs.get(address)
        if stub is None:
            stub = self._stubs[address] = PeerStub(
                self.channel(address), self._service, self._types
            )
        return stub

    def metadata(self) -> tuple[tuple[str, str], ...]:
        md: list[tuple[str, str]] = [(FORWARDED_KEY, self._token)]
        ctx = current_trace()
        if ctx is not None:
            md += [(REQUEST_ID_KEY, ctx.request_id), (TRACE_ID_KEY, ctx.trace_id)]
        return tuple(md)

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()
        self._stubs.clear()


# --- the internal services replicas call on each other ------------------------------------

# Set while serving a call another replica made on an internal service: the call is
# served from this replica's own partitions only, never forwarded again.
FORWARDED: contextvars.ContextVar[bool] = contextvars.ContextVar("forwarded", default=False)

Handler = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]


def internal_path(service: str, method: str) -> str:
    """The full gRPC method name of ``method`` on the internal service ``service``."""
    return f"/{INTERNAL_PACKAGE}.{service}/{method}"


def message_types(
    descriptor: ServiceDescriptor, names: Iterable[str]
) -> dict[str, tuple[type[Message], type[Message]]]:
    """Request and response classes of ``names``, methods of a public service whose
    messages an internal service reuses."""
    methods = descriptor.methods_by_name
    return {
        name: (
            GetMessageClass(methods[name].input_type),
            GetMessageClass(methods[name].output_type),
        )
        for name in names
    }


class PeerStub:
    """Calls on another replica's internal service: ``stub.Method(request, ...)``."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        service: str,
        types: Mapping[str, tuple[type[Message], type[Message]]],
    ) -> None:
        self._calls = {
            name: channel.unary_unary(
                internal_path(service, name),
                request_serializer=request.SerializeToString,
                response_deserializer=response.FromString,
            )
            for name, (request, response) in types.items()
        }

    def __getattr__(self, name: str) -> grpc.aio.UnaryUnaryMultiCallable:
        try:
            return self._calls[name]
        except KeyError:
            raise AttributeError(name) from None


class PeerService(grpc.GenericRpcHandler):
    """An internal service: the calls replicas of this cluster forward to one another.

    Kept off the public services, so no client call is ever served as a forwarded one:
    only a caller presenting the capability's forward token reaches a handler (others get
    PERMISSION_DENIED), and the handler runs with ``FORWARDED`` set.
    """

    def __init__(
        self,
        service: str,
        token: str,
        handlers: Mapping[str, Handler],
        types: Mapping[str, tuple[type[Message], type[Message]]],
    ) -> None:
        self._tokens = frozenset({token})
        self._handlers = {
            internal_path(service, name): grpc.unary_unary_rpc_method_handler(
                self._guarded(handler),
                request_deserializer=types[name][0].FromString,
                response_serializer=types[name][1].SerializeToString,
            )
            for name, handler in handlers.items()
        }

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        return self._handlers.get(details.method)

    def _guarded(self, handler: Handler) -> Handler:
        tokens = self._tokens

        async def serve(request: Any, context: grpc.aio.ServicerContext) -> Any:
            if not is_forwarded(context.invocation_metadata(), tokens):
                await context.abort(
                    grpc.StatusCode.PERMISSION_DENIED,
                    "only replicas of this cluster may call its internal services",
                )
            token = FORWARDED.set(True)
            try:
                return await handler(request, context)
            finally:
                FORWARDED.reset(token)

        return serve
