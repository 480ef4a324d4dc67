"""The Queues SDK against an in-process gRPC server that records what it is sent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fake_grpc import FakeService, run_async, serve, snake

from eventplane._gen.v1 import queues_pb2 as pb
from eventplane._gen.v1 import queues_pb2_grpc
from eventplane.client import (
    AsyncClient,
    BatchResultError,
    ChangeMessageVisibilityBatchEntry,
    Client,
    DeleteMessageBatchEntry,
    Message,
    MessageAttribute,
    MessageMoveTask,
    QueueUrlPage,
    SendMessageBatchEntry,
    SendMessageBatchResultEntry,
    SendMessageResult,
)
from eventplane.client.queues import AsyncQueuesClient, QueuesClient
from eventplane.errors import (
    EventplaneError,
    InvalidParameterValue,
    ServiceUnavailable,
)
from eventplane.errors.queues import QueueDoesNotExist, ReceiptHandleIsInvalid

SERVICE = pb.DESCRIPTOR.services_by_name["Queues"]
RPCS = [m.name for m in SERVICE.methods]
URL = "eventplane://queues/orders"


class FakeQueues(FakeService, queues_pb2_grpc.QueuesServicer):
    def __init__(self) -> None:
        super().__init__(pb, "Queues")


@contextmanager
def serve_fake() -> Iterator[tuple[FakeQueues, str]]:
    """A real gRPC server on a free local port, serving a FakeQueues."""
    fake = FakeQueues()
    with serve(fake, queues_pb2_grpc.add_QueuesServicer_to_server) as target:
        yield fake, target


@pytest.fixture
def served() -> Iterator[tuple[FakeQueues, str]]:
    with serve_fake() as pair:
        yield pair


@pytest.fixture
def fake(served: tuple[FakeQueues, str]) -> FakeQueues:
    return served[0]


@pytest.fixture
def ep(served: tuple[FakeQueues, str]) -> Iterator[Client]:
    with Client(served[1], timeout=5) as client:
        yield client


# --- surface ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [QueuesClient, AsyncQueuesClient])
def test_one_method_per_rpc(cls: type) -> None:
    missing = [snake(rpc) for rpc in RPCS if not callable(getattr(cls, snake(rpc), None))]
    assert missing == []


def test_clients_expose_queues(served: tuple[FakeQueues, str]) -> None:
    with Client(served[1]) as client:
        assert isinstance(client.queues, QueuesClient)

    async def check(client: AsyncClient) -> None:
        assert isinstance(client.queues, AsyncQueuesClient)

    run_async(served[1], check)


# --- queues ----------------------------------------------------------------------------


def test_create_queue_sends_attributes_as_sqs_strings(fake: FakeQueues, ep: Client) -> None:
    fake.responses["CreateQueue"] = pb.CreateQueueResponse(queue_url=URL)
    url = ep.queues.create_queue(
        "orders.fifo",
        {"VisibilityTimeout": 60, "FifoQueue": True, "ContentBasedDeduplication": False},
        tags={"team": "shop"},
    )
    req = fake.only("CreateQueue")
    assert url == URL
    assert req.queue_name == "orders.fifo"
    assert dict(req.attributes) == {
        "VisibilityTimeout": "60",
        "FifoQueue": "true",
        "ContentBasedDeduplication": "false",
    }
    assert dict(req.tags) == {"team": "shop"}


def test_get_queue_url(fake: FakeQueues, ep: Client) -> None:
    fake.responses["GetQueueUrl"] = pb.GetQueueUrlResponse(queue_url=URL)
    assert ep.queues.get_queue_url("orders") == URL
    assert fake.only("GetQueueUrl").queue_name == "orders"


def test_list_queues_follows_every_page(fake: FakeQueues, ep: Client) -> None:
    pages = {
        "": pb.ListQueuesResponse(queue_urls=["q/a", "q/b"], next_token="t1"),
        "t1": pb.ListQueuesResponse(queue_urls=["q/c"]),
    }
    fake.responses["ListQueues"] = lambda req: pages[req.next_token]
    assert ep.queues.list_queues("q") == ["q/a", "q/b", "q/c"]
    reqs = [req for _, req in fake.calls]
    assert [(r.queue_name_prefix, r.max_results, r.next_token) for r in reqs] == [
        ("q", 1000, ""),
        ("q", 1000, "t1"),
    ]


def test_list_queues_page(fake: FakeQueues, ep: Client) -> None:
    fake.responses["ListQueues"] = pb.ListQueuesResponse(queue_urls=["q/a"], next_token="t2")
    assert ep.queues.list_queues_page("q", max_results=1, next_token="t1") == QueueUrlPage(
        ["q/a"], "t2"
    )
    req = fake.only("ListQueues")
    assert (req.max_results, req.next_token) == (1, "t1")


def test_list_queues_page_defaults_and_last_page(fake: FakeQueues, ep: Client) -> None:
    assert ep.queues.list_queues_page() == QueueUrlPage([], None)
    req = fake.only("ListQueues")
    assert (req.queue_name_prefix, req.max_results, req.next_token) == ("", 0, "")


@pytest.mark.parametrize(
    ("call", "rpc", "fields"),
    [
        (lambda q: q.delete_queue(URL), "DeleteQueue", {"queue_url": URL}),
        (lambda q: q.purge_queue(URL), "PurgeQueue", {"queue_url": URL}),
        (
            lambda q: q.delete_message(URL, "rh-1"),
            "DeleteMessage",
            {"queue_url": URL, "receipt_handle": "rh-1"},
        ),
        (
            lambda q: q.change_message_visibility(URL, "rh-1", 0),
            "ChangeMessageVisibility",
            {"queue_url": URL, "receipt_handle": "rh-1", "visibility_timeout": 0},
        ),
        (
            lambda q: q.set_queue_attributes(URL, {"DelaySeconds": 5}),
            "SetQueueAttributes",
            {"queue_url": URL, "attributes": {"DelaySeconds": "5"}},
        ),
    ],
)
def test_calls_without_a_result(
    fake: FakeQueues, ep: Client, call: Callable[[QueuesClient], Any], rpc: str, fields: dict
) -> None:
    assert call(ep.queues) is None
    req = fake.only(rpc)
    for name, value in fields.items():
        got = getattr(req, name)
        assert (dict(got) if name == "attributes" else got) == value


def test_get_queue_attributes(fake: FakeQueues, ep: Client) -> None:
    fake.responses["GetQueueAttributes"] = pb.GetQueueAttributesResponse(
        attributes={"VisibilityTimeout": "30", "DelaySeconds": "0"}
    )
    assert ep.queues.get_queue_attributes(URL, ["VisibilityTimeout", "DelaySeconds"]) == {
        "VisibilityTimeout": "30",
        "DelaySeconds": "0",
    }
    req = fake.only("GetQueueAttributes")
    assert list(req.attribute_names) == ["VisibilityTimeout", "DelaySeconds"]


def test_get_queue_attributes_defaults_to_all(fake: FakeQueues, ep: Client) -> None:
    assert ep.queues.get_queue_attributes(URL) == {}
    assert list(fake.only("GetQueueAttributes").attribute_names) == []


# --- send ------------------------------------------------------------------------------


def test_send_message_minimal_leaves_optionals_unset(fake: FakeQueues, ep: Client) -> None:
    fake.responses["SendMessage"] = pb.SendMessageResponse(
        message_id="m-1", md5_of_message_body="abc"
    )
    result = ep.queues.send_message(URL, "hello")
    assert result == SendMessageResult("m-1", "abc", None, None)
    req = fake.only("SendMessage")
    assert (req.queue_url, req.message_body) == (URL, "hello")
    assert req.has_delay_seconds is False
    assert req.delay_seconds == 0
    assert len(req.message_attributes) == 0
    assert req.message_group_id == ""
    assert req.message_deduplication_id == ""


def test_send_message_all_arguments(fake: FakeQueues, ep: Client) -> None:
    fake.responses["SendMessage"] = pb.SendMessageResponse(
        message_id="m-1",
        md5_of_message_body="abc",
        md5_of_message_attributes="def",
        sequence_number="000001",
    )
    result = ep.queues.send_message(
        URL,
        "hello",
        delay_seconds=0,  # an explicit 0 overrides the queue's delay
        message_attributes={
            "kind": MessageAttribute("String", string_value="greeting"),
            "count": {"DataType": "Number.int", "StringValue": "3"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
        message_group_id="g1",
        message_deduplication_id="d1",
    )
    assert result == SendMessageResult("m-1", "abc", "def", "000001")
    req = fake.only("SendMessage")
    assert (req.delay_seconds, req.has_delay_seconds) == (0, True)
    attrs = req.message_attributes
    assert (attrs["kind"].data_type, attrs["kind"].string_value) == ("String", "greeting")
    assert (attrs["count"].data_type, attrs["count"].string_value) == ("Number.int", "3")
    assert (attrs["blob"].data_type, attrs["blob"].binary_value) == ("Binary", b"\x00\x01")
    assert (req.message_group_id, req.message_deduplication_id) == ("g1", "d1")


@pytest.mark.parametrize(
    ("attribute", "complaint"),
    [
        ({"StringValue": "x"}, "DataType is missing"),
        ({"DataType": "String", "Value": "x"}, "unknown key(s) Value"),
        ("x", "expected a MessageAttribute"),
    ],
)
def test_send_message_rejects_malformed_attributes_before_calling(
    fake: FakeQueues, ep: Client, attribute: Any, complaint: str
) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        ep.queues.send_message(URL, "x", message_attributes={"a": attribute})
    assert complaint in info.value.message
    assert "'a'" in info.value.message
    assert fake.calls == []


def test_send_message_batch_maps_entries_and_results(fake: FakeQueues, ep: Client) -> None:
    fake.responses["SendMessageBatch"] = pb.SendMessageBatchResponse(
        successful=[
            pb.SendMessageBatchResultEntry(id="1", message_id="m-1", md5_of_message_body="a"),
        ],
        failed=[
            pb.BatchResultErrorEntry(
                id="2", sender_fault=True, code="InvalidMessageContents", message="bad"
            )
        ],
    )
    result = ep.queues.send_message_batch(
        URL,
        [
            {"id": "1", "message_body": "x", "delay_seconds": 5},
            SendMessageBatchEntry(
                "2",
                "y",
                message_attributes={"k": {"DataType": "String", "StringValue": "v"}},
                message_group_id="g",
                message_deduplication_id="d",
            ),
        ],
    )
    assert result.successful == [SendMessageBatchResultEntry("1", "m-1", "a", None, None)]
    assert result.failed == [BatchResultError("2", True, "InvalidMessageContents", "bad")]
    req = fake.only("SendMessageBatch")
    first, second = req.entries
    assert (first.id, first.message_body, first.delay_seconds, first.has_delay_seconds) == (
        "1",
        "x",
        5,
        True,
    )
    assert (second.id, second.has_delay_seconds) == ("2", False)
    assert second.message_attributes["k"].string_value == "v"
    assert (second.message_group_id, second.message_deduplication_id) == ("g", "d")


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ({"id": "1", "body": "x"}, "unknown key(s) body"),
        ({"id": "1"}, "missing message_body"),
        (("1", "x"), "expected a SendMessageBatchEntry"),
    ],
)
def test_send_message_batch_rejects_malformed_entries(
    fake: FakeQueues, ep: Client, entry: Any, complaint: str
) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        ep.queues.send_message_batch(URL, [entry])
    assert complaint in info.value.message
    assert fake.calls == []


# --- receive ---------------------------------------------------------------------------


def test_receive_message_defaults(fake: FakeQueues, ep: Client) -> None:
    assert ep.queues.receive_message(URL) == []
    req = fake.only("ReceiveMessage")
    assert req.max_number_of_messages == 1
    assert (req.has_wait_time_seconds, req.has_visibility_timeout) == (False, False)
    assert list(req.message_system_attribute_names) == []
    assert list(req.message_attribute_names) == []
    assert req.receive_request_attempt_id == ""


def test_receive_message_maps_arguments_and_messages(fake: FakeQueues, ep: Client) -> None:
    fake.responses["ReceiveMessage"] = pb.ReceiveMessageResponse(
        messages=[
            pb.Message(
                message_id="m-1",
                receipt_handle="rh-1",
                md5_of_body="b",
                body="hello",
                attributes={"ApproximateReceiveCount": "2"},
                md5_of_message_attributes="ma",
                message_attributes={
                    "kind": pb.MessageAttributeValue(data_type="String", string_value="x"),
                    "blob": pb.MessageAttributeValue(data_type="Binary.gz", binary_value=b"\x01"),
                },
            ),
            pb.Message(message_id="m-2", receipt_handle="rh-2", md5_of_body="c", body=""),
        ]
    )
    messages = ep.queues.receive_message(
        URL,
        max_number_of_messages=10,
        wait_time_seconds=0,
        visibility_timeout=0,
        message_system_attribute_names=["All"],
        message_attribute_names=["kind", "b.*"],
        receive_request_attempt_id="attempt-1",
    )
    assert messages == [
        Message(
            "m-1",
            "rh-1",
            "b",
            "hello",
            {"ApproximateReceiveCount": "2"},
            "ma",
            {
                "kind": MessageAttribute("String", string_value="x"),
                "blob": MessageAttribute("Binary.gz", binary_value=b"\x01"),
            },
        ),
        Message("m-2", "rh-2", "c", "", {}, None, {}),
    ]
    req = fake.only("ReceiveMessage")
    assert req.max_number_of_messages == 10
    assert (req.wait_time_seconds, req.has_wait_time_seconds) == (0, True)
    assert (req.visibility_timeout, req.has_visibility_timeout) == (0, True)
    assert list(req.message_system_attribute_names) == ["All"]
    assert list(req.message_attribute_names) == ["kind", "b.*"]
    assert req.receive_request_attempt_id == "attempt-1"


@pytest.mark.parametrize(("wait", "at_least"), [(5, 15.0), (None, 30.0)])
def test_receive_deadline_outlasts_the_long_poll(
    served: tuple[FakeQueues, str], wait: int | None, at_least: float
) -> None:
    fake, target = served
    with Client(target, timeout=2) as client:
        client.queues.receive_message(URL, wait_time_seconds=wait)
        client.queues.get_queue_url("orders")
    # Without a wait the queue's own ReceiveMessageWaitTimeSeconds (up to 20 s) applies.
    assert fake.time_remaining["ReceiveMessage"] is not None
    # The server's clock reading of the deadline may lag or lead the client's a little.
    assert at_least - 1 < fake.time_remaining["ReceiveMessage"] < at_least + 0.5
    assert fake.time_remaining["GetQueueUrl"] is not None
    assert fake.time_remaining["GetQueueUrl"] < 2.5


def test_long_poll_longer_than_the_client_timeout_succeeds(
    served: tuple[FakeQueues, str],
) -> None:
    fake, target = served
    fake.delay = {"ReceiveMessage": 0.4, "GetQueueUrl": 0.4}
    with Client(target, timeout=0.1) as client:
        assert client.queues.receive_message(URL, wait_time_seconds=1) == []
        with pytest.raises(ServiceUnavailable, match="DEADLINE_EXCEEDED"):
            client.queues.get_queue_url("orders")


def test_no_client_timeout_means_no_deadline(served: tuple[FakeQueues, str]) -> None:
    fake, target = served
    with Client(target, timeout=None) as client:
        client.queues.receive_message(URL, wait_time_seconds=20)
    remaining = fake.time_remaining["ReceiveMessage"]
    assert remaining is None or remaining > 365 * 24 * 3600  # grpc reports "none" as huge


# --- batches of receipts ---------------------------------------------------------------


def test_delete_message_batch(fake: FakeQueues, ep: Client) -> None:
    fake.responses["DeleteMessageBatch"] = pb.DeleteMessageBatchResponse(
        successful=[pb.DeleteMessageBatchResultEntry(id="a")],
        failed=[
            pb.BatchResultErrorEntry(
                id="b", sender_fault=True, code="ReceiptHandleIsInvalid", message="no"
            )
        ],
    )
    result = ep.queues.delete_message_batch(
        URL, [DeleteMessageBatchEntry("a", "rh-a"), {"id": "b", "receipt_handle": "rh-b"}]
    )
    assert result.successful == ["a"]
    assert result.failed == [BatchResultError("b", True, "ReceiptHandleIsInvalid", "no")]
    req = fake.only("DeleteMessageBatch")
    assert [(e.id, e.receipt_handle) for e in req.entries] == [("a", "rh-a"), ("b", "rh-b")]


def test_change_message_visibility_batch(fake: FakeQueues, ep: Client) -> None:
    fake.responses["ChangeMessageVisibilityBatch"] = pb.ChangeMessageVisibilityBatchResponse(
        successful=[pb.ChangeMessageVisibilityBatchResultEntry(id="a")]
    )
    result = ep.queues.change_message_visibility_batch(
        URL,
        [
            ChangeMessageVisibilityBatchEntry("a", "rh-a", 30),
            {"id": "b", "receipt_handle": "rh-b", "visibility_timeout": 0},
        ],
    )
    assert (result.successful, result.failed) == (["a"], [])
    req = fake.only("ChangeMessageVisibilityBatch")
    assert [(e.id, e.receipt_handle, e.visibility_timeout) for e in req.entries] == [
        ("a", "rh-a", 30),
        ("b", "rh-b", 0),
    ]


# --- dead-letter queues and redrive ----------------------------------------------------


def test_list_dead_letter_source_queues_follows_pages(fake: FakeQueues, ep: Client) -> None:
    pages = {
        "": pb.ListDeadLetterSourceQueuesResponse(queue_urls=["q/a"], next_token="t"),
        "t": pb.ListDeadLetterSourceQueuesResponse(queue_urls=["q/b"]),
    }
    fake.responses["ListDeadLetterSourceQueues"] = lambda req: pages[req.next_token]
    assert ep.queues.list_dead_letter_source_queues("dlq") == ["q/a", "q/b"]
    assert [(r.queue_url, r.max_results, r.next_token) for _, r in fake.calls] == [
        ("dlq", 1000, ""),
        ("dlq", 1000, "t"),
    ]


def test_list_dead_letter_source_queues_page(fake: FakeQueues, ep: Client) -> None:
    fake.responses["ListDeadLetterSourceQueues"] = pb.ListDeadLetterSourceQueuesResponse(
        queue_urls=["q/a"], next_token="n"
    )
    page = ep.queues.list_dead_letter_source_queues_page("dlq", max_results=1)
    assert page == QueueUrlPage(["q/a"], "n")
    assert fake.only("ListDeadLetterSourceQueues").max_results == 1


def test_start_message_move_task(fake: FakeQueues, ep: Client) -> None:
    fake.responses["StartMessageMoveTask"] = pb.StartMessageMoveTaskResponse(task_handle="h1")
    handle = ep.queues.start_message_move_task(
        "dlq", destination_arn="orders", max_number_of_messages_per_second=50
    )
    assert handle == "h1"
    req = fake.only("StartMessageMoveTask")
    assert (req.source_arn, req.destination_arn, req.max_number_of_messages_per_second) == (
        "dlq",
        "orders",
        50,
    )


def test_start_message_move_task_defaults(fake: FakeQueues, ep: Client) -> None:
    ep.queues.start_message_move_task("dlq")
    req = fake.only("StartMessageMoveTask")
    assert (req.destination_arn, req.max_number_of_messages_per_second) == ("", 0)


def test_list_message_move_tasks(fake: FakeQueues, ep: Client) -> None:
    fake.responses["ListMessageMoveTasks"] = pb.ListMessageMoveTasksResponse(
        results=[
            pb.MessageMoveTask(
                task_handle="h1",
                status="RUNNING",
                source_arn="dlq",
                destination_arn="orders",
                max_number_of_messages_per_second=10,
                approximate_number_of_messages_moved=3,
                approximate_number_of_messages_to_move=9,
                started_timestamp=1700000000000,
            ),
            pb.MessageMoveTask(
                status="FAILED", source_arn="dlq", failure_reason="destination gone"
            ),
        ]
    )
    tasks = ep.queues.list_message_move_tasks("dlq", max_results=2)
    assert tasks == [
        MessageMoveTask("h1", "RUNNING", "dlq", "orders", 10, 3, 9, None, 1700000000000),
        MessageMoveTask(None, "FAILED", "dlq", None, None, 0, 0, "destination gone", 0),
    ]
    req = fake.only("ListMessageMoveTasks")
    assert (req.source_arn, req.max_results) == ("dlq", 2)


def test_cancel_message_move_task(fake: FakeQueues, ep: Client) -> None:
    fake.responses["CancelMessageMoveTask"] = pb.CancelMessageMoveTaskResponse(
        approximate_number_of_messages_moved=42
    )
    assert ep.queues.cancel_message_move_task("h1") == 42
    assert fake.only("CancelMessageMoveTask").task_handle == "h1"


# --- errors ----------------------------------------------------------------------------


def test_typed_error_arrives_with_code_and_message(fake: FakeQueues, ep: Client) -> None:
    fake.errors["GetQueueUrl"] = QueueDoesNotExist("queue 'nope' does not exist")
    with pytest.raises(QueueDoesNotExist) as info:
        ep.queues.get_queue_url("nope")
    assert info.value.code == "QueueDoesNotExist"
    assert info.value.message == "queue 'nope' does not exist"
    assert str(info.value) == "QueueDoesNotExist: queue 'nope' does not exist"


def test_typed_error_on_a_call_without_a_result(fake: FakeQueues, ep: Client) -> None:
    fake.errors["DeleteMessage"] = ReceiptHandleIsInvalid("receipt handle 'x' is malformed")
    with pytest.raises(ReceiptHandleIsInvalid, match="malformed"):
        ep.queues.delete_message(URL, "x")


def test_unknown_error_code_keeps_code_and_message(fake: FakeQueues, ep: Client) -> None:
    err = EventplaneError("something new")
    err.code = "BrandNewCode"  # type: ignore[misc]
    fake.errors["PurgeQueue"] = err
    with pytest.raises(EventplaneError) as info:
        ep.queues.purge_queue(URL)
    assert (info.value.code, info.value.message) == ("BrandNewCode", "something new")


# --- async -----------------------------------------------------------------------------


def test_async_create_and_send(served: tuple[FakeQueues, str]) -> None:
    fake, target = served
    fake.responses["CreateQueue"] = pb.CreateQueueResponse(queue_url=URL)
    fake.responses["SendMessage"] = pb.SendMessageResponse(
        message_id="m-1", md5_of_message_body="abc", sequence_number="7"
    )

    async def use(client: AsyncClient) -> tuple[str, SendMessageResult]:
        url = await client.queues.create_queue("orders", {"DelaySeconds": 1})
        sent = await client.queues.send_message(
            url,
            "hi",
            delay_seconds=3,
            message_attributes={"k": {"DataType": "String", "StringValue": "v"}},
            message_group_id="g",
        )
        return url, sent

    url, sent = run_async(target, use)
    assert url == URL
    assert sent == SendMessageResult("m-1", "abc", None, "7")
    (_, create), (_, send) = fake.calls
    assert dict(create.attributes) == {"DelaySeconds": "1"}
    assert (send.queue_url, send.delay_seconds, send.has_delay_seconds) == (URL, 3, True)
    assert send.message_attributes["k"].string_value == "v"
    assert send.message_group_id == "g"


def test_async_receive_message_deadline_and_result(served: tuple[FakeQueues, str]) -> None:
    fake, target = served
    fake.responses["ReceiveMessage"] = pb.ReceiveMessageResponse(
        messages=[pb.Message(message_id="m-1", receipt_handle="rh", md5_of_body="b", body="x")]
    )

    async def use(client: AsyncClient) -> list[Message]:
        return await client.queues.receive_message(URL, wait_time_seconds=7, visibility_timeout=9)

    messages = run_async(target, use, timeout=1)
    assert [(m.message_id, m.body) for m in messages] == [("m-1", "x")]
    req = fake.only("ReceiveMessage")
    assert (req.wait_time_seconds, req.visibility_timeout) == (7, 9)
    remaining = fake.time_remaining["ReceiveMessage"]
    assert remaining is not None and 16 < remaining < 17.5


def test_async_list_queues_and_batch(served: tuple[FakeQueues, str]) -> None:
    fake, target = served
    fake.responses["ListQueues"] = pb.ListQueuesResponse(queue_urls=["q/a"])
    fake.responses["DeleteMessageBatch"] = pb.DeleteMessageBatchResponse(
        successful=[pb.DeleteMessageBatchResultEntry(id="1")]
    )

    async def use(client: AsyncClient) -> tuple[list[str], list[str]]:
        urls = await client.queues.list_queues("q")
        deleted = await client.queues.delete_message_batch(
            URL, [{"id": "1", "receipt_handle": "rh"}]
        )
        return urls, deleted.successful

    assert run_async(target, use) == (["q/a"], ["1"])


def test_async_typed_error(served: tuple[FakeQueues, str]) -> None:
    fake, target = served
    fake.errors["DeleteQueue"] = QueueDoesNotExist("queue 'orders' does not exist")

    async def use(client: AsyncClient) -> None:
        await client.queues.delete_queue(URL)

    with pytest.raises(QueueDoesNotExist) as info:
        run_async(target, use)
    assert info.value.message == "queue 'orders' does not exist"
