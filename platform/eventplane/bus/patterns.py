"""EventBridge's dialect of the pattern language, and compiling a rule's event pattern.

The language itself (operators, nesting, ``$or``, dotted keys) is shared with SNS filter
policies and lives in :mod:`eventplane.matching`; what is EventBridge's own is here:
every operator is allowed, thresholds are bounded to ±5.0e9 while exact numbers are not,
wildcards too costly to match are refused, and errors are ``InvalidEventPattern``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from eventplane.bus.errors import InvalidEventPattern
from eventplane.matching.patterns import (
    OPERATORS,
    STRING_OPERATORS,
    CompiledPattern,
    Dialect,
    PatternError,
    build_matcher,
    load_document,
    split_keys,
    wildcard_complexity,
)

__all__ = ["EVENTBRIDGE", "WILDCARD_COMPLEXITY_LIMIT", "compile_pattern"]

_NUMERIC_LIMIT: Final = 5.0e9
# The most wildcard-pattern prefixes one field value may keep alive at once; see
# eventplane.matching._wildcards.
WILDCARD_COMPLEXITY_LIMIT: Final = 10


def _eventbridge_number(value: int | float, threshold: bool) -> str | None:
    # Exact values may be anything (account ids); thresholds live in a bounded range.
    if threshold and not -_NUMERIC_LIMIT <= value <= _NUMERIC_LIMIT:
        return f"Value {value} is out of range: numbers must be between -5.0e9 and 5.0e9"
    return None


EVENTBRIDGE: Final = Dialect(
    operators=OPERATORS,
    anything_but_operators=STRING_OPERATORS,
    case_insensitive_affixes=True,
    empty_matches_all=False,
    nested_error=None,
    check_number=_eventbridge_number,
    anything_but_affix_lists=True,
    dotted_keys=True,
)


def compile_pattern(pattern: str | bytes | Mapping[str, Any]) -> CompiledPattern:
    """Validate and compile an EventBridge event pattern.

    Args:
        pattern: The pattern as JSON text (str or UTF-8 bytes) or as a parsed object.

    Raises:
        InvalidEventPattern: The pattern is not one EventBridge would accept.
    """
    try:
        document = split_keys(load_document(pattern))
        test = build_matcher(document, EVENTBRIDGE)
        if wildcard_complexity(document) > WILDCARD_COMPLEXITY_LIMIT:
            raise PatternError(
                "Rule is too complex - try using fewer wildcard characters or fewer "
                "repeating character sequences after a wildcard character"
            )
        return CompiledPattern(document, test)
    except PatternError as err:
        raise InvalidEventPattern(f"Event pattern is not valid. Reason: {err.describe()}") from None
