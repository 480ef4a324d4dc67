"""AWS REST-JSON protocol (Lambda), from botocore's model: route, parse, write a response.

An operation is chosen by HTTP method and the model's ``requestUri`` template
(``/2015-03-31/functions/{FunctionName}/invocations``; ``{Name+}`` is greedy and may
span slashes). Input members come from where the model puts them: the URI
(``location: uri``), the query string (lists gather repeated keys), headers
(``X-Amz-Invocation-Type``), a ``payload`` member (a blob is the raw body, as
Invoke's Payload) or the JSON body. Output members go back the same way: headers,
the status code (``location: statusCode``, Invoke's 202/204), a raw payload, or a
JSON body. Errors are ``{"Type", "message"}`` with ``x-amzn-ErrorType`` and the status
the model's error shape declares. No operation is named here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from botocore.model import OperationModel, ServiceModel, Shape

from eventplane.errors import EventplaneError
from eventplane.gateway import json_protocol
from eventplane.gateway.errors import SerializationException, http_status
from eventplane.gateway.shapes import modeled_status

Response = tuple[int, dict[str, str], bytes]
_LABEL = re.compile(r"\{([A-Za-z0-9_]+)(\+?)\}")
CONTENT_TYPE = "application/json"


@dataclasses.dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    # Query keys the template requires (``/path?versions``), with their fixed value if any.
    static_query: tuple[tuple[str, str | None], ...]
    operation: OperationModel
    # Literal characters in the template: the most specific template wins a tie.
    literal: int


def _compile(op: OperationModel) -> Route:
    uri = str(op.http["requestUri"])
    path, _, query = uri.partition("?")
    parts: list[str] = []
    last = 0
    for m in _LABEL.finditer(path):
        parts.append(re.escape(path[last : m.start()]))
        parts.append(f"(?P<{m.group(1)}>.+)" if m.group(2) else f"(?P<{m.group(1)}>[^/]+)")
        last = m.end()
    parts.append(re.escape(path[last:]))
    static: list[tuple[str, str | None]] = []
    for item in filter(None, query.split("&")):
        key, eq, value = item.partition("=")
        static.append((key, value if eq else None))
    literal = len(_LABEL.sub("", path))
    pattern = re.compile("".join(parts) + "/?")
    return Route(str(op.http["method"]).upper(), pattern, tuple(static), op, literal)


class Router:
    """The operations of one REST service, found by method and path."""

    def __init__(self, model: ServiceModel) -> None:
        routes = [_compile(model.operation_model(name)) for name in model.operation_names]
        # More static query keys, then more literal path, first: ``/functions/{F}/versions``
        # before ``/functions/{F}`` would never be ambiguous, but templates with a fixed
        # query (``?versions``) must be tried before their bare twins.
        self.routes = sorted(routes, key=lambda r: (-len(r.static_query), -r.literal))

    def match(
        self, method: str, raw_path: str, query: Mapping[str, Sequence[str]]
    ) -> tuple[OperationModel, dict[str, str]] | None:
        """(operation, URI labels decoded) for a request, or None if no template fits."""
        path = raw_path.partition("?")[0]
        for route in self.routes:
            if route.method != method.upper():
                continue
            m = route.pattern.fullmatch(path)
            if m is None:
                continue
            if any(
                key not in query or (value is not None and value not in query[key])
                for key, value in route.static_query
            ):
                continue
            return route.operation, {k: unquote(v) for k, v in m.groupdict().items()}
        return None


def _scalar(shape: Shape, text: str, where: str) -> Any:
    """A URI, query or header string as ``shape``'s type."""
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("double", "float"):
            return float(text)
        if kind == "timestamp":
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SerializationException(
            f"Value '{text}' at '{where}' can not be converted to {kind}."
        ) from None
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise SerializationException(f"Value '{text}' at '{where}' is not a boolean.")
        return text.lower() == "true"
    return text


