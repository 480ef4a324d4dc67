"""The one home of every eventplane error: neutral about transport.

``base`` holds the root ``EventplaneError``, its ``Category`` and the generic
codes; ``queues``, ``topics``, ``bus``, ``functions``, ``workflows`` and ``tables``
hold each capability's AWS codes (the capability packages re-export them from
their ``errors.py``); ``security`` holds the authorization codes.
Importing this package loads every error class, so ``EventplaneError.from_code``
rebuilds the right type in any process, and it loads nothing else: no gRPC,
no Kafka client, no capability, no server (tests/unit/test_errors.py pins this).

Transports map ``Category`` onto their own status codes, each in one table of
its own adapter module beside these:
- ``eventplane.errors.rpc``: gRPC status and trailing metadata (server
  interceptor and SDK both use it);
- ``eventplane.errors.http`` (to come with the AWS-protocol gateway): HTTP
  status and the AWS error body, keyed by the same ``Category``.
"""

from __future__ import annotations

from typing import Any

from eventplane.errors import bus, functions, queues, security, tables, topics, workflows
from eventplane.errors.base import (
    DEFAULT_FOR_CATEGORY,
    AccessDeniedError,
    AlreadyExistsError,
    Category,
    EventplaneError,
    InternalFailure,
    InvalidParameterValue,
    InvalidRequestError,
    MissingParameter,
    NotFoundError,
    PreconditionError,
    ResourceAlreadyExists,
    ResourceNotFound,
    ServiceUnavailable,
    ThrottledError,
    ThrottlingException,
    UnavailableError,
    ValidationException,
    lookup,
)

__all__ = [
    "DEFAULT_FOR_CATEGORY",
    "AccessDeniedError",
    "AlreadyExistsError",
    "Category",
    "EventplaneError",
    "InternalFailure",
    "InvalidParameterValue",
    "InvalidRequestError",
    "MissingParameter",
    "NotFoundError",
    "PreconditionError",
    "ResourceAlreadyExists",
    "ResourceNotFound",
    "ServiceUnavailable",
    "ThrottledError",
    "ThrottlingException",
    "UnavailableError",
    "ValidationException",
    "bus",
    "functions",
    "lookup",
    "queues",
    "security",
    "tables",
    "topics",
    "workflows",
]

# Transitional: these gRPC helpers moved to ``eventplane.errors.rpc``. Old imports
# (``from eventplane.errors import from_rpc``) still work, loading gRPC only when used.
_MOVED_TO_RPC = frozenset({"CODE_KEY", "RETRIABLE_KEY", "from_rpc", "trailing_metadata"})


def __getattr__(name: str) -> Any:
    if name in _MOVED_TO_RPC:
        from eventplane.errors import rpc

        return getattr(rpc, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
