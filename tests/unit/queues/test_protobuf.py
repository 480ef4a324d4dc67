"""The gRPC edge of the queues core: protobuf <-> SQS shapes (queues/protobuf.py).

Every request and answer of the Queues service passes through these two functions, so
what they must keep is pinned here: optional numbers given as 0, limits left at 0,
message attributes with a string or a binary value, nested lists and maps.
"""

from __future__ import annotations

from eventplane._gen.v1 import queues_pb2 as pb
from eventplane.queues import shapes
from eventplane.queues.protobuf import from_shape, to_shape


def test_an_optional_number_given_as_zero_is_kept_and_one_not_given_is_absent() -> None:
    req = to_shape(
        shapes.ReceiveMessageRequest,
        pb.ReceiveMessageRequest(queue_url="q", visibility_timeout=0, has_visibility_timeout=True),
    )
    assert req.visibility_timeout == 0
    assert req.wait_time_seconds is None  # has_wait_time_seconds not set
    assert req.max_number_of_messages is None  # a max_* limit left at 0 is not given


def test_a_given_optional_number_sets_its_flag_on_the_way_out() -> None:
    msg = from_shape(
        pb.ReceiveMessageRequest,
        shapes.ReceiveMessageRequest(queue_url="q", wait_time_seconds=0, max_number_of_messages=7),
    )
    assert msg.has_wait_time_seconds and msg.wait_time_seconds == 0
    assert not msg.has_visibility_timeout
    assert msg.max_number_of_messages == 7


def test_a_batch_with_attributes_round_trips() -> None:
    entries = [
        shapes.SendMessageBatchRequestEntry(
            id=f"e{i}",
            message_body=f"body {i}",
            delay_seconds=i if i % 2 else None,
            message_attributes={
                "s": shapes.MessageAttribute(data_type="String", string_value=f"v{i}"),
                "b": shapes.MessageAttribute(data_type="Binary", binary_value=b"\x00\x01"),
                "e": shapes.MessageAttribute(data_type="String", string_value=""),
            },
            message_group_id="g",
        )
        for i in range(3)
    ]
    batch = shapes.SendMessageBatchRequest(queue_url="q", entries=entries)
    wire = from_shape(pb.SendMessageBatchRequest, batch)
    assert [e.has_delay_seconds for e in wire.entries] == [False, True, False]
    back = to_shape(shapes.SendMessageBatchRequest, wire)
    assert back == batch
    assert isinstance(back.entries, list) and isinstance(back.entries[0].message_attributes, dict)


def test_received_messages_round_trip() -> None:
    result = shapes.ReceiveMessageResult(
        messages=[
            shapes.Message(
                message_id="m",
                receipt_handle="r",
                md5_of_body="x",
                body="hello",
                attributes={"ApproximateReceiveCount": "1"},
                message_attributes={
                    "n": shapes.MessageAttribute(data_type="Number", string_value="1")
                },
            )
        ]
    )
    wire = from_shape(pb.ReceiveMessageResponse, result)
    assert wire.messages[0].attributes["ApproximateReceiveCount"] == "1"
    assert to_shape(shapes.ReceiveMessageResult, wire) == result
