"""SigV4 verification against requests signed by botocore's own signer."""

from __future__ import annotations

import datetime as dt
from unittest import mock
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from eventplane.gateway.errors import (
    IncompleteSignature,
    InvalidClientTokenId,
    InvalidSignatureException,
    MissingAuthenticationToken,
    SignatureDoesNotMatch,
    UnrecognizedClientException,
)
from eventplane.gateway.sigv4 import SignedRequest, Verifier, _parse_time

KEY, SECRET, ACCOUNT = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "111122223333"
SIGNED_AT = dt.datetime(2026, 5, 1, 12, 0, 0)


def verifier(now: dt.datetime = SIGNED_AT, **kwargs: object) -> Verifier:
    return Verifier({KEY: (SECRET, ACCOUNT)}, now=lambda: now.replace(tzinfo=dt.UTC), **kwargs)  # type: ignore[arg-type]


def sign(
    url: str = "http://localhost:4566/",
    body: bytes = b'{"QueueNamePrefix": "a b/c"}',
    *,
    method: str = "POST",
    secret: str = SECRET,
    presign: int | None = None,
    headers: dict[str, str] | None = None,
) -> SignedRequest:
    request = AWSRequest(
        method=method,
        url=url,
        data=body,
        headers=headers or {"X-Amz-Target": "AmazonSQS.ListQueues"},
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=SIGNED_AT):
        if presign is None:
            SigV4Auth(Credentials(KEY, secret), "sqs", "eu-west-1").add_auth(request)
        else:
            SigV4QueryAuth(Credentials(KEY, secret), "sqs", "eu-west-1", presign).add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    all_headers = {k.lower(): v for k, v in prepared.headers.items()}
    all_headers.setdefault("host", parts.netloc)
    return SignedRequest(method, parts.path, parts.query, all_headers, body)


def test_header_signature_verifies_and_names_the_account() -> None:
    p = verifier().verify(sign())
    assert (p.access_key, p.account, p.region, p.service) == (KEY, ACCOUNT, "eu-west-1", "sqs")


def test_path_and_query_with_characters_to_encode() -> None:
    url = "http://localhost:4566/123456789012/my-queue?Action=GetQueueUrl&QueueName=a%20b%2Fc"
    assert verifier().verify(sign(url, b"")).account == ACCOUNT


def test_tampered_body_or_wrong_secret_does_not_match() -> None:
    req = sign()
    tampered = SignedRequest(req.method, req.raw_path, req.raw_query, req.headers, b"{}")
    with pytest.raises(InvalidSignatureException):
        verifier().verify(tampered)
    with pytest.raises(SignatureDoesNotMatch):
        verifier().verify(sign(secret="other"), query_protocol=True)


def test_unknown_key_and_missing_signature() -> None:
    other = Verifier({"AKIDOTHER": ("s", ACCOUNT)}, now=lambda: SIGNED_AT.replace(tzinfo=dt.UTC))
    with pytest.raises(UnrecognizedClientException):
        other.verify(sign())
    with pytest.raises(InvalidClientTokenId):
        other.verify(sign(), query_protocol=True)
    bare = SignedRequest("POST", "/", "", {"host": "localhost"}, b"")
    with pytest.raises(MissingAuthenticationToken):
        verifier().verify(bare)
    broken = SignedRequest("POST", "/", "", {"authorization": "AWS4-HMAC-SHA256 Foo=1"}, b"")
    with pytest.raises(IncompleteSignature):
        verifier().verify(broken)


def test_clock_skew_over_15_minutes_is_expired() -> None:
    assert verifier(SIGNED_AT + dt.timedelta(minutes=14)).verify(sign())
    with pytest.raises(InvalidSignatureException, match="expired"):
        verifier(SIGNED_AT + dt.timedelta(minutes=16)).verify(sign())
    with pytest.raises(InvalidSignatureException, match="expired"):
        verifier(SIGNED_AT - dt.timedelta(minutes=16)).verify(sign())


