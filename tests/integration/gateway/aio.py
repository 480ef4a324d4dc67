"""aiobotocore behind boto3's synchronous call style, so every gateway test that takes the
``sqs``/``sns``/``events`` fixtures runs through both client stacks unchanged.

aiobotocore is botocore on aiohttp: its own HTTP stack, signer plumbing and response
parsing, awaited. Each wrapped client runs its coroutines on one event loop in a thread
of its own; calls block until answered, exceptions are the client's own
(``client.exceptions.QueueDoesNotExist`` works as with boto3), and paginators collect
their pages.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any, TypeVar

from aiobotocore.session import get_session
from botocore.response import StreamingBody

T = TypeVar("T")


class Loop:
    """One event loop in a daemon thread, for every wrapped client."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._stack = AsyncExitStack()

    def run(self, coro: Awaitable[T]) -> T:
        return asyncio.run_coroutine_threadsafe(_awaited(coro), self.loop).result()

    def client(self, service: str, **kwargs: Any) -> SyncClient:
        async def make() -> Any:
            return await self._stack.enter_async_context(
                get_session().create_client(service, **kwargs)
            )

        return SyncClient(self, self.run(make()))

    def close(self) -> None:
        self.run(self._stack.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


async def _awaited(coro: Awaitable[T]) -> T:
    return await coro


class SyncClient:
    def __init__(self, loop: Loop, client: Any) -> None:
        self._loop = loop
        self._client = client

    @property
    def exceptions(self) -> Any:
        return self._client.exceptions

    @property
    def meta(self) -> Any:
        return self._client.meta

    def get_paginator(self, operation: str) -> _Paginator:
        return _Paginator(self._loop, self._client.get_paginator(operation))

    def __getattr__(self, name: str) -> Callable[..., Any]:
        call = getattr(self._client, name)

        async def answered(*args: Any, **kwargs: Any) -> Any:
            out = await call(*args, **kwargs)
            if isinstance(out, dict):  # a streamed member (Invoke's Payload): read it here
                for key, value in list(out.items()):
                    if hasattr(value, "read") and hasattr(value, "__aenter__"):
                        async with value as stream:
                            data = await stream.read()
                        out[key] = StreamingBody(io.BytesIO(data), len(data))
            return out

        def blocking(*args: Any, **kwargs: Any) -> Any:
            return self._loop.run(answered(*args, **kwargs))

        return blocking


class _Paginator:
    def __init__(self, loop: Loop, paginator: Any) -> None:
        self._loop = loop
        self._paginator = paginator

    def paginate(self, **kwargs: Any) -> _Pages:
        return _Pages(self._loop, self._paginator.paginate(**kwargs))


class _Pages:
    def __init__(self, loop: Loop, pages: Any) -> None:
        self._loop = loop
        self._pages = pages

    def __iter__(self) -> Iterator[dict[str, Any]]:
        async def collect() -> list[dict[str, Any]]:
            return [page async for page in self._pages]

        return iter(self._loop.run(collect()))

    def search(self, expression: str) -> Iterator[Any]:
        async def collect() -> list[Any]:
            return [item async for item in self._pages.search(expression)]

        return iter(self._loop.run(collect()))
