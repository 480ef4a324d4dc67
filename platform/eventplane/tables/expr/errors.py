"""DynamoDB's error codes for the item and expression core.

``ValidationException`` is the shared class from ``eventplane.errors`` (one code, one
class: the SDK turns the code back into that class), re-exported here so the table
engine imports every DynamoDB error from one place. ``ConditionalCheckFailedException``
carries the current item when the caller asked for it
(ReturnValuesOnConditionCheckFailure=ALL_OLD).
"""

from __future__ import annotations

from typing import Any

from eventplane.errors import PreconditionError, ValidationException

__all__ = ["ConditionalCheckFailedException", "ValidationException"]


class ConditionalCheckFailedException(PreconditionError):
    """A ConditionExpression evaluated to false against the stored item."""

    code = "ConditionalCheckFailedException"

    def __init__(
        self, message: str = "The conditional request failed", item: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.item = item
