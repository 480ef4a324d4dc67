"""DynamoDB's error codes for the item and expression core.

``ValidationException`` is the shared class from ``eventplane.errors`` (one code, one
class: the SDK turns the code back into that class); ``ConditionalCheckFailedException``
lives in ``eventplane.errors.tables``. Both are re-exported here so the expression
core imports its errors from one place.
"""

from __future__ import annotations

from eventplane.errors import ValidationException
from eventplane.errors.tables import ConditionalCheckFailedException

__all__ = ["ConditionalCheckFailedException", "ValidationException"]
