"""The root error, its neutral categories and the codes every capability shares.

Every error a user can see is an EventplaneError subclass carrying:
- ``code``: the machine-readable code AWS uses for the same case
  (``QueueDoesNotExist``, ``ReceiptHandleIsInvalid``, ...);
- a message a user can act on (it names the offending field);
- ``category``: what kind of failure it is, in words no transport owns
  (invalid request, not found, throttled, ...);
- ``retriable``: whether repeating the same call may succeed.

Nothing here knows gRPC or HTTP: a transport adapter (``eventplane.errors.rpc``)
maps ``category`` to its own status codes in one table, so the cores can raise
these errors whichever front door the call came through.
"""

from __future__ import annotations

import enum
from typing import ClassVar

_BY_CODE: dict[str, type[EventplaneError]] = {}


class Category(enum.Enum):
    """What kind of failure an error is; transports map it to their own status."""

    INVALID_REQUEST = "invalid_request"
    """The caller's fault: a missing, malformed or out-of-range parameter."""
    NOT_FOUND = "not_found"
    """The named resource does not exist."""
    ALREADY_EXISTS = "already_exists"
    """A resource with that name exists already (a conflict on create)."""
    PRECONDITION = "precondition"
    """The resource's current state forbids the call (a conflict with its state)."""
    THROTTLED = "throttled"
    """A rate or quota is used up; the same call may succeed later."""
    UNAVAILABLE = "unavailable"
    """The platform cannot serve the call right now (an owner moving, Kafka down)."""
    INTERNAL = "internal"
    """A bug or an unexpected failure on the server side."""
    ACCESS_DENIED = "access_denied"
    """The caller is known, but no policy allows it this action on this resource."""

    @property
    def client_fault(self) -> bool:
        """Whether the caller must change something (AWS's ``Sender`` fault type)."""
        return self not in (Category.UNAVAILABLE, Category.INTERNAL)


class EventplaneError(Exception):
    """Root of every eventplane error. Subclasses set ``code`` and ``category``."""

    code: ClassVar[str] = "InternalFailure"
    category: ClassVar[Category] = Category.INTERNAL
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


# --- one class per category; capability errors derive from these ---------------------


class InvalidRequestError(EventplaneError):
    category = Category.INVALID_REQUEST


class NotFoundError(EventplaneError):
    category = Category.NOT_FOUND


class AlreadyExistsError(EventplaneError):
    category = Category.ALREADY_EXISTS


class PreconditionError(EventplaneError):
    category = Category.PRECONDITION


class AccessDeniedError(EventplaneError):
    category = Category.ACCESS_DENIED
    code = "AccessDenied"


class ThrottledError(EventplaneError):
    category = Category.THROTTLED
    retriable = True


class UnavailableError(EventplaneError):
    category = Category.UNAVAILABLE
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


DEFAULT_FOR_CATEGORY: dict[Category, type[EventplaneError]] = {
    Category.INVALID_REQUEST: InvalidParameterValue,
    Category.NOT_FOUND: ResourceNotFound,
    Category.ALREADY_EXISTS: ResourceAlreadyExists,
    Category.PRECONDITION: PreconditionError,
    Category.THROTTLED: ThrottlingException,
    Category.UNAVAILABLE: ServiceUnavailable,
    Category.INTERNAL: InternalFailure,
    Category.ACCESS_DENIED: AccessDeniedError,
}
"""The class to raise for an error that arrives with a category but no known code."""


def lookup(code: str) -> type[EventplaneError] | None:
    """The class registered for ``code``, if any."""
    return _BY_CODE.get(code)
