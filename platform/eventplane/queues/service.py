"""The Queues gRPC service: protobuf in, the queues core, protobuf out. No behaviour here.

Each handler translates its request onto the SQS shape of the same name, calls the
matching ``QueueOperations`` method and translates the result back. It serves clients
only: requests another replica forwards to a partition's owner go to the internal
``QueueOwners`` service (``owners.py``), so no client call is served as a forwarded one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias, TypeVar

import grpc
from google.protobuf.message import Message as PbMessage

from eventplane._gen.v1 import queues_pb2 as pb
from eventplane._gen.v1 import queues_pb2_grpc
from eventplane.queues import shapes as s
from eventplane.queues.operations import QueueOperations
from eventplane.queues.protobuf import from_shape, to_shape

Ctx: TypeAlias = grpc.aio.ServicerContext
P = TypeVar("P", bound=PbMessage)


class QueuesService(queues_pb2_grpc.QueuesServicer):
    def __init__(self, ops: QueueOperations) -> None:
        self.ops = ops

    async def _call(
        self,
        request: PbMessage,
        shape: type[Any],
        op: Callable[..., Awaitable[Any]],
        response: type[P],
    ) -> P:
        return from_shape(response, await op(to_shape(shape, request)))

    async def CreateQueue(self, request: Any, context: Ctx) -> pb.CreateQueueResponse:
        return await self._call(
            request, s.CreateQueueRequest, self.ops.create_queue, pb.CreateQueueResponse
        )

    async def GetQueueUrl(self, request: Any, context: Ctx) -> pb.GetQueueUrlResponse:
        return await self._call(
            request, s.GetQueueUrlRequest, self.ops.get_queue_url, pb.GetQueueUrlResponse
        )

    async def ListQueues(self, request: Any, context: Ctx) -> pb.ListQueuesResponse:
        return await self._call(
            request, s.ListQueuesRequest, self.ops.list_queues, pb.ListQueuesResponse
        )

    async def DeleteQueue(self, request: Any, context: Ctx) -> pb.DeleteQueueResponse:
        return await self._call(
            request, s.DeleteQueueRequest, self.ops.delete_queue, pb.DeleteQueueResponse
        )

    async def GetQueueAttributes(self, request: Any, context: Ctx) -> pb.GetQueueAttributesResponse:
        if not request.attribute_names:  # queues.proto: no names asks for every attribute
            request = pb.GetQueueAttributesRequest(
                queue_url=request.queue_url, attribute_names=["All"]
            )
        return await self._call(
            request,
            s.GetQueueAttributesRequest,
            self.ops.get_queue_attributes,
            pb.GetQueueAttributesResponse,
        )

    async def SetQueueAttributes(self, request: Any, context: Ctx) -> pb.SetQueueAttributesResponse:
        return await self._call(
            request,
            s.SetQueueAttributesRequest,
            self.ops.set_queue_attributes,
            pb.SetQueueAttributesResponse,
        )

    async def PurgeQueue(self, request: Any, context: Ctx) -> pb.PurgeQueueResponse:
        return await self._call(
            request, s.PurgeQueueRequest, self.ops.purge_queue, pb.PurgeQueueResponse
        )

    async def TagQueue(self, request: Any, context: Ctx) -> pb.TagQueueResponse:
        return await self._call(request, s.TagQueueRequest, self.ops.tag_queue, pb.TagQueueResponse)

    async def UntagQueue(self, request: Any, context: Ctx) -> pb.UntagQueueResponse:
        return await self._call(
            request, s.UntagQueueRequest, self.ops.untag_queue, pb.UntagQueueResponse
        )

    async def ListQueueTags(self, request: Any, context: Ctx) -> pb.ListQueueTagsResponse:
        return await self._call(
            request, s.ListQueueTagsRequest, self.ops.list_queue_tags, pb.ListQueueTagsResponse
        )

    async def ListDeadLetterSourceQueues(
        self, request: Any, context: Ctx
    ) -> pb.ListDeadLetterSourceQueuesResponse:
        return await self._call(
            request,
            s.ListDeadLetterSourceQueuesRequest,
            self.ops.list_dead_letter_source_queues,
            pb.ListDeadLetterSourceQueuesResponse,
        )

    async def SendMessage(self, request: Any, context: Ctx) -> pb.SendMessageResponse:
        return await self._call(
            request, s.SendMessageRequest, self.ops.send_message, pb.SendMessageResponse
        )

    async def SendMessageBatch(self, request: Any, context: Ctx) -> pb.SendMessageBatchResponse:
        return await self._call(
            request,
            s.SendMessageBatchRequest,
            self.ops.send_message_batch,
            pb.SendMessageBatchResponse,
        )

    async def ReceiveMessage(self, request: Any, context: Ctx) -> pb.ReceiveMessageResponse:
        return await self._call(
            request, s.ReceiveMessageRequest, self.ops.receive_message, pb.ReceiveMessageResponse
        )

    async def DeleteMessage(self, request: Any, context: Ctx) -> pb.DeleteMessageResponse:
        return await self._call(
            request, s.DeleteMessageRequest, self.ops.delete_message, pb.DeleteMessageResponse
        )

    async def DeleteMessageBatch(self, request: Any, context: Ctx) -> pb.DeleteMessageBatchResponse:
        return await self._call(
            request,
            s.DeleteMessageBatchRequest,
            self.ops.delete_message_batch,
            pb.DeleteMessageBatchResponse,
        )

    async def ChangeMessageVisibility(
        self, request: Any, context: Ctx
    ) -> pb.ChangeMessageVisibilityResponse:
        return await self._call(
            request,
            s.ChangeMessageVisibilityRequest,
            self.ops.change_message_visibility,
            pb.ChangeMessageVisibilityResponse,
        )

    async def ChangeMessageVisibilityBatch(
        self, request: Any, context: Ctx
    ) -> pb.ChangeMessageVisibilityBatchResponse:
        return await self._call(
            request,
            s.ChangeMessageVisibilityBatchRequest,
            self.ops.change_message_visibility_batch,
            pb.ChangeMessageVisibilityBatchResponse,
        )

    async def StartMessageMoveTask(
        self, request: Any, context: Ctx
    ) -> pb.StartMessageMoveTaskResponse:
        return await self._call(
            request,
            s.StartMessageMoveTaskRequest,
            self.ops.start_message_move_task,
            pb.StartMessageMoveTaskResponse,
        )

    async def ListMessageMoveTasks(
        self, request: Any, context: Ctx
    ) -> pb.ListMessageMoveTasksResponse:
        return await self._call(
            request,
            s.ListMessageMoveTasksRequest,
            self.ops.list_message_move_tasks,
            pb.ListMessageMoveTasksResponse,
        )

    async def CancelMessageMoveTask(
        self, request: Any, context: Ctx
    ) -> pb.CancelMessageMoveTaskResponse:
        return await self._call(
            request,
            s.CancelMessageMoveTaskRequest,
            self.ops.cancel_message_move_task,
            pb.CancelMessageMoveTaskResponse,
        )
