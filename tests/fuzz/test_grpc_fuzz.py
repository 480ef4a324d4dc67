"""Every gRPC method of Queues, Topics, EventBuses and Functions, fed generated requests.

The promise checked: whatever a client sends, the answer is a success or a typed
error carrying an AWS code (status never UNKNOWN/INTERNAL, trailing metadata
always has ``eventplane-error-code``); the server keeps serving; a failed create
leaves nothing behind. Methods come from the protobuf descriptors, so a new RPC
is fuzzed without touching this file. EVENTPLANE_FUZZ_EXAMPLES raises the number
of requests per method (``make fuzz``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings

from eventplane._gen.v1 import events_pb2, functions_pb2, platform_pb2, queues_pb2, topics_pb2
from eventplane.errors.rpc import CODE_KEY
from eventplane.testing import EventplaneProcess

from .strategies import TRIED, message_strategy

pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.integration,
    # a failing 1 MiB example has a 1 MiB repr; hypothesis warns, the failure still shows
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning"),
]

EXAMPLES = int(os.environ.get("EVENTPLANE_FUZZ_EXAMPLES", "10"))
_SERVICES = [
    queues_pb2.DESCRIPTOR.services_by_name["Queues"],
    topics_pb2.DESCRIPTOR.services_by_name["Topics"],
    events_pb2.DESCRIPTOR.services_by_name["EventBuses"],
    functions_pb2.DESCRIPTOR.services_by_name["Functions"],
]
METHODS: list[MethodDescriptor] = [m for s in _SERVICES for m in s.methods]
# Creates whose failure must leave nothing behind, and the resource kind to list.
_CREATE_KIND = {
    "CreateQueue": "queue",
    "CreateTopic": "topic",
    "CreateEventBus": "bus",
    "CreateFunction": "function",
}
_BAD_STATUSES = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL}
_CALL_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def channel(eventplane_server: EventplaneProcess) -> Iterator[grpc.Channel]:
    limit = 64 * 1024 * 1024
    with grpc.insecure_channel(
        eventplane_server.endpoint,
        options=[
            ("grpc.max_send_message_length", limit),
            ("grpc.max_receive_message_length", limit),
        ],
    ) as ch:
        yield ch


def _tame(request: Message) -> None:
    """Keep calls from parking: a valid long-poll wait becomes 0 (invalid ones stay)."""
    for name in ("wait_time_seconds",):
        if name in request.DESCRIPTOR.fields_by_name:
            value = getattr(request, name)
            if 0 < value <= 20:
                setattr(request, name, 0)


def _call(channel: grpc.Channel, method: MethodDescriptor, request: Message) -> Any:
    out = GetMessageClass(method.output_type)
    rpc = channel.unary_unary(
        f"/{method.containing_service.full_name}/{method.name}",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=out.FromString,
    )
    return rpc(request, timeout=_CALL_TIMEOUT)


def _resources(channel: grpc.Channel, kind: str) -> set[str]:
    stub = channel.unary_unary(
        "/eventplane.v1.Platform/ListResources",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=platform_pb2.ListResourcesResponse.FromString,
    )
    resp = stub(platform_pb2.ListResourcesRequest(kind=kind), timeout=_CALL_TIMEOUT)
    return {r.name for r in resp.resources}


def _check_answer(method: MethodDescriptor, request: Message, exc: grpc.RpcError) -> None:
    status = exc.code()
    metadata = dict(exc.trailing_metadata() or ())
    shown = str(request)[:300]
    assert status not in _BAD_STATUSES, (
        f"{method.name} answered {status.name}: {exc.details()!r}\nrequest: {shown}"
    )
    assert metadata.get(CODE_KEY), (
        f"{method.name} answered {status.name} without {CODE_KEY}: {exc.details()!r}\n"
        f"request: {shown}"
    )


def _serving(channel: grpc.Channel) -> None:
    resp = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert resp.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("method", METHODS, ids=lambda m: f"{m.containing_service.name}.{m.name}")
def test_any_request_gets_success_or_typed_error(
    channel: grpc.Channel, method: MethodDescriptor
) -> None:
    label = f"{method.containing_service.name}.{method.name}"
    kind = _CREATE_KIND.get(method.name)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(request=message_strategy(method.input_type))
    def one(request: Message) -> None:
        _tame(request)
        TRIED[label] += 1
        before = _resources(channel, kind) if kind else set()
        try:
            _call(channel, method, request)
        except grpc.RpcError as exc:
            _check_answer(method, request, exc)
            if kind:
                assert _resources(channel, kind) == before, (
                    f"failed {method.name} left a resource behind: {str(request)[:300]}"
                )

    one()
    _serving(channel)
