"""OIDC/JWT bearer tokens on a real server: a service-account token verified against a JWKS
file authenticates as its subject, with the policies configured for that name."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.security import sha256_hex
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

pytestmark = pytest.mark.integration

ISSUER = "https://kubernetes.default.svc.cluster.local"
AUDIENCE = "eventplane"
SUBJECT = "system:serviceaccount:shop:orders"
API_KEY = "ep-test-key-jwt-suite-0123456789"


def _keypair(kid: str) -> tuple[Any, dict[str, Any]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    return private, {**public, "kid": kid, "use": "sig", "alg": "RS256"}


def _token(private: Any, kid: str, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": SUBJECT, "iat": now, "exp": now + 600}
    body.update(claims)
    return jwt.encode(body, private, "RS256", {"kid": kid})


@pytest.fixture(scope="module")
def setup(
    eventplane_kafka: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[EventplaneProcess, Path, Any]]:
    folder = tmp_path_factory.mktemp("jwt")
    private, public = _keypair("k1")
    jwks = folder / "jwks.json"
    jwks.write_text(json.dumps({"keys": [public]}))
    queues_only = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}],
    }
    tokens = folder / "tokens.json"
    tokens.write_text(
        json.dumps(
            {
                "tokens": [{"principal": "admin", "sha256": sha256_hex(API_KEY)}],
                "principals": {SUBJECT: {"policies": [queues_only]}},
            }
        )
    )
    proc = EventplaneProcess(
        eventplane_kafka,
        roles="api,queues,fanout",
        env={
            "EVENTPLANE_AUTH_TOKENS_FILE": str(tokens),
            "EVENTPLANE_AUTH_JWKS_FILE": str(jwks),
            "EVENTPLANE_AUTH_JWT_ISSUER": ISSUER,
            "EVENTPLANE_AUTH_JWT_AUDIENCE": AUDIENCE,
        },
        cluster=unique_cluster(),
    )
    proc.start()
    try:
        yield proc, jwks, private
    finally:
        proc.stop()


def test_a_service_account_token_acts_with_its_subjects_policies(
    setup: tuple[EventplaneProcess, Path, Any],
) -> None:
    server, _, private = setup
    with Client(server.endpoint, token=_token(private, "k1"), timeout=10) as ep:
        url = ep.queues.create_queue("jwt-orders")
        assert url.endswith("/jwt-orders")
        with pytest.raises(EventplaneError) as denied:
            ep.topics.create_topic("jwt-not-allowed")
    assert denied.value.code == "AccessDeniedException"
    assert SUBJECT in denied.value.message
    # API keys keep working beside JWTs.
    with Client(server.endpoint, token=API_KEY, timeout=10) as ep:
        ep.topics.create_topic("jwt-admin-topic")


@pytest.mark.parametrize(
    "claims, why",
    [
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"aud": "someone-else"}, "aud"),
        ({"iss": "https://evil.example"}, "iss"),
    ],
    ids=["expired", "audience", "issuer"],
)
def test_tokens_that_do_not_verify_are_refused_saying_why(
    setup: tuple[EventplaneProcess, Path, Any], claims: dict[str, Any], why: str
) -> None:
    server, _, private = setup
    token = _token(private, "k1", **claims)
    with (
        Client(server.endpoint, token=token, timeout=10) as ep,
        pytest.raises(EventplaneError) as info,
    ):
        ep.queues.list_queues()
    assert info.value.code == "UnrecognizedClientException"
    assert why in info.value.message
    assert token not in info.value.message


def test_a_rotated_key_is_picked_up_without_a_restart(
    setup: tuple[EventplaneProcess, Path, Any],
) -> None:
    server, jwks, old_private = setup
    new_private, new_public = _keypair("k2")
    token = _token(new_private, "k2")
    with Client(server.endpoint, token=token, timeout=10) as ep:
        with pytest.raises(EventplaneError) as info:
            ep.queues.list_queues()
        assert info.value.code == "UnrecognizedClientException"
        old_public = json.loads(jwks.read_text())["keys"][0]
        jwks.write_text(json.dumps({"keys": [old_public, new_public]}))

        def accepted() -> bool:
            try:
                ep.queues.list_queues()
            except EventplaneError as exc:
                raise AssertionError(exc.message) from None
            return True

        eventually(accepted, timeout=15)
    with Client(server.endpoint, token=_token(old_private, "k1"), timeout=10) as ep:
        ep.queues.list_queues()