@pytest.mark.parametrize(
    "value",
    [
        "20260501T120000Z",
        "20240229T235959Z",
        "20260501T1200Z",
        "20261301T120000Z",
        "20260501T120060Z",
        "2026-05-01T12:00:00Z",
        "20260501T120000",
        "\uff12\uff1026050\uff11T120000Z",  # non-ASCII digits
        "",
    ],
)
def test_the_signing_time_reads_as_strptime_reads_it(value: str) -> None:
    try:
        expected = dt.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        with pytest.raises(IncompleteSignature):
            _parse_time(value)
    else:
        assert _parse_time(value) == expected


def test_a_cached_signing_key_is_kept_apart_per_secret_day_region_and_service() -> None:
    # The same key, verified again, hits the cache; another secret must still fail.
    for _ in range(3):
        assert verifier().verify(sign()).account == ACCOUNT
        with pytest.raises(InvalidSignatureException):
            verifier().verify(sign(secret="other"))
    next_day = SIGNED_AT + dt.timedelta(days=1)
    with mock.patch("botocore.auth.get_current_datetime", return_value=next_day):
        request = AWSRequest(
            method="POST",
            url="http://localhost:4566/",
            data=b"{}",
            headers={"X-Amz-Target": "AmazonSQS.ListQueues"},
        )
        SigV4Auth(Credentials(KEY, SECRET), "sns", "us-east-1").add_auth(request)
    prepared = request.prepare()
    headers = {k.lower(): v for k, v in prepared.headers.items()} | {"host": "localhost:4566"}
    req = SignedRequest("POST", "/", "", headers, b"{}")
    principal = verifier(next_day).verify(req)
    assert (principal.region, principal.service) == ("us-east-1", "sns")


def test_presigned_url_until_it_expires() -> None:
    url = "http://localhost:4566/?Action=ListQueues&Version=2012-11-05"
    req = sign(url, b"", method="GET", presign=300, headers={})
    assert verifier(SIGNED_AT + dt.timedelta(seconds=299)).verify(req, query_protocol=True)
    with pytest.raises(SignatureDoesNotMatch, match="expired"):
        verifier(SIGNED_AT + dt.timedelta(seconds=301)).verify(req, query_protocol=True)


def test_open_access_accepts_any_key_and_unsigned_requests() -> None:
    open_verifier = Verifier({}, open_access=True)
    assert open_verifier.verify(sign(secret="anything")).access_key == KEY
    assert open_verifier.verify(SignedRequest("GET", "/", "", {}, b"")).account


def _signed_with(credentials: Credentials, presign: int | None = None) -> SignedRequest:
    body = b"{}" if presign is None else b""
    request = AWSRequest(
        method="POST" if presign is None else "GET",
        url="http://localhost:4566/123456789012/q?Action=GetQueueAttributes",
        data=body,
        headers={"X-Amz-Target": "AmazonSQS.ListQueues"},
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=SIGNED_AT):
        if presign is None:
            SigV4Auth(credentials, "sqs", "eu-west-1").add_auth(request)
        else:
            SigV4QueryAuth(credentials, "sqs", "eu-west-1", presign).add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    headers = {k.lower(): v for k, v in prepared.headers.items()}
    headers.setdefault("host", parts.netloc)
    return SignedRequest(request.method, parts.path, parts.query, headers, body)


def test_a_functions_role_credentials_verify_as_the_role() -> None:
    from eventplane.security import roles

    cluster, role = "cluster-secret", "arn:aws:iam::123456789012:role/orders-writer"
    key = roles.aws_credentials(cluster, role)
    with_roles = verifier(role_secret=cluster)
    for presign in (None, 300):
        p = with_roles.verify(_signed_with(Credentials(*key), presign))
        assert (p.access_key, p.account, p.principal_name) == (key[0], "123456789012", role)
    # Without the cluster secret, or with another role's token, the key means nothing.
    with pytest.raises(UnrecognizedClientException):
        verifier().verify(_signed_with(Credentials(*key)))
    other = roles.aws_credentials(cluster, role.replace("orders", "admin"))
    with pytest.raises(UnrecognizedClientException):
        with_roles.verify(_signed_with(Credentials(key[0], key[1], other.session_token)))
    with pytest.raises(InvalidSignatureException):
        with_roles.verify(_signed_with(Credentials(key[0], "not-the-secret", key[2])))
