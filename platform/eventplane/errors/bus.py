"""Errors raised by the event bus capability."""

from __future__ import annotations

from eventplane.errors.base import InvalidRequestError, PreconditionError

__all__ = [
    "IllegalStatus",
    "InvalidEventPattern",
    "LimitExceeded",
]


class InvalidEventPattern(InvalidRequestError):
    """An event pattern that EventBridge would reject (PutRule, TestEventPattern, archives).

    The message names the problem and, where there is one, the key path:
    ``Event pattern is not valid. Reason: prefix match pattern must be a string at detail.name``.
    """

    code = "InvalidEventPatternException"


class IllegalStatus(PreconditionError):
    """An action the resource's current state does not allow (cancel a finished replay)."""

    code = "IllegalStatusException"


class LimitExceeded(InvalidRequestError):
    """A request that would pass one of EventBridge's quotas (targets per rule, ...)."""

    code = "LimitExceededException"
