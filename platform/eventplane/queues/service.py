"""The Queues gRPC service: validate at the edge, call the engine, map the result.

Requests that another replica forwarded (``x-eventplane-forwarded``) are
served from this replica's own partitions only, and FIFO sends among them
arrive already validated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeAlias

import grpc

from eventplane._gen.v1 import queues_pb2 as pb
from eventplane._gen.v1 import queues_pb2_grpc
from eventplane.errors import EventplaneError, InvalidParameterValue, MissingParameter
from eventplane.queues import messages as msgs
from eventplane.queues.attributes import validate_attribute_names
from eventplane.queues.engine import QueueEngine, new_record
from eventplane.queues.messages import MessageAttribute
from eventplane.queues.models import Record
from eventplane.queues.move_tasks import MoveTasks
from eventplane.queues.queue_def import QueueDef
from eventplane.queues.routing import FORWARDED_KEY

Ctx: TypeAlias = grpc.aio.ServicerContext


def _require(value: str, parameter: str) -> str:
    if not value:
        raise MissingParameter(f"The request must contain the parameter {parameter}.")
    return value


def _attributes(raw: Any) -> dict[str, MessageAttribute]:
    return {
        name: MessageAttribute(
            data_type=v.data_type,
            string_value=v.string_value if v.string_value or not v.binary_value else None,
            binary_value=v.binary_value or None,
        )
        for name, v in raw.items()
    }


def _batch_error(entry_id: str, exc: EventplaneError) -> pb.BatchResultErrorEntry:
    return pb.BatchResultErrorEntry(
        id=entry_id, sender_fault=not exc.retriable, code=exc.code, message=exc.message
    )


async def _each(
    ids: Sequence[str], run: Callable[[int], Awaitable[Any]]
) -> tuple[list[tuple[int, Any]], list[pb.BatchResultErrorEntry]]:
    """Run one action per batch entry; one entry's failure never fails the others."""

    async def one(i: int) -> tuple[int, Any] | pb.BatchResultErrorEntry:
        try:
            return i, await run(i)
        except EventplaneError as exc:
            return _batch_error(ids[i], exc)

    outcomes = list(await asyncio.gather(*(one(i) for i in range(len(ids)))))
    ok = [o for o in outcomes if isinstance(o, tuple)]
    failed = [o for o in outcomes if isinstance(o, pb.BatchResultErrorEntry)]
    return ok, failed


