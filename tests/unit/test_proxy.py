"""TcpProxy, the fault tool of tests/faults: each mode does what a test relies on."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from eventplane.testing import TcpProxy


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with TcpProxy(("127.0.0.1", server.server_address[1])) as p:
        yield p
    server.shutdown()
    server.server_close()


def _echo(proxy: TcpProxy, payload: bytes = b"ping", timeout: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=timeout) as sock:
        sock.sendall(payload)
        return sock.recv(4096)


def test_pass_forwards_both_ways(proxy: TcpProxy) -> None:
    assert _echo(proxy) == b"ping"


def test_cut_resets_open_links_and_refuses_new_until_restored(proxy: TcpProxy) -> None:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(b"a")
        assert sock.recv(16) == b"a"
        proxy.cut()
        with pytest.raises(OSError):
            sock.sendall(b"b")
            if not sock.recv(16):
                raise ConnectionResetError("closed")
    with pytest.raises(OSError):
        if not _echo(proxy):
            raise ConnectionResetError("closed")
    proxy.restore()
    assert _echo(proxy) == b"ping"
    assert proxy.faults == 1


def test_half_open_swallows_bytes_and_keeps_the_link(proxy: TcpProxy) -> None:
    proxy.half_open()
    with pytest.raises(TimeoutError):
        _echo(proxy, timeout=0.5)
    proxy.restore()
    assert _echo(proxy) == b"ping"


def test_delay_still_delivers(proxy: TcpProxy) -> None:
    proxy.delay(50)
    assert _echo(proxy) == b"ping"
