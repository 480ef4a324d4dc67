"""client.queues: SQS-compatible queues; method names follow boto3's SQS client.

    with Client() as ep:
        url = ep.queues.create_queue("orders")
        ep.queues.send_message(url, "hello", message_attributes={
            "kind": {"DataType": "String", "StringValue": "greeting"}})
        for m in ep.queues.receive_message(url, wait_time_seconds=20):
            ep.queues.delete_message(url, m.receipt_handle)

A queue is addressed by its URL (``eventplane://queues/<name>``) or its name.
``list_queues`` and ``list_dead_letter_source_queues`` follow every page and
return all URLs; their ``*_page`` forms return one ``QueueUrlPage`` at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from eventplane._gen.v1 import queues_pb2 as pb
from eventplane._gen.v1 import queues_pb2_grpc
from eventplane.client import _queue_types as t
from eventplane.client._channel import Page, every_page
from eventplane.client._facade import BlockingFacade, ServiceCore, blocking
from eventplane.client._queue_types import (
    AttributeValue,
    ChangeMessageVisibilityBatchEntry,
    ChangeMessageVisibilityBatchResult,
    DeleteMessageBatchEntry,
    DeleteMessageBatchResult,
    Message,
    MessageAttributeInput,
    MessageMoveTask,
    QueueUrlPage,
    SendMessageBatchEntry,
    SendMessageBatchResult,
    SendMessageResult,
)

# Page size when a list_* call follows every page (the SQS maximum).
_FULL_PAGE = 1000


class AsyncQueuesClient(ServiceCore):
    """asyncio Queues API; reach it as ``AsyncClient().queues``.

    The one implementation of every call: ``QueuesClient`` runs these same
    methods over a blocking channel (see ``eventplane.client._facade``).
    """

    _stub_class = queues_pb2_grpc.QueuesStub

    async def create_queue(
        self,
        queue_name: str,
        attributes: Mapping[str, AttributeValue] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Create a queue, or return the URL of an identical existing one.

        Args:
            queue_name: letters, digits, ``-`` and ``_``; FIFO queues end in ``.fifo``.
            attributes: SQS attribute names to values (``{"VisibilityTimeout": 60,
                "FifoQueue": True}``); ints and bools are sent as SQS spells them.
            tags: cost-allocation style tags.

        Returns:
            The queue URL.

        Raises:
            QueueNameExists: a queue of that name exists with other attributes.
        """
        req = pb.CreateQueueRequest(
            queue_name=queue_name,
            attributes=t.queue_attributes_pb(attributes),
            tags=dict(tags or {}),
        )
        return str((await self._call(self._stub.CreateQueue, req, self._timeout)).queue_url)

    async def get_queue_url(self, queue_name: str) -> str:
        """The URL of the queue named ``queue_name``.

        Raises:
            QueueDoesNotExist: no queue has that name.
        """
        req = pb.GetQueueUrlRequest(queue_name=queue_name)
        return str((await self._call(self._stub.GetQueueUrl, req, self._timeout)).queue_url)

    async def list_queues(self, queue_name_prefix: str = "") -> list[str]:
        """URLs of every queue whose name starts with ``queue_name_prefix``.

        Follows all pages; use ``list_queues_page`` to page yourself.
        """

        async def page(token: str | None) -> Page[str]:
            p = await self.list_queues_page(
                queue_name_prefix, max_results=_FULL_PAGE, next_token=token
            )
            return list(p.queue_urls), p.next_token

        return await every_page(page)

    async def list_queues_page(
        self,
        queue_name_prefix: str = "",
        *,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> QueueUrlPage:
        """One page of queue URLs.

        Args:
            queue_name_prefix: only queues whose name starts with this.
            max_results: page size, 1-1000; None returns up to 1000 without paging.
            next_token: the ``next_token`` of the previous page.
        """
        req = pb.ListQueuesRequest(
            queue_name_prefix=queue_name_prefix,
            max_results=max_results or 0,
            next_token=next_token or "",
        )
        return t.url_page(await self._call(self._stub.ListQueues, req, self._timeout))

    async def delete_queue(self, queue_url: str) -> None:
        """Delete a queue and every message in it.

        Raises:
            QueueDoesNotExist: there is no such queue.
        """
        req = pb.DeleteQueueRequest(queue_url=queue_url)
        await self._call(self._stub.DeleteQueue, req, self._timeout)

    async def get_queue_attributes(
        self, queue_url: str, attribute_names: Sequence[str] | None = None
    ) -> dict[str, str]:
        """A queue's attributes, by SQS attribute name.

        Args:
            queue_url: the queue.
            attribute_names: the attributes to return; None or ``["All"]`` returns all.
        """
        req = pb.GetQueueAttributesRequest(
            queue_url=queue_url, attribute_names=list(attribute_names or ())
        )
        return dict(
            (await self._call(self._stub.GetQueueAttributes, req, self._timeout)).attributes
        )

    async def set_queue_attributes(
        self, queue_url: str, attributes: Mapping[str, AttributeValue]
    ) -> None:
        """Change some of a queue's attributes; the others keep their values.

        Raises:
            InvalidAttributeName: an attribute is unknown or cannot change.
            InvalidAttributeValue: a value is out of range.
        """
        req = pb.SetQueueAttributesRequest(
            queue_url=queue_url, attributes=t.queue_attributes_pb(attributes)
        )
        await self._call(self._stub.SetQueueAttributes, req, self._timeout)

    async def purge_queue(self, queue_url: str) -> None:
        """Delete every message in the queue (once per 60 s per queue).

        Raises:
            PurgeQueueInProgress: the queue was purged less than 60 s ago.
        """
        req = pb.PurgeQueueRequest(queue_url=queue_url)
        await self._call(self._stub.PurgeQueue, req, self._timeout)

    async def tag_queue(self, queue_url: str, tags: Mapping[str, str]) -> None:
        """Add tags to a queue, overwriting the value of a key it already has.

        Args:
            queue_url: the queue.
            tags: keys of 1-128 characters (case-sensitive, not starting with ``aws:``)
                to values of up to 256 characters; a queue holds at most 50 tags.

        Raises:
            QueueDoesNotExist: there is no such queue.
            InvalidParameterValue: a key or value breaks the limits, or the queue
                would hold more than 50 tags.
            MissingParameter: ``tags`` is empty.
        """
        req = pb.TagQueueRequest(queue_url=queue_url, tags=dict(tags))
        await self._call(self._stub.TagQueue, req, self._timeout)

    async def untag_queue(self, queue_url: str, tag_keys: Sequence[str]) -> None:
        """Remove tags from a queue; a key the queue does not have is ignored.

        Raises:
            QueueDoesNotExist: there is no such queue.
            MissingParameter: ``tag_keys`` is empty.
        """
        if isinstance(tag_keys, str):  # list("team") would remove t, e, a and m
            raise TypeError("tag_keys must be a sequence of keys, not one string")
        req = pb.UntagQueueRequest(queue_url=queue_url, tag_keys=list(tag_keys))
        await self._call(self._stub.UntagQueue, req, self._timeout)

    async def list_queue_tags(self, queue_url: str) -> dict[str, str]:
        """A queue's tags, key to value (empty when it has none).

        Raises:
            QueueDoesNotExist: there is no such queue.
        """
        req = pb.ListQueueTagsRequest(queue_url=queue_url)
        return dict((await self._call(self._stub.ListQueueTags, req, self._timeout)).tags)

    async def send_message(
        self,
        queue_url: str,
        message_body: str,
        *,
        delay_seconds: int | None = None,
        message_attributes: Mapping[str, MessageAttributeInput] | None = None,
        message_deduplication_id: str | None = None,
        message_group_id: str | None = None,
    ) -> SendMessageResult:
        """Send one message.

        Args:
            queue_url: the queue.
            message_body: the body (up to the queue's MaximumMessageSize).
            delay_seconds: 0-900; None uses the queue's DelaySeconds.
            message_attributes: name to ``MessageAttribute`` or boto3-style dict.
            message_deduplication_id: FIFO: sends with the same id within 5 minutes
                are accepted but delivered once.
            message_group_id: FIFO: messages of a group are delivered in order.

        Returns:
            The message id, MD5s and, on FIFO queues, the sequence number.
        """
        req = t.send_request(
            queue_url,
            message_body,
            delay_seconds,
            message_attributes,
            message_deduplication_id,
            message_group_id,
        )
        return t.send_result(await self._call(self._stub.SendMessage, req, self._timeout))

    async def send_message_batch(
        self,
        queue_url: str,
        entries: Iterable[SendMessageBatchEntry | Mapping[str, Any]],
    ) -> SendMessageBatchResult:
        """Send up to 10 messages in one call.

        Args:
            queue_url: the queue.
            entries: ``SendMessageBatchEntry`` or dicts with its snake_case keys
                (``{"id": "1", "message_body": "x", "delay_seconds": 5}``).

        Returns:
            The entries that were sent and those that failed; check ``failed``.
        """
        req = pb.SendMessageBatchRequest(queue_url=queue_url, entries=t.send_entries_pb(entries))
        return t.send_batch_result(
            await self._call(self._stub.SendMessageBatch, req, self._timeout)
        )

    async def receive_message(
        self,
        queue_url: str,
        *,
        max_number_of_messages: int = 1,
        wait_time_seconds: int | None = None,
        visibility_timeout: int | None = None,
        message_system_attribute_names: Sequence[str] | None = None,
        message_attribute_names: Sequence[str] | None = None,
        receive_request_attempt_id: str | None = None,
    ) -> list[Message]:
        """Receive up to ``max_number_of_messages`` messages, hiding them for a while.

        The call's deadline is stretched to outlast the long poll.

        Args:
            queue_url: the queue.
            max_number_of_messages: 1-10.
            wait_time_seconds: long-poll up to this many seconds (0-20) when the
                queue is empty; None uses the queue's ReceiveMessageWaitTimeSeconds.
            visibility_timeout: seconds the messages stay hidden; None uses the
                queue's VisibilityTimeout.
            message_system_attribute_names: system attributes to return
                (``SentTimestamp``, ``ApproximateReceiveCount``, ...) or ``["All"]``.
            message_attribute_names: message attributes to return, ``["All"]`` or
                prefixes such as ``"order.*"``.
            receive_request_attempt_id: FIFO: retry a failed receive with the same
                id to get the same messages back.

        Returns:
            The messages; empty when none arrived within the wait.
        """
        req = t.receive_request(
            queue_url,
            max_number_of_messages,
            wait_time_seconds,
            visibility_timeout,
            message_system_attribute_names,
            message_attribute_names,
            receive_request_attempt_id,
        )
        timeout = t.receive_timeout(self._timeout, wait_time_seconds)
        return t.messages(await self._call(self._stub.ReceiveMessage, req, timeout))

    async def delete_message(self, queue_url: str, receipt_handle: str) -> None:
        """Delete a received message.

        Raises:
            ReceiptHandleIsInvalid: the handle is malformed or names another queue.
        """
        req = pb.DeleteMessageRequest(queue_url=queue_url, receipt_handle=receipt_handle)
        await self._call(self._stub.DeleteMessage, req, self._timeout)

    async def delete_message_batch(
        self,
        queue_url: str,
        entries: Iterable[DeleteMessageBatchEntry | Mapping[str, Any]],
    ) -> DeleteMessageBatchResult:
        """Delete up to 10 received messages in one call.

        Args:
            queue_url: the queue.
            entries: ``DeleteMessageBatchEntry`` or ``{"id": ..., "receipt_handle": ...}``.

        Returns:
            The ids of the entries deleted and the entries that failed.
        """
        req = pb.DeleteMessageBatchRequest(
            queue_url=queue_url, entries=t.delete_entries_pb(entries)
        )
        resp = await self._call(self._stub.DeleteMessageBatch, req, self._timeout)
        return t.delete_batch_result(resp)

    async def change_message_visibility(
        self, queue_url: str, receipt_handle: str, visibility_timeout: int
    ) -> None:
        """Hide a received message for ``visibility_timeout`` more seconds (0 shows it now).

        Raises:
            MessageNotInflight: the message is not hidden (its lease ran out).
        """
        req = pb.ChangeMessageVisibilityRequest(
            queue_url=queue_url,
            receipt_handle=receipt_handle,
            visibility_timeout=visibility_timeout,
        )
        await self._call(self._stub.ChangeMessageVisibility, req, self._timeout)

    async def change_message_visibility_batch(
        self,
        queue_url: str,
        entries: Iterable[ChangeMessageVisibilityBatchEntry | Mapping[str, Any]],
    ) -> ChangeMessageVisibilityBatchResult:
        """Change the visibility timeout of up to 10 received messages in one call.

        Args:
            queue_url: the queue.
            entries: ``ChangeMessageVisibilityBatchEntry`` or dicts with ``id``,
                ``receipt_handle`` and ``visibility_timeout``.

        Returns:
            The ids of the entries changed and the entries that failed.
        """
        req = pb.ChangeMessageVisibilityBatchRequest(
            queue_url=queue_url, entries=t.visibility_entries_pb(entries)
        )
        resp = await self._call(self._stub.ChangeMessageVisibilityBatch, req, self._timeout)
        return t.visibility_batch_result(resp)

    async def list_dead_letter_source_queues(self, queue_url: str) -> list[str]:
        """URLs of the queues whose RedrivePolicy names ``queue_url`` as dead-letter queue.

        Follows all pages; use ``list_dead_letter_source_queues_page`` to page yourself.
        """

        async def page(token: str | None) -> Page[str]:
            p = await self.list_dead_letter_source_queues_page(
                queue_url, max_results=_FULL_PAGE, next_token=token
            )
            return list(p.queue_urls), p.next_token

        return await every_page(page)

    async def list_dead_letter_source_queues_page(
        self,
        queue_url: str,
        *,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> QueueUrlPage:
        """One page of the queues that use ``queue_url`` as dead-letter queue.

        Args:
            queue_url: the dead-letter queue.
            max_results: page size, 1-1000; None returns up to 1000 without paging.
            next_token: the ``next_token`` of the previous page.
        """
        req = pb.ListDeadLetterSourceQueuesRequest(
            queue_url=queue_url, max_results=max_results or 0, next_token=next_token or ""
        )
        return t.url_page(
            await self._call(self._stub.ListDeadLetterSourceQueues, req, self._timeout)
        )

    async def start_message_move_task(
        self,
        source_arn: str,
        *,
        destination_arn: str | None = None,
        max_number_of_messages_per_second: int | None = None,
    ) -> str:
        """Start moving the messages of a dead-letter queue back (redrive).

        Args:
            source_arn: the dead-letter queue (ARN, URL or name).
            destination_arn: where to move them; None returns each message to the
                queue it came from.
            max_number_of_messages_per_second: rate cap, 1-500; None is as fast as possible.

        Returns:
            The task handle, for ``cancel_message_move_task``.
        """
        req = t.move_request(source_arn, destination_arn, max_number_of_messages_per_second)
        resp = await self._call(self._stub.StartMessageMoveTask, req, self._timeout)
        return str(resp.task_handle)

    async def list_message_move_tasks(
        self, source_arn: str, *, max_results: int | None = None
    ) -> list[MessageMoveTask]:
        """The most recent move tasks of a dead-letter queue, newest first.

        Args:
            source_arn: the dead-letter queue (ARN, URL or name).
            max_results: 1-10; None returns the latest task only.
        """
        req = pb.ListMessageMoveTasksRequest(source_arn=source_arn, max_results=max_results or 0)
        return t.move_tasks(await self._call(self._stub.ListMessageMoveTasks, req, self._timeout))

    async def cancel_message_move_task(self, task_handle: str) -> int:
        """Stop a running move task; messages already moved stay moved.

        Returns:
            About how many messages the task had moved.
        """
        req = pb.CancelMessageMoveTaskRequest(task_handle=task_handle)
        resp = await self._call(self._stub.CancelMessageMoveTask, req, self._timeout)
        return int(resp.approximate_number_of_messages_moved)


class QueuesClient(BlockingFacade[AsyncQueuesClient]):
    """Blocking Queues API; reach it as ``Client().queues``."""

    _core_class = AsyncQueuesClient

    create_queue = blocking(AsyncQueuesClient.create_queue)
    get_queue_url = blocking(AsyncQueuesClient.get_queue_url)
    list_queues = blocking(AsyncQueuesClient.list_queues)
    list_queues_page = blocking(AsyncQueuesClient.list_queues_page)
    delete_queue = blocking(AsyncQueuesClient.delete_queue)
    get_queue_attributes = blocking(AsyncQueuesClient.get_queue_attributes)
    set_queue_attributes = blocking(AsyncQueuesClient.set_queue_attributes)
    purge_queue = blocking(AsyncQueuesClient.purge_queue)
    tag_queue = blocking(AsyncQueuesClient.tag_queue)
    untag_queue = blocking(AsyncQueuesClient.untag_queue)
    list_queue_tags = blocking(AsyncQueuesClient.list_queue_tags)
    send_message = blocking(AsyncQueuesClient.send_message)
    send_message_batch = blocking(AsyncQueuesClient.send_message_batch)
    receive_message = blocking(AsyncQueuesClient.receive_message)
    delete_message = blocking(AsyncQueuesClient.delete_message)
    delete_message_batch = blocking(AsyncQueuesClient.delete_message_batch)
    change_message_visibility = blocking(AsyncQueuesClient.change_message_visibility)
    change_message_visibility_batch = blocking(AsyncQueuesClient.change_message_visibility_batch)
    list_dead_letter_source_queues = blocking(AsyncQueuesClient.list_dead_letter_source_queues)
    list_dead_letter_source_queues_page = blocking(
        AsyncQueuesClient.list_dead_letter_source_queues_page
    )
    start_message_move_task = blocking(AsyncQueuesClient.start_message_move_task)
    list_message_move_tasks = blocking(AsyncQueuesClient.list_message_move_tasks)
    cancel_message_move_task = blocking(AsyncQueuesClient.cancel_message_move_task)
