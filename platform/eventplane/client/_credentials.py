"""Client credentials: a CA bundle and client certificate from files, a bearer token.

Settings come from arguments first, then the environment, so a program (or a
function handler) configured by its deployment needs no code change.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc

TOKEN_ENV = "EVENTPLANE_TOKEN"
CA_ENV = "EVENTPLANE_TLS_CA_FILE"
CLIENT_CERT_ENV = "EVENTPLANE_TLS_CLIENT_CERT_FILE"
CLIENT_KEY_ENV = "EVENTPLANE_TLS_CLIENT_KEY_FILE"


@dataclass(frozen=True)
class TlsMaterial:
    ca: bytes | None = None
    cert: bytes | None = None
    key: bytes | None = None


def _read(env: str) -> bytes | None:
    path = os.environ.get(env)
    if not path:
        return None
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise ValueError(f"{env}: cannot read {path}: {exc.strerror}") from None


def resolve_tls() -> TlsMaterial:
    """PEM bytes named by EVENTPLANE_TLS_CA_FILE / _CLIENT_CERT_FILE / _CLIENT_KEY_FILE."""
    return TlsMaterial(_read(CA_ENV), _read(CLIENT_CERT_ENV), _read(CLIENT_KEY_ENV))


def _with_token(details: Any, header: tuple[str, str], factory: Callable[..., Any]) -> Any:
    metadata = [*(details.metadata or ()), header]
    return factory(
        method=details.method,
        timeout=details.timeout,
        metadata=metadata,
        credentials=details.credentials,
        wait_for_ready=details.wait_for_ready,
    )


class _SyncDetails(grpc.ClientCallDetails):
    def __init__(self, **fields: Any) -> None:
        for name, value in fields.items():
            setattr(self, name, value)
        self.compression = None


class BearerToken(grpc.UnaryUnaryClientInterceptor, grpc.aio.UnaryUnaryClientInterceptor):
    """Adds ``authorization: Bearer <token>`` to every call; the token stays out of repr."""

    def __init__(self, token: str, *, aio: bool) -> None:
        self._header = ("authorization", f"Bearer {token}")
        self._aio = aio

    def __repr__(self) -> str:
        return "BearerToken(***)"

    def intercept_unary_unary(
        self, continuation: Any, client_call_details: Any, request: Any
    ) -> Any:
        factory = grpc.aio.ClientCallDetails if self._aio else _SyncDetails
        return continuation(_with_token(client_call_details, self._header, factory), request)
