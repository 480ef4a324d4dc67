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
    from eventplane.security.replicas import (
        FORWARDED_KEY,
        RELAY_SCOPE,
        TABLES_SCOPE,
        forward_token,
    )
    from eventplane.security.setup import relay_tokens, replica_tokens

    settings = Settings(receipt_secret="shared-by-every-replica")
    auth = Authenticator(
        TOKENS,
        mtls=False,
        replica_tokens=replica_tokens(settings),
        relay_tokens=relay_tokens(settings),
    )
    internal = "/eventplane.internal.QueueOwners/ReceiveMessage"
    public = "/eventplane.v1.Queues/ReceiveMessage"

    def principal(token: str, method: str) -> Any:
        return auth.authenticate(((FORWARDED_KEY, token),), _Context({}), method)  # type: ignore[arg-type]

    owners = (
        forward_token(settings.receipt_secret),
        forward_token(settings.receipt_secret, TABLES_SCOPE),
    )
    relay = forward_token(settings.receipt_secret, RELAY_SCOPE)
    for token in (*owners, relay):
        assert (principal(token, internal).name, principal(token, internal).via) == (
            "replica",
            "replica",
        )
    # A partition owner's token opens the internal services only: on a public method it
    # is no credential. The relay token carries clients' calls to public methods.
    for token in owners:
        with pytest.raises(MissingAuthenticationToken):
            principal(token, public)
    assert principal(relay, public).name == "replica"
    # Another cluster's token, or a client making one up, is no credential anywhere.
    for token in (forward_token("another-clusters-secret"), "0" * 64):
        for method in (internal, public):
            with pytest.raises(MissingAuthenticationToken):
                principal(token, method)


def test_the_public_dev_secret_makes_no_replica_token() -> None:
    from eventplane.config import Settings
    from eventplane.security.setup import relay_tokens, replica_tokens

    assert replica_tokens(Settings()) == frozenset()
    assert relay_tokens(Settings()) == frozenset()


class _CountingTokens(TokenStore):
    def __init__(self, entries: list[dict[str, Any]]) -> None:
        super().__init__(entries)
        self.lookups = 0

    def lookup(self, token: str) -> Any:
        self.lookups += 1
        return super().lookup(token)


def test_a_known_header_is_not_hashed_again_and_a_bad_one_is_never_remembered() -> None:
    tokens = _CountingTokens([{"principal": "ci", "sha256": sha256_hex("secret-token")}])
    auth = Authenticator(tokens, mtls=False)
    good = (("authorization", "Bearer secret-token"),)
    first = auth.authenticate(good, _Context({}))  # type: ignore[arg-type]
    for _ in range(3):
        assert auth.authenticate(good, _Context({})) is first  # type: ignore[arg-type]
    assert tokens.lookups == 1
    for _ in range(2):
        with pytest.raises(UnrecognizedClientException):
            auth.authenticate((("authorization", "Bearer wrong"),), _Context({}))  # type: ignore[arg-type]
    assert tokens.lookups == 3
