"""Helpers to run a real eventplane server in tests and wait without fixed sleeps."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import grpc

T = TypeVar("T")


# Below Linux's ephemeral range (32768-60999): a port the kernel hands out for
# port 0 can be taken by any outgoing connection (Kafka clients open many)
# before the server binds it. The local broker's controller listens on port
# + 10000, which stays below that range too.
_PORTS = (15000, 22000)


def _port_range() -> tuple[int, int]:
    """This process's share of ``_PORTS``: under pytest-xdist, worker N of M draws from
    the N-th of M slices, so two workers never hand out the same port. A port is free
    when drawn and taken only when the server binds it, a second or so later; a sibling
    worker that drew it meanwhile started a server that could not listen, and the
    first one's health check answered for it (CI saw a module's tests all refused)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if not worker.startswith("gw") or not worker[2:].isdigit() or count < 2:
        return _PORTS
    index = int(worker[2:]) % count
    width = (_PORTS[1] - _PORTS[0]) // count
    low = _PORTS[0] + index * width
    return low, low + width - 1


def free_port() -> int:
    """A TCP port nothing listens on right now, outside the ephemeral range."""
    ports = _port_range()
    for _ in range(200):
        port = random.randint(*ports)
        with socket.socket() as s, socket.socket() as controller:
            try:
                s.bind(("127.0.0.1", port))
                controller.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free TCP port in {ports}")


def _distinct_port(taken: set[int]) -> int:
    """A free port not in ``taken`` (which it joins)."""
    while (port := free_port()) in taken:
        pass
    taken.add(port)
    return port


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive TCP ports nothing listens on right now."""
    ports = _port_range()
    for _ in range(200):
        base = random.randint(ports[0], ports[1] - count)
        socks = [socket.socket() for _ in range(count)]
        try:
            for i, sock in enumerate(socks):
                sock.bind(("127.0.0.1", base + i))
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
        return base
    raise RuntimeError(f"no {count} free TCP ports in a row in {ports}")


def eventually(
    check: Callable[[], T],
    *,
    timeout: float = 15.0,
    interval: float = 0.05,
    message: str = "condition never held",
) -> T:
    """Call ``check`` until it returns a truthy value without raising AssertionError.

    Returns that value. On timeout re-raises the last AssertionError, or fails
    with ``message``.
    """
    deadline = time.monotonic() + timeout
    last: AssertionError | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except AssertionError as exc:
            last = exc
        if time.monotonic() > deadline:
            if last is not None:
                raise last
            raise AssertionError(f"{message} (within {timeout:g}s)")
        time.sleep(interval)


def retrying(call: Callable[[], T], *, timeout: float = 60.0, interval: float = 0.2) -> T:
    """Call ``call`` until it stops raising a retriable EventplaneError.

    What a client does through a replica restart or a partition hand-over: the server
    answers ServiceUnavailable (retriable) meanwhile. Any other error, or a retriable
    one past ``timeout`` seconds, is raised.
    """
    from eventplane.errors import EventplaneError

    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except EventplaneError as exc:
            if not exc.retriable or time.monotonic() > deadline:
                raise
            time.sleep(interval)


def unique_cluster(prefix: str = "t") -> str:
    """A cluster name no other server uses: its servers share nothing with the others."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class EventplaneProcess:
    """`eventplane server` as a child process on free ports, for tests.

    Args:
        bootstrap: Kafka bootstrap servers the server uses.
        roles: the roles to run (default all).
        env: extra EVENTPLANE_* settings.
        grpc_port / metrics_port / gateway_port: fixed ports (default: free ones); a
            restarted process keeps its ports so clients can reconnect.
        cluster: the installation this server is a replica of (``EVENTPLANE_CLUSTER``).
            The default cluster is shared by every server on the broker that sets
            none; a test that counts one process's metrics, moves its clock or kills
            it takes a cluster of its own (``unique_cluster()``), so no other server
            on the broker takes over its partitions.
        processes: worker processes (``--processes``); 1, not the server's default of
            one per core, so a test's server is the one process it watches.
    """

    def __init__(
        self,
        bootstrap: str,
        *,
        roles: str = "all",
        env: Mapping[str, str] | None = None,
        grpc_port: int | None = None,
        metrics_port: int | None = None,
        gateway_port: int | None = None,
        cluster: str | None = None,
        processes: int = 1,
    ) -> None:
        self.bootstrap = bootstrap
        self.processes = processes
        self.cluster = cluster
        self.roles = roles
        self.extra_env = dict(env or {})
        # Each draw only checks that nothing listens yet: three draws can return the same
        # port (CI once saw the gateway take the gRPC port, and the server exit with 1).
        taken = {p for p in (grpc_port, metrics_port, gateway_port) if p}
        self.grpc_port = grpc_port or _distinct_port(taken)
        self.metrics_port = metrics_port or _distinct_port(taken)
        self.gateway_port = gateway_port or _distinct_port(taken)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = Path(tempfile.mkstemp(prefix="eventplane-server-", suffix=".log")[1])

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    @property
    def gateway_url(self) -> str:
        """The AWS-protocol endpoint (boto3's endpoint_url); https when the server has TLS."""
        scheme = "https" if self.extra_env.get("EVENTPLANE_TLS_CERT_FILE") else "http"
        return f"{scheme}://127.0.0.1:{self.gateway_port}"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTPLANE_")}
        env.update(
            {
                "EVENTPLANE_KAFKA_BOOTSTRAP": self.bootstrap,
                "EVENTPLANE_GRPC_PORT": str(self.grpc_port),
                "EVENTPLANE_METRICS_PORT": str(self.metrics_port),
                "EVENTPLANE_GATEWAY_PORT": str(self.gateway_port),
                "EVENTPLANE_ROLES": self.roles,
                "EVENTPLANE_SHUTDOWN_GRACE": "5",
                "EVENTPLANE_PROCESSES": str(self.processes),
                **(
                    {"EVENTPLANE_WORKER_PORTS": str(free_ports(2 * self.processes))}
                    if self.processes > 1
                    else {}
                ),
                **({"EVENTPLANE_CLUSTER": self.cluster} if self.cluster else {}),
                **self.extra_env,
            }
        )
        return env

    def start(self, *, timeout: float = 60.0) -> EventplaneProcess:
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "eventplane.cli", "server"],
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.wait_serving(timeout)
        return self

    def wait_serving(self, timeout: float = 60.0) -> None:
        # Imported here: the pytest plugin loads this module in every pytest run of an
        # application, which may have only the light install (no grpcio-health-checking).
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        deadline = time.monotonic() + timeout
        with grpc.insecure_channel(self.endpoint) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while True:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(
                        f"eventplane server exited with {self.proc.returncode}:\n{self.log_tail()}"
                    )
                try:
                    resp = stub.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                    if resp.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"server not SERVING in {timeout:g}s:\n{self.log_tail()}")
                time.sleep(0.1)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def client(self, **kwargs: Any) -> Any:
        from eventplane.client import Client

        return Client(self.endpoint, **kwargs)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (graceful drain) and wait; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to flush or commit."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self, *, timeout: float = 60.0) -> EventplaneProcess:
        return self.start(timeout=timeout)

    def __enter__(self) -> EventplaneProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
