"""`eventplane queue ...` against the in-process fake Queues server."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from cli_harness import cli_runner
from test_client_queues import FakeQueues, serve_fake

from eventplane._gen.v1 import queues_pb2 as pb
from eventplane.cli import main
from eventplane.errors.queues import QueueDoesNotExist

URL = "eventplane://queues/orders"


@pytest.fixture
def served() -> Iterator[tuple[FakeQueues, str]]:
    with serve_fake() as pair:
        yield pair


@pytest.fixture
def fake(served: tuple[FakeQueues, str]) -> FakeQueues:
    return served[0]


@pytest.fixture
def run(served: tuple[FakeQueues, str], capsys: pytest.CaptureFixture[str]) -> Any:
    """Run `eventplane queue <args> --endpoint <fake>`; returns (exit code, stdout, stderr)."""

    return cli_runner("queue", served[1], capsys)


def test_create_with_attributes_and_fifo(fake: FakeQueues, run: Any) -> None:
    fake.responses["CreateQueue"] = pb.CreateQueueResponse(queue_url=URL + ".fifo")
    code, out, _ = run(
        "create", "orders.fifo", "--attribute", "VisibilityTimeout=60", "--fifo", "--json"
    )
    assert code == 0
    assert json.loads(out) == {"queue_url": URL + ".fifo"}
    req = fake.only("CreateQueue")
    assert req.queue_name == "orders.fifo"
    assert dict(req.attributes) == {"VisibilityTimeout": "60", "FifoQueue": "true"}


def test_create_prints_the_url(fake: FakeQueues, run: Any) -> None:
    fake.responses["CreateQueue"] = pb.CreateQueueResponse(queue_url=URL)
    assert run("create", "orders") == (0, URL + "\n", "")


def test_list_with_prefix(fake: FakeQueues, run: Any) -> None:
    fake.responses["ListQueues"] = pb.ListQueuesResponse(queue_urls=["q/a", "q/b"])
    code, out, _ = run("list", "--prefix", "q", "--json")
    assert (code, json.loads(out)) == (0, {"queue_urls": ["q/a", "q/b"]})
    assert fake.only("ListQueues").queue_name_prefix == "q"
    assert run("list")[1] == "q/a\nq/b\n"


def test_url_and_delete(fake: FakeQueues, run: Any) -> None:
    fake.responses["GetQueueUrl"] = pb.GetQueueUrlResponse(queue_url=URL)
    assert run("url", "orders", "--json")[:2] == (
        0,
        json.dumps({"queue_url": URL}, indent=2) + "\n",
    )
    code, out, _ = run("delete", "orders")
    assert (code, out) == (0, "deleted queue orders\n")
    assert [name for name, _ in fake.calls] == ["GetQueueUrl", "DeleteQueue"]
    assert fake.calls[1][1].queue_url == "orders"


def test_send_with_typed_attributes(fake: FakeQueues, run: Any) -> None:
    fake.responses["SendMessage"] = pb.SendMessageResponse(
        message_id="m-1", md5_of_message_body="abc", sequence_number="9"
    )
    blob = base64.b64encode(b"\x00\xff").decode()
    code, out, _ = run(
        "send", "orders", "--body", "hello",
        "--group-id", "g", "--dedup-id", "d", "--delay", "0",
        "--attribute", "plain=red",
        "--attribute", "count=Number.int:3",
        "--attribute", "blob=Binary:" + blob,
        "--attribute", "link=http://example.com/x",
        "--json",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out) == {
        "message_id": "m-1",
        "md5_of_message_body": "abc",
        "md5_of_message_attributes": None,
        "sequence_number": "9",
    }
    req = fake.only("SendMessage")
    assert (req.message_body, req.message_group_id, req.message_deduplication_id) == (
        "hello",
        "g",
        "d",
    )
    assert (req.delay_seconds, req.has_delay_seconds) == (0, True)
    attrs = {
        k: (v.data_type, v.string_value, v.binary_value) for k, v in req.message_attributes.items()
    }
    assert attrs == {
        "plain": ("String", "red", b""),
        "count": ("Number.int", "3", b""),
        "blob": ("Binary", "", b"\x00\xff"),
        "link": ("String", "http://example.com/x", b""),
    }


def test_send_reads_the_body_from_stdin(
    fake: FakeQueues, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.responses["SendMessage"] = pb.SendMessageResponse(message_id="m-1")
    monkeypatch.setattr("sys.stdin", io.StringIO('{"order": 1}\n'))
    code, out, _ = run("send", "orders")
    assert (code, out) == (0, "sent m-1\n")
    req = fake.only("SendMessage")
    assert req.message_body == '{"order": 1}\n'
    assert req.has_delay_seconds is False


@pytest.mark.parametrize("attribute", ["novalue", "=x", "b=Binary:not base64!"])
def test_send_rejects_a_bad_attribute_as_usage_error(
    fake: FakeQueues, run: Any, attribute: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        run("send", "orders", "--body", "x", "--attribute", attribute)
    assert info.value.code == 2
    assert "--attribute" in capsys.readouterr().err
    assert fake.calls == []


def _received() -> pb.ReceiveMessageResponse:
    return pb.ReceiveMessageResponse(
        messages=[
            pb.Message(
                message_id="m-1",
                receipt_handle="rh-1",
                md5_of_body="b1",
                body="first",
                attributes={"ApproximateReceiveCount": "1"},
                message_attributes={
                    "blob": pb.MessageAttributeValue(data_type="Binary", binary_value=b"\x01"),
                },
            ),
            pb.Message(message_id="m-2", receipt_handle="rh-2", md5_of_body="b2", body="second"),
        ]
    )


def test_receive_json_then_delete(fake: FakeQueues, run: Any) -> None:
    fake.responses["ReceiveMessage"] = _received()
    code, out, _ = run(
        "receive", "orders", "--max", "10", "--wait", "0", "--visibility", "5", "--delete", "--json"
    )
    assert code == 0
    printed = json.loads(out)
    assert [m["body"] for m in printed] == ["first", "second"]
    assert printed[0]["message_attributes"] == {
        "blob": {"data_type": "Binary", "string_value": None, "binary_value": "AQ=="}
    }
    assert printed[0]["attributes"] == {"ApproximateReceiveCount": "1"}
    (_, receive), (rpc, delete) = fake.calls
    assert (receive.max_number_of_messages, receive.wait_time_seconds) == (10, 0)
    assert (receive.has_wait_time_seconds, receive.visibility_timeout) == (True, 5)
    assert list(receive.message_attribute_names) == ["All"]
    assert rpc == "DeleteMessageBatch"
    assert [e.receipt_handle for e in delete.entries] == ["rh-1", "rh-2"]


def test_receive_human_output_without_delete(fake: FakeQueues, run: Any) -> None:
    fake.responses["ReceiveMessage"] = _received()
    code, out, _ = run("receive", "orders")
    assert code == 0
    assert "--- m-1" in out and "first" in out and "attribute blob (Binary): AQ==" in out
    assert "receipt-handle: rh-2" in out
    assert [name for name, _ in fake.calls] == ["ReceiveMessage"]


def test_receive_nothing(fake: FakeQueues, run: Any) -> None:
    assert run("receive", "orders", "--delete") == (0, "no messages\n", "")
    assert [name for name, _ in fake.calls] == ["ReceiveMessage"]


def test_receive_delete_failure_exits_1(fake: FakeQueues, run: Any) -> None:
    fake.responses["ReceiveMessage"] = _received()
    fake.responses["DeleteMessageBatch"] = pb.DeleteMessageBatchResponse(
        successful=[pb.DeleteMessageBatchResultEntry(id="0")],
        failed=[
            pb.BatchResultErrorEntry(
                id="1", sender_fault=True, code="ReceiptHandleIsInvalid", message="expired"
            )
        ],
    )
    code, _, err = run("receive", "orders", "--max", "2", "--delete")
    assert code == 1
    assert err == "eventplane: not deleted m-2: ReceiptHandleIsInvalid: expired\n"


def test_delete_message(fake: FakeQueues, run: Any) -> None:
    code, out, _ = run("delete-message", "orders", "rh-1", "--json")
    assert (code, json.loads(out)) == (0, {"deleted": True})
    req = fake.only("DeleteMessage")
    assert (req.queue_url, req.receipt_handle) == ("orders", "rh-1")


def test_attributes_get_and_set(fake: FakeQueues, run: Any) -> None:
    fake.responses["GetQueueAttributes"] = pb.GetQueueAttributesResponse(
        attributes={"VisibilityTimeout": "30", "DelaySeconds": "0"}
    )
    code, out, _ = run("attributes", "get", "orders", "--json")
    assert (code, json.loads(out)) == (0, {"VisibilityTimeout": "30", "DelaySeconds": "0"})
    assert run("attributes", "get", "orders", "DelaySeconds")[1] == (
        "DelaySeconds: 0\nVisibilityTimeout: 30\n"
    )
    assert list(fake.calls[1][1].attribute_names) == ["DelaySeconds"]
    code, out, _ = run("attributes", "set", "orders", "DelaySeconds=5", "MaximumMessageSize=1024")
    assert (code, out) == (0, "updated DelaySeconds, MaximumMessageSize on orders\n")
    assert dict(fake.calls[2][1].attributes) == {
        "DelaySeconds": "5",
        "MaximumMessageSize": "1024",
    }


def test_purge(fake: FakeQueues, run: Any) -> None:
    assert run("purge", "orders") == (0, "purged queue orders\n", "")
    assert fake.only("PurgeQueue").queue_url == "orders"


def test_redrive_start_list_cancel(fake: FakeQueues, run: Any) -> None:
    fake.responses["StartMessageMoveTask"] = pb.StartMessageMoveTaskResponse(task_handle="h1")
    fake.responses["ListMessageMoveTasks"] = pb.ListMessageMoveTasksResponse(
        results=[
            pb.MessageMoveTask(
                task_handle="h1",
                status="RUNNING",
                source_arn="dlq",
                approximate_number_of_messages_moved=2,
                approximate_number_of_messages_to_move=5,
            )
        ]
    )
    fake.responses["CancelMessageMoveTask"] = pb.CancelMessageMoveTaskResponse(
        approximate_number_of_messages_moved=2
    )
    code, out, _ = run("redrive", "start", "dlq", "--destination", "orders", "--rate", "50")
    assert (code, out) == (0, "redrive started: h1\n")
    code, out, _ = run("redrive", "list", "dlq", "--json")
    assert code == 0
    assert json.loads(out)[0]["task_handle"] == "h1"
    assert json.loads(out)[0]["destination_arn"] is None
    code, out, _ = run("redrive", "list", "dlq")
    assert "RUNNING" in out and "moved 2/5" in out and "handle: h1" in out
    code, out, _ = run("redrive", "cancel", "h1", "--json")
    assert (code, json.loads(out)) == (0, {"approximate_number_of_messages_moved": 2})
    start = fake.calls[0][1]
    assert (start.source_arn, start.destination_arn) == ("dlq", "orders")
    assert start.max_number_of_messages_per_second == 50
    assert fake.calls[3][1].task_handle == "h1"


def test_error_exits_1_with_one_line(fake: FakeQueues, run: Any) -> None:
    fake.errors["GetQueueUrl"] = QueueDoesNotExist("queue 'nope' does not exist")
    code, out, err = run("url", "nope", "--json")
    assert code == 1
    assert out == ""
    assert err == "eventplane: QueueDoesNotExist: queue 'nope' does not exist\n"


def test_endpoint_from_the_environment(
    served: tuple[FakeQueues, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake, target = served
    monkeypatch.setenv("EVENTPLANE_ENDPOINT", target)
    fake.responses["GetQueueUrl"] = pb.GetQueueUrlResponse(queue_url=URL)
    assert main(["queue", "url", "orders"]) == 0
    assert capsys.readouterr().out == URL + "\n"


def test_queue_needs_an_action(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["queue"])
    assert info.value.code == 2
    assert "ACTION" in capsys.readouterr().err
