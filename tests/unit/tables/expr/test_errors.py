"""DynamoDB's error codes travel like every eventplane error (code, gRPC status)."""

from __future__ import annotations

import grpc

from eventplane.errors import EventplaneError
from eventplane.errors.rpc import status_of
from eventplane.tables.expr import ConditionalCheckFailedException, ValidationException


def test_conditional_check_failed_carries_code_and_old_item() -> None:
    err = ConditionalCheckFailedException(item={"pk": {"S": "a"}})
    assert err.code == "ConditionalCheckFailedException"
    assert err.message == "The conditional request failed"
    assert status_of(err) == grpc.StatusCode.FAILED_PRECONDITION
    assert err.item == {"pk": {"S": "a"}}
    assert not err.retriable


def test_codes_round_trip_to_the_same_classes() -> None:
    back = EventplaneError.from_code(
        "ConditionalCheckFailedException", "The conditional request failed"
    )
    assert isinstance(back, ConditionalCheckFailedException) and back.item is None
    assert isinstance(EventplaneError.from_code("ValidationException", "x"), ValidationException)
    assert status_of(ValidationException("x")) == grpc.StatusCode.INVALID_ARGUMENT
