"""Who a call comes from: bearer token first, else the verified client certificate."""

from __future__ import annotations

from typing import Any

import pytest

from eventplane.security import Authenticator, TokenStore, sha256_hex
from eventplane.security.errors import MissingAuthenticationToken, UnrecognizedClientException


class _Context:
    def __init__(self, auth: dict[str, list[bytes]]) -> None:
        self._auth = auth

    def auth_context(self) -> dict[str, list[bytes]]:
        return self._auth


TOKENS = TokenStore([{"principal": "ci", "sha256": sha256_hex("secret-token")}])
CERT = {
    "x509_common_name": [b"reader"],
    "x509_subject_alternative_name": [b"spiffe://test/ns/a/sa/reader"],
}


def _auth(metadata: Any, auth: dict[str, list[bytes]], *, mtls: bool = True) -> Any:
    return Authenticator(TOKENS, mtls=mtls).authenticate(metadata, _Context(auth))  # type: ignore[arg-type]


def test_certificate_san_is_the_principal() -> None:
    principal = _auth((), CERT)
    assert (principal.name, principal.via) == ("spiffe://test/ns/a/sa/reader", "mtls")
    assert _auth((), {"x509_common_name": [b"reader"]}).name == "reader"


def test_token_wins_over_certificate() -> None:
    principal = _auth((("authorization", "Bearer secret-token"),), CERT)
    assert (principal.name, principal.via) == ("ci", "token")


def test_no_credentials_and_bad_tokens() -> None:
    with pytest.raises(MissingAuthenticationToken):
        _auth((), {})
    with pytest.raises(MissingAuthenticationToken):
        _auth((), CERT, mtls=False)
    for header in ("Bearer wrong-secret", "Basic d3Jvbmc6c2VjcmV0"):
        with pytest.raises(UnrecognizedClientException) as info:
            _auth((("authorization", header),), CERT)
        assert header.split()[1] not in info.value.message


def test_a_replicas_forwarded_call_is_authenticated_by_the_cluster_token() -> None:
    from eventplane.config import Settings
    from eventplane.security.replicas import FORWARDED_KEY, TABLES_SCOPE, forward_token
    from eventplane.security.setup import replica_tokens

    settings = Settings(receipt_secret="shared-by-every-replica")
    auth = Authenticator(TOKENS, mtls=False, replica_tokens=replica_tokens(settings))
    for token in (
        forward_token(settings.receipt_secret),
        forward_token(settings.receipt_secret, TABLES_SCOPE),
    ):
        principal = auth.authenticate(((FORWARDED_KEY, token),), _Context({}))  # type: ignore[arg-type]
        assert (principal.name, principal.via) == ("replica", "replica")
    # Another cluster's token, or a client making one up, is no credential.
    for token in (forward_token("another-clusters-secret"), "0" * 64):
        with pytest.raises(MissingAuthenticationToken):
            auth.authenticate(((FORWARDED_KEY, token),), _Context({}))  # type: ignore[arg-type]


def test_the_public_dev_secret_makes_no_replica_token() -> None:
    from eventplane.config import Settings
    from eventplane.security.setup import replica_tokens

    assert replica_tokens(Settings()) == frozenset()
