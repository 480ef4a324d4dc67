"""TLS and mTLS on the gRPC port of a real server: handshakes, identities, rotation on disk."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess, eventually

from ._certs import CA, Pair

pytestmark = pytest.mark.integration


class TlsProcess(EventplaneProcess):
    """The harness's server, probed for SERVING over TLS with a client certificate."""

    def __init__(self, bootstrap: str, *, ca: bytes, client: Pair, env: dict[str, str]) -> None:
        super().__init__(bootstrap, roles="api", env=env)
        self.ca, self.client_pair = ca, client

    def wait_serving(self, timeout: float = 60.0) -> None:
        creds = grpc.ssl_channel_credentials(self.ca, self.client_pair.key, self.client_pair.cert)
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
