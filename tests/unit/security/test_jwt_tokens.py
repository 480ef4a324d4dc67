"""OIDC/JWT bearer tokens against a JWKS file: what is accepted, what is refused and why."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from eventplane.config import ConfigError
from eventplane.security import TokenStore, jwt_tokens
from eventplane.security.errors import UnrecognizedClientException
from eventplane.security.jwt_tokens import JwtVerifier

ISSUER = "https://kubernetes.default.svc.cluster.local"
AUDIENCE = "eventplane"
SUBJECT = "system:serviceaccount:shop:orders"


def _key(kid: str) -> tuple[Any, dict[str, Any]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    return private, {**public, "kid": kid, "use": "sig", "alg": "RS256"}


def _write(path: Path, *jwks: dict[str, Any]) -> None:
    path.write_text(json.dumps({"keys": list(jwks)}))


def _token(private: Any, kid: str, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": SUBJECT, "iat": now, "exp": now + 600}
    body.update(claims)
    return jwt.encode(
        {k: v for k, v in body.items() if v is not None}, private, "RS256", {"kid": kid}
    )


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Any]:
    private, public = _key("k1")
    path = tmp_path / "jwks.json"
    _write(path, public)
    return path, private


def _verifier(path: Path, tokens: TokenStore | None = None) -> JwtVerifier:
    return JwtVerifier(str(path), issuer=ISSUER, audience=AUDIENCE, tokens=tokens)


def test_a_valid_token_names_its_subject_with_the_principals_policies(
    keys: tuple[Path, Any],
) -> None:
    path, private = keys
    policy = {"Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}
    store = TokenStore([], principals={SUBJECT: {"account": "123456789012", "policies": [policy]}})
    p = _verifier(path, store).verify(_token(private, "k1"))
    assert (p.name, p.via, p.account) == (SUBJECT, "jwt", "123456789012")
    assert p.policies is not None
    other = _verifier(path).verify(_token(private, "k1", sub="system:serviceaccount:a:b"))
    assert (other.name, other.policies) == ("system:serviceaccount:a:b", None)
    # Another claim may name the principal.
    by_email = JwtVerifier(
        str(path), issuer=ISSUER, audience=AUDIENCE, principal_claim="email"
    ).verify(_token(private, "k1", email="ci@example.com"))
    assert by_email.name == "ci@example.com"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"aud": "someone-else"}, "aud"),
        ({"iss": "https://evil.example"}, "iss"),
        ({"exp": None}, "exp"),
        ({"sub": None}, "'sub' claim"),
    ],
)
def test_tokens_that_are_refused_and_why(
    keys: tuple[Path, Any], claims: dict[str, Any], reason: str
) -> None:
    path, private = keys
    with pytest.raises(UnrecognizedClientException, match=reason):
        _verifier(path).verify(_token(private, "k1", **claims))


def test_foreign_keys_shared_secrets_and_garbage_are_refused(keys: tuple[Path, Any]) -> None:
    path, private = keys
    stranger, _ = _key("k1")  # same kid, another key: the signature does not verify
    with pytest.raises(UnrecognizedClientException, match="not valid"):
        _verifier(path).verify(_token(stranger, "k1"))
    with pytest.raises(UnrecognizedClientException, match="key the JWKS lacks"):
        _verifier(path).verify(_token(private, "k2"))
    hs = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": SUBJECT}, "x" * 32, "HS256")
    with pytest.raises(UnrecognizedClientException, match="algorithm 'HS256'"):
        _verifier(path).verify(hs)
    with pytest.raises(UnrecognizedClientException, match="well-formed"):
        _verifier(path).verify("eyJhbGciOi.not.jwt")


def test_a_rotated_jwks_file_is_picked_up_without_a_restart(
    keys: tuple[Path, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jwt_tokens, "RECHECK_S", 0.0)
    path, private = keys
    verifier = _verifier(path)
    new_private = ec.generate_private_key(ec.SECP256R1())
    new_public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(new_private.public_key()))
    _write(path, {**new_public, "kid": "k2", "alg": "ES256"})
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": SUBJECT, "exp": now + 60}
    token = jwt.encode(claims, new_private, "ES256", {"kid": "k2"})
    assert verifier.verify(token).name == SUBJECT
    with pytest.raises(UnrecognizedClientException, match="lacks"):
        verifier.verify(_token(private, "k1"))  # the retired key no longer verifies


def test_settings_mistakes_stop_the_start(tmp_path: Path, keys: tuple[Path, Any]) -> None:
    path, _ = keys
    with pytest.raises(ConfigError, match="ISSUER"):
        JwtVerifier(str(path), issuer="", audience=AUDIENCE)
    with pytest.raises(ConfigError, match="AUDIENCE"):
        JwtVerifier(str(path), issuer=ISSUER, audience="")
    with pytest.raises(ConfigError, match="cannot read"):
        JwtVerifier(str(tmp_path / "missing.json"), issuer=ISSUER, audience=AUDIENCE)
    bad = tmp_path / "bad.json"
    bad.write_text('{"keys": [{"kty": "nope"}]}')
    with pytest.raises(ConfigError, match="not a usable JWKS"):
        JwtVerifier(str(bad), issuer=ISSUER, audience=AUDIENCE)


def test_a_verified_token_is_checked_once_until_it_expires(
    keys: tuple[Path, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, private = keys
    decoded: list[str] = []
    real_decode = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        decoded.append(token)
        return real_decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt_tokens.jwt, "decode", counting)
    now = [time.time()]
    verifier = JwtVerifier(str(path), issuer=ISSUER, audience=AUDIENCE, clock=lambda: now[0])
    token = _token(private, "k1", exp=int(now[0]) + 60)
    for _ in range(3):
        assert verifier.verify(token).name == SUBJECT
    assert len(decoded) == 1
    assert token not in repr(verifier.__dict__)  # remembered by digest only
    now[0] += 60 + jwt_tokens.LEEWAY_S + 1  # past exp and the leeway: checked again
    verifier.verify(token)
    assert len(decoded) == 2
    # Another token of the same subject is checked on its own.
    verifier.verify(_token(private, "k1", exp=int(time.time()) + 120))
    assert len(decoded) == 3


def test_a_rotated_jwks_file_forgets_tokens_verified_before(
    keys: tuple[Path, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jwt_tokens, "RECHECK_S", 0.0)
    path, private = keys
    verifier = _verifier(path)
    token = _token(private, "k1")
    assert verifier.verify(token).name == SUBJECT  # remembered
    _, other = _key("k2")
    _write(path, other)  # k1 retired
    with pytest.raises(UnrecognizedClientException, match="lacks"):
        verifier.verify(token)
