"""AWS Signature Version 4 verification, header and presigned (query-string) forms.

The server recomputes the signature the client made: canonical request (method,
URI-encoded path, sorted query, the signed headers, the payload hash), string to
sign (algorithm, time, credential scope, hash of the canonical request), and the
HMAC chain over date, region and service. A key unknown to the configuration, a
time outside the allowed skew, or a different signature is refused with the
code AWS gives. The access key names a principal and its account. Any region in the
credential scope is accepted (the signature covers the one the client used), so a client
configured for us-east-1 works; the ARNs it gets back carry the installation's region.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

from eventplane import arn as arns
from eventplane.gateway.errors import (
    AuthenticationError,
    IncompleteSignature,
    InvalidClientTokenId,
    InvalidSignatureException,
    MissingAuthenticationToken,
    SignatureDoesNotMatch,
    UnrecognizedClientException,
)
from eventplane.security import roles

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Principal:
    access_key: str
    account: str
    # The credential scope's region and service ("" when the request was unsigned).
    region: str = ""
    service: str = ""
    # The principal the key stands for (its policies live in the tokens file); "" means
    # the access key id itself.
    name: str = ""

    @property
    def principal_name(self) -> str:
        return self.name or self.access_key


@dataclass(frozen=True)
class SignedRequest:
    """What verification needs of an HTTP request; the path and query as sent (encoded)."""

    method: str
    raw_path: str
    raw_query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class _Parts:
    access_key: str
    date: str
    region: str
    service: str
    signed_headers: list[str]
    signature: str
    amz_date: str
    expires: int | None  # presigned only


def _query_pairs(raw_query: str) -> list[tuple[str, str]]:
    pairs = []
    for item in raw_query.split("&"):
        if not item:
            continue
        key, _, value = item.partition("=")
        pairs.append((unquote(key.replace("+", " ")), unquote(value.replace("+", " "))))
    return pairs


def scope_of(req: SignedRequest) -> tuple[str, str, str] | None:
    """(access key, region, service) named by the request's credential, if it has one."""
    credential = ""
    auth = req.headers.get("authorization", "")
    if auth.startswith(ALGORITHM):
        for part in auth[len(ALGORITHM) :].split(","):
            name, _, value = part.strip().partition("=")
            if name == "Credential":
                credential = value
    else:
        credential = dict(_query_pairs(req.raw_query)).get("X-Amz-Credential", "")
    fields = credential.split("/")
    if len(fields) != 5:
        return None
    return fields[0], fields[2], fields[3]


def _parts(req: SignedRequest) -> _Parts:
    auth = req.headers.get("authorization")
    params = dict(_query_pairs(req.raw_query))
    if auth is not None:
        if not auth.startswith(ALGORITHM + " "):
            raise IncompleteSignature(f"Authorization header requires the {ALGORITHM} algorithm.")
        fields: dict[str, str] = {}
        for part in auth[len(ALGORITHM) :].split(","):
            name, _, value = part.strip().partition("=")
            fields[name] = value
        missing = [n for n in ("Credential", "SignedHeaders", "Signature") if not fields.get(n)]
        amz_date = req.headers.get("x-amz-date", "")
        if missing or not amz_date:
            what = ", ".join(missing or ["X-Amz-Date"])
            raise IncompleteSignature(f"Authorization header requires {what}.")
        credential, signed, signature, expires = (
            fields["Credential"],
            fields["SignedHeaders"],
            fields["Signature"],
            None,
        )
    elif "X-Amz-Signature" in params or "X-Amz-Credential" in params:
        needed = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders")
        missing = [n for n in (*needed, "X-Amz-Signature") if not params.get(n)]
        if missing:
            raise IncompleteSignature(f"Presigned request requires {', '.join(missing)}.")
        credential, signed, signature = (
            params["X-Amz-Credential"],
            params["X-Amz-SignedHeaders"],
            params["X-Amz-Signature"],
        )
        amz_date = params["X-Amz-Date"]
        try:
            expires = int(params.get("X-Amz-Expires", "900"))
        except ValueError:
            raise IncompleteSignature("X-Amz-Expires must be a number of seconds.") from None
    else:
        raise MissingAuthenticationToken("Request is missing Authentication Token")
    scope = credential.split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise IncompleteSignature(
            f"Credential {credential!r} must look like ACCESS_KEY/DATE/REGION/SERVICE/aws4_request."
        )
    return _Parts(
        access_key=scope[0],
        date=scope[1],
        region=scope[2],
        service=scope[3],
        signed_headers=signed.split(";"),
        signature=signature,
        amz_date=amz_date,
        expires=expires,
    )


