"""The wildcard complexity measure, checked against the worked examples in event-ruler's
MachineComplexityEvaluator tests (strings without JSON quotes there, so ``quoted=False``)."""

from __future__ import annotations

import pytest

from eventplane.bus import compile_pattern
from eventplane.bus.patterns import WILDCARD_COMPLEXITY_LIMIT
from eventplane.matching._wildcards import complexity, wildcard_complexity

EVENT_RULER_EXAMPLES = [
    (["*"], 1),
    (["*", "ab*c"], 3),
    (["abc"], 1),
    (["*ab"], 2),
    (["*aa"], 3),
    (["a*b"], 2),
    (["aa*"], 2),
    (["a*bb"], 3),
    (["a*bbb"], 4),
    (["*ab*ad"], 4),
    (["*aba*"], 4),
    (["a*b*bb"], 5),
    (["a*b*cd"], 3),
    (["ab*c", "x*xx"], 3),
    (["*abc", "*abcde"], 4),
    (["a*aaa", "aa*aa"], 7),
    (["a*aax", "aaa*x"], 5),
    (["ab*cd", "ab*wx", "ab*yz"], 6),
    (["*ab*b*b*"], 7),
    (["*a*a*a*a*a*a*a*a*"], 17),
    (["ab*c", "ab*c"], 2),
]


@pytest.mark.parametrize(("texts", "expected"), EVENT_RULER_EXAMPLES, ids=str)
def test_complexity_matches_event_ruler_examples(texts: list[str], expected: int) -> None:
    assert complexity(texts, quoted=False) == expected


def test_fields_are_measured_apart_and_the_worst_one_counts() -> None:
    document = {"a": [{"wildcard": "*x*"}], "b": {"c": [{"wildcard": "*a*a*a*a*"}]}}
    assert wildcard_complexity(document) == 9


def test_patterns_without_wildcards_have_no_complexity() -> None:
    assert wildcard_complexity({"a": ["x", {"prefix": "y"}], "b": {"c": [1]}}) == 0


def test_limit_sits_between_accepted_and_rejected_examples() -> None:
    assert complexity(["*a*a*a*a*"]) == WILDCARD_COMPLEXITY_LIMIT - 1
    assert complexity(["*a*a*a*a*a*"]) == WILDCARD_COMPLEXITY_LIMIT + 1


def test_hostile_pattern_is_rejected_quickly() -> None:
    # Hundreds of stars: the count stops at the cap instead of exploring every state set.
    with pytest.raises(Exception, match="Rule is too complex"):
        compile_pattern({"k": [{"wildcard": "*a" * 400 + "*"}]})
