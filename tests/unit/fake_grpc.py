"""An in-process gRPC fake of one eventplane service, for SDK and CLI tests."""

from __future__ import annotations

import asyncio
import functools
import re
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import grpc

from eventplane.client import AsyncClient
from eventplane.errors import EventplaneError
from eventplane.errors.rpc import status_of, trailing_metadata


class FakeService:
    """Records each request; answers with ``responses[rpc]`` (a message or a function
    of the request), raises ``errors[rpc]`` as the real server would, else an empty reply.
    ``delay[rpc]`` seconds pass before answering; ``time_remaining[rpc]`` is the deadline
    the client set."""

    def __init__(self, pb: ModuleType, service: str) -> None:
        self._pb = pb
        self._service = pb.DESCRIPTOR.services_by_name[service]
        self.calls: list[tuple[str, Any]] = []
        self.time_remaining: dict[str, float | None] = {}
        self.responses: dict[str, Any] = {}
        self.errors: dict[str, EventplaneError] = {}
        self.delay: dict[str, float] = {}
        for method in self._service.methods:
            setattr(self, method.name, functools.partial(self._handle, method.name))

    def _handle(self, rpc: str, request: Any, context: grpc.ServicerContext) -> Any:
        self.calls.append((rpc, request))
        self.time_remaining[rpc] = context.time_remaining()
        time.sleep(self.delay.get(rpc, 0))
        err = self.errors.get(rpc)
        if err is not None:
            context.set_trailing_metadata(trailing_metadata(err))
            context.abort(status_of(err), err.message)
        answer = self.responses.get(rpc)
        if callable(answer):
            return answer(request)
        if answer is not None:
            return answer
        return getattr(self._pb, self._service.methods_by_name[rpc].output_type.name)()

    def only(self, rpc: str) -> Any:
        """The one request of the one call made, which must be ``rpc``."""
        assert [name for name, _ in self.calls] == [rpc]
        return self.calls[0][1]


@contextmanager
def serve(fake: Any, add_to_server: Callable[[Any, grpc.Server], None]) -> Iterator[str]:
    """A real gRPC server on a free local port serving ``fake``; yields its target."""
    executor = futures.ThreadPoolExecutor(max_workers=4)
    server = grpc.server(executor)
    add_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(None).wait()
        executor.shutdown(wait=True)


def run_async(target: str, use: Callable[[AsyncClient], Any], timeout: float = 5) -> Any:
    async def main() -> Any:
        async with AsyncClient(target, timeout=timeout) as client:
            return await use(client)

    return asyncio.run(main())


def snake(rpc: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", rpc).lower()
