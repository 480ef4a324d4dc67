"""The blocking clients are facades over the asyncio core: one implementation per call."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from fake_grpc import serve
from test_client_queues import FakeQueues

from eventplane._gen.v1 import queues_pb2 as pb
from eventplane._gen.v1 import queues_pb2_grpc
from eventplane.client import Client
from eventplane.client._facade import run_blocking
from eventplane.client.events import AsyncEventsClient, EventsClient
from eventplane.client.functions import AsyncFunctionsClient, FunctionsClient
from eventplane.client.platform import AsyncPlatformClient, PlatformClient
from eventplane.client.queues import AsyncQueuesClient, QueuesClient
from eventplane.client.topics import AsyncTopicsClient, TopicsClient

PAIRS = [
    (PlatformClient, AsyncPlatformClient),
    (QueuesClient, AsyncQueuesClient),
    (TopicsClient, AsyncTopicsClient),
    (EventsClient, AsyncEventsClient),
    (FunctionsClient, AsyncFunctionsClient),
]


@pytest.mark.parametrize(("sync", "core"), PAIRS)
def test_every_core_method_has_its_blocking_twin(sync: type, core: type) -> None:
    public = [n for n, f in inspect.getmembers(core, inspect.iscoroutinefunction) if n[0] != "_"]
    assert public, core
    for name in public:
        twin = getattr(sync, name, None)
        assert twin is not None, f"{sync.__name__}.{name} is missing"
        assert not inspect.iscoroutinefunction(twin), name
        assert twin.__doc__ == getattr(core, name).__doc__, name
        assert inspect.signature(twin) == inspect.signature(getattr(core, name)), name


def test_blocking_client_works_inside_a_running_event_loop() -> None:
    fake = FakeQueues()
    fake.responses["GetQueueUrl"] = pb.GetQueueUrlResponse(queue_url="eventplane://queues/a")
    with serve(fake, queues_pb2_grpc.add_QueuesServicer_to_server) as target:

        async def main() -> str:
            with Client(target, timeout=5) as ep:
                return ep.queues.get_queue_url("a")

        assert asyncio.run(main()) == "eventplane://queues/a"


def test_a_core_that_suspends_is_reported_not_hung() -> None:
    async def suspends() -> None:
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="awaited something other than its gRPC call"):
        run_blocking(suspends())
