"""Distributed Map readers and writers over a fake platform client."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from eventplane.errors import EventplaneError
from eventplane.workflows import map_io
from eventplane.workflows.lang import StatesError


@dataclass
class _Message:
    message_id: str
    receipt_handle: str
    body: str
    md5_of_body: str = "md5"


@dataclass
class _Page:
    items: list[dict[str, Any]]
    last_evaluated_key: dict[str, Any] | None


class _NoQueue(EventplaneError):
    code = "QueueDoesNotExist"


@dataclass
class _Queues:
    waiting: list[_Message]
    sent: list[tuple[str, str]] = field(default_factory=list)
    asked: list[int] = field(default_factory=list)

    async def receive_message(self, url: str, **kw: Any) -> list[_Message]:
        if url == "missing":
            raise _NoQueue("The specified queue does not exist")
        self.asked.append(kw["max_number_of_messages"])
        got = self.waiting[: kw["max_number_of_messages"]]
        del self.waiting[: len(got)]
        return got

    async def send_message(self, url: str, body: str) -> None:
        self.sent.append((url, body))


@dataclass
class _Tables:
    pages: list[_Page]

    async def scan(self, table: str, **kw: Any) -> _Page:
        return self.pages.pop(0)


@dataclass
class _Topics:
    published: list[tuple[str, str]] = field(default_factory=list)

    async def publish(self, arn: str, message: str) -> None:
        self.published.append((arn, message))


@dataclass
class _Client:
    queues: _Queues
    tables: _Tables = field(default_factory=lambda: _Tables([]))
    topics: _Topics = field(default_factory=_Topics)


def _messages(n: int) -> list[_Message]:
    return [_Message(f"m{i}", f"r{i}", f"body{i}") for i in range(n)]


def _read(client: _Client, reader: dict[str, Any]) -> Any:
    return asyncio.run(map_io.read_items(client, reader))  # type: ignore[arg-type]


def test_a_queue_is_read_until_empty_or_max_items() -> None:
    client = _Client(_Queues(_messages(25)))
    reader = {"Resource": map_io.QUEUE_READER, "Parameters": {"QueueUrl": "q"}}
    items, url = _read(client, {**reader, "MaxItems": 12})
    assert url == "q" and [i.receipt for i in items] == [f"r{i}" for i in range(12)]
    assert client.queues.asked == [10, 2]
    assert items[0].value == {
        "MessageId": "m0",
        "ReceiptHandle": "r0",
        "Body": "body0",
        "MD5OfBody": "md5",
    }
    items, _ = _read(client, reader)
    assert len(items) == 13


def test_a_table_scan_follows_its_pages_in_dynamodb_json() -> None:
    b = {"id": {"S": "b"}, "blob": {"B": b"\x01"}}
    pages = [_Page([{"id": {"S": "a"}}], {"id": {"S": "a"}}), _Page([b], None)]
    client = _Client(_Queues([]), _Tables(pages))
    items, url = _read(client, {"Resource": map_io.TABLE_READER, "Parameters": {"TableName": "t"}})
    assert url is None
    assert [i.value for i in items] == [
        {"id": {"S": "a"}},
        {"id": {"S": "b"}, "blob": {"B": "AQ=="}},
    ]


@pytest.mark.parametrize(
    "reader",
    [
        {"Resource": map_io.QUEUE_READER, "Parameters": {"QueueUrl": "missing"}},
        {"Resource": map_io.QUEUE_READER, "Parameters": {}},
        {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {}},
    ],
)
def test_a_reader_that_cannot_read_is_item_reader_failed(reader: dict[str, Any]) -> None:
    with pytest.raises(StatesError) as info:
        _read(_Client(_Queues([])), reader)
    assert info.value.error == "States.ItemReaderFailed"


def test_results_go_to_a_queue_or_a_topic() -> None:
    client = _Client(_Queues([]))
    queue = {"Resource": map_io.QUEUE_WRITER, "Parameters": {"QueueUrl": "out"}}
    topic = {"Resource": map_io.TOPIC_WRITER, "Parameters": {"TopicArn": "arn:t"}}
    asyncio.run(map_io.write_result(client, queue, {"Status": "SUCCEEDED"}))  # type: ignore[arg-type]
    asyncio.run(map_io.write_result(client, topic, {"Status": "FAILED"}))  # type: ignore[arg-type]
    assert client.queues.sent == [("out", '{"Status":"SUCCEEDED"}')]
    assert client.topics.published == [("arn:t", '{"Status":"FAILED"}')]
    assert map_io.writer_details(topic, 2) == {"TopicArn": "arn:t", "MessagesWritten": 2}
