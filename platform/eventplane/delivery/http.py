"""One HTTP POST to a target: what HTTP subscriptions and HTTP rule targets share.

The POST is written on asyncio streams rather than urllib: it needs no thread, a timeout
cancels it cleanly, and it never follows redirects (SNS and EventBridge do not either).
An attempt succeeds on a 2xx answer. A 4xx answer (except 408 and 429) is a client-side
error, not retried; anything else (no answer, a timeout, 3xx, 408, 429, 5xx) is.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import Mapping
from typing import Final
from urllib.parse import unquote, urlsplit

DEFAULT_TIMEOUT_S: Final = 15.0
# Client-side errors that are not retried are the 4xx answers, except these two, which
# say "try again later".
_RETRIABLE_4XX: Final = frozenset({408, 429})


def _request(url: str, body: bytes, headers: Mapping[str, str]) -> tuple[str, int, bool, bytes]:
    """(host, port, tls, request bytes) for a POST of ``body`` to ``url``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    host_header = parts.netloc.rpartition("@")[2]
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    lines = [
        f"POST {target} HTTP/1.1",
        f"Host: {host_header}",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    if parts.username is not None:
        # SNS supports basic authentication with credentials in the endpoint URL.
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        lines.append("Authorization: Basic " + base64.b64encode(credentials.encode()).decode())
    for name, value in headers.items():
        if any(c in name + value for c in "\r\n") or name.lower() in ("host", "content-length"):
            raise ValueError(f"header {name!r} cannot be sent")
        lines.append(f"{name}: {value}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return parts.hostname, port, tls, head + body


async def _read_status(reader: asyncio.StreamReader) -> int:
    while True:
        status_line = await reader.readline()
        version, _, rest = status_line.decode("latin-1").partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/") or not (code.isascii() and code.isdigit()):
            raise ValueError(f"malformed status line {status_line!r}")
        # Skip interim answers (100 Continue, 103 Early Hints) and their headers.
        while (await reader.readline()).strip():
            pass
        if not 100 <= int(code) < 200:
            return int(code)


async def post(
    url: str,
    body: str,
    headers: Mapping[str, str],
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    ssl_context: ssl.SSLContext | None = None,
) -> int:
    """POST ``body`` to ``url`` once; the HTTP status, or 0 when there was no answer.

    Never raises for network trouble (refused, reset, DNS, TLS, timeout, garbage answer);
    those all return 0. Redirects are not followed.

    Args:
        url: An ``http://`` or ``https://`` URL; ``user:password@`` becomes basic auth.
        body: The request body, sent as UTF-8.
        headers: Extra request headers (Host, Content-Length and Connection are set here).
        timeout: Seconds for the whole exchange, connect to status line.
        ssl_context: For https; the system's trusted CAs by default, as SNS requires a
            certificate from a trusted CA.
    """
    try:
        host, port, tls, request = _request(url, body.encode(), headers)
    except ValueError:
        return 0
    context = (ssl_context or ssl.create_default_context()) if tls else None
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port, ssl=context)
            writer.write(request)
            await writer.drain()
            return await _read_status(reader)
    except (
        OSError,
        TimeoutError,
        ValueError,
        asyncio.IncompleteReadError,
        asyncio.LimitOverrunError,
    ):
        return 0
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)


def is_retriable(status: int) -> bool:
    """Whether a failed attempt with this status is retried (4xx client errors are not)."""
    return not (400 <= status < 500) or status in _RETRIABLE_4XX
