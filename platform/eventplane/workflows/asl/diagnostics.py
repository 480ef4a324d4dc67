"""One finding of definition validation, in the shape ValidateStateMachineDefinition returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Diagnostic", "Severity"]

Severity = Literal["ERROR", "WARNING"]


@dataclass(frozen=True, kw_only=True)
class Diagnostic:
    """A problem at ``location`` (a JSON pointer such as ``/States/Pay/Next``).

    ``code`` is AWS's diagnostic code (SCHEMA_VALIDATION_FAILED,
    MISSING_TRANSITION_TARGET, ...); ``message`` names the field and the fix.
    """

    severity: Severity
    code: str
    message: str
    location: str
