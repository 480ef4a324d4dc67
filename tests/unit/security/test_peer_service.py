"""The internal services replicas forward to: only a caller with the forward token is
served, and it is served as a forwarded call; the stub speaks the same messages.

A real gRPC server on loopback, in this process."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from eventplane._gen.v1 import queues_pb2 as pb
from eventplane.security.peers import (
    FORWARDED,
    Peers,
    PeerService,
    internal_path,
    message_types,
)

TYPES = message_types(pb.DESCRIPTOR.services_by_name["Queues"], ("GetQueueUrl",))
TOKEN = "cluster-forward-token"


async def _serve(calls: list[bool]) -> tuple[grpc.aio.Server, str]:
    async def get_queue_url(request: Any, context: grpc.aio.ServicerContext) -> Any:
        calls.append(FORWARDED.get())
        return pb.GetQueueUrlResponse(queue_url=f"owner/{request.queue_name}")

    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        (PeerService("Owners", TOKEN, {"GetQueueUrl": get_queue_url}, TYPES),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, f"127.0.0.1:{port}"


def test_a_replica_with_the_token_is_served_as_forwarded() -> None:
    async def scenario() -> None:
        calls: list[bool] = []
        server, address = await _serve(calls)
        peers = Peers(TOKEN, service="Owners", types=TYPES)
        try:
            answer = await peers.stub(address).GetQueueUrl(
                pb.GetQueueUrlRequest(queue_name="orders"), metadata=peers.metadata(), timeout=5
            )
            assert answer.queue_url == "owner/orders"
            assert calls == [True]
            assert FORWARDED.get() is False  # only while serving the internal call
            assert peers.stub(address) is peers.stub(address)  # one stub per replica
        finally:
            await peers.close()
            await server.stop(None)

    asyncio.run(scenario())


@pytest.mark.parametrize("token", [None, "forged", TOKEN + "x"])
def test_a_caller_without_the_token_is_refused_and_nothing_runs(token: str | None) -> None:
    async def scenario() -> None:
        calls: list[bool] = []
        server, address = await _serve(calls)
        channel = grpc.aio.insecure_channel(address)
        call = channel.unary_unary(
            internal_path("Owners", "GetQueueUrl"),
            request_serializer=pb.GetQueueUrlRequest.SerializeToString,
            response_deserializer=pb.GetQueueUrlResponse.FromString,
        )
        metadata = () if token is None else (("x-eventplane-forwarded", token),)
        try:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await call(pb.GetQueueUrlRequest(queue_name="orders"), metadata=metadata)
            assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED
            assert "only replicas of this cluster" in (err.value.details() or "")
            assert calls == []
        finally:
            await channel.close()
            await server.stop(None)

    asyncio.run(scenario())


def test_the_internal_service_serves_only_its_own_methods() -> None:
    async def scenario() -> None:
        server, address = await _serve([])
        peers = Peers(TOKEN, service="Owners", types=TYPES)
        channel = peers.channel(address)
        other = channel.unary_unary(internal_path("Owners", "DeleteQueue"))
        try:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await other(b"", metadata=peers.metadata(), timeout=5)
            assert err.value.code() is grpc.StatusCode.UNIMPLEMENTED
            with pytest.raises(AttributeError):
                _ = peers.stub(address).DeleteQueue
        finally:
            await peers.close()
            await server.stop(None)

    asyncio.run(scenario())
