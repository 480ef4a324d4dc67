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
from typing import Any, TypeAlias, TypeVar

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
P = TypeVar("P", bound=PbMessage)


class QueueOwners:
    """The owner's side of forwarding: protobuf in, the queues core, protobuf out."""

    def __init__(self, ops: QueueOperations) -> None:
        self.ops = ops

    async def _call(
        self,
        request: PbMessage,
        shape: type[Any],
        op: Callable[..., Awaitable[Any]],
        response: type[P],
        *,
        forwarded: bool = True,
    ) -> P:
        # A receipt names its partition, so deletes and visibility changes act where it
        # says and take no forwarded flag.
        extra = {"forwarded": True} if forwarded else {}
        return from_shape(response, await op(to_shape(shape, request), **extra))

    async def SendMessageBatch(self, request: Any, context: Ctx) -> pb.SendMessageBatchResponse:
        return await self._call(
            request,
            s.SendMessageBatchRequest,
            self.ops.send_message_batch,
            pb.SendMessageBatchResponse,
        )

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

    async def DeleteMessage(self, request: Any, context: Ctx) -> pb.DeleteMessageResponse:
        return await self._call(
            request,
            s.DeleteMessageRequest,
            self.ops.delete_message,
            pb.DeleteMessageResponse,
            forwarded=False,
        )

    async def DeleteMessageBatch(self, request: Any, context: Ctx) -> pb.DeleteMessageBatchResponse:
        return await self._call(
            request,
            s.DeleteMessageBatchRequest,
            self.ops.delete_message_batch,
            pb.DeleteMessageBatchResponse,
            forwarded=False,
        )

    async def ChangeMessageVisibility(
        self, request: Any, context: Ctx
    ) -> pb.ChangeMessageVisibilityResponse:
        return await self._call(
            request,
            s.ChangeMessageVisibilityRequest,
            self.ops.change_message_visibility,
            pb.ChangeMessageVisibilityResponse,
            forwarded=False,
        )

    async def PurgeQueue(self, request: Any, context: Ctx) -> pb.PurgeQueueResponse:
        return await self._call(
            request, s.PurgeQueueRequest, self.ops.purge_queue, pb.PurgeQueueResponse
        )

    async def GetQueueAttributes(self, request: Any, context: Ctx) -> pb.GetQueueAttributesResponse:
        return await self._call(
            request,
            s.GetQueueAttributesRequest,
            self.ops.get_queue_attributes,
            pb.GetQueueAttributesResponse,
        )


def owner_service(ops: QueueOperations, token: str) -> PeerService:
    """The internal service, ready for ``server.add_generic_rpc_handlers``."""
    owners = QueueOwners(ops)
    return PeerService(
        OWNER_SERVICE,
        token,
        {name: getattr(owners, name) for name in OWNER_METHODS},
        OWNER_METHODS,
    )
