"""The AWS-protocol gateway (started by the ``api`` role's component): uvicorn serving
the ASGI app in the server's loop.

The socket is bound here, not by uvicorn, so a port in use is reported as a
setting error instead of uvicorn exiting the process; uvicorn's own signal
handling is bypassed (``startup``/``shutdown`` rather than ``serve``) because the
server owns SIGTERM and stops components in order.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING

import uvicorn

from eventplane.gateway.app import GatewayApp
from eventplane.gateway.authz import GatewayAuthorizer
from eventplane.gateway.binding import BINDINGS_KEY, ServiceBinding
from eventplane.gateway.relay import GatewayForwarder
from eventplane.gateway.sigv4 import Verifier
from eventplane.observability.logging import get_logger
from eventplane.runtime import ServerContext
from eventplane.runtime.relay import RELAY_KEY, RoleRelay
from eventplane.security import TokenStore
from eventplane.security.resource_policy import RESOURCE_POLICIES_KEY
from eventplane.security.setup import role_secret
from eventplane.security.tls import ReloadingSslContext, TlsFiles

if TYPE_CHECKING:
    import grpc

_log = get_logger("eventplane.gateway")


def build_app(ctx: ServerContext, forwarder: GatewayForwarder | None = None) -> GatewayApp:
    """The gateway app over this process's capabilities (their bindings fill ctx.extras)."""
    s = ctx.settings
    bindings: dict[str, ServiceBinding] = ctx.extras.setdefault(BINDINGS_KEY, {})
    verifier = Verifier(
        s.gateway_credentials, open_access=s.gateway_open, role_secret=role_secret(s)
    )
    store = TokenStore.from_file(s.auth_tokens_file) if s.auth_tokens_file else None
    return GatewayApp(
        bindings,
        verifier,
        authorizer=GatewayAuthorizer(store, ctx.extras.get(RESOURCE_POLICIES_KEY)),
        forwarder=forwarder,
    )


class GatewayComponent:
    role: str = "api"
    service_names: Sequence[str] = ()

    def __init__(self) -> None:
        self._server: uvicorn.Server | None = None
        self._socket: socket.socket | None = None

    async def start(self, ctx: ServerContext, server: grpc.aio.Server) -> None:
        s = ctx.settings
        if not s.gateway_port:
            return
        relay: RoleRelay | None = ctx.extras.get(RELAY_KEY)
        app = build_app(ctx, GatewayForwarder(relay) if relay is not None else None)
        # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted connections only then;
        # without it each response (headers, then body) waits out delayed ACKs (~40 ms).
        family = socket.AF_INET6 if ":" in s.grpc_host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if s.reuse_port:  # sibling workers of `--processes N` share the port (workers.py)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind((s.grpc_host, s.gateway_port))
        except OSError as exc:
            sock.close()
            raise OSError(
                f"EVENTPLANE_GATEWAY_PORT: cannot listen on {s.grpc_host}:{s.gateway_port}: "
                f"{exc.strerror}"
            ) from None
        sock.listen(1024)
        sock.setblocking(False)
        config = uvicorn.Config(
            app,
            lifespan="off",
            log_config=None,
            access_log=False,
            http="httptools",
            timeout_keep_alive=75,
            timeout_graceful_shutdown=int(s.shutdown_grace) or 1,
        )
        config.load()
        files = TlsFiles.from_settings(s)
        if files is not None:  # the gRPC port's certificate, re-read after a rotation
            config.ssl = ReloadingSslContext(files).context
        uv = uvicorn.Server(config)
        uv.lifespan = config.lifespan_class(config)
        await uv.startup(sockets=[sock])
        self._server, self._socket = uv, sock
        _log.info(
            "gateway serving",
            url=s.gateway_url,
            auth="any access key (open)" if s.gateway_open else "SigV4",
            keys=len(s.gateway_credentials),
        )

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.shutdown(sockets=[self._socket] if self._socket else None)
            self._server = None
