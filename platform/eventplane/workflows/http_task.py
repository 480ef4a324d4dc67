"""The HTTP Task: ``arn:aws:states:::http:invoke`` calls an HTTP(S) API from a workflow.

The request is Step Functions' (ApiEndpoint, Method, Headers, QueryParameters,
RequestBody, Transform with RequestBodyEncoding ``URL_ENCODED`` and its ArrayFormat) and
the result its shape: ``{"Headers": {name: [values]}, "ResponseBody": ...,
"StatusCode": 200, "StatusText": "OK"}``, the body parsed when the answer is JSON.
A non-2xx answer fails the task with ``States.Http.StatusCode.<code>`` and that same
document as the cause, so Retry/Catch can pick codes; no answer within 60 seconds, or a
connection that cannot be made, is ``States.Http.Socket``.

Eventplane has no EventBridge connections, so ``Authentication`` is refused when the
definition is created, and credentials go in Headers (``Authorization`` is allowed here,
unlike on AWS, where the connection supplies it). The exchange is written with h11 on
asyncio streams: one request per connection, no redirects followed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import h11

from eventplane.workflows.lang import dumps

__all__ = ["HttpRequest", "HttpTaskError", "build_request", "perform_http", "result"]

TIMEOUT_S: Final = 60.0
MAX_RESPONSE_BYTES: Final = 256 * 1024  # a task result's quota
METHODS: Final = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"})
ARRAY_FORMATS: Final = frozenset({"INDICES", "REPEAT", "COMMAS", "BRACKETS"})
USER_AGENT: Final = "eventplane-workflows-http-task"
# Headers a definition may not set, as AWS documents them, less Authorization (with no
# connections, headers are the only way to authenticate); the transport's own headers.
_FORBIDDEN: Final = frozenset(
    {
        "a-im", "accept-charset", "accept-datetime", "accept-encoding", "cache-control",
        "connection", "content-encoding", "content-length", "content-md5", "date", "expect",
        "forwarded", "from", "host", "http2-settings", "if-match", "if-modified-since",
        "if-none-match", "if-range", "if-unmodified-since", "max-forwards", "origin",
        "pragma", "proxy-authorization", "referer", "server", "te", "trailer",
        "transfer-encoding", "upgrade", "via", "warning",
    }
)  # fmt: skip
_FORBIDDEN_PREFIXES: Final = ("x-forwarded-", "x-amz-", "x-amzn-")


class HttpTaskError(Exception):
    """A failed HTTP Task as it is reported: Error and Cause."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


def _runtime(message: str) -> HttpTaskError:
    return HttpTaskError("States.Runtime", message)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    return dumps(value)  # numbers, booleans, null as JSON writes them


def _headers(raw: Any) -> list[tuple[str, str]]:
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise _runtime("Headers must be a JSON object")
    out = []
    for name, value in raw.items():
        lower = str(name).lower()
        if lower in _FORBIDDEN or lower.startswith(_FORBIDDEN_PREFIXES):
            raise _runtime(f"The header '{name}' cannot be set in an HTTP Task")
        text = ",".join(map(_scalar, value)) if isinstance(value, list) else _scalar(value)
        if any(c in str(name) + text for c in "\r\n"):
            raise _runtime(f"The header '{name}' contains a line break")
        out.append((str(name), text))
    return out


def _query(url: str, raw: Any) -> str:
    if raw is None:
        return url
    if not isinstance(raw, dict):
        raise _runtime("QueryParameters must be a JSON object")
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    for key, value in raw.items():
        values = value if isinstance(value, list) else [value]
        pairs.extend((str(key), _scalar(v)) for v in values)
    return urlunsplit(parts._replace(query=urlencode(pairs)))


def _form(body: Mapping[str, Any], array_format: str) -> str:
    """A JSON object as a form body; arrays as ArrayFormat says."""
    pairs: list[tuple[str, str]] = []
    for key, value in body.items():
        if not isinstance(value, list):
            pairs.append((key, _scalar(value)))
        elif array_format == "REPEAT":
            pairs.extend((key, _scalar(v)) for v in value)
        elif array_format == "COMMAS":
            pairs.append((key, ",".join(map(_scalar, value))))
        elif array_format == "BRACKETS":
            pairs.extend((f"{key}[]", _scalar(v)) for v in value)
        else:
            pairs.extend((f"{key}[{i}]", _scalar(v)) for i, v in enumerate(value))
    return urlencode(pairs)