class QueuesService(queues_pb2_grpc.QueuesServicer):
    def __init__(self, engine: QueueEngine, moves: MoveTasks) -> None:
        self.engine = engine
        self.moves = moves

    def _forwarded(self, context: Ctx) -> bool:
        token = self.engine.forward_token
        return any(
            k == FORWARDED_KEY and v == token for k, v in context.invocation_metadata() or ()
        )

    def _queue(self, url: str) -> QueueDef:
        return self.engine.get(_require(url, "QueueUrl"))

    # --- queues -------------------------------------------------------------------------
    async def CreateQueue(
        self, request: pb.CreateQueueRequest, context: Ctx
    ) -> pb.CreateQueueResponse:
        name = _require(request.queue_name, "QueueName")
        qd = await self.engine.create_queue(name, dict(request.attributes), dict(request.tags))
        return pb.CreateQueueResponse(queue_url=qd.url)

    async def GetQueueUrl(
        self, request: pb.GetQueueUrlRequest, context: Ctx
    ) -> pb.GetQueueUrlResponse:
        qd = self.engine.get(_require(request.queue_name, "QueueName"), field="QueueName")
        return pb.GetQueueUrlResponse(queue_url=qd.url)

    async def ListQueues(
        self, request: pb.ListQueuesRequest, context: Ctx
    ) -> pb.ListQueuesResponse:
        if request.max_results and not 1 <= request.max_results <= 1000:
            raise InvalidParameterValue(
                f"Value {request.max_results} for parameter MaxResults is invalid. "
                "Reason: Must be between 1 and 1000."
            )
        names = sorted(
            q.name for q in self.engine.queues() if q.name.startswith(request.queue_name_prefix)
        )
        if request.next_token:
            names = [n for n in names if n > request.next_token]
        limit = request.max_results or 1000
        page, more = names[:limit], len(names) > limit
        urls = [self.engine.get(n).url for n in page]
        return pb.ListQueuesResponse(queue_urls=urls, next_token=page[-1] if more and page else "")

    async def DeleteQueue(
        self, request: pb.DeleteQueueRequest, context: Ctx
    ) -> pb.DeleteQueueResponse:
        await self.engine.delete_queue(self._queue(request.queue_url))
        return pb.DeleteQueueResponse()

    async def GetQueueAttributes(
        self, request: pb.GetQueueAttributesRequest, context: Ctx
    ) -> pb.GetQueueAttributesResponse:
        qd = self._queue(request.queue_url)
        wanted = validate_attribute_names(list(request.attribute_names) or ["All"])
        forwarded = self._forwarded(context)
        values = {} if forwarded else dict(qd.config.attributes())
        if not forwarded:
            values.update(
                QueueArn=qd.arn,
                CreatedTimestamp=str(qd.incarnation // 1000),
                LastModifiedTimestamp=str(qd.updated_ms // 1000),
            )
        if wanted & {
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        }:
            counts = await self.engine.counts(qd, local_only=forwarded)
            values.update({k: str(v) for k, v in counts.items()})
        return pb.GetQueueAttributesResponse(
            attributes={k: v for k, v in values.items() if k in wanted}
        )

    async def SetQueueAttributes(
        self, request: pb.SetQueueAttributesRequest, context: Ctx
    ) -> pb.SetQueueAttributesResponse:
        await self.engine.set_attributes(self._queue(request.queue_url), dict(request.attributes))
        return pb.SetQueueAttributesResponse()

    async def PurgeQueue(
        self, request: pb.PurgeQueueRequest, context: Ctx
    ) -> pb.PurgeQueueResponse:
        await self.engine.purge(self._queue(request.queue_url), local_only=self._forwarded(context))
        return pb.PurgeQueueResponse()

    async def ListDeadLetterSourceQueues(
        self, request: pb.ListDeadLetterSourceQueuesRequest, context: Ctx
    ) -> pb.ListDeadLetterSourceQueuesResponse:
        qd = self._queue(request.queue_url)
        names = sorted(q.name for q in self.engine.dead_letter_sources(qd))
        if request.next_token:
            names = [n for n in names if n > request.next_token]
        limit = request.max_results or 1000
        page, more = names[:limit], len(names) > limit
        return pb.ListDeadLetterSourceQueuesResponse(
            queue_urls=[self.engine.get(n).url for n in page],
            next_token=page[-1] if more and page else "",
        )

    # --- send -----------------------------------------------------------------------------
    def _record(self, qd: QueueDef, e: Any, *, trusted: bool) -> Record:
        """Validate one message (unless a replica forwarded it, validated) into a Record."""
        attrs = _attributes(e.message_attributes)
        if trusted:
            # FIFO allows no per-message delay, so the queue's delay applies.
            delay, dedup = qd.config.delay_seconds, e.message_deduplication_id
        else:
            msgs.validate_body(e.message_body)
            msgs.validate_message_attributes(attrs)
            msgs.validate_size(e.message_body, attrs, qd.config.maximum_message_size)
            delay, dedup = msgs.validate_send_for_queue(
                qd.config,
                delay_seconds=e.delay_seconds if e.has_delay_seconds else None,
                group_id=e.message_group_id,
                dedup_id=e.message_deduplication_id,
                body=e.message_body,
            )
        return new_record(
            e.message_body,
            attrs,
            delay_seconds=delay,
            group_id=e.message_group_id or None,
            dedup_id=dedup or None,
            now_ms=self.engine.clock(),
        )

    @staticmethod
    def _sent(record: Record, message_id: str, sequence: str) -> pb.SendMessageResponse:
        return pb.SendMessageResponse(
            message_id=message_id,
            md5_of_message_body=msgs.md5_of_body(record.body),
            md5_of_message_attributes=(
                msgs.md5_of_message_attributes(record.attributes) if record.attributes else ""
            ),
            sequence_number=sequence,
        )

    async def SendMessage(
        self, request: pb.SendMessageRequest, context: Ctx
    ) -> pb.SendMessageResponse:
        qd = self._queue(request.queue_url)
        trusted = qd.config.fifo and self._forwarded(context)
        record = self._record(qd, request, trusted=trusted)
        message_id, sequence = await self.engine.send(qd, record)
        return self._sent(record, message_id, sequence)

    async def SendMessageBatch(
        self, request: pb.SendMessageBatchRequest, context: Ctx
    ) -> pb.SendMessageBatchResponse:
        qd = self._queue(request.queue_url)
        entries = list(request.entries)
        ids = [e.id for e in entries]
        msgs.validate_batch_entry_ids(ids)
        total = 0
        for e in entries:
            total += msgs.message_size(e.message_body, _attributes(e.message_attributes))
        # Each message may be up to the queue's MaximumMessageSize; the batch as a
        # whole up to SQS's fixed 1 MiB.
        msgs.validate_batch_size(total, msgs.MAX_BATCH_BYTES)
        trusted = qd.config.fifo and self._forwarded(context)
        failed: list[pb.BatchResultErrorEntry] = []
        valid: list[tuple[int, Record]] = []
        for i, e in enumerate(entries):
            try:
                valid.append((i, self._record(qd, e, trusted=trusted)))
            except EventplaneError as exc:
                failed.append(_batch_error(ids[i], exc))
        outcomes = await self.engine.send_many(qd, [r for _, r in valid])
        successful = []
        for (i, record), outcome in zip(valid, outcomes, strict=True):
            if isinstance(outcome, EventplaneError):
                failed.append(_batch_error(ids[i], outcome))
                continue
            sent = self._sent(record, *outcome)
            successful.append(
                pb.SendMessageBatchResultEntry(
                    id=ids[i],
                    message_id=sent.message_id,
                    md5_of_message_body=sent.md5_of_message_body,
                    md5_of_message_attributes=sent.md5_of_message_attributes,
                    sequence_number=sent.sequence_number,
                )
            )
        return pb.SendMessageBatchResponse(successful=successful, failed=failed)

    # --- receive / delete / visibility -------------------------------------------------------
    async def ReceiveMessage(
        self, request: pb.ReceiveMessageRequest, context: Ctx
    ) -> pb.ReceiveMessageResponse:
        qd = self._queue(request.queue_url)
        request.max_number_of_messages = msgs.validate_receive(
            request.max_number_of_messages,
            request.wait_time_seconds if request.has_wait_time_seconds else None,
            request.visibility_timeout if request.has_visibility_timeout else None,
            request.receive_request_attempt_id,
        )
        found = await self.engine.receive(qd, request, local_only=self._forwarded(context))
        return pb.ReceiveMessageResponse(messages=found)

    async def DeleteMessage(
        self, request: pb.DeleteMessageRequest, context: Ctx
    ) -> pb.DeleteMessageResponse:
        qd = self._queue(request.queue_url)
        await self.engine.delete(qd, _require(request.receipt_handle, "ReceiptHandle"))
        return pb.DeleteMessageResponse()

    async def DeleteMessageBatch(
        self, request: pb.DeleteMessageBatchRequest, context: Ctx
    ) -> pb.DeleteMessageBatchResponse:
        qd = self._queue(request.queue_url)
        entries = list(request.entries)
        ids = [e.id for e in entries]
        msgs.validate_batch_entry_ids(ids)
        missing = MissingParameter("The request must contain the parameter ReceiptHandle.")
        handles = [e.receipt_handle for e in entries]
        outcomes: list[EventplaneError | None] = [None if h else missing for h in handles]
        present = [i for i, h in enumerate(handles) if h]
        results = await self.engine.delete_batch(qd, [handles[i] for i in present])
        for i, outcome in zip(present, results, strict=True):
            outcomes[i] = outcome
        return pb.DeleteMessageBatchResponse(
            successful=[
                pb.DeleteMessageBatchResultEntry(id=ids[i])
                for i, o in enumerate(outcomes)
                if o is None
            ],
            failed=[_batch_error(ids[i], o) for i, o in enumerate(outcomes) if o is not None],
        )

    async def ChangeMessageVisibility(
        self, request: pb.ChangeMessageVisibilityRequest, context: Ctx
    ) -> pb.ChangeMessageVisibilityResponse:
        qd = self._queue(request.queue_url)
        msgs.validate_visibility_timeout(request.visibility_timeout)
        handle = _require(request.receipt_handle, "ReceiptHandle")
        await self.engine.change_visibility(qd, handle, request.visibility_timeout)
        return pb.ChangeMessageVisibilityResponse()

    async def ChangeMessageVisibilityBatch(
        self, request: pb.ChangeMessageVisibilityBatchRequest, context: Ctx
    ) -> pb.ChangeMessageVisibilityBatchResponse:
        qd = self._queue(request.queue_url)
        entries = list(request.entries)
        ids = [e.id for e in entries]
        msgs.validate_batch_entry_ids(ids)

        async def one(i: int) -> None:
            e = entries[i]
            msgs.validate_visibility_timeout(e.visibility_timeout)
            handle = _require(e.receipt_handle, "ReceiptHandle")
            await self.engine.change_visibility(qd, handle, e.visibility_timeout)

        ok, failed = await _each(ids, one)
        return pb.ChangeMessageVisibilityBatchResponse(
            successful=[pb.ChangeMessageVisibilityBatchResultEntry(id=ids[i]) for i, _ in ok],
            failed=failed,
        )

    # --- message move tasks -------------------------------------------------------------------
    async def StartMessageMoveTask(
        self, request: pb.StartMessageMoveTaskRequest, context: Ctx
    ) -> pb.StartMessageMoveTaskResponse:
        handle = await self.moves.start(
            _require(request.source_arn, "SourceArn"),
            request.destination_arn,
            request.max_number_of_messages_per_second,
        )
        return pb.StartMessageMoveTaskResponse(task_handle=handle)

    async def ListMessageMoveTasks(
        self, request: pb.ListMessageMoveTasksRequest, context: Ctx
    ) -> pb.ListMessageMoveTasksResponse:
        tasks = self.moves.describe(_require(request.source_arn, "SourceArn"), request.max_results)
        return pb.ListMessageMoveTasksResponse(results=tasks)

    async def CancelMessageMoveTask(
        self, request: pb.CancelMessageMoveTaskRequest, context: Ctx
    ) -> pb.CancelMessageMoveTaskResponse:
        moved = await self.moves.cancel(_require(request.task_handle, "TaskHandle"))
        return pb.CancelMessageMoveTaskResponse(approximate_number_of_messages_moved=moved)
