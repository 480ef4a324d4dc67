from __future__ import annotations

import grpc
import pytest

from eventplane import errors
from eventplane.errors import EventplaneError, InvalidParameterValue, from_rpc


class _FakeRpcError(grpc.RpcError):
    def __init__(self, status: grpc.StatusCode, details: str, md: tuple = ()) -> None:
        self._status, self._details, self._md = status, details, md

    def code(self) -> grpc.StatusCode:
        return self._status

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> tuple:
        return self._md


def test_every_code_maps_to_one_class_and_a_status() -> None:
    for code in ("InvalidParameterValue", "MissingParameter", "ResourceNotFoundException"):
        cls = errors.lookup(code)
        assert cls is not None and cls.code == code
        assert isinstance(cls.status, grpc.StatusCode)


def test_round_trip_through_trailing_metadata() -> None:
    err = InvalidParameterValue("Value 99 for parameter X is invalid")
    md = errors.trailing_metadata(err)
    back = from_rpc(_FakeRpcError(err.status, err.message, md))
    assert type(back) is InvalidParameterValue
    assert back.code == "InvalidParameterValue"
    assert back.message == err.message
    assert not back.retriable


def test_unknown_code_keeps_its_text() -> None:
    back = from_rpc(
        _FakeRpcError(grpc.StatusCode.INVALID_ARGUMENT, "nope", ((errors.CODE_KEY, "Weird"),))
    )
    assert type(back) is EventplaneError
    assert back.code == "Weird"


@pytest.mark.parametrize(
    ("status", "cls", "retriable"),
    [
        (grpc.StatusCode.UNAVAILABLE, errors.ServiceUnavailable, True),
        (grpc.StatusCode.NOT_FOUND, errors.ResourceNotFound, False),
        (grpc.StatusCode.UNKNOWN, errors.InternalFailure, False),
    ],
)
def test_errors_without_code_fall_back_by_status(status, cls, retriable) -> None:  # type: ignore[no-untyped-def]
    back = from_rpc(_FakeRpcError(status, "down"))
    assert type(back) is cls
    assert back.retriable is retriable


def test_str_shows_code_and_message() -> None:
    assert str(InvalidParameterValue("bad X")) == "InvalidParameterValue: bad X"


def test_sdk_alone_maps_capability_codes_to_their_classes() -> None:
    # A fresh interpreter that imports only the SDK: the queue and topic error
    # classes must be registered without the program importing them itself.
    import subprocess
    import sys

    code = (
        "import eventplane.client\n"
        "from eventplane.errors import EventplaneError as E\n"
        "print(type(E.from_code('QueueDoesNotExist', 'x')).__name__,"
        " type(E.from_code('NotFound', 'x')).__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["QueueDoesNotExist", "NotFound"]
