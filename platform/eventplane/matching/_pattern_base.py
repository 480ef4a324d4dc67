"""What every part of the pattern compiler shares: the error, the value-test type and
the small checks the operators call (kept apart so operator modules import no cycle)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeGuard

if TYPE_CHECKING:
    from eventplane.matching.patterns import Dialect

ValueTest = Callable[[Any], bool]
Path = tuple[str, ...]


class PatternError(Exception):
    """Why a pattern is invalid and where; each capability wraps it in its own error."""

    def __init__(self, reason: str, path: Path = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path

    def describe(self) -> str:
        return f"{self.reason} at {'.'.join(self.path)}" if self.path else self.reason


def _check_number(value: int | float, threshold: bool, path: Path, dialect: Dialect) -> None:
    problem = dialect.check_number(value, threshold)
    if problem:
        raise PatternError(problem, path)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _require_str(value: Any, message: str, path: Path) -> str:
    if not isinstance(value, str):
        raise PatternError(message, path)
    return value