def _canonical_request(req: SignedRequest, parts: _Parts) -> str:
    # SigV4 (every service but S3) encodes the path as sent once more: a FunctionName
    # "f:live" travels as f%3Alive and is signed as f%253Alive.
    path = quote(req.raw_path or "/", safe="/~")
    pairs = sorted(
        (quote(k, safe="-_.~"), quote(v, safe="-_.~"))
        for k, v in _query_pairs(req.raw_query)
        if k != "X-Amz-Signature"
    )
    query = "&".join(f"{k}={v}" for k, v in pairs)
    headers = "".join(
        f"{name}:{' '.join(req.headers.get(name, '').split())}\n"
        for name in sorted(parts.signed_headers)
    )
    payload = req.headers.get("x-amz-content-sha256") or hashlib.sha256(req.body).hexdigest()
    return "\n".join(
        [req.method.upper(), path, query, headers, ";".join(parts.signed_headers), payload]
    )


@functools.lru_cache(maxsize=256)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    # A client signs with the same key all day: four HMACs saved per request. Bounded, as
    # the keys of many clients and days would otherwise pile up.
    key = f"AWS4{secret}".encode()
    for item in (date, region, service, "aws4_request"):
        key = hmac.new(key, item.encode(), hashlib.sha256).digest()
    return key


def _signature(secret: str, parts: _Parts, canonical: str) -> str:
    scope = f"{parts.date}/{parts.region}/{parts.service}/aws4_request"
    to_sign = "\n".join(
        [ALGORITHM, parts.amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _signing_key(secret, parts.date, parts.region, parts.service)
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


_BASIC_TIME = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z")


def _parse_time(value: str) -> dt.datetime:
    # strptime costs tens of microseconds a request; the well-formed case is read directly
    # and anything else still goes through strptime, so what is accepted does not change.
    found = _BASIC_TIME.fullmatch(value)
    if found is not None:
        with contextlib.suppress(ValueError):
            year, month, day, hour, minute, second = map(int, found.groups())
            return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
    try:
        return dt.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        raise IncompleteSignature(
            f"X-Amz-Date {value!r} must be a basic ISO 8601 time (20240101T000000Z)."
        ) from None


class Verifier:
    """Checks SigV4 signatures against configured keys, or, when ``open``, accepts any key."""

    def __init__(
        self,
        credentials: Mapping[str, tuple[str, ...]],
        *,
        open_access: bool = False,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        role_secret: str = "",
    ) -> None:
        self._credentials = dict(credentials)
        self._open = open_access
        self._now = now
        self._role_secret = role_secret  # derives functions' execution-role credentials

    def _role_key(self, req: SignedRequest, access_key: str) -> tuple[str, ...] | None:
        """(secret, account, role ARN) when the request carries a function's role
        credentials: its session token is a role token whose derived key id it used."""
        token = req.headers.get("x-amz-security-token") or dict(_query_pairs(req.raw_query)).get(
            "X-Amz-Security-Token", ""
        )
        role_arn = roles.role_of(self._role_secret, token) if token else None
        if role_arn is None:
            return None
        key = roles.aws_credentials(self._role_secret, role_arn)
        if not hmac.compare_digest(key.access_key_id, access_key):
            return None
        return key.secret_access_key, roles.account_of(role_arn), role_arn

    def verify(self, req: SignedRequest, *, query_protocol: bool = False) -> Principal:
        """The principal that signed ``req``; raises the AWS error for a bad signature."""
        mismatch: type[AuthenticationError] = (
            SignatureDoesNotMatch if query_protocol else InvalidSignatureException
        )
        if self._open:
            scope = scope_of(req)
            if scope is None:
                return Principal("anonymous", arns.identity().account)
            return Principal(scope[0], arns.identity().account, scope[1], scope[2])
        parts = _parts(req)
        known = self._credentials.get(parts.access_key)
        if known is None and self._role_secret:
            known = self._role_key(req, parts.access_key)
        if known is None:
            unknown = InvalidClientTokenId if query_protocol else UnrecognizedClientException
            raise unknown("The security token included in the request is invalid.")
        secret, account, *named = known
        signed_at = _parse_time(parts.amz_date)
        now = self._now()
        if parts.expires is not None:
            if now > signed_at + dt.timedelta(seconds=parts.expires) or signed_at > now + MAX_SKEW:
                raise mismatch(
                    f"Signature expired: the presigned request was valid from "
                    f"{parts.amz_date} for {parts.expires} seconds."
                )
        elif abs(now - signed_at) > MAX_SKEW:
            raise mismatch(
                f"Signature expired: {parts.amz_date} is now earlier than "
                f"{(now - MAX_SKEW).strftime('%Y%m%dT%H%M%SZ')} "
                f"({now.strftime('%Y%m%dT%H%M%SZ')} - 15 min.)"
            )
        if "host" not in parts.signed_headers:
            raise mismatch("The host header must be signed.")
        expected = _signature(secret, parts, _canonical_request(req, parts))
        if not hmac.compare_digest(expected, parts.signature):
            raise mismatch(
                "The request signature we calculated does not match the signature you "
                "provided. Check your AWS Secret Access Key and signing method."
            )
        return Principal(
            parts.access_key, account, parts.region, parts.service, named[0] if named else ""
        )
