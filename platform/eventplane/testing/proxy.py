"""A TCP proxy a test controls, to cut, slow or half-open a link without privileges.

    with TcpProxy(("127.0.0.1", server.grpc_port)) as proxy:
        client = Client(proxy.endpoint)
        proxy.cut()        # existing connections reset, new ones closed at once
        proxy.restore()    # pass again
        proxy.delay(200)   # every chunk held 200 ms
        proxy.half_open()  # connections accepted and kept, bytes swallowed

Why a proxy and not iptables/tc: tests run unprivileged and in parallel; a
proxy per link isolates each test's faults. Threads, not asyncio: the test
drives the proxy from synchronous code, and one thread per direction per
connection is plenty for a handful of gRPC channels.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from enum import Enum

from eventplane.testing.harness import free_port

__all__ = ["Mode", "TcpProxy"]

_TICK = 0.05  # how often a pump looks at the mode while idle
_CHUNK = 65536


class Mode(Enum):
    PASS = "pass"
    DROP = "drop"
    DELAY = "delay"
    HALF_OPEN = "half-open"


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``target``; the mode applies to all links at once."""

    def __init__(self, target: tuple[str, int], *, port: int | None = None) -> None:
        self.target = target
        self.port = port or free_port()
        self.mode = Mode.PASS
        self.delay_ms = 0
        self.faults = 0  # cut/half-open/delay calls, for the test's report
        self._lock = threading.Lock()
        self._links: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._closed = threading.Event()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(_TICK)
        self._listener = listener
        threading.Thread(target=self._accept_loop, name="proxy-accept", daemon=True).start()
        return self

    def stop(self) -> None:
        self._closed.set()
        if self._listener is not None:
            self._listener.close()
        self._reset_links()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults --------------------------------------------------------------

    def cut(self) -> None:
        """Reset every open connection and refuse new ones until ``restore``."""
        self.faults += 1
        self.mode = Mode.DROP
        self._reset_links()

    def half_open(self) -> None:
        """Keep connections (and accept new ones) but forward nothing: a silent peer."""
        self.faults += 1
        self.mode = Mode.HALF_OPEN

    def delay(self, ms: int) -> None:
        """Hold every chunk ``ms`` milliseconds before forwarding it."""
        self.faults += 1
        self.delay_ms = ms
        self.mode = Mode.DELAY

    def restore(self) -> None:
        """Forward again. Half-open links swallowed bytes, so they are reset too."""
        if self.mode is Mode.HALF_OPEN:
            self._reset_links()
        self.mode = Mode.PASS

    # -- plumbing ------------------------------------------------------------

    def _reset_links(self) -> None:
        with self._lock:
            links, self._links = self._links, set()
        for sock in links:
            with contextlib.suppress(OSError):
                # SO_LINGER 0: close sends RST, like a cable pulled mid-stream.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00" * 2)
            with contextlib.suppress(OSError):
                sock.close()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._closed.is_set():
            try:
                downstream, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.mode is Mode.DROP:
                downstream.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                downstream.close()
                continue
            for sock in (downstream, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._links.update((downstream, upstream))
            for src, dst in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while not self._closed.is_set():
                readable, _, _ = select.select([src], [], [], _TICK)
                if not readable:
                    continue
                data = src.recv(_CHUNK)
                if not data:
                    break
                mode = self.mode
                if mode is Mode.HALF_OPEN:
                    continue
                if mode is Mode.DELAY:
                    time.sleep(self.delay_ms / 1000)
                dst.sendall(data)
        except (OSError, ValueError):
            pass  # the other side closed, or a cut reset the link
        finally:
            with self._lock:
                self._links.discard(src)
                self._links.discard(dst)
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.close()
