"""The queue source other capabilities read through (event source mappings).

Registered by the queues component in ``ServerContext.extras`` (see
:mod:`eventplane.messaging.sources`). It calls the queues core as the gRPC servicer
does, so receives reach every partition's owner (forwarded when another replica owns
it) and deletes are checked like any client's, without a loopback gRPC call.
"""

from __future__ import annotations

from collections.abc import Sequence

from eventplane import arn as arns
from eventplane import names
from eventplane.messaging.sources import ReceivedMessage
from eventplane.queues import shapes as s
from eventplane.queues.operations import QueueOperations

_ALL = ["All"]


def _url(queue: str) -> str:
    """The URL of the queue of internal name ``queue`` (what mappings keep)."""
    owner, name = names.unqualify(queue)
    return arns.queue_url(name, owner)


class OperationsSource:
    """:class:`eventplane.messaging.sources.QueueSource` over the queues core."""

    def __init__(self, operations: QueueOperations) -> None:
        self._ops = operations

    async def receive(
        self, queue: str, *, max_messages: int, wait_seconds: int
    ) -> list[ReceivedMessage]:
        result = await self._ops.receive_message(
            s.ReceiveMessageRequest(
                queue_url=_url(queue),
                max_number_of_messages=max_messages,
                wait_time_seconds=wait_seconds,
                message_system_attribute_names=list(_ALL),
                message_attribute_names=list(_ALL),
            )
        )
        return [
            ReceivedMessage(
                message_id=m.message_id,
                receipt_handle=m.receipt_handle,
                body=m.body,
                md5_of_body=m.md5_of_body,
                attributes=dict(m.attributes),
                message_attributes=dict(m.message_attributes),
            )
            for m in result.messages
        ]

    async def delete(self, queue: str, receipt_handles: Sequence[str]) -> None:
        await self._ops.delete_message_batch(
            s.DeleteMessageBatchRequest(
                queue_url=_url(queue),
                entries=[
                    s.DeleteMessageBatchRequestEntry(id=str(i), receipt_handle=handle)
                    for i, handle in enumerate(receipt_handles)
                ],
            )
        )
