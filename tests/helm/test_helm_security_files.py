"""The chart's security env, with its Secrets laid out as the kubelet mounts them, runs a server.

The env of a rendered pod is loaded by eventplane's own `load_settings`; the
Secret volumes become folders in the kubelet's layout (a timestamped folder, a
`..data` symlink to it, one symlink per key), and eventplane's security set-up
builds its TLS credentials and authentication from them. A real gRPC server on
those credentials then serves a client holding the CA and a client
certificate, and after a rotation done as the kubelet does it (a new folder,
`..data` swapped atomically) serves the new certificate without a restart:
what the folder mounts (never subPath) are for.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from eventplane.config import Settings, load_settings
from eventplane.security import (
    TokenStore,
    check_exposure,
    server_credentials,
    server_interceptors,
    sha256_hex,
)

from .conftest import RenderFn
from .support import NAMESPACE, env_of

TOKEN = "ci-token-0123456789abcdef0123456789abcdef"
SERVICE_NAME = f"eventplane.{NAMESPACE}.svc"


@dataclass(frozen=True)
class Pem:
    cert: bytes
    key: bytes


class CA:
    """A throwaway CA issuing ECDSA certificates, like a cert-manager CA Issuer."""

    def __init__(self, name: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.pem = self._sign(self.name, self.key.public_key(), ca=True).public_bytes(
            serialization.Encoding.PEM
        )

    def _sign(
        self, subject: x509.Name, public: Any, *, ca: bool, sans: tuple[str, ...] = ()
    ) -> x509.Certificate:
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=2))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        if sans:
            names = [x509.DNSName(s) for s in sans]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return builder.sign(self.key, hashes.SHA256())

    def issue(self, common_name: str, *sans: str) -> Pem:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        cert = self._sign(subject, key.public_key(), ca=False, sans=sans)
        return Pem(
            cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )


class KubeletVolume:
    """A Secret volume laid out as the kubelet does, updated by swapping ``..data``."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.generation = 0
        target.mkdir(parents=True)

    def write(self, files: dict[str, bytes]) -> None:
        self.generation += 1
        folder = self.target / f"..2026_12_03_00_00_0{self.generation}.000000000"
        folder.mkdir()
        for name, data in files.items():
            (folder / name).write_bytes(data)
            link = self.target / name
            if not link.is_symlink():
                link.symlink_to(f"..data/{name}")
        staged = self.target / "..data_tmp"
        staged.symlink_to(folder.name)
        os.replace(staged, self.target / "..data")  # atomic, as the kubelet's AtomicWriter


def secret_volume_files(
    volume: dict[str, Any], secrets: dict[str, dict[str, bytes]]
) -> dict[str, bytes]:
    """The files a `secret` volume shows: every key, or its `items` renamed."""
    spec = volume["secret"]
    data = secrets[spec["secretName"]]
    if "items" not in spec:
        return dict(data)
    return {item["path"]: data[item["key"]] for item in spec["items"]}


@pytest.fixture
def pod_env(render: RenderFn, tmp_path: Path) -> Iterator[tuple[dict[str, str], dict[str, Any]]]:
    """(env with paths moved under tmp_path, {volume name: KubeletVolume}) of the TLS scenario."""
    ca = CA("eventplane CA")
    server_pem = ca.issue("eventplane", "eventplane", SERVICE_NAME)
    client_pem = ca.issue("ci-runner", "ci-runner")
    secrets = {
        "eventplane-grpc-tls": {
            "tls.crt": server_pem.cert,
            "tls.key": server_pem.key,
            "ca.crt": ca.pem,
        },
        "eventplane-tokens": {
            "tokens.json": f'[{{"principal": "ci", "sha256": "{sha256_hex(TOKEN)}"}}]'.encode()
        },
    }
    rendered = render("all-in-one-values.yaml", sets=["tls.clientCA.enabled=true"])
    pod = rendered.one("Deployment")["spec"]["template"]["spec"]
    container = next(c for c in pod["containers"] if c["name"] == "eventplane")
    by_name = {v["name"]: v for v in pod["volumes"]}
    env = {k: v for k, v in env_of(container).items() if isinstance(v, str)}
    mounted: dict[str, Any] = {"ca": ca, "client": client_pem}
    for mount in container["volumeMounts"]:
        volume = by_name[mount["name"]]
        if "secret" not in volume:
            continue
        here = tmp_path / mount["name"]
        kubelet = KubeletVolume(here)
        kubelet.write(secret_volume_files(volume, secrets))
        mounted[mount["name"]] = kubelet
        env = {k: v.replace(mount["mountPath"], str(here)) for k, v in env.items()}
    env.pop("EVENTPLANE_CONFIG")  # the ConfigMap is covered by test_helm_config_file
    env["EVENTPLANE_ADVERTISE_ADDRESS"] = "10.1.2.3:50051"
    yield env, mounted


def serve_health(settings: Settings) -> tuple[grpc.Server, int]:
    credentials = server_credentials(settings)
    assert credentials is not None
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    return server, port


def check(port: int, ca: bytes, client: Pem) -> int:
    creds = grpc.ssl_channel_credentials(ca, client.key, client.cert)
    options = [("grpc.ssl_target_name_override", SERVICE_NAME)]
    with grpc.secure_channel(f"127.0.0.1:{port}", creds, options=options) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        status: int = stub.Check(health_pb2.HealthCheckRequest(), timeout=5).status
        return status


def test_chart_env_loads_and_authenticates(pod_env: tuple[dict[str, str], dict[str, Any]]) -> None:
    env, mounted = pod_env
    settings = load_settings(env)
    tls_dir = mounted["tls"].target
    assert settings.tls_cert_file == str(tls_dir / "tls.crt")
    assert settings.tls_key_file == str(tls_dir / "tls.key")
    assert settings.tls_client_ca_file == str(tls_dir / "ca.crt")
    assert settings.auth_tokens_file == str(mounted["auth-tokens"].target / "tokens.yaml")
    assert settings.insecure is False and settings.grpc_host == "0.0.0.0"
    check_exposure(settings)  # the server would start: callers must authenticate
    assert len(server_interceptors(settings)) == 1
    principal = TokenStore.from_file(settings.auth_tokens_file).lookup(TOKEN)
    assert principal is not None and principal.name == "ci"


def test_renewed_certificate_in_the_mounted_folder_is_served_without_restart(
    pod_env: tuple[dict[str, str], dict[str, Any]],
) -> None:
    env, mounted = pod_env
    server, port = serve_health(load_settings(env))
    try:
        ca, client = mounted["ca"], mounted["client"]
        assert check(port, ca.pem, client) == health_pb2.HealthCheckResponse.SERVING

        # cert-manager renews with a new CA (ca.crt is also the client CA here).
        renewed_ca = CA("eventplane CA 2")
        renewed = renewed_ca.issue("eventplane", "eventplane", SERVICE_NAME)
        mounted["tls"].write(
            {"tls.crt": renewed.cert, "tls.key": renewed.key, "ca.crt": renewed_ca.pem}
        )
        new_client = renewed_ca.issue("ci-runner", "ci-runner")
        assert check(port, renewed_ca.pem, new_client) == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.RpcError) as caught:
            check(port, ca.pem, client)  # the old CA no longer verifies the server
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop(None)
