"""Reading a queue from inside the server: the port event source mappings poll through.

Functions' event source mappings (and later table streams' consumers) read queues; they
must not import the queues capability, nor call its public API through the SDK. So the
queues component offers this port in ``ServerContext.extras`` under :data:`QUEUE_SOURCE`
when its role runs in the process, implemented on the queues core (owners found and
requests forwarded as for any ReceiveMessage), and a consumer looks it up by that key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from eventplane.messaging.attributes import MessageAttribute

__all__ = ["MAX_DELETE_BATCH", "QUEUE_SOURCE", "QueueSource", "ReceivedMessage", "queue_source"]

QUEUE_SOURCE: Final = "ports.queue_source"
"""The ``ServerContext.extras`` key the queues component registers its source under."""
MAX_DELETE_BATCH: Final = 10
"""The most receipt handles one :meth:`QueueSource.delete` takes (SQS's batch limit)."""


@dataclass(frozen=True)
class ReceivedMessage:
    """One received message, with every system and message attribute."""

    message_id: str
    receipt_handle: str
    body: str
    md5_of_body: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    message_attributes: Mapping[str, MessageAttribute] = field(default_factory=dict)


class QueueSource(Protocol):
    """Receive and delete, as SQS's ReceiveMessage and DeleteMessageBatch do."""

    async def receive(
        self, queue: str, *, max_messages: int, wait_seconds: int
    ) -> list[ReceivedMessage]:
        """Up to ``max_messages`` (1-10) messages of ``queue`` (a name, URL or ARN),
        long-polling up to ``wait_seconds``; raises the queue's EventplaneError (a queue
        that does not exist, ...)."""
        ...

    async def delete(self, queue: str, receipt_handles: Sequence[str]) -> None:
        """Deletes up to :data:`MAX_DELETE_BATCH` received messages. A handle that cannot
        be deleted is left: its message returns after its visibility timeout."""
        ...


def queue_source(extras: Mapping[str, Any]) -> QueueSource | None:
    """The queue source the queues component registered, or None when its role does not
    run in this process."""
    found: QueueSource | None = extras.get(QUEUE_SOURCE)
    return found
