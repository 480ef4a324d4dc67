"""The AWS-protocol port in split deployments: requests for a service this process does
not run are served by a process that runs it.

The gateway listens on the ``api`` pods. In a split deployment those run no capability,
so a request for SQS, SNS, EventBridge, Lambda, Step Functions or DynamoDB goes, as the
client sent it (method, path, query, headers with the SigV4 signature, body), to the
process that runs the service's role (``EVENTPLANE_ROLE_ENDPOINTS``, the same place the
gRPC relay sends calls). It arrives there over the cluster's gRPC channel as one
internal call, ``/eventplane.internal.GatewayRelay/Handle``, which that process answers
by running the request through its own gateway app: the signature is verified, the
caller authorized and the answer shaped there, exactly as if the client had called it.
The answer (status, headers, body) is returned unchanged. Only callers with the
cluster's relay token may use the internal call, and a relayed request is never relayed
again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import grpc

from eventplane.errors import ServiceUnavailable
from eventplane.observability.metrics import RELAYED_CALLS
from eventplane.runtime.relay import RoleRelay
from eventplane.security.replicas import FORWARDED_KEY, is_forwarded
from eventplane.tracing import REQUEST_ID_KEY

if TYPE_CHECKING:
    from eventplane.gateway.app import GatewayApp, Response, _Request

RELAY_METHOD = "/eventplane.internal.GatewayRelay/Handle"
# Above the longest call the gateway serves: a synchronous invoke of a function with
# Lambda's longest timeout (900 s).
RELAY_TIMEOUT_S = 930.0
# The role that runs each AWS service (botocore's service model names).
SERVICE_ROLES: Mapping[str, str] = {
    "sqs": "queues",
    "sns": "fanout",
    "events": "bus",
    "lambda": "runner",
    "stepfunctions": "workflows",
    "dynamodb": "tables",
    "dynamodbstreams": "tables",
}


def _frame(head: Mapping[str, Any], body: bytes) -> bytes:
    return json.dumps(head, separators=(",", ":")).encode() + b"\n" + body


def _unframe(data: bytes) -> tuple[dict[str, Any], bytes]:
    head, _, body = data.partition(b"\n")
    parsed: dict[str, Any] = json.loads(head)
    return parsed, body


class GatewayForwarder:
    """The relaying side: which services go elsewhere, and sending a request there."""

    def __init__(self, relay: RoleRelay) -> None:
        self._relay = relay

    def endpoint(self, service: str) -> str | None:
        """Where ``service`` is served, when not by this process."""
        return self._relay.endpoint_of(SERVICE_ROLES.get(service, ""))

    async def forward(self, service: str, address: str, req: _Request) -> Response:
        role = SERVICE_ROLES[service]
        head = {
            "method": req.method,
            "path": req.path,
            "raw_path": req.raw_path,
            "raw_query": req.raw_query,
            "headers": req.headers,
            "secure": req.secure,
        }
        call = self._relay.channel(address).unary_unary(RELAY_METHOD)
        try:
            answer: bytes = await call(
                _frame(head, req.body),
                metadata=((FORWARDED_KEY, self._relay.token), (REQUEST_ID_KEY, req.request_id)),
                timeout=RELAY_TIMEOUT_S,
            )
        except grpc.aio.AioRpcError as exc:
            RELAYED_CALLS.labels(role, exc.code().name).inc()
            raise ServiceUnavailable(
                f"{service} is served by the {role!r} role at {address}, which did not "
                f"answer: {exc.code().name} {exc.details() or ''}".rstrip()
            ) from None
        RELAYED_CALLS.labels(role, "OK").inc()
        out, body = _unframe(answer)
        return int(out["status"]), dict(out["headers"]), body


class GatewayRelayHandler(grpc.GenericRpcHandler):
    """The serving side: relayed requests through this process's own gateway app."""

    def __init__(self, token: str, app: Callable[[], GatewayApp]) -> None:
        self._tokens = frozenset({token})
        self._make_app = app
        self._app: GatewayApp | None = None
        self._handler = grpc.unary_unary_rpc_method_handler(self._handle)

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        return self._handler if details.method == RELAY_METHOD else None

    async def _handle(self, data: bytes, context: grpc.aio.ServicerContext) -> bytes:
        if not is_forwarded(context.invocation_metadata(), self._tokens):
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED, "only replicas of this cluster may relay"
            )
        if self._app is None:
            self._app = self._make_app()
        head, body = _unframe(data)
        request_id = dict(context.invocation_metadata() or ()).get(REQUEST_ID_KEY)
        status, headers, payload = await self._app.relayed(
            request_id=str(request_id) if request_id else None,
            method=str(head["method"]),
            path=str(head["path"]),
            raw_path=str(head["raw_path"]),
            raw_query=str(head["raw_query"]),
            headers={str(k): str(v) for k, v in dict(head["headers"]).items()},
            body=body,
            secure=head.get("secure") is True,
        )
        return _frame({"status": status, "headers": headers}, payload)
