"""The queues core: one method per SQS action, typed shapes in, typed shapes out.

Every front door (the gRPC servicer, the HTTP gateway's SQS protocols, in-process
callers) calls these methods, so each rule and each error is written once. Validation
happens here, with SQS's error codes and messages naming the field.

``forwarded=True`` marks a request another replica sent to this one as the partition
owner: it is served from this replica's own partitions only, and FIFO sends among them
arrive already validated (their dedup id resolved).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from eventplane.errors import EventplaneError, InvalidParameterValue, MissingParameter
from eventplane.errors.queues import QueueDoesNotExist
from eventplane.queues import messages as msgs
from eventplane.queues import shapes as s
from eventplane.queues.attributes import validate_attribute_names
from eventplane.queues.engine import QueueEngine, new_record
from eventplane.queues.models import Record
from eventplane.queues.move_tasks import MoveTasks
from eventplane.queues.queue_def import QueueDef
from eventplane.security import labelled
from eventplane.security.accounts import listing_account

_COUNTS = {
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
}


def _require(value: str, parameter: str) -> str:
    if not value:
        raise MissingParameter(f"The request must contain the parameter {parameter}.")
    return value


def _require_int(value: int | None, parameter: str) -> int:
    if value is None:
        raise MissingParameter(f"The request must contain the parameter {parameter}.")
    return value


# The actions AddPermission may grant another account (SQS: the others are the owner's).
SHAREABLE_ACTIONS = frozenset(
    {
        "*",
        "ChangeMessageVisibility",
        "DeleteMessage",
        "GetQueueAttributes",
        "GetQueueUrl",
        "ListDeadLetterSourceQueues",
        "PurgeQueue",
        "ReceiveMessage",
        "SendMessage",
    }
)


def _label(value: str) -> str:
    label = _require(value, "Label")
    if not labelled.LABEL.fullmatch(label):
        raise InvalidParameterValue(
            f"Value {label} for parameter Label is invalid. "
            "Reason: Must be an alphanumeric String of 1 to 80 in length."
        )
    return label


def _batch_error(entry_id: str, exc: EventplaneError) -> s.BatchResultErrorEntry:
    return s.BatchResultErrorEntry(
        id=entry_id, sender_fault=not exc.retriable, code=exc.code, message=exc.message
    )


def _page(names: list[str], next_token: str, max_results: int | None) -> tuple[list[str], str]:
    """One page of sorted names after ``next_token``, and the token of the next page."""
    if max_results is not None and not 1 <= max_results <= 1000:
        raise InvalidParameterValue(
            f"Value {max_results} for parameter MaxResults is invalid. "
            "Reason: Must be between 1 and 1000."
        )
    if next_token:
        names = [n for n in names if n > next_token]
    limit = max_results or 1000
    page, more = names[:limit], len(names) > limit
    return page, page[-1] if more and page else ""


async def _each(
    ids: Sequence[str], run: Callable[[int], Awaitable[Any]]
) -> tuple[list[int], list[s.BatchResultErrorEntry]]:
    """Run one action per batch entry; one entry's failure never fails the others."""

    async def one(i: int) -> int | s.BatchResultErrorEntry:
        try:
            await run(i)
            return i
        except EventplaneError as exc:
            return _batch_error(ids[i], exc)

    outcomes = list(await asyncio.gather(*(one(i) for i in range(len(ids)))))
    ok = [o for o in outcomes if isinstance(o, int)]
    failed = [o for o in outcomes if isinstance(o, s.BatchResultErrorEntry)]
    return ok, failed