def _body(params: Mapping[str, Any], headers: list[tuple[str, str]]) -> bytes:
    body = params.get("RequestBody")
    if body is None:
        return b""
    transform = params.get("Transform") or {}
    if not isinstance(transform, dict):
        raise _runtime("Transform must be a JSON object")
    encoding = transform.get("RequestBodyEncoding", "NONE")
    options = transform.get("RequestEncodingOptions") or {}
    array_format = options.get("ArrayFormat", "INDICES") if isinstance(options, dict) else None
    if encoding not in ("NONE", "URL_ENCODED") or array_format not in ARRAY_FORMATS:
        raise _runtime(
            "Transform takes RequestBodyEncoding NONE or URL_ENCODED and ArrayFormat "
            "INDICES, REPEAT, COMMAS or BRACKETS"
        )
    has_type = any(n.lower() == "content-type" for n, _ in headers)
    if isinstance(body, str):
        text = body
    elif encoding == "URL_ENCODED" and isinstance(body, dict):
        text = _form(body, array_format)
        if not has_type:
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    else:
        text = dumps(body)
        if not has_type:
            headers.append(("Content-Type", "application/json; charset=UTF-8"))
    return text.encode()


def build_request(params: Any) -> HttpRequest:
    """The request a task's parameters describe; ``States.Runtime`` for a bad one."""
    if not isinstance(params, dict):
        raise _runtime("The HTTP Task's parameters must be a JSON object")
    endpoint, method = params.get("ApiEndpoint"), params.get("Method")
    if not isinstance(endpoint, str) or urlsplit(endpoint).scheme not in ("http", "https"):
        raise _runtime(f"ApiEndpoint must be an http(s) URL, not {endpoint!r}")
    if not urlsplit(endpoint).hostname:
        raise _runtime(f"ApiEndpoint has no host: {endpoint!r}")
    if method not in METHODS:
        raise _runtime(f"Method must be one of {', '.join(sorted(METHODS))}, not {method!r}")
    if params.get("Authentication") is not None:
        raise _runtime("Authentication needs an EventBridge connection, which eventplane lacks")
    headers = _headers(params.get("Headers"))
    body = _body(params, headers)
    return HttpRequest(method, _query(endpoint, params.get("QueryParameters")), headers, body)


def result(status: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> dict[str, Any]:
    """The task's result document (and a failed task's cause)."""
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        grouped.setdefault(name, []).append(value)
    text = body.decode("utf-8", errors="replace")
    content_type = next((v for n, v in headers if n == "content-type"), "")
    media = content_type.split(";", 1)[0].strip().lower()
    parsed: Any = text
    if media == "application/json" or media.endswith("+json"):
        with contextlib.suppress(ValueError):
            parsed = json.loads(text)
    return {"Headers": grouped, "ResponseBody": parsed, "StatusCode": status, "StatusText": reason}


async def _exchange(
    req: HttpRequest, ssl_context: ssl.SSLContext | None
) -> tuple[int, str, list[tuple[str, str]], bytes]:
    parts = urlsplit(req.url)
    tls = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if tls else 80)
    context = (ssl_context or ssl.create_default_context()) if tls else None
    reader, writer = await asyncio.open_connection(host, port, ssl=context)
    try:
        conn = h11.Connection(h11.CLIENT)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = [("Host", parts.netloc.rpartition("@")[2]), ("Connection", "close")]
        if not any(n.lower() == "user-agent" for n, _ in req.headers):
            headers.append(("User-Agent", USER_AGENT))
        if req.body or req.method in ("POST", "PUT", "PATCH"):
            headers.append(("Content-Length", str(len(req.body))))
        out = conn.send(
            h11.Request(method=req.method, target=target, headers=headers + req.headers)
        )
        if req.body:
            out = (out or b"") + (conn.send(h11.Data(data=req.body)) or b"")
        out = (out or b"") + (conn.send(h11.EndOfMessage()) or b"")
        writer.write(out)
        await writer.drain()
        response: h11.Response | None = None
        chunks: list[bytes] = []
        size = 0
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > MAX_RESPONSE_BYTES:
                    raise HttpTaskError(
                        "States.DataLimitExceeded",
                        f"The response of {req.url} is larger than {MAX_RESPONSE_BYTES} bytes",
                    )
                chunks.append(bytes(event.data))
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                break
        if response is None:
            raise h11.RemoteProtocolError("the connection closed before a response")
        answer = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in response.headers]
        return response.status_code, response.reason.decode("latin-1"), answer, b"".join(chunks)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), 1.0)


async def perform_http(
    params: Any, *, timeout: float = TIMEOUT_S, ssl_context: ssl.SSLContext | None = None
) -> dict[str, Any]:
    """Call the endpoint once; the result, or ``HttpTaskError`` with the task's error."""
    req = build_request(params)
    try:
        async with asyncio.timeout(timeout):
            status, reason, headers, body = await _exchange(req, ssl_context)
    except TimeoutError:
        raise HttpTaskError(
            "States.Http.Socket", f"{req.method} {req.url} got no answer within {timeout:g} s"
        ) from None
    except (OSError, h11.ProtocolError) as exc:
        raise HttpTaskError("States.Http.Socket", f"{req.method} {req.url} failed: {exc}") from None
    doc = result(status, reason, headers, body)
    if not 200 <= status < 300:
        raise HttpTaskError(f"States.Http.StatusCode.{status}", dumps(doc))
    return doc
