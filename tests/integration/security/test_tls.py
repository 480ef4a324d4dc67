"""TLS and mTLS on the gRPC port of a real server: handshakes, identities, rotation on disk."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess, eventually

from ._certs import CA, Pair
from ._replicas import send_through_a_receive_through_b

pytestmark = pytest.mark.integration


class TlsProcess(EventplaneProcess):
    """The harness's server, probed for SERVING over TLS with a client certificate."""

    def __init__(self, bootstrap: str, *, ca: bytes, client: Pair, env: dict[str, str]) -> None:
        super().__init__(bootstrap, roles="api", env=env)
        self.ca, self.client_pair = ca, client

    def wait_serving(self, timeout: float = 60.0) -> None:
        pair = self.client_pair
        creds = grpc.ssl_channel_credentials(self.ca, pair.key or None, pair.cert or None)
        deadline = time.monotonic() + timeout
        with grpc.secure_channel(self.endpoint, creds) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while True:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(f"server exited:\n{self.log_tail()}")
                try:
                    if stub.Check(health_pb2.HealthCheckRequest(), timeout=1.0).status == 1:
                        return
                except grpc.RpcError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"server not SERVING:\n{self.log_tail()}")
                time.sleep(0.1)


class World:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ca, self.other_ca = CA("eventplane test CA"), CA("someone else's CA")
        self.server_pair = self.ca.issue("eventplane", server=True)
        self.client_pair = self.ca.issue("reader", server=False, uri="spiffe://test/ns/a/sa/reader")
        self.cert_file, self.key_file = self.server_pair.write(folder, "server")
        self.client_ca_file = folder / "clients.pem"
        self.client_ca_file.write_bytes(self.ca.pem)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def server(eventplane_kafka: str, world: World) -> Iterator[TlsProcess]:
    env = {
        "EVENTPLANE_TLS_CERT_FILE": str(world.cert_file),
        "EVENTPLANE_TLS_KEY_FILE": str(world.key_file),
        "EVENTPLANE_TLS_CLIENT_CA_FILE": str(world.client_ca_file),
        "EVENTPLANE_METRICS_TLS": "1",
    }
    proc = TlsProcess(eventplane_kafka, ca=world.ca.pem, client=world.client_pair, env=env)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def _client(server: TlsProcess, trust: bytes, pair: Pair) -> Client:
    return Client(
        server.endpoint,
        root_certificates=trust,
        certificate_chain=pair.cert,
        private_key=pair.key,
        timeout=5,
    )


def test_mtls_client_with_the_right_ca_is_served(server: TlsProcess, world: World) -> None:
    with _client(server, world.ca.pem, world.client_pair) as ep:
        info = ep.platform.get_server_info()
    assert list(info.roles) == ["api"]


def test_client_trusting_a_wrong_ca_fails_the_handshake(server: TlsProcess, world: World) -> None:
    with (
        _client(server, world.other_ca.pem, world.client_pair) as ep,
        pytest.raises(EventplaneError) as info,
    ):
        ep.platform.get_server_info()
    assert info.value.retriable  # UNAVAILABLE: no connection was ever made


def test_client_certificate_from_a_wrong_ca_is_refused(server: TlsProcess, world: World) -> None:
    stranger = world.other_ca.issue("stranger", server=False)
    with _client(server, world.ca.pem, stranger) as ep, pytest.raises(EventplaneError) as info:
        ep.platform.get_server_info()
    assert info.value.retriable


def test_no_client_certificate_is_refused(server: TlsProcess, world: World) -> None:
    with (
        Client(server.endpoint, root_certificates=world.ca.pem, timeout=5) as ep,
        pytest.raises(EventplaneError),
    ):
        ep.platform.get_server_info()


def test_plaintext_client_is_refused(server: TlsProcess) -> None:
    with Client(server.endpoint, timeout=5) as ep, pytest.raises(EventplaneError):
        ep.platform.get_server_info()


def test_rotated_certificate_is_used_by_new_connections(server: TlsProcess, world: World) -> None:
    rotated_ca = CA("rotated CA")
    original = world.server_pair
    rotated_ca.issue("eventplane", server=True).write(world.folder, "server")
    try:

        def new_ca_trusted() -> bool:
            with _client(server, rotated_ca.pem, world.client_pair) as ep:
                try:
                    return bool(ep.platform.get_server_info().roles)
                except EventplaneError:
                    return False

        eventually(new_ca_trusted, timeout=20, message="rotated certificate never served")
        with _client(server, world.ca.pem, world.client_pair) as ep, pytest.raises(EventplaneError):
            ep.platform.get_server_info()
        assert server.proc is not None and server.proc.poll() is None  # no restart
    finally:
        original.write(world.folder, "server")