def parse(
    op: OperationModel,
    labels: Mapping[str, str],
    query: Mapping[str, Sequence[str]],
    headers: Mapping[str, str],
    body: bytes,
) -> dict[str, Any]:
    """The request's members, each read from where the input shape puts it."""
    shape = op.input_shape
    if shape is None:
        return {}
    members: dict[str, Any] = {}
    body_members: dict[str, Shape] = {}
    payload = shape.serialization.get("payload")
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        key = member.serialization.get("name", name)
        if location == "uri":
            if key in labels:
                members[name] = _scalar(member, labels[key], name)
        elif location == "querystring":
            if member.type_name == "list" and key in query:
                members[name] = [_scalar(member.member, v, name) for v in query[key]]
            elif member.type_name == "map":
                named = {
                    m.serialization.get("name", n)
                    for n, m in shape.members.items()
                    if m.serialization.get("location") == "querystring" and m is not member
                }
                members[name] = {k: v[-1] for k, v in query.items() if k not in named}
            elif key in query:
                members[name] = _scalar(member, query[key][-1], name)
        elif location == "header":
            value = headers.get(key.lower())
            if value is not None:
                members[name] = _scalar(member, value, name)
        elif location == "headers":
            prefix = key.lower()
            found = {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)}
            if found:
                members[name] = found
        elif name == payload:
            if member.type_name in ("blob", "string"):
                members[name] = body if member.type_name == "blob" else body.decode("utf-8")
            elif body.strip():
                members[name] = json_protocol.check(member, _json(body), name)
        else:
            body_members[name] = member
    if body_members and payload is None and body.strip():
        data = _json(body)
        if not isinstance(data, dict):
            raise SerializationException("The request body must be a JSON object.")
        for name, value in data.items():
            if name in body_members:
                members[name] = json_protocol.check(body_members[name], value, name)
    return members


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SerializationException(f"The request body is not valid JSON: {exc}") from None


def _epoch(value: Any) -> Any:
    if isinstance(value, str) and value:
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return value


def _plain(shape: Shape, value: Any) -> Any:
    """JSON-ready data for ``shape``: blobs in base64, timestamps in epoch seconds."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, Mapping):
        return {
            k: _plain(shape.members[k], v) if k in shape.members else v for k, v in value.items()
        }
    if kind == "list" and isinstance(value, list):
        return [_plain(shape.member, v) for v in value]
    if kind == "map" and isinstance(value, Mapping):
        return {k: _plain(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        return _epoch(value)
    return json_protocol.plain(value)


def _header_value(shape: Shape, value: Any) -> str:
    if shape.type_name == "boolean":
        return "true" if value else "false"
    if shape.type_name == "timestamp":
        stamp = _epoch(value)
        if isinstance(stamp, float):
            return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    return str(value)


def serialize(op: OperationModel, output: Mapping[str, Any]) -> Response:
    """The response: status (the model's, or a statusCode member), headers, body."""
    status = int(op.http.get("responseCode", 200))
    headers = {"content-type": CONTENT_TYPE}
    shape = op.output_shape
    if shape is None:
        return status, headers, b"" if status == 204 else b"{}"
    payload = shape.serialization.get("payload")
    document: dict[str, Any] = {}
    raw: bytes | None = None
    for name, member in shape.members.items():
        if name not in output:
            continue
        value = output[name]
        location = member.serialization.get("location")
        if location == "statusCode":
            status = int(value)
        elif location == "header":
            headers[member.serialization.get("name", name).lower()] = _header_value(member, value)
        elif location == "headers":
            prefix = member.serialization.get("name", name).lower()
            headers.update({f"{prefix}{k}".lower(): str(v) for k, v in value.items()})
        elif name == payload:
            if member.type_name == "blob":
                raw = value if isinstance(value, bytes) else bytes(value)
                headers["content-type"] = "application/octet-stream"
            elif member.type_name == "string":
                raw = str(value).encode()
            else:
                raw = json.dumps(_plain(member, value), separators=(",", ":")).encode()
        else:
            document[name] = _plain(member, value)
    if raw is None:
        raw = json.dumps(document, separators=(",", ":")).encode() if payload is None else b""
    if status == 204:
        raw = b""
    return status, headers, raw


def serialize_error(model: ServiceModel, err: EventplaneError) -> Response:
    """``{"Type": "User"|"Server", "message"}`` with x-amzn-ErrorType, at the modeled status."""
    status = modeled_status(model, err.code) or http_status(err, model.service_name)
    headers = {"content-type": CONTENT_TYPE, "x-amzn-errortype": err.code}
    body: dict[str, Any] = {"Type": "User" if status < 500 else "Server", "message": err.message}
    reason = getattr(err, "reason", None)
    if isinstance(reason, str) and reason:
        body["Reason"] = reason
    return status, headers, json.dumps(body).encode()
