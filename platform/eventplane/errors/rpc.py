"""The gRPC adapter for eventplane errors: the one category → status table.

The server's interceptor aborts a call with ``status_of(err)`` and puts the
AWS code and ``retriable`` in trailing metadata (``trailing_metadata``); the SDK
turns a failed call back into the same class (``from_rpc``). Both sides use
``STATUS_BY_CATEGORY``, so the mapping lives in exactly one place. This module
imports gRPC, which is why it stays apart from the neutral error classes.
"""

from __future__ import annotations

import grpc

from eventplane.errors.base import DEFAULT_FOR_CATEGORY, Category, EventplaneError

__all__ = [
    "CODE_KEY",
    "RETRIABLE_KEY",
    "STATUS_BY_CATEGORY",
    "from_rpc",
    "status_of",
    "trailing_metadata",
]

CODE_KEY = "eventplane-error-code"
RETRIABLE_KEY = "eventplane-retriable"

STATUS_BY_CATEGORY: dict[Category, grpc.StatusCode] = {
    Category.INVALID_REQUEST: grpc.StatusCode.INVALID_ARGUMENT,
    Category.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    Category.ALREADY_EXISTS: grpc.StatusCode.ALREADY_EXISTS,
    Category.PRECONDITION: grpc.StatusCode.FAILED_PRECONDITION,
    Category.THROTTLED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    Category.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
    Category.INTERNAL: grpc.StatusCode.INTERNAL,
    Category.ACCESS_DENIED: grpc.StatusCode.PERMISSION_DENIED,
}

# Statuses a call may end with that no eventplane error raises itself (a deadline
# set by the client, a server that never answered) and what they mean.
_CATEGORY_BY_STATUS: dict[grpc.StatusCode, Category] = {
    **{status: category for category, status in STATUS_BY_CATEGORY.items()},
    grpc.StatusCode.DEADLINE_EXCEEDED: Category.UNAVAILABLE,
}


def status_of(err: EventplaneError | type[EventplaneError]) -> grpc.StatusCode:
    """The gRPC status a call that failed with ``err`` ends with."""
    return STATUS_BY_CATEGORY[err.category]


def trailing_metadata(err: EventplaneError) -> tuple[tuple[str, str], ...]:
    """The metadata that lets the SDK rebuild ``err``'s class: code and retriable."""
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
    category = _CATEGORY_BY_STATUS.get(status, Category.INTERNAL)
    return DEFAULT_FOR_CATEGORY[category](f"{status.name}: {message}")