def test_replicas_forward_to_each_other_over_tls(eventplane_kafka: str, tmp_path: Path) -> None:
    # Two replicas with TLS and tokens: receiving through B needs A's partitions, which
    # B reaches over TLS (trusting the ca.crt beside the certificate, as in the chart's
    # Secret) and with the cluster's forward token.
    import json

    from eventplane.security import sha256_hex
    from eventplane.testing import unique_cluster

    ca = CA("cluster CA")
    cert_file, key_file = ca.issue("eventplane", server=True).write(tmp_path, "tls")
    (tmp_path / "ca.crt").write_bytes(ca.pem)
    tokens = tmp_path / "tokens.yaml"
    token = "a-token-for-the-tls-forwarding-test"
    tokens.write_text(json.dumps([{"principal": "ci", "sha256": sha256_hex(token)}]))
    env = {
        "EVENTPLANE_TLS_CERT_FILE": str(cert_file),
        "EVENTPLANE_TLS_KEY_FILE": str(key_file),
        "EVENTPLANE_TLS_SERVER_NAME": "localhost",
        "EVENTPLANE_AUTH_TOKENS_FILE": str(tokens),
        "EVENTPLANE_RECEIPT_SECRET": "a-cluster-secret-for-this-test",
    }
    cluster = unique_cluster()
    no_client_cert = Pair(cert=b"", key=b"")
    replicas = []
    for _ in range(2):
        proc = TlsProcess(eventplane_kafka, ca=ca.pem, client=no_client_cert, env=env)
        proc.roles, proc.cluster = "api,queues", cluster
        replicas.append(proc)

    def tls_client(proc: TlsProcess) -> Client:
        return Client(proc.endpoint, root_certificates=ca.pem, token=token, timeout=15)

    try:
        for proc in replicas:
            proc.start()
        a, b = replicas
        with tls_client(a) as ca_client, tls_client(b) as cb:
            send_through_a_receive_through_b(ca_client, cb)
    finally:
        for proc in replicas:
            proc.stop()


def _https_health(server: TlsProcess, trust: bytes) -> int:
    ctx = ssl.create_default_context(cadata=trust.decode())
    ctx.check_hostname = False  # the test certificate names "eventplane", we dial 127.0.0.1
    with urllib.request.urlopen(
        f"{server.gateway_url}/_eventplane/health", context=ctx, timeout=5
    ) as resp:
        return int(resp.status)


def test_the_aws_protocol_port_serves_tls_and_follows_a_rotation(
    server: TlsProcess, world: World
) -> None:
    assert server.gateway_url.startswith("https://")
    assert _https_health(server, world.ca.pem) == 200
    with pytest.raises(urllib.error.URLError):  # a client trusting another CA
        _https_health(server, world.other_ca.pem)
    plain = server.gateway_url.replace("https://", "http://")
    with pytest.raises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
        urllib.request.urlopen(f"{plain}/_eventplane/health", timeout=5).read()

    rotated_ca = CA("rotated gateway CA")
    original = world.server_pair
    rotated_ca.issue("eventplane", server=True).write(world.folder, "server")
    try:

        def rotated() -> bool:
            try:
                return _https_health(server, rotated_ca.pem) == 200
            except urllib.error.URLError:
                return False

        eventually(rotated, timeout=20, message="rotated certificate never served on HTTPS")
        assert server.proc is not None and server.proc.poll() is None  # no restart
    finally:
        original.write(world.folder, "server")

    def original_back() -> bool:
        try:
            return _https_health(server, world.ca.pem) == 200
        except urllib.error.URLError:
            return False

    eventually(original_back, timeout=20)


def test_metrics_are_served_over_tls_and_a_silent_client_blocks_nobody(
    server: TlsProcess, world: World
) -> None:
    https = server.metrics_url.replace("http://", "https://")
    ctx = ssl.create_default_context(cadata=world.ca.pem.decode())
    ctx.check_hostname = False  # the test certificate names "eventplane", we dial 127.0.0.1
    # A peer that connects and never says hello must not hold up the scrape after it.
    with (
        socket.create_connection(("127.0.0.1", server.metrics_port), timeout=5),
        urllib.request.urlopen(https, context=ctx, timeout=5) as resp,
    ):
        body = resp.read().decode()
    assert resp.status == 200 and "eventplane_build_info" in body
    with pytest.raises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
        urllib.request.urlopen(server.metrics_url, timeout=5).read()  # plain HTTP: refused
