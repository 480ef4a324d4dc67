"""The gateway's ASGI application: route, authenticate, parse, call the core, serialize.

Routing follows what AWS SDKs send: ``X-Amz-Target`` selects a JSON-protocol
service by its target prefix; a REST service (Lambda) is chosen by the SigV4
credential scope, or, unsigned in dev mode, by a path its model's request URIs
match; otherwise the request is a query-protocol call
(SQS's legacy protocol, SNS's only one) whose ``Action`` is read from the form
body or query string and whose service is the SigV4 credential scope's, or
implied by the path (``/<account>/<queue>`` is SQS), or, unsigned in dev mode,
the service whose model has the action (one table built from the models; SQS
first where two share a name). Every failure is answered in the protocol the
request used, with AWS's code and the HTTP status the model gives the error,
and never stops the server.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from botocore.model import OperationModel, ServiceModel

from eventplane.errors import EventplaneError, InternalFailure, ServiceUnavailable
from eventplane.gateway import json_protocol, query_protocol, rest_json_protocol
from eventplane.gateway.authz import GatewayAuthorizer
from eventplane.gateway.binding import ServiceBinding
from eventplane.gateway.errors import (
    InvalidAction,
    MalformedQueryString,
    RequestEntityTooLarge,
    UnknownOperationException,
    UnsupportedAction,
    http_status,
)
from eventplane.gateway.execution_page import PREFIX as PAGE_PREFIX
from eventplane.gateway.execution_page import ExecutionPages
from eventplane.gateway.relay import GatewayForwarder
from eventplane.gateway.shapes import from_result, operation, service_model, to_request
from eventplane.gateway.sigv4 import Principal, SignedRequest, Verifier, scope_of
from eventplane.observability.logging import get_logger
from eventplane.security.interceptor import current_principal

_log = get_logger("eventplane.gateway")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Response = tuple[int, dict[str, str], bytes]

# What AWS accepts in one request is far below this; larger bodies are refused unread.
MAX_BODY_BYTES = 8 * 1024 * 1024
HEALTH_PATH = "/_eventplane/health"
# Services the gateway speaks, by botocore model name.
SERVICES = ("sqs", "sns", "events", "lambda", "stepfunctions", "dynamodb", "dynamodbstreams")


@dataclass
class _Request:
    method: str
    path: str
    raw_path: str
    raw_query: str
    headers: dict[str, str]
    body: bytes
    request_id: str
    # Whether the client's connection is TLS (for aws:SecureTransport, and the scheme of
    # the URLs answers carry): the ASGI scheme, or what the relaying process saw.
    secure: bool = False

    @property
    def base_url(self) -> str:
        scheme = "https" if self.secure else "http"
        return f"{scheme}://{self.headers.get('host', 'localhost')}"

    @functools.cached_property
    def signed(self) -> SignedRequest:
        return SignedRequest(self.method, self.raw_path, self.raw_query, self.headers, self.body)

    @functools.cached_property
    def scope(self) -> tuple[str, str, str] | None:
        """The SigV4 credential scope's (access key, region, service), read once."""
        return scope_of(self.signed)


