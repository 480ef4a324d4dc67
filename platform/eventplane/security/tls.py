"""TLS for the gRPC and AWS-protocol ports: certificate and key from files, re-read when
they change.

cert-manager (or any rotation) rewrites the files in place; gRPC asks the
fetcher below before each new handshake, and the HTTP port's SSL context swaps in a
rebuilt context from its handshake callback, so new connections get the new
certificate without a restart while established ones keep theirs.
"""

from __future__ import annotations

import hashlib
import os
import ssl
import threading
from dataclasses import dataclass

import grpc

from eventplane.config import ConfigError, Settings
from eventplane.observability.logging import get_logger

_log = get_logger("eventplane.security.tls")


@dataclass(frozen=True, kw_only=True)
class TlsFiles:
    # PEM certificate chain the server presents.
    cert_file: str
    # PEM private key of that certificate.
    key_file: str
    # PEM CA bundle client certificates must chain to; empty: no mTLS.
    client_ca_file: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> TlsFiles | None:
        """The configured files, None when TLS is off; a half configuration is a ConfigError."""
        cert, key, ca = settings.tls_cert_file, settings.tls_key_file, settings.tls_client_ca_file
        if not cert and not key:
            if ca:
                raise ConfigError(
                    "EVENTPLANE_TLS_CLIENT_CA_FILE",
                    "needs EVENTPLANE_TLS_CERT_FILE and EVENTPLANE_TLS_KEY_FILE",
                )
            return None
        if not cert:
            raise ConfigError(
                "EVENTPLANE_TLS_CERT_FILE", "is required with EVENTPLANE_TLS_KEY_FILE"
            )
        if not key:
            raise ConfigError(
                "EVENTPLANE_TLS_KEY_FILE", "is required with EVENTPLANE_TLS_CERT_FILE"
            )
        return cls(cert_file=cert, key_file=key, client_ca_file=ca)

    @property
    def mutual(self) -> bool:
        return bool(self.client_ca_file)


def read_pem(setting: str, path: str) -> bytes:
    """A PEM file's bytes; a ConfigError naming ``setting`` when it cannot be read."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise ConfigError(setting, f"cannot read {path}: {exc.strerror}") from None


class ReloadingCredentials:
    """Builds gRPC server credentials whose certificate follows the files on disk."""

    def __init__(self, files: TlsFiles) -> None:
        self.files = files
        self._lock = threading.Lock()
        self._digest = b""
        self.reloads = 0

    def _load(self) -> tuple[bytes, tuple[bytes, bytes, bytes | None]]:
        f = self.files
        cert = read_pem("EVENTPLANE_TLS_CERT_FILE", f.cert_file)
        key = read_pem("EVENTPLANE_TLS_KEY_FILE", f.key_file)
        ca = read_pem("EVENTPLANE_TLS_CLIENT_CA_FILE", f.client_ca_file) if f.mutual else None
        digest = hashlib.sha256(cert + b"\0" + key + b"\0" + (ca or b"")).digest()
        return digest, (cert, key, ca)

    @staticmethod
    def _config(pems: tuple[bytes, bytes, bytes | None]) -> grpc.ServerCertificateConfiguration:
        cert, key, ca = pems
        return grpc.ssl_server_certificate_configuration([(key, cert)], root_certificates=ca)

    def _fetch(self) -> grpc.ServerCertificateConfiguration | None:
        # Called by gRPC's core before each handshake: None keeps the current config.
        # A half-written rotation (unreadable or mismatched files) keeps the old one too.
        try:
            digest, pems = self._load()
        except ConfigError as exc:
            _log.warning("TLS files unreadable; keeping the current certificate", error=str(exc))
            return None
        with self._lock:
            if digest == self._digest:
                return None
            self._digest = digest
            self.reloads += 1
        _log.info("TLS certificate loaded", cert_file=self.files.cert_file)
        return self._config(pems)

    def server_credentials(self) -> grpc.ServerCredentials:
        digest, pems = self._load()  # fails start-up with a ConfigError naming the file
        self._digest = digest
        return grpc.dynamic_ssl_server_credentials(
            self._config(pems),
            self._fetch,
            require_client_authentication=self.files.mutual,
        )


class ReloadingSslContext:
    """An ``ssl.SSLContext`` for asyncio servers (the gateway) that follows the files.

    Each handshake's server-name callback (called for every ClientHello, with or
    without SNI) looks at the files' modification times and sizes, and after a change
    rebuilds the context and hands it to that connection. A half-written rotation
    (files that do not load) keeps the previous context. With a client CA, a client
    certificate is verified when one is presented (``CERT_OPTIONAL``): callers of the
    AWS-protocol port authenticate with SigV4, and AWS SDKs seldom carry one.
    """

    def __init__(self, files: TlsFiles) -> None:
        self.files = files
        self._lock = threading.Lock()
        self._stamp = self._files_stamp()
        self.context = self._build()  # fails start-up with a ConfigError naming the file
        self.reloads = 0

    def _files_stamp(self) -> tuple[tuple[int, int], ...]:
        paths = [self.files.cert_file, self.files.key_file]
        if self.files.mutual:
            paths.append(self.files.client_ca_file)
        stamp = []
        for path in paths:
            try:
                st = os.stat(path)
            except OSError:
                stamp.append((0, 0))
                continue
            stamp.append((st.st_mtime_ns, st.st_size))
        return tuple(stamp)

    def _build(self) -> ssl.SSLContext:
        f = self.files
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            ctx.load_cert_chain(f.cert_file, f.key_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                "EVENTPLANE_TLS_CERT_FILE", f"cannot load {f.cert_file} with its key: {exc}"
            ) from None
        if f.mutual:
            try:
                ctx.load_verify_locations(cafile=f.client_ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(
                    "EVENTPLANE_TLS_CLIENT_CA_FILE", f"cannot load {f.client_ca_file}: {exc}"
                ) from None
            ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.sni_callback = self._on_hello
        return ctx

    def _on_hello(self, conn: ssl.SSLObject, _name: str | None, current: ssl.SSLContext) -> None:
        stamp = self._files_stamp()
        with self._lock:
            if stamp != self._stamp:
                try:
                    fresh = self._build()
                except ConfigError as exc:
                    _log.warning(
                        "TLS files unreadable; keeping the current certificate", error=str(exc)
                    )
                else:
                    self._stamp, self.context = stamp, fresh
                    self.reloads += 1
                    _log.info("TLS certificate loaded", cert_file=self.files.cert_file, port="http")
            latest = self.context
        if latest is not current:
            conn.context = latest
