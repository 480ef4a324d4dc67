"""The server interceptor: trace context, latency/error metrics and error mapping per call.

Service handlers raise EventplaneError subclasses; this is the one place that
turns them into a gRPC status with the AWS-style code in trailing metadata.
Anything else is a bug: it is logged with the request id and answered as
InternalFailure, and the server keeps serving.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import grpc

from eventplane.errors import Category, EventplaneError, InternalFailure
from eventplane.errors.rpc import status_of, trailing_metadata
from eventplane.observability.logging import get_logger
from eventplane.observability.metrics import RPC_DURATION, RPC_ERRORS, RPC_IN_FLIGHT
from eventplane.tracing import (
    REQUEST_ID_KEY,
    current_trace,
    trace_from_metadata,
    use_trace,
)

_log = get_logger("eventplane.rpc")

# Calls the platform serves for itself; they are not measured.
_UNMEASURED = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def _split(method: str) -> tuple[str, str]:
    _, service, name = method.split("/", 2)
    return service.rsplit(".", 1)[-1], name


# Status details travel in a header; clients drop headers over 16 KiB (the error
# and its code with them). A message that echoes a huge field is cut to fit:
# 1024 characters of 4-byte UTF-8, percent-encoded, stay under 12.3 KiB.
_MAX_DETAILS_CHARS = 1024


def _details(message: str) -> str:
    if len(message) <= _MAX_DETAILS_CHARS:
        return message
    return message[: _MAX_DETAILS_CHARS - 16] + "... (truncated)"


Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]]


class HandlerWrapper(Protocol):
    """What an interceptor does to a method's handler, once per method."""

    def wrap_handler(
        self, method: str, handler: grpc.RpcMethodHandler
    ) -> grpc.RpcMethodHandler: ...


class InterceptorChain(grpc.aio.ServerInterceptor):
    """Several interceptors as one, the first outermost.

    grpc.aio runs every interceptor of a server on every call (a coroutine of grpc's and
    one of the interceptor's each, even when the interceptor only hands back a handler
    it made before); the wrapping itself needs doing once per method. So the server has
    one interceptor, which finds a method's handler, has each layer wrap it, and keeps
    the result: a call costs one layer of grpc's interceptor machinery however many
    layers there are (authentication, then tracing and metrics).
    """

    def __init__(self, layers: Sequence[HandlerWrapper]) -> None:
        self._layers = tuple(reversed(layers))  # innermost first: the order they wrap in
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    async def intercept_service(
        self, continuation: Continuation, details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler:
        cached = self._wrapped.get(details.method)
        if cached is not None:
            return cached
        handler = await continuation(details)
        if handler is None:
            return handler
        for layer in self._layers:
            handler = layer.wrap_handler(details.method, handler)
        self._wrapped[details.method] = handler
        return handler


class ServerInterceptor:
    """Tracing, metrics and error mapping: a layer of ``InterceptorChain``."""

    def wrap_handler(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        """The handler with tracing, metrics and error mapping (unary calls the platform
        does not serve for itself; others as they are)."""
        if handler.unary_unary is None or method.startswith(_UNMEASURED):
            return handler
        return self._wrap(method, handler)

    def _wrap(self, full_method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        service, method = _split(full_method)
        inner = handler.unary_unary
        duration = RPC_DURATION.labels(service, method)
        in_flight = RPC_IN_FLIGHT.labels(service)

        async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> Any:
            # An outer interceptor (the audit) may have given the call its ids already.
            trace = current_trace() or trace_from_metadata(context.invocation_metadata())
            started = time.perf_counter()
            in_flight.inc()
            error: EventplaneError | None = None
            with use_trace(trace):
                try:
                    return await inner(request, context)
                except EventplaneError as exc:
                    error = exc
                except grpc.aio.AbortError:
                    raise
                except Exception:
                    _log.exception("unhandled error", service=service, method=method)
                    error = InternalFailure(
                        f"internal error while serving {method}; request id {trace.request_id}"
                    )
                finally:
                    in_flight.dec()
                    duration.observe(time.perf_counter() - started)
                RPC_ERRORS.labels(service, method, error.code).inc()
                if error.category is Category.INTERNAL:
                    pass  # already logged with its traceback
                else:
                    _log.info("request failed", method=method, code=error.code, error=error.message)
                await context.abort(
                    status_of(error),
                    _details(error.message),
                    (*trailing_metadata(error), (REQUEST_ID_KEY, trace.request_id)),
                )

        return grpc.unary_unary_rpc_method_handler(
            wrapper,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