class GatewayApp:
    """One ASGI app for every service; ``bindings`` is read per request (components fill it)."""

    def __init__(
        self,
        bindings: Mapping[str, ServiceBinding],
        verifier: Verifier,
        *,
        authorizer: GatewayAuthorizer | None = None,
        max_body: int = MAX_BODY_BYTES,
        forwarder: GatewayForwarder | None = None,
    ) -> None:
        self.bindings = bindings
        # Services this process does not run, served elsewhere (split mode; relay.py).
        self.forwarder = forwarder
        self.verifier = verifier
        self.authorizer = authorizer or GatewayAuthorizer()
        self.max_body = max_body
        self.pages = ExecutionPages(bindings, verifier, self.authorizer)
        self.models = {name: service_model(name) for name in SERVICES}
        self._by_target = {
            str(m.metadata["targetPrefix"]): m
            for m in self.models.values()
            if m.metadata.get("targetPrefix")
        }
        # The services a query request may reach: query ones, and JSON ones that came from
        # query (SQS); their actions by name, for requests that name no service (dev mode).
        self._query_models = {
            name: m
            for name, m in self.models.items()
            if m.metadata.get("protocol") == "query" or "awsQueryCompatible" in m.metadata
        }
        # REST services by SigV4 scope name, each with the router its request URIs make.
        self._rest = {
            name: (m, rest_json_protocol.Router(m))
            for name, m in self.models.items()
            if m.metadata.get("protocol") == "rest-json"
        }
        self._by_action: dict[str, ServiceModel] = {}
        for m in self._query_models.values():
            for action in m.operation_names:
                self._by_action.setdefault(action, m)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        body, too_large = await self._body(receive)
        req = _Request(
            method=scope["method"],
            path=scope["path"],
            raw_path=(scope.get("raw_path") or scope["path"].encode()).decode("latin-1"),
            raw_query=scope["query_string"].decode("latin-1"),
            headers=headers,
            body=body,
            request_id=str(uuid.uuid4()),
            secure=scope.get("scheme") == "https",
        )
        if req.path == HEALTH_PATH:
            status, out_headers, payload = 200, {"content-type": "text/plain"}, b"ok\n"
        elif req.path.startswith(PAGE_PREFIX):
            page = self.pages.handle(
                req.method, req.raw_path, req.signed, req.request_id, secure=req.secure
            )
            status, out_headers, payload = await page
        else:
            status, out_headers, payload = await self._handle(req, too_large)
        # A relayed answer keeps the serving process's request id (its body may name it).
        out_headers.setdefault("x-amzn-requestid", req.request_id)
        out_headers.setdefault("x-amz-request-id", out_headers["x-amzn-requestid"])
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in out_headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def relayed(
        self,
        *,
        method: str,
        path: str,
        raw_path: str,
        raw_query: str,
        headers: dict[str, str],
        body: bytes,
        request_id: str | None,
        secure: bool = False,
    ) -> Response:
        """Serve a request another process's gateway relayed here (relay.py)."""
        req = _Request(
            method=method,
            path=path,
            raw_path=raw_path,
            raw_query=raw_query,
            headers=headers,
            body=body,
            request_id=request_id or str(uuid.uuid4()),
            secure=secure,
        )
        status, out_headers, payload = await self._handle(req, len(body) > self.max_body)
        out_headers.update({"x-amzn-requestid": req.request_id, "x-amz-request-id": req.request_id})
        return status, out_headers, payload

    async def _elsewhere(self, service: str, req: _Request, too_large: bool) -> Response | None:
        """The answer of the process that runs ``service``, when this one does not.

        A body over the limit was cut short while read: it is refused here, not relayed.
        """
        if self.forwarder is None or too_large or service in self.bindings:
            return None
        address = self.forwarder.endpoint(service)
        if address is None:
            return None
        return await self.forwarder.forward(service, address, req)

    async def _body(self, receive: Receive) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= self.max_body:
                chunks.append(chunk)
            if not message.get("more_body"):
                break
        return b"".join(chunks), size > self.max_body

    async def _handle(self, req: _Request, too_large: bool) -> Response:
        target = req.headers.get("x-amz-target")
        if target is not None:
            return await self._json(req, target, too_large)
        rest = self._rest_service(req)
        if rest is not None:
            return await self._rest_json(req, rest, too_large)
        return await self._query(req, too_large)

    def _rest_service(self, req: _Request) -> str | None:
        scope = req.scope
        if scope is not None:
            return scope[2] if scope[2] in self._rest else None
        query = _multi_query(req.raw_query)
        for name, (_, router) in self._rest.items():
            if router.match(req.method, req.raw_path, query) is not None:
                return name
        return None

    # --- REST-JSON ------------------------------------------------------------------------------
    async def _rest_json(self, req: _Request, service: str, too_large: bool) -> Response:
        model, router = self._rest[service]
        binding = self.bindings.get(service)
        try:
            if (relayed := await self._elsewhere(service, req, too_large)) is not None:
                return relayed
            if too_large:
                raise RequestEntityTooLarge(f"Request body is larger than {self.max_body} bytes.")
            principal = self.verifier.verify(req.signed)
            query = _multi_query(req.raw_query)
            found = router.match(req.method, req.raw_path, query)
            if found is None:
                raise UnknownOperationException(
                    f"No {service} operation is {req.method} {req.path}."
                )
            op, labels = found
            members = rest_json_protocol.parse(op, labels, query, req.headers, req.body)
            output = await self._call(binding, model, op, members, req, principal)
            return rest_json_protocol.serialize(op, output)
        except EventplaneError as err:
            return rest_json_protocol.serialize_error(model, err)
        except Exception:
            _log.exception("gateway request failed", service=service, request_id=req.request_id)
            return rest_json_protocol.serialize_error(model, InternalFailure("The request failed."))

    # --- JSON ---------------------------------------------------------------------------------
    async def _json(self, req: _Request, target: str, too_large: bool) -> Response:
        prefix, _, action = target.rpartition(".")
        model = self._by_target.get(prefix)
        if model is None:
            return _bare_json_error(UnknownOperationException(f"Unknown target {target!r}."))
        binding = self.bindings.get(model.service_name)
        try:
            if (relayed := await self._elsewhere(model.service_name, req, too_large)) is not None:
                return relayed
            if too_large:
                raise RequestEntityTooLarge(
                    f"Request body is larger than {self.max_body} bytes; AWS accepts much less."
                )
            principal = self.verifier.verify(req.signed)
            op = operation(model, action)
            if op is None:
                raise UnknownOperationException(f"Unknown operation {action!r}.")
            members = json_protocol.parse(op, req.body)
            output = await self._call(binding, model, op, members, req, principal)
            return json_protocol.serialize(model, output)
        except EventplaneError as err:
            return self._json_error(model, binding, err)
        except Exception:
            _log.exception("gateway request failed", target=target, request_id=req.request_id)
            return self._json_error(model, binding, InternalFailure("The request failed."))

    def _json_error(
        self, model: ServiceModel, binding: ServiceBinding | None, err: EventplaneError
    ) -> Response:
        query_code = None
        if "awsQueryCompatible" in model.metadata:
            query_code = binding.query_error_code(err.code) if binding else err.code
        return json_protocol.serialize_error(model, err, query_code)

    # --- query ----------------------------------------------------------------------------------
    def _query_params(self, req: _Request) -> dict[str, str]:
        try:
            params = dict(parse_qsl(req.raw_query, keep_blank_values=True, strict_parsing=False))
            content_type = req.headers.get("content-type", "")
            if req.body and "x-www-form-urlencoded" in content_type:
                form = req.body.decode("utf-8")
                params.update(parse_qsl(form, keep_blank_values=True, strict_parsing=False))
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedQueryString(f"The request parameters are malformed: {exc}") from None
        return params

    def _query_model(self, req: _Request, action: str) -> ServiceModel | None:
        scope = req.scope
        if scope is not None and scope[2] in self._query_models:
            return self._query_models[scope[2]]
        segments = [s for s in req.path.split("/") if s]
        if (
            len(segments) == 2
            and (segments[0].isascii() and segments[0].isdigit())
            and "sqs" in self.models
        ):
            return self.models["sqs"]
        return self._by_action.get(action)

    async def _query(self, req: _Request, too_large: bool) -> Response:
        model = self.models["sqs"]
        binding = None
        try:
            if too_large:
                raise RequestEntityTooLarge(f"Request body is larger than {self.max_body} bytes.")
            params = self._query_params(req)
            action = params.get("Action", "")
            model = self._query_model(req, action) or model
            binding = self.bindings.get(model.service_name)
            if (relayed := await self._elsewhere(model.service_name, req, too_large)) is not None:
                return relayed
            principal = self.verifier.verify(req.signed, query_protocol=True)
            op = operation(model, action) if action else None
            if op is None:
                raise InvalidAction(
                    f"The action {action or '(none)'} is not valid for this web service."
                )
            members = query_protocol.parse(op, params)
            output = await self._call(binding, model, op, members, req, principal, query=True)
            return query_protocol.serialize(model, op, output, req.request_id)
        except EventplaneError as err:
            code = binding.query_error_code(err.code) if binding else err.code
            return query_protocol.serialize_error(model, err, code, req.request_id)
        except Exception:
            _log.exception("gateway request failed", request_id=req.request_id)
            failure = InternalFailure("The request failed.")
            return query_protocol.serialize_error(model, failure, failure.code, req.request_id)

    # --- the core ---------------------------------------------------------------------------------
    async def _call(
        self,
        binding: ServiceBinding | None,
        model: ServiceModel,
        op: OperationModel,
        members: dict[str, Any],
        req: _Request,
        principal: Principal,
        *,
        query: bool = False,
    ) -> dict[str, Any]:
        if binding is None:
            raise ServiceUnavailable(
                f"{model.service_name} is not served by this replica (its role is not enabled)."
            )
        action = op.name
        handler = binding.handler(action)
        if handler is None:
            raise UnsupportedAction(f"eventplane does not implement {action} yet.")
        request_cls, call = handler
        members = {**binding.implied_members(req.path, req.base_url), **members}
        request = to_request(request_cls, members)
        # The key's principal is the caller the cores see (a resource it creates is its
        # account's; list calls show its account's resources), as on the gRPC door.
        self.authorizer.check(
            principal, model.service_name, action, request, req.request_id, secure=req.secure
        )
        caller = current_principal.set(self.authorizer.principal(principal))
        try:
            result = await call(request)
        finally:
            current_principal.reset(caller)
        # A result that names its request (Lambda's Invoke: the invocation's, the handler's
        # context.aws_request_id) is answered under that id, as AWS does.
        named = getattr(result, "request_id", None)
        if isinstance(named, str) and named:
            req.request_id = named
        # Empty lists and maps: the query protocol writes an empty element (SNS's
        # <Subscriptions/>), JSON services answer [] (EventBridge's "Targets": []), except
        # those that moved from query (SQS), whose empty flattened lists never showed.
        keep_empty = query or "awsQueryCompatible" not in model.metadata
        output: dict[str, Any] = from_result(op.output_shape, result, keep_empty=keep_empty)
        return binding.present(output, req.base_url, principal.account)


def _multi_query(raw_query: str) -> dict[str, list[str]]:
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query.setdefault(key, []).append(value)
    return query


def _bare_json_error(err: EventplaneError) -> Response:
    body = json.dumps({"__type": err.code, "message": err.message}).encode()
    return http_status(err), {"content-type": "application/x-amz-json-1.0"}, body
