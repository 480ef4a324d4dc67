"""Required members and paging of EventBridge's list actions, for every bus action."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from eventplane.errors import MissingParameter, ValidationException

T = TypeVar("T")
DEFAULT_LIMIT = 100


def require(value: str, parameter: str) -> str:
    if not value:
        raise MissingParameter(f"The request must contain the parameter {parameter}.")
    return value


def page(items: Sequence[T], token: str, limit: int) -> tuple[Sequence[T], str]:
    """One page of ``items`` from ``token`` (an offset), and the next page's token."""
    if limit < 0 or limit > DEFAULT_LIMIT:
        raise ValidationException(f"Limit must be between 1 and {DEFAULT_LIMIT}, got {limit}")
    size = limit or DEFAULT_LIMIT
    if token and not (token.isascii() and token.isdigit()):
        raise ValidationException("The NextToken is not valid.")
    start = int(token) if token else 0
    end = start + size
    return items[start:end], str(end) if end < len(items) else ""
