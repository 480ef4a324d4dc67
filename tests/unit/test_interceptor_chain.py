"""The server's one interceptor: each layer wraps a method's handler once, outermost first."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from eventplane.observability.interceptor import InterceptorChain, ServerInterceptor

METHOD = "/eventplane.v1.Functions/Invoke"


class _Details:
    def __init__(self, method: str) -> None:
        self.method = method
        self.invocation_metadata: tuple[Any, ...] = ()


class _Layer:
    """Wraps a handler so that a call records the layer's name on the way in."""

    def __init__(self, name: str, calls: list[str]) -> None:
        self.name = name
        self.calls = calls
        self.wrapped: list[str] = []

    def wrap_handler(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        self.wrapped.append(method)
        inner = handler.unary_unary

        async def call(request: Any, context: Any) -> Any:
            self.calls.append(self.name)
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(call)


def test_layers_wrap_once_per_method_the_first_outermost() -> None:
    calls: list[str] = []
    outer, inner = _Layer("outer", calls), _Layer("inner", calls)
    chain = InterceptorChain([outer, inner])
    looked_up: list[str] = []

    async def serve(request: Any, context: Any) -> str:
        calls.append("handler")
        return f"served {request}"

    async def continuation(details: Any) -> grpc.RpcMethodHandler:
        looked_up.append(details.method)
        return grpc.unary_unary_rpc_method_handler(serve)

    async def scenario() -> list[str]:
        answers = []
        for n in range(3):
            handler = await chain.intercept_service(continuation, _Details(METHOD))
            answers.append(await handler.unary_unary(n, None))
        return answers

    assert asyncio.run(scenario()) == ["served 0", "served 1", "served 2"]
    assert looked_up == [METHOD]  # the handler is found and wrapped on the first call only
    assert outer.wrapped == inner.wrapped == [METHOD]
    assert calls == ["outer", "inner", "handler"] * 3


def test_an_unknown_method_stays_unknown() -> None:
    chain = InterceptorChain([ServerInterceptor()])

    async def continuation(details: Any) -> None:
        return None

    assert asyncio.run(chain.intercept_service(continuation, _Details("/x.Y/Z"))) is None


def test_the_metrics_layer_leaves_health_checks_and_streams_as_they_are() -> None:
    layer = ServerInterceptor()

    async def serve(request: Any, context: Any) -> str:
        return "ok"

    async def stream(requests: Any, context: Any) -> Any:
        yield "ok"

    unary = grpc.unary_unary_rpc_method_handler(serve)
    streaming = grpc.stream_stream_rpc_method_handler(stream)
    assert layer.wrap_handler("/grpc.health.v1.Health/Check", unary) is unary
    assert layer.wrap_handler("/grpc.reflection.v1.ServerReflection/Info", streaming) is streaming
    assert layer.wrap_handler(METHOD, unary) is not unary
