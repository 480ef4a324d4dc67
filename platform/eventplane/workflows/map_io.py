"""Where a Distributed Map's items come from and where its results go.

AWS reads items from S3 and writes results to S3; eventplane has no S3, so:

- no ``ItemReader``: the JSON array the state's input holds (``ItemsPath``/``Items``);
- ``arn:aws:states:::sqs:receiveMessage`` (Parameters ``QueueUrl``, optional
  ``VisibilityTimeout``): the messages of a queue, received until it is empty or
  ``ReaderConfig.MaxItems`` are read, each item ``{"MessageId", "ReceiptHandle",
  "Body", "MD5OfBody"}`` as ReceiveMessage returns them. A message is deleted once the
  child execution that processed it succeeded; the message of a failed child stays and
  comes back when its visibility timeout ends;
- ``arn:aws:states:::dynamodb:scan`` (Parameters ``TableName``): every item of a
  table (up to MaxItems), in DynamoDB JSON as the DynamoDB task integration returns it.

``ResultWriter`` writes each child's result (as AWS's result files list them) as one
message: ``arn:aws:states:::sqs:sendMessage`` (``QueueUrl``) or
``arn:aws:states:::sns:publish`` (``TopicArn``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eventplane.attribute_values import encode_json_item
from eventplane.client import AsyncClient
from eventplane.errors import EventplaneError
from eventplane.workflows.asl.distributed_rules import READERS, WRITERS
from eventplane.workflows.lang import StatesError, dumps

__all__ = ["READERS", "WRITERS", "ReadItem", "read_items", "write_result"]

QUEUE_READER = "arn:aws:states:::sqs:receiveMessage"
TABLE_READER = "arn:aws:states:::dynamodb:scan"
QUEUE_WRITER = "arn:aws:states:::sqs:sendMessage"
TOPIC_WRITER = "arn:aws:states:::sns:publish"

READER_FAILED = "States.ItemReaderFailed"
WRITER_FAILED = "States.ResultWriterFailed"
_SCAN_PAGE = 100


@dataclass(frozen=True, slots=True)
class ReadItem:
    value: Any
    receipt: str | None = None  # a queue message's receipt handle


def _required(params: Mapping[str, Any], name: str, resource: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise StatesError(READER_FAILED, f"The field '{name}' is required by {resource}")
    return value


async def read_items(
    client: AsyncClient, reader: Mapping[str, Any]
) -> tuple[list[ReadItem], str | None]:
    """The items of an ``ItemReader`` (and the queue URL they came from, if a queue).

    Raises ``StatesError(States.ItemReaderFailed)`` when they cannot be read."""
    resource = str(reader.get("Resource"))
    params = reader.get("Parameters") or {}
    limit = reader.get("MaxItems")
    try:
        if resource == QUEUE_READER:
            url = _required(params, "QueueUrl", resource)
            return await _receive(client, url, params.get("VisibilityTimeout"), limit), url
        if resource == TABLE_READER:
            table = _required(params, "TableName", resource)
            return await _scan(client, table, limit), None
    except EventplaneError as exc:
        raise StatesError(READER_FAILED, f"{exc.code}: {exc.message}") from None
    raise StatesError(READER_FAILED, f"Unsupported ItemReader resource {resource!r}")


async def _receive(
    client: AsyncClient, url: str, visibility: Any, limit: int | None
) -> list[ReadItem]:
    items: list[ReadItem] = []
    while limit is None or len(items) < limit:
        want = 10 if limit is None else min(10, limit - len(items))
        got = await client.queues.receive_message(
            url,
            max_number_of_messages=want,
            # a message just sent may take a moment to be receivable: a short long poll
            # (it returns as soon as there are messages; once, at the end, it waits)
            wait_time_seconds=1,
            visibility_timeout=int(visibility) if visibility is not None else None,
        )
        if not got:
            break
        for m in got:
            doc = {
                "MessageId": m.message_id,
                "ReceiptHandle": m.receipt_handle,
                "Body": m.body,
                "MD5OfBody": m.md5_of_body,
            }
            items.append(ReadItem(doc, m.receipt_handle))
    return items


async def _scan(client: AsyncClient, table: str, limit: int | None) -> list[ReadItem]:
    items: list[ReadItem] = []
    start: dict[str, Any] | None = None
    while True:
        kw: dict[str, Any] = {"limit": _SCAN_PAGE}
        if start is not None:
            kw["exclusive_start_key"] = start
        page = await client.tables.scan(table, **kw)
        items.extend(ReadItem(encode_json_item(i)) for i in page.items)
        start = page.last_evaluated_key
        if start is None or (limit is not None and len(items) >= limit):
            return items[:limit] if limit is not None else items


async def delete_read(client: AsyncClient, url: str, receipt: str) -> None:
    """Delete a queue item that was processed (a stale receipt is not an error)."""
    # its visibility ended and someone else got it: theirs to delete now
    with contextlib.suppress(EventplaneError):
        await client.queues.delete_message(url, receipt)


async def write_result(client: AsyncClient, writer: Mapping[str, Any], doc: Any) -> None:
    """Write one child's result; ``StatesError(States.ResultWriterFailed)`` if it fails."""
    resource = str(writer.get("Resource"))
    params = writer.get("Parameters") or {}
    try:
        if resource == QUEUE_WRITER:
            await client.queues.send_message(str(params.get("QueueUrl")), dumps(doc))
            return
        if resource == TOPIC_WRITER:
            await client.topics.publish(str(params.get("TopicArn")), dumps(doc))
            return
    except EventplaneError as exc:
        raise StatesError(WRITER_FAILED, f"{exc.code}: {exc.message}") from None
    raise StatesError(WRITER_FAILED, f"Unsupported ResultWriter resource {resource!r}")


def writer_details(writer: Mapping[str, Any], written: int) -> dict[str, Any]:
    """``ResultWriterDetails`` of the Map's output: where the results went, and how many."""
    params = writer.get("Parameters") or {}
    key = WRITERS.get(str(writer.get("Resource")), "Destination")
    return {key: params.get(key), "MessagesWritten": written}
