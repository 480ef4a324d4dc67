"""OIDC/JWT bearer tokens: verified against a JWKS file, for clusters that issue them.

Kubernetes projects service-account tokens into pods (``serviceAccountToken`` volumes
with an audience); an operator saves the cluster's JWKS (``kubectl get --raw
/openid/v1/jwks``) into a file and sets ``EVENTPLANE_AUTH_JWKS_FILE``,
``EVENTPLANE_AUTH_JWT_ISSUER`` and ``EVENTPLANE_AUTH_JWT_AUDIENCE``. A token is accepted
when PyJWT verifies its signature with the key its ``kid`` names (asymmetric
algorithms only: a shared-secret HS256 token or ``alg: none`` is refused), its ``iss``
and ``aud`` match, and it has not expired (``exp`` is required). The principal is the
configured claim (``sub`` by default, e.g. ``system:serviceaccount:shop:orders``); its
account and policies come from the tokens file's ``principals:`` section under that
name. The file is re-read when it changes, so key rotation needs no restart.

A verified token is remembered (by its SHA-256, never the token itself) until it expires,
so a client that sends the same token on every call pays for one signature check, not
one per call: a verified token stays good until ``exp`` (plus the leeway) whatever
happens, except a change of the JWKS file, which forgets every remembered token.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import jwt

from eventplane.config import ConfigError, Settings
from eventplane.security.errors import UnrecognizedClientException
from eventplane.security.memo import remember
from eventplane.security.tokens import Principal, TokenStore

SETTING = "EVENTPLANE_AUTH_JWKS_FILE"
# Public-key algorithms only: a JWKS holds public keys, and HS* would let anyone who
# can read the file mint tokens.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
LEEWAY_S = 30  # clock skew between the issuer and this server
RECHECK_S = 1.0  # how often the file's stamp is looked at (not on every call)
VERIFIED_REMEMBERED = 1024  # verified tokens kept; all are forgotten when there are more


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("ey")


class JwtVerifier:
    def __init__(
        self,
        jwks_file: str,
        *,
        issuer: str,
        audience: str,
        principal_claim: str = "sub",
        tokens: TokenStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not issuer:
            raise ConfigError("EVENTPLANE_AUTH_JWT_ISSUER", f"is required with {SETTING}")
        if not audience:
            raise ConfigError("EVENTPLANE_AUTH_JWT_AUDIENCE", f"is required with {SETTING}")
        self._file = jwks_file
        self._issuer = issuer
        self._audience = audience
        self._claim = principal_claim or "sub"
        self._tokens = tokens
        self._lock = threading.Lock()
        self._stamp: tuple[float, int] | None = None
        self._checked_at = time.monotonic()
        self._keys: dict[str, jwt.PyJWK] = {}
        self._clock = clock
        # SHA-256 of a verified token -> (its principal, when it stops being good).
        self._verified: dict[str, tuple[Principal, float]] = {}
        self._load()  # a missing or malformed file stops the server at start-up

    @classmethod
    def from_settings(cls, settings: Settings, tokens: TokenStore | None) -> JwtVerifier | None:
        if not settings.auth_jwks_file:
            return None
        return cls(
            settings.auth_jwks_file,
            issuer=settings.auth_jwt_issuer,
            audience=settings.auth_jwt_audience,
            principal_claim=settings.auth_jwt_principal_claim,
            tokens=tokens,
        )

    def _load(self) -> None:
        try:
            st = os.stat(self._file)
            stamp = (st.st_mtime, st.st_size)
            if stamp == self._stamp:
                return
            with open(self._file, encoding="utf-8") as fh:
                data: Any = json.load(fh)
            keys = {
                k.key_id or "": k
                for k in jwt.PyJWKSet.from_dict(data).keys
                if k.algorithm_name in ALGORITHMS or k.algorithm_name is None
            }
        except OSError as exc:
            raise ConfigError(SETTING, f"cannot read {self._file}: {exc.strerror}") from None
        except (ValueError, jwt.PyJWKSetError, jwt.InvalidKeyError) as exc:
            raise ConfigError(SETTING, f"{self._file} is not a usable JWKS: {exc}") from None
        self._keys, self._stamp = keys, stamp
        self._verified = {}  # tokens signed by a retired key must not stay good

    def _refresh(self) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._checked_at >= RECHECK_S:
                self._checked_at = now
                # A rotation caught half-written keeps the keys read before.
                with contextlib.suppress(ConfigError):
                    self._load()

    def _key(self, kid: str) -> jwt.PyJWK | None:
        with self._lock:
            return self._keys.get(kid) or (self._keys.get("") if len(self._keys) == 1 else None)

    def verify(self, token: str) -> Principal:
        """The principal of a valid JWT; UnrecognizedClientException (with why) otherwise."""
        self._refresh()
        digest = hashlib.sha256(token.encode()).hexdigest()
        found = self._verified.get(digest)
        if found is not None and self._clock() < found[1]:
            return found[0]
        keys = self._keys
        principal, expires = self._verify(token)
        with self._lock:
            if self._keys is not keys:
                return principal  # verified with keys retired meanwhile: not remembered
            remember(self._verified, digest, (principal, expires + LEEWAY_S), VERIFIED_REMEMBERED)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise UnrecognizedClientException("the bearer token is not a well-formed JWT") from None
        if header.get("alg") not in ALGORITHMS:
            raise UnrecognizedClientException(
                f"the JWT's algorithm {header.get('alg')!r} is not accepted"
            )
        key = self._key(str(header.get("kid") or ""))
        if key is None:
            raise UnrecognizedClientException("the JWT is signed with a key the JWKS lacks")
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=list(ALGORITHMS),
                audience=self._audience,
                issuer=self._issuer,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise UnrecognizedClientException("the JWT has expired") from None
        except jwt.InvalidAudienceError:
            raise UnrecognizedClientException("the JWT is not meant for eventplane (aud)") from None
        except jwt.InvalidIssuerError:
            raise UnrecognizedClientException("the JWT's issuer is not trusted (iss)") from None
        except jwt.InvalidTokenError as exc:
            raise UnrecognizedClientException(f"the JWT is not valid: {exc}") from None
        name = claims.get(self._claim)
        if not isinstance(name, str) or not name:
            raise UnrecognizedClientException(f"the JWT has no {self._claim!r} claim")
        named = self._tokens.named(name, "jwt") if self._tokens is not None else None
        return named or Principal(name=name, via="jwt"), float(claims["exp"])
