"""Helpers for the gateway tests: raw HTTP requests signed with botocore's own SigV4 signer,
as older SDKs and other tools send them, and their XML replies."""

from __future__ import annotations

import http.client
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree as ET

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from eventplane.testing import EventplaneProcess, unique_cluster

# The test key's account is the installation's (the default EVENTPLANE_ACCOUNT_ID), so
# the ARNs the gateway answers with are the ones eventplane.arn formats here;
# test_region.py covers servers and keys of other accounts.
ACCOUNT = "000000000000"
KEY = "AKIDGATEWAYTEST0001"
SECRET = "gateway-test-secret-key"
REGION = "us-east-1"
NS = "{http://queue.amazonaws.com/doc/2012-11-05/}"


def gateway_process(bootstrap: str, roles: str) -> EventplaneProcess:
    """A started server of its own cluster with the gateway on, taking the test key."""
    return EventplaneProcess(
        bootstrap,
        roles=roles,
        cluster=unique_cluster(),
        env={"EVENTPLANE_GATEWAY_CREDENTIALS": f"{KEY}:{SECRET}:{ACCOUNT}"},
    ).start()


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def xml(self) -> ET.Element:
        return ET.fromstring(self.body)

    def find(self, path: str) -> str:
        """Text of the first element at ``path`` (``/``-separated tags, namespace added)."""
        node = self.xml().find("/".join(f"{NS}{p}" for p in path.split("/")))
        assert node is not None, f"{path} not in {self.body!r}"
        return node.text or ""

    def findall(self, path: str) -> list[ET.Element]:
        return self.xml().findall("/".join(f"{NS}{p}" for p in path.split("/")))

    def error_code(self) -> str:
        return self.find("Error/Code")


def send(
    url: str,
    *,
    method: str = "POST",
    data: bytes = b"",
    headers: Mapping[str, str] | None = None,
) -> Reply:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        conn.request(method, target, body=data, headers=dict(headers or {}))
        resp = conn.getresponse()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def signed_request(
    url: str,
    *,
    data: bytes | str = b"",
    headers: Mapping[str, str] | None = None,
    method: str = "POST",
    key: str = KEY,
    secret: str = SECRET,
    service: str = "sqs",
    presign: int | None = None,
) -> Reply:
    """A raw request signed with botocore's SigV4 (or presigned for ``presign`` seconds)."""
    body = data.encode() if isinstance(data, str) else data
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    creds = Credentials(key, secret)
    if presign is None:
        SigV4Auth(creds, service, REGION).add_auth(request)
    else:
        SigV4QueryAuth(creds, service, REGION, expires=presign).add_auth(request)
    prepared = request.prepare()
    return send(prepared.url, method=method, data=body, headers=dict(prepared.headers))


def query(
    gateway: EventplaneProcess, params: Mapping[str, str], *, path: str = "/", **kwargs: Any
) -> Reply:
    """A query-protocol SQS call as older SDKs send it: a signed form POST."""
    form = urlencode({"Version": "2012-11-05", **params})
    return signed_request(
        gateway.gateway_url + path,
        data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        **kwargs,
    )


def json_call(gateway: EventplaneProcess, action: str, body: bytes | str, **kwargs: Any) -> Reply:
    """A JSON-protocol SQS call with any body, signed."""
    return signed_request(
        gateway.gateway_url + "/",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"AmazonSQS.{action}",
        },
        **kwargs,
    )
