"""The gateway's own errors (authentication, protocol) and the one HTTP status table.

Capability errors arrive as ``EventplaneError`` subclasses from the cores; the
gateway adds the failures only an HTTP front door can have: a missing or bad
signature, an unknown action, a body that does not parse or is too large.
``http_status`` is the single place an error becomes an HTTP status code.
"""

from __future__ import annotations

from eventplane.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    EventplaneError,
    InvalidRequestError,
    NotFoundError,
    PreconditionError,
    ThrottledError,
    UnavailableError,
)


class AuthenticationError(EventplaneError):
    """The request's identity could not be established (HTTP 403)."""


class MissingAuthenticationToken(AuthenticationError):
    code = "MissingAuthenticationToken"


class InvalidSignatureException(AuthenticationError):
    code = "InvalidSignatureException"


class SignatureDoesNotMatch(AuthenticationError):
    code = "SignatureDoesNotMatch"


class IncompleteSignature(AuthenticationError):
    code = "IncompleteSignature"


class UnrecognizedClientException(AuthenticationError):
    code = "UnrecognizedClientException"


class InvalidClientTokenId(AuthenticationError):
    code = "InvalidClientTokenId"


class UnknownOperationException(InvalidRequestError):
    code = "UnknownOperationException"


class InvalidAction(InvalidRequestError):
    code = "InvalidAction"


class SerializationException(InvalidRequestError):
    code = "SerializationException"


class MalformedQueryString(InvalidRequestError):
    code = "MalformedQueryString"


class RequestEntityTooLarge(InvalidRequestError):
    code = "RequestEntityTooLarge"


class UnsupportedAction(InvalidRequestError):
    """An action the service model has and eventplane does not implement (yet)."""

    code = "UnsupportedOperation"


# Codes first (exceptions to their category), then categories by inheritance.
HTTP_STATUS: dict[str | type[EventplaneError], int] = {
    "RequestEntityTooLarge": 413,
    # Lambda's wire code for a payload over its limit (its model names the shape
    # RequestTooLargeException, status 413).
    "RequestEntityTooLargeException": 413,
    "ResourceNotFoundException": 404,
    AuthenticationError: 403,
    # An authorization denial (security.policy's AccessDeniedException): Lambda, SNS and
    # most services answer 403.
    AccessDeniedError: 403,
    InvalidRequestError: 400,
    NotFoundError: 400,  # SQS answers QueueDoesNotExist with 400, like every client fault
    AlreadyExistsError: 400,
    PreconditionError: 400,
    ThrottledError: 400,
    UnavailableError: 503,
}


# Services that answer a category differently: SQS (query and JSON 1.0 alike) answers
# every client fault with 400, an access denial included (its documented AccessDenied).
SERVICE_STATUS: dict[str, dict[type[EventplaneError], int]] = {
    "sqs": {AccessDeniedError: 400},
}


def http_status(err: EventplaneError, service: str | None = None) -> int:
    """The HTTP status AWS answers ``err`` with: 400 client faults, 5xx server faults.

    ``service`` (botocore's model name) applies that service's exceptions to the table.
    """
    for kind, special in SERVICE_STATUS.get(service or "", {}).items():
        if isinstance(err, kind):
            return special
    by_code = HTTP_STATUS.get(err.code)
    if by_code is not None:
        return by_code
    for cls in type(err).__mro__:
        status = HTTP_STATUS.get(cls)
        if status is not None:
            return status
    return 500


def sender_fault(err: EventplaneError) -> bool:
    return http_status(err) < 500
