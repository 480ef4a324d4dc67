"""Typed errors with AWS-style codes, and the one table that maps them to gRPC.

Every error a user can see is an EventplaneError subclass carrying:
- ``code``: the machine-readable code AWS uses for the same case
  (``QueueDoesNotExist``, ``ReceiptHandleIsInvalid``, ...);
- a message a user can act on (it names the offending field);
- ``retriable``: whether repeating the same call may succeed.

The server sends ``code`` and ``retriable`` in trailing metadata next to the gRPC
status; the SDK turns them back into the same class (``from_rpc``). Both sides
use ``GRPC_STATUS`` below, so the mapping lives in exactly one place.
"""

from __future__ import annotations

from typing import ClassVar

import grpc

CODE_KEY = "eventplane-error-code"
RETRIABLE_KEY = "eventplane-retriable"

_BY_CODE: dict[str, type[EventplaneError]] = {}


class EventplaneError(Exception):
    """Root of every eventplane error. Subclasses set ``code`` and ``status``."""

    code: ClassVar[str] = "InternalFailure"
    status: ClassVar[grpc.StatusCode] = grpc.StatusCode.INTERNAL
    retriable: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        # The first class that declares a code owns it; intermediate
        # category classes share their parent's code and are not registered.
        if "code" in cls.__dict__:
            _BY_CODE.setdefault(cls.code, cls)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __reduce__(self) -> tuple[type[EventplaneError], tuple[str]]:
        return (type(self), (self.message,))

    @staticmethod
    def from_code(code: str, message: str) -> EventplaneError:
        """The typed error for ``code``; an unknown code keeps its text on the base class."""
        cls = _BY_CODE.get(code)
        if cls is None:
            err = EventplaneError(message)
            err.code = code  # type: ignore[misc]
            return err
        return cls(message)


_BY_CODE[EventplaneError.code] = EventplaneError


# --- categories (one per gRPC status) -------------------------------------------------


class InvalidRequestError(EventplaneError):
    status = grpc.StatusCode.INVALID_ARGUMENT


class NotFoundError(EventplaneError):
    status = grpc.StatusCode.NOT_FOUND


class AlreadyExistsError(EventplaneError):
    status = grpc.StatusCode.ALREADY_EXISTS


class PreconditionError(EventplaneError):
    status = grpc.StatusCode.FAILED_PRECONDITION


class ThrottledError(EventplaneError):
    status = grpc.StatusCode.RESOURCE_EXHAUSTED
    retriable = True


class UnavailableError(EventplaneError):
    status = grpc.StatusCode.UNAVAILABLE
    retriable = True


# --- generic codes (shared by every capability) ---------------------------------------


class InvalidParameterValue(InvalidRequestError):
    code = "InvalidParameterValue"


class MissingParameter(InvalidRequestError):
    code = "MissingParameter"


class ValidationException(InvalidRequestError):
    code = "ValidationException"


class ResourceNotFound(NotFoundError):
    code = "ResourceNotFoundException"


class ResourceAlreadyExists(AlreadyExistsError):
    code = "ResourceAlreadyExistsException"


class ThrottlingException(ThrottledError):
    code = "ThrottlingException"


class ServiceUnavailable(UnavailableError):
    code = "ServiceUnavailable"


class InternalFailure(EventplaneError):
    code = "InternalFailure"


def lookup(code: str) -> type[EventplaneError] | None:
    """The class registered for ``code``, if any."""
    return _BY_CODE.get(code)


GRPC_STATUS: dict[grpc.StatusCode, type[EventplaneError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidParameterValue,
    grpc.StatusCode.NOT_FOUND: ResourceNotFound,
    grpc.StatusCode.ALREADY_EXISTS: ResourceAlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: PreconditionError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ThrottlingException,
    grpc.StatusCode.UNAVAILABLE: ServiceUnavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: ServiceUnavailable,
    grpc.StatusCode.INTERNAL: InternalFailure,
}
"""Fallback class per gRPC status, for errors that arrive without a code."""


def trailing_metadata(err: EventplaneError) -> tuple[tuple[str, str], ...]:
    return ((CODE_KEY, err.code), (RETRIABLE_KEY, "true" if err.retriable else "false"))


def from_rpc(exc: grpc.RpcError) -> EventplaneError:
    """Turn a failed gRPC call into the typed error the server raised."""
    call = exc  # grpc.RpcError raised by stubs is also a grpc.Call
    code_fn = getattr(call, "code", None)
    status = code_fn() if callable(code_fn) else grpc.StatusCode.UNKNOWN
    details_fn = getattr(call, "details", None)
    message = (details_fn() if callable(details_fn) else None) or str(status)
    md_fn = getattr(call, "trailing_metadata", None)
    metadata = dict(md_fn() or ()) if callable(md_fn) else {}
    code = metadata.get(CODE_KEY)
    if code:
        return EventplaneError.from_code(str(code), message)
    fallback = GRPC_STATUS.get(status, InternalFailure)
    return fallback(f"{status.name}: {message}")