class QueueOperations:
    """The SQS actions over one replica's QueueEngine and its message move tasks."""

    def __init__(self, engine: QueueEngine, moves: MoveTasks) -> None:
        self.engine = engine
        self.moves = moves

    def _queue(self, url: str) -> QueueDef:
        return self.engine.get(_require(url, "QueueUrl"))

    # --- queues -------------------------------------------------------------------------
    async def create_queue(self, req: s.CreateQueueRequest) -> s.CreateQueueResult:
        name = _require(req.queue_name, "QueueName")
        qd = await self.engine.create_queue(name, req.attributes, req.tags)
        return s.CreateQueueResult(queue_url=qd.url)

    async def get_queue_url(self, req: s.GetQueueUrlRequest) -> s.GetQueueUrlResult:
        name = _require(req.queue_name, "QueueName")
        # QueueOwnerAWSAccountId: a bare name in that account instead of the caller's.
        owner = req.queue_owner_aws_account_id or None
        qd = self.engine.find(name, "QueueName", account=owner)
        if qd is None:
            raise QueueDoesNotExist("The specified queue does not exist.")
        return s.GetQueueUrlResult(queue_url=qd.url)

    async def list_queues(self, req: s.ListQueuesRequest) -> s.ListQueuesResult:
        """The caller's account's queues (every account's for the platform's own calls)."""
        account = listing_account()
        return self._listed(
            [
                q
                for q in self.engine.queues()
                if q.plain.startswith(req.queue_name_prefix) and account in (None, q.account)
            ],
            req.next_token,
            req.max_results,
        )

    @staticmethod
    def _listed(
        queues: list[QueueDef], next_token: str, max_results: int | None
    ) -> s.ListQueuesResult:
        """One page of ``queues``' URLs in name order; the token is the last URL shown (a
        name could be another account's too, for the platform's callers, who see all)."""
        by_url = {q.url: q for q in queues}
        page, token = _page(sorted(by_url), next_token, max_results)
        return s.ListQueuesResult(queue_urls=page, next_token=token)

    async def delete_queue(self, req: s.DeleteQueueRequest) -> s.Empty:
        await self.engine.delete_queue(self._queue(req.queue_url))
        return s.Empty()

    async def get_queue_attributes(
        self, req: s.GetQueueAttributesRequest, *, forwarded: bool = False
    ) -> s.GetQueueAttributesResult:
        qd = self._queue(req.queue_url)
        # SQS answers a request that names no attributes with none (not all of them).
        wanted = validate_attribute_names(req.attribute_names)
        values: dict[str, str] = {}
        if not forwarded:
            values.update(qd.config.attributes())
            values.update(
                QueueArn=qd.arn,
                CreatedTimestamp=str(qd.incarnation // 1000),
                LastModifiedTimestamp=str(qd.updated_ms // 1000),
            )
        if wanted & _COUNTS:
            counts = await self.engine.counts(qd, local_only=forwarded)
            values.update({k: str(v) for k, v in counts.items()})
        return s.GetQueueAttributesResult({k: v for k, v in values.items() if k in wanted})

    async def set_queue_attributes(self, req: s.SetQueueAttributesRequest) -> s.Empty:
        await self.engine.set_attributes(self._queue(req.queue_url), req.attributes)
        return s.Empty()

    async def add_permission(self, req: s.AddPermissionRequest) -> s.Empty:
        """A statement ``Label`` in the queue's Policy allowing the accounts the actions."""
        qd = self._queue(req.queue_url)
        label = _label(req.label)
        if not req.aws_account_ids:
            raise MissingParameter("The request must contain the parameter AWSAccountIds.")
        if not req.actions:
            raise MissingParameter("The request must contain the parameter Actions.")
        for account in req.aws_account_ids:
            if not labelled.ACCOUNT.fullmatch(account):
                raise InvalidParameterValue(
                    f"Value {account} for parameter PrincipalId is invalid. "
                    "Reason: Unable to verify."
                )
        for action in req.actions:
            if action not in SHAREABLE_ACTIONS:
                raise InvalidParameterValue(
                    f"Value SQS:{action} for parameter ActionName is invalid. "
                    "Reason: Only the queue owner is allowed to invoke this action."
                )
        actions = [f"SQS:{a}" for a in dict.fromkeys(req.actions)]
        try:
            policy = labelled.add_statement(
                qd.config.policy or "",
                f"{qd.arn}/SQSDefaultPolicy",
                label,
                list(dict.fromkeys(req.aws_account_ids)),
                actions,
                qd.arn,
            )
        except labelled.LabelExists:
            raise InvalidParameterValue(
                f"Value {label} for parameter Label is invalid. Reason: Already exists."
            ) from None
        await self.engine.set_attributes(qd, {"Policy": policy})
        return s.Empty()

    async def remove_permission(self, req: s.RemovePermissionRequest) -> s.Empty:
        """The queue's Policy without the statement ``Label``."""
        qd = self._queue(req.queue_url)
        label = _require(req.label, "Label")
        try:
            policy = labelled.remove_statement(qd.config.policy or "", label)
        except labelled.LabelMissing:
            raise InvalidParameterValue(
                f"Value {label} for parameter Label is invalid. Reason: can't find label."
            ) from None
        await self.engine.set_attributes(qd, {"Policy": policy})
        return s.Empty()

    async def purge_queue(self, req: s.PurgeQueueRequest, *, forwarded: bool = False) -> s.Empty:
        await self.engine.purge(self._queue(req.queue_url), local_only=forwarded)
        return s.Empty()

    async def tag_queue(self, req: s.TagQueueRequest) -> s.Empty:
        """Add or overwrite tags (keys are case-sensitive)."""
        qd = self._queue(req.queue_url)
        if not req.tags:
            raise MissingParameter("The request must contain the parameter Tags.")
        await self.engine.set_tags(qd, {**qd.tags, **req.tags})
        return s.Empty()

    async def untag_queue(self, req: s.UntagQueueRequest) -> s.Empty:
        """Remove tags by key; a key the queue does not have is ignored."""
        qd = self._queue(req.queue_url)
        if not req.tag_keys:
            raise MissingParameter("The request must contain the parameter TagKeys.")
        gone = set(req.tag_keys)
        await self.engine.set_tags(qd, {k: v for k, v in qd.tags.items() if k not in gone})
        return s.Empty()

    async def list_queue_tags(self, req: s.ListQueueTagsRequest) -> s.ListQueueTagsResult:
        return s.ListQueueTagsResult(tags=dict(self._queue(req.queue_url).tags))

    async def list_dead_letter_source_queues(
        self, req: s.ListDeadLetterSourceQueuesRequest
    ) -> s.ListDeadLetterSourceQueuesResult:
        qd = self._queue(req.queue_url)
        account = listing_account()  # the caller's account's sources only
        sources = [q for q in self.engine.dead_letter_sources(qd) if account in (None, q.account)]
        listed = self._listed(sources, req.next_token, req.max_results)
        return s.ListDeadLetterSourceQueuesResult(
            queue_urls=listed.queue_urls, next_token=listed.next_token
        )

    # --- send -----------------------------------------------------------------------------
    def _record(
        self, qd: QueueDef, e: s.SendMessageRequest | s.SendMessageBatchRequestEntry, trusted: bool
    ) -> Record:
        """Validate one message (unless a replica forwarded it, validated) into a Record."""
        attrs = dict(e.message_attributes)
        if trusted:
            # FIFO allows no per-message delay, so the queue's delay applies.
            delay, dedup = qd.config.delay_seconds, e.message_deduplication_id
        else:
            msgs.validate_body(e.message_body)
            msgs.validate_message_attributes(attrs)
            msgs.validate_size(e.message_body, attrs, qd.config.maximum_message_size)
            delay, dedup = msgs.validate_send_for_queue(
                qd.config,
                delay_seconds=e.delay_seconds,
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
    def _sent(record: Record, message_id: str, sequence: str) -> s.SendMessageResult:
        return s.SendMessageResult(
            message_id=message_id,
            md5_of_message_body=msgs.md5_of_body(record.body),
            md5_of_message_attributes=(
                msgs.md5_of_message_attributes(record.attributes) if record.attributes else ""
            ),
            sequence_number=sequence,
        )

    async def send_message(
        self, req: s.SendMessageRequest, *, forwarded: bool = False
    ) -> s.SendMessageResult:
        qd = self._queue(req.queue_url)
        record = self._record(qd, req, trusted=qd.config.fifo and forwarded)
        message_id, sequence = await self.engine.send(qd, record)
        return self._sent(record, message_id, sequence)

    async def send_message_batch(
        self, req: s.SendMessageBatchRequest, *, forwarded: bool = False
    ) -> s.SendMessageBatchResult:
        qd = self._queue(req.queue_url)
        ids = [e.id for e in req.entries]
        msgs.validate_batch_entry_ids(ids)
        total = sum(msgs.message_size(e.message_body, e.message_attributes) for e in req.entries)
        # Each message may be up to the queue's MaximumMessageSize; the batch as a
        # whole up to SQS's fixed 1 MiB.
        msgs.validate_batch_size(total, msgs.MAX_BATCH_BYTES)
        trusted = qd.config.fifo and forwarded
        result = s.SendMessageBatchResult()
        valid: list[tuple[int, Record]] = []
        for i, e in enumerate(req.entries):
            try:
                valid.append((i, self._record(qd, e, trusted)))
            except EventplaneError as exc:
                result.failed.append(_batch_error(ids[i], exc))
        outcomes = await self.engine.send_many(qd, [r for _, r in valid])
        for (i, record), outcome in zip(valid, outcomes, strict=True):
            if isinstance(outcome, EventplaneError):
                result.failed.append(_batch_error(ids[i], outcome))
                continue
            sent = self._sent(record, *outcome)
            result.successful.append(
                s.SendMessageBatchResultEntry(
                    id=ids[i],
                    message_id=sent.message_id,
                    md5_of_message_body=sent.md5_of_message_body,
                    md5_of_message_attributes=sent.md5_of_message_attributes,
                    sequence_number=sent.sequence_number,
                )
            )
        return result

    # --- receive / delete / visibility -------------------------------------------------------
    async def receive_message(
        self, req: s.ReceiveMessageRequest, *, forwarded: bool = False
    ) -> s.ReceiveMessageResult:
        qd = self._queue(req.queue_url)
        n = msgs.validate_receive(
            req.max_number_of_messages,
            req.wait_time_seconds,
            req.visibility_timeout,
            req.receive_request_attempt_id,
        )
        found = await self.engine.receive(qd, req, n, local_only=forwarded)
        return s.ReceiveMessageResult(messages=found)

    async def await_messages(self, req: s.ReceiveMessageRequest, since: str) -> None:
        """For a replica whose long poll waits on this one's partitions (forwarded only)."""
        qd = self._queue(req.queue_url)
        try:
            generation = int(since)
        except ValueError:
            raise InvalidParameterValue("the awaited pulse generation is not a number") from None
        wait = min(max(req.wait_time_seconds or 0, 0), 20)
        await self.engine.receiver.await_change(qd, generation, wait)

    def pulse_generation(self, req: s.ReceiveMessageRequest) -> int:
        return self.engine.receiver.pulse_generation(self._queue(req.queue_url))

    async def delete_message(self, req: s.DeleteMessageRequest) -> s.Empty:
        qd = self._queue(req.queue_url)
        await self.engine.delete(qd, _require(req.receipt_handle, "ReceiptHandle"))
        return s.Empty()

    async def delete_message_batch(
        self, req: s.DeleteMessageBatchRequest
    ) -> s.DeleteMessageBatchResult:
        qd = self._queue(req.queue_url)
        ids = [e.id for e in req.entries]
        msgs.validate_batch_entry_ids(ids)
        missing = MissingParameter("The request must contain the parameter ReceiptHandle.")
        handles = [e.receipt_handle for e in req.entries]
        outcomes: list[EventplaneError | None] = [None if h else missing for h in handles]
        present = [i for i, h in enumerate(handles) if h]
        results = await self.engine.delete_batch(qd, [handles[i] for i in present])
        for i, outcome in zip(present, results, strict=True):
            outcomes[i] = outcome
        return s.DeleteMessageBatchResult(
            successful=[
                s.DeleteMessageBatchResultEntry(id=ids[i])
                for i, o in enumerate(outcomes)
                if o is None
            ],
            failed=[_batch_error(ids[i], o) for i, o in enumerate(outcomes) if o is not None],
        )

    async def _change_visibility(self, qd: QueueDef, handle: str, timeout: int | None) -> None:
        visibility = _require_int(timeout, "VisibilityTimeout")
        msgs.validate_visibility_timeout(visibility)
        await self.engine.change_visibility(qd, _require(handle, "ReceiptHandle"), visibility)

    async def change_message_visibility(self, req: s.ChangeMessageVisibilityRequest) -> s.Empty:
        qd = self._queue(req.queue_url)
        await self._change_visibility(qd, req.receipt_handle, req.visibility_timeout)
        return s.Empty()

    async def change_message_visibility_batch(
        self, req: s.ChangeMessageVisibilityBatchRequest
    ) -> s.ChangeMessageVisibilityBatchResult:
        qd = self._queue(req.queue_url)
        entries = req.entries
        ids = [e.id for e in entries]
        msgs.validate_batch_entry_ids(ids)

        async def one(i: int) -> None:
            e = entries[i]
            await self._change_visibility(qd, e.receipt_handle, e.visibility_timeout)

        ok, failed = await _each(ids, one)
        return s.ChangeMessageVisibilityBatchResult(
            successful=[s.ChangeMessageVisibilityBatchResultEntry(id=ids[i]) for i in ok],
            failed=failed,
        )

    # --- message move tasks -------------------------------------------------------------------
    async def start_message_move_task(
        self, req: s.StartMessageMoveTaskRequest
    ) -> s.StartMessageMoveTaskResult:
        handle = await self.moves.start(
            _require(req.source_arn, "SourceArn"),
            req.destination_arn,
            req.max_number_of_messages_per_second or 0,
        )
        return s.StartMessageMoveTaskResult(task_handle=handle)

    async def list_message_move_tasks(
        self, req: s.ListMessageMoveTasksRequest
    ) -> s.ListMessageMoveTasksResult:
        tasks = self.moves.describe(_require(req.source_arn, "SourceArn"), req.max_results or 0)
        return s.ListMessageMoveTasksResult(results=tasks)

    async def cancel_message_move_task(
        self, req: s.CancelMessageMoveTaskRequest
    ) -> s.CancelMessageMoveTaskResult:
        moved = await self.moves.cancel(_require(req.task_handle, "TaskHandle"))
        return s.CancelMessageMoveTaskResult(approximate_number_of_messages_moved=moved)
