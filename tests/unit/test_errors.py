from __future__ import annotations

import subprocess
import sys

import grpc
import pytest

from eventplane import errors
from eventplane.errors import Category, EventplaneError, InvalidParameterValue
from eventplane.errors.base import _BY_CODE
from eventplane.errors.rpc import STATUS_BY_CATEGORY, from_rpc, status_of, trailing_metadata


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
        assert isinstance(status_of(cls), grpc.StatusCode)


def test_every_registered_class_has_a_category_the_grpc_table_maps() -> None:
    assert set(STATUS_BY_CATEGORY) == set(Category)
    assert len(set(STATUS_BY_CATEGORY.values())) == len(Category)  # the table is one-to-one
    # Every capability's codes are registered by importing eventplane.errors alone.
    for code in ("QueueDoesNotExist", "NotFound", "InvalidEventPatternException"):
        assert code in _BY_CODE
    assert "TooManyRequestsException" in _BY_CODE
    for code, cls in _BY_CODE.items():
        assert cls.code == code
        assert isinstance(cls.category, Category), cls


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("QueueDoesNotExist", grpc.StatusCode.NOT_FOUND),
        ("QueueNameExists", grpc.StatusCode.ALREADY_EXISTS),
        ("MessageNotInflight", grpc.StatusCode.FAILED_PRECONDITION),
        ("OverLimit", grpc.StatusCode.RESOURCE_EXHAUSTED),
        ("InvalidParameter", grpc.StatusCode.INVALID_ARGUMENT),
        ("IllegalStatusException", grpc.StatusCode.FAILED_PRECONDITION),
        ("ServiceException", grpc.StatusCode.INTERNAL),
        ("ServiceUnavailable", grpc.StatusCode.UNAVAILABLE),
        ("InternalFailure", grpc.StatusCode.INTERNAL),
    ],
)
def test_capability_codes_keep_their_grpc_status(code: str, status: grpc.StatusCode) -> None:
    cls = errors.lookup(code)
    assert cls is not None
    assert status_of(cls) is status


def test_client_fault_follows_the_category() -> None:
    assert Category.INVALID_REQUEST.client_fault
    assert Category.THROTTLED.client_fault
    assert not Category.UNAVAILABLE.client_fault
    assert not Category.INTERNAL.client_fault


def test_round_trip_through_trailing_metadata() -> None:
    err = InvalidParameterValue("Value 99 for parameter X is invalid")
    md = trailing_metadata(err)
    back = from_rpc(_FakeRpcError(status_of(err), err.message, md))
    assert type(back) is InvalidParameterValue
    assert back.code == "InvalidParameterValue"
    assert back.message == err.message
    assert not back.retriable


def test_unknown_code_keeps_its_text() -> None:
    back = from_rpc(
        _FakeRpcError(grpc.StatusCode.INVALID_ARGUMENT, "nope", ((errors.rpc.CODE_KEY, "Weird"),))
    )
    assert type(back) is EventplaneError
    assert back.code == "Weird"


@pytest.mark.parametrize(
    ("status", "cls", "retriable"),
    [
        (grpc.StatusCode.UNAVAILABLE, errors.ServiceUnavailable, True),
        (grpc.StatusCode.DEADLINE_EXCEEDED, errors.ServiceUnavailable, True),
        (grpc.StatusCode.NOT_FOUND, errors.ResourceNotFound, False),
        (grpc.StatusCode.INVALID_ARGUMENT, errors.InvalidParameterValue, False),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, errors.ThrottlingException, True),
        (grpc.StatusCode.UNKNOWN, errors.InternalFailure, False),
    ],
)
def test_errors_without_code_fall_back_by_status(status, cls, retriable) -> None:  # type: ignore[no-untyped-def]
    back = from_rpc(_FakeRpcError(status, "down"))
    assert type(back) is cls
    assert back.retriable is retriable


def test_str_shows_code_and_message() -> None:
    assert str(InvalidParameterValue("bad X")) == "InvalidParameterValue: bad X"


def test_capability_error_modules_reexport_the_same_classes() -> None:
    from eventplane.bus import errors as bus_errors
    from eventplane.functions import errors as fn_errors
    from eventplane.topics import errors as t_errors

    assert t_errors.NotFound is errors.topics.NotFound
    assert bus_errors.IllegalStatus is errors.bus.IllegalStatus
    assert fn_errors.ResourceNotFoundException is errors.ResourceNotFound
    for module in (bus_errors, fn_errors, t_errors):
        for name in module.__all__:
            assert issubclass(getattr(module, name), EventplaneError)


def test_table_error_modules_reexport_the_neutral_classes() -> None:
    from eventplane.tables import errors as tb_errors
    from eventplane.tables import transactions
    from eventplane.tables.expr import errors as expr_errors

    assert tb_errors.ResourceInUseException is errors.tables.ResourceInUseException
    assert expr_errors.ConditionalCheckFailedException is (
        errors.tables.ConditionalCheckFailedException
    )
    assert transactions.TransactionCanceledException is errors.tables.TransactionCanceledException
    assert transactions.CancellationReason is errors.tables.CancellationReason
    for name in errors.tables.__all__:
        cls = getattr(errors.tables, name)
        if isinstance(cls, type) and issubclass(cls, EventplaneError):
            assert EventplaneError.from_code(cls.code, "m").__class__ is cls


def test_old_grpc_helper_imports_still_resolve() -> None:
    from eventplane.errors import from_rpc as old_from_rpc

    assert old_from_rpc is from_rpc
    with pytest.raises(AttributeError):
        _ = errors.no_such_name  # type: ignore[attr-defined]


_SERVER_SIDE = (
    "grpc",
    "confluent_kafka",
    "prometheus_client",
    "fastavro",
    "eventplane.server",
    "eventplane.kafka",
    "eventplane.runtime",
    "eventplane.observability",
    "eventplane.queues",
    "eventplane.topics",
    "eventplane.bus",
    "eventplane.functions",
    "eventplane.workflows",
    "eventplane.tables",
)


def test_importing_errors_loads_nothing_of_a_transport_or_the_server() -> None:
    code = (
        "import sys\n"
        "import eventplane.errors\n"
        f"bad = sorted(m for m in sys.modules"
        f" if any(m == p or m.startswith(p + '.') for p in {_SERVER_SIDE!r}))\n"
        "print(' '.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == []


def test_sdk_alone_maps_capability_codes_to_their_classes() -> None:
    # A fresh interpreter that imports only the SDK: the queue and topic error
    # classes must be registered without the program importing them itself.
    code = (
        "import eventplane.client\n"
        "from eventplane.errors import EventplaneError as E\n"
        "print(type(E.from_code('QueueDoesNotExist', 'x')).__name__,"
        " type(E.from_code('NotFound', 'x')).__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["QueueDoesNotExist", "NotFound"]
