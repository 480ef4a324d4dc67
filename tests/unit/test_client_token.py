"""The SDK's bearer token: on every call's metadata, beside the trace ids, never in a repr."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from eventplane.client._channel import open_channel
from eventplane.client._credentials import TokenChannel

TOKEN = "ep-secret-token-value"


class _Fake:
    """A channel that records what each call was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, dict[str, Any]]] = []
        self.closed = False

    def unary_unary(self, method: str, **_: Any) -> Any:
        def call(request: Any, **kwargs: Any) -> str:
            self.calls.append((method, request, kwargs))
            return "answer"

        return call

    def close(self) -> None:
        self.closed = True


def test_every_call_carries_the_token_beside_its_own_metadata() -> None:
    fake = _Fake()
    channel = TokenChannel(fake, TOKEN)
    call = channel.unary_unary("/eventplane.v1.Queues/SendMessage", request_serializer=None)
    assert call("req", timeout=3, metadata=(("x-eventplane-request-id", "r-1"),)) == "answer"
    assert call("req2") == "answer"
    (_, _, first), (_, _, second) = fake.calls
    assert first["timeout"] == 3
    assert first["metadata"] == (
        ("x-eventplane-request-id", "r-1"),
        ("authorization", f"Bearer {TOKEN}"),
    )
    assert second["metadata"] == (("authorization", f"Bearer {TOKEN}"),)
    channel.close()  # the rest is the wrapped channel's
    assert fake.closed


def test_the_token_stays_out_of_reprs() -> None:
    channel = TokenChannel(_Fake(), TOKEN)
    assert TOKEN not in repr(channel)
    assert TOKEN not in repr(channel.unary_unary("/m"))


def test_open_channel_wraps_only_when_there_is_a_token(monkeypatch: Any) -> None:
    monkeypatch.delenv("EVENTPLANE_TOKEN", raising=False)
    plain = open_channel(grpc, "127.0.0.1:1", False, None)
    assert not isinstance(plain, TokenChannel)
    plain.close()
    tokened = open_channel(grpc, "127.0.0.1:1", False, None, token=TOKEN)
    assert isinstance(tokened, TokenChannel)
    tokened.close()

    async def aio() -> None:
        channel = open_channel(grpc.aio, "127.0.0.1:1", False, None, token=TOKEN)
        assert isinstance(channel, TokenChannel)
        await channel.close()

    asyncio.run(aio())
