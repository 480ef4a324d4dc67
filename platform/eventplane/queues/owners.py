"""``eventplane.internal.QueueOwners``: what a partition's owner serves other replicas.

A replica that gets a request for a partition it does not own sends it here, to the
owner, in the public request message (``routing.OWNER_METHODS``). Every call is served
from this replica's own partitions only (``forwarded=True``): FIFO sends arrive already
validated by the first replica, a receive looks only here, and a receive carrying
``AWAIT_KEY`` is another replica's long poll waiting for news from this one. Only
callers with the cluster's queue forward token reach these handlers (``PeerService``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

import grpc
from google.protobuf.message import Message as PbMessage

from eventplane._gen.v1 import queues_pb2 as pb
from eventplane.queues import shapes as s
from eventplane.queues.operations import QueueOperations
from eventplane.queues.protobuf import from_shape, to_shape
from eventplane.queues.receiving import AWAIT_KEY, PULSE_KEY
from eventplane.queues.routing import OWNER_METHODS, OWNER_SERVICE
from eventplane.security.peers import PeerService

Ctx: TypeAlias = grpc.aio.ServicerContext
Handler: TypeAlias = Callable[[Any, Ctx], Awaitable[PbMessage]]

# Every owner method but ReceiveMessage: (request shape, QueueOperations method, response
# message, whether it is served from this replica's partitions only). A receipt names its
# partition, so deletes and visibility changes act where it says and take no such flag.
_PLAIN: dict[str, tuple[type[Any], str, type[PbMessage], bool]] = {
    "SendMessageBatch": (
        s.SendMessageBatchRequest,
        "send_message_batch",
        pb.SendMessageBatchResponse,
        True,
    ),
    "DeleteMessage": (s.DeleteMessageRequest, "delete_message", pb.DeleteMessageResponse, False),
    "DeleteMessageBatch": (
        s.DeleteMessageBatchRequest,
        "delete_message_batch",
        pb.DeleteMessageBatchResponse,
        False,
    ),
    "ChangeMessageVisibility": (
        s.ChangeMessageVisibilityRequest,
        "change_message_visibility",
        pb.ChangeMessageVisibilityResponse,
        False,
    ),
    "PurgeQueue": (s.PurgeQueueRequest, "purge_queue", pb.PurgeQueueResponse, True),
    "GetQueueAttributes": (
        s.GetQueueAttributesRequest,
        "get_queue_attributes",
        pb.GetQueueAttributesResponse,
        True,
    ),
}


class QueueOwners:
    """The owner's side of forwarding: protobuf in, the queues core, protobuf out."""

    def __init__(self, ops: QueueOperations) -> None:
        self.ops = ops

    def handler(self, method: str) -> Handler:
        """The handler of one of ``routing.OWNER_METHODS``."""
        if method == "ReceiveMessage":
            return self.ReceiveMessage
        shape, name, response, forwarded = _PLAIN[method]
        op: Callable[..., Awaitable[Any]] = getattr(self.ops, name)
        extra = {"forwarded": True} if forwarded else {}

        async def call(request: Any, context: Ctx) -> PbMessage:
            return from_shape(response, await op(to_shape(shape, request), **extra))

        return call

    async def ReceiveMessage(self, request: Any, context: Ctx) -> pb.ReceiveMessageResponse:
        req = to_shape(s.ReceiveMessageRequest, request)
        since = dict(context.invocation_metadata() or ()).get(AWAIT_KEY)
        if since is not None:  # the asking replica's long poll waits for news from us
            await self.ops.await_messages(req, str(since))
            return pb.ReceiveMessageResponse()
        generation = self.ops.pulse_generation(req)  # before looking: nothing is missed
        found = await self.ops.receive_message(req, forwarded=True)
        context.set_trailing_metadata(((PULSE_KEY, str(generation)),))
        return from_shape(pb.ReceiveMessageResponse, found)


def owner_service(ops: QueueOperations, token: str) -> PeerService:
    """The internal service, ready for ``server.add_generic_rpc_handlers``."""
    owners = QueueOwners(ops)
    return PeerService(
        OWNER_SERVICE,
        token,
        {name: owners.handler(name) for name in OWNER_METHODS},
        OWNER_METHODS,
    )
