"""The Prometheus /metrics endpoint, over plain HTTP or TLS.

prometheus_client's own server wraps its listening socket, so every TLS handshake
runs in the accepting thread: one client that connects and stays silent stops the
endpoint. Here the handshake runs in the request's thread (with a timeout), and the
context is the caller's, so the certificate follows rotation like the other ports.
"""

from __future__ import annotations

import ssl
import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import REGISTRY, CollectorRegistry, make_wsgi_app, start_http_server
from prometheus_client.exposition import ThreadingWSGIServer

HANDSHAKE_TIMEOUT_S = 10.0


class _Quiet(WSGIRequestHandler):
    timeout = HANDSHAKE_TIMEOUT_S  # a silent peer costs one thread for this long

    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not worth a log line each."""

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()  # here, in this request's thread


class _TlsServer(ThreadingWSGIServer):
    def __init__(self, *args: Any, context: ssl.SSLContext, **kw: Any) -> None:
        self._context = context
        super().__init__(*args, **kw)

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = self.socket.accept()
        return self._context.wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False
        ), addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A failed handshake or a peer that went away is the peer's problem."""


def serve_metrics(
    port: int,
    addr: str,
    context: ssl.SSLContext | None = None,
    registry: CollectorRegistry = REGISTRY,
) -> Any:
    """Serve /metrics on ``addr:port`` in a daemon thread; returns the server (shutdown())."""
    if context is None:
        server, _ = start_http_server(port, addr=addr, registry=registry)
        return server

    tls = context

    class _Bound(_TlsServer):
        def __init__(self, *args: Any, **kw: Any) -> None:
            super().__init__(*args, context=tls, **kw)

    server = make_server(addr, port, make_wsgi_app(registry), _Bound, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="metrics-https", daemon=True).start()
    return server
