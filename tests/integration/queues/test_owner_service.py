"""Owner forwarding has its own door: ``eventplane.internal.QueueOwners``.

The public Queues service serves clients only, so the markers of a forwarded call (the
forward token, a remote long poll's await header) change nothing there; the internal
service refuses whoever lacks the cluster's token and, with it, serves from this
replica's partitions. (Two replicas forwarding to each other: test_remote_long_poll.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest

from eventplane._gen.v1 import queues_pb2 as pb
from eventplane._gen.v1 import queues_pb2_grpc
from eventplane.config import DEV_RECEIPT_SECRET
from eventplane.queues.receiving import AWAIT_KEY
from eventplane.queues.routing import forward_token
from eventplane.security.peers import internal_path
from eventplane.security.replicas import FORWARDED_KEY
from eventplane.testing import EventplaneProcess

pytestmark = pytest.mark.integration


@pytest.fixture
def channel(eventplane_server: EventplaneProcess) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(eventplane_server.endpoint) as ch:
        yield ch


def _receive(url: str, **kw: Any) -> pb.ReceiveMessageRequest:
    return pb.ReceiveMessageRequest(
        queue_url=url, max_number_of_messages=10, visibility_timeout=60, **kw
    )


def test_a_public_receive_with_replica_markers_is_served_as_a_clients(
    channel: grpc.Channel, new_queue: Callable[..., str]
) -> None:
    url = new_queue(Partitions="1")
    stub = queues_pb2_grpc.QueuesStub(channel)
    stub.SendMessage(pb.SendMessageRequest(queue_url=url, message_body="for a client"))
    # A forwarded await would answer empty once the pulse moved past 0; a client's receive
    # long-polls and gets the message.
    markers = ((FORWARDED_KEY, forward_token(DEV_RECEIPT_SECRET)), (AWAIT_KEY, "0"))
    got = stub.ReceiveMessage(
        _receive(url, wait_time_seconds=10, has_wait_time_seconds=True),
        metadata=markers,
        timeout=30,
    )
    assert [m.body for m in got.messages] == ["for a client"]


@pytest.mark.parametrize("token", [None, "forged"])
def test_the_owner_service_refuses_callers_without_the_clusters_token(
    channel: grpc.Channel, new_queue: Callable[..., str], token: str | None
) -> None:
    url = new_queue(Partitions="1")
    stub = queues_pb2_grpc.QueuesStub(channel)
    stub.SendMessage(pb.SendMessageRequest(queue_url=url, message_body="kept"))
    owners = channel.unary_unary(
        internal_path("QueueOwners", "ReceiveMessage"),
        request_serializer=pb.ReceiveMessageRequest.SerializeToString,
        response_deserializer=pb.ReceiveMessageResponse.FromString,
    )
    metadata = () if token is None else ((FORWARDED_KEY, token),)
    with pytest.raises(grpc.RpcError) as err:
        owners(_receive(url), metadata=metadata, timeout=10)
    assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED
    # Nothing was taken: the message is still there for a client.
    got = stub.ReceiveMessage(_receive(url, wait_time_seconds=10, has_wait_time_seconds=True))
    assert [m.body for m in got.messages] == ["kept"]

    # With the token, the owner serves from its own partition.
    stub.SendMessage(pb.SendMessageRequest(queue_url=url, message_body="forwarded"))
    answer = owners(
        _receive(url),
        metadata=((FORWARDED_KEY, forward_token(DEV_RECEIPT_SECRET)),),
        timeout=10,
    )
    assert [m.body for m in answer.messages] == ["forwarded"]
