"""Wildcard values: parsing, matching, and the complexity limit EventBridge enforces.

EventBridge rejects a rule whose wildcards are "too complex". The measure is
event-ruler's (``MachineComplexityEvaluator``): over every possible input string, the
largest number of wildcard-pattern *prefixes* that match what has been read so far, which
is the number of automaton states a matcher must track at once. ``"*a*a*a*"`` after
``"aaa"`` keeps all 7 of its prefixes alive; ``"a*b"`` never more than 2. Patterns on the
same field add up (they share one automaton); event-ruler evaluates strings with their
JSON quotes, so the quotes take part here too. AWS rejects a rule above
:data:`eventplane.bus.patterns.WILDCARD_COMPLEXITY_LIMIT`.

Differences from event-ruler, both on the strict side: patterns are grouped by field path
(event-ruler groups by the automaton they reach, which can split one path in two), and
each string in an ``anything-but`` wildcard list counts on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

_STAR: Final = -1
_OTHER: Final = -2  # stands for every byte that no pattern names
_QUOTE: Final = ord('"')
# Past this many distinct sets of live states the search stops; no pattern within the
# limit comes near it, and it keeps a hostile pattern from costing more than a moment.
_MAX_SETS: Final = 20_000


def wildcard_segments(text: str) -> list[str]:
    """The literal runs between unescaped ``*``; ``\\*`` is a star, ``\\\\`` a backslash."""
    segments: list[str] = []
    current: list[str] = []
    i, previous_star = 0, False
    while i < len(text):
        char = text[i]
        if char == "\\":
            escaped = text[i + 1 : i + 2]
            if escaped not in ("*", "\\"):
                raise ValueError(f"Invalid escape at position {i} in wildcard {text!r}")
            current.append(escaped)
            i, previous_star = i + 2, False
            continue
        if char == "*":
            if previous_star:
                raise ValueError(
                    f"Consecutive wildcard characters at position {i} in wildcard {text!r}"
                )
            segments.append("".join(current))
            current = []
        else:
            current.append(char)
        i, previous_star = i + 1, char == "*"
    segments.append("".join(current))
    return segments


def glob(segments: list[str]) -> Callable[[Any], bool]:
    # Leftmost placement of each literal run is enough for "*"-only globs, so matching
    # is a few str.find calls instead of a backtracking regex.
    if len(segments) == 1:
        (exact,) = segments
        return lambda v: isinstance(v, str) and v == exact
    first, *middle, last = segments
    shortest = sum(map(len, segments))

    def test(value: Any) -> bool:
        if not isinstance(value, str) or len(value) < shortest:
            return False
        if not value.startswith(first) or not value.endswith(last):
            return False
        position, end = len(first), len(value) - len(last)
        for literal in middle:
            found = value.find(literal, position, end)
            if found < 0:
                return False
            position = found + len(literal)
        return True

    return test


def wildcard_complexity(document: Mapping[str, Any], *, cap: int = 1_000) -> int:
    """The largest complexity of any field's wildcards in a (valid, dot-split) pattern.

    Counting stops early past ``cap``; the answer is then some number above ``cap``.
    """
    groups: dict[tuple[str, ...], set[str]] = {}
    _collect(document, (), groups)
    return max((complexity(texts, cap=cap) for texts in groups.values()), default=0)


def _collect(obj: Mapping[str, Any], path: tuple[str, ...], out: dict[Any, set[str]]) -> None:
    for key, spec in obj.items():
        if key == "$or":
            for branch in spec:
                _collect(branch, path, out)
        elif isinstance(spec, Mapping):
            _collect(spec, (*path, key), out)
        else:
            texts = [text for item in spec for text in _wildcards_in(item)]
            if texts:
                out.setdefault((*path, key), set()).update(texts)


def _wildcards_in(item: Any) -> list[str]:
    if not isinstance(item, Mapping):
        return []
    if isinstance(item.get("wildcard"), str):
        return [item["wildcard"]]
    negated = item.get("anything-but")
    if isinstance(negated, Mapping) and "wildcard" in negated:
        inner = negated["wildcard"]
        return [inner] if isinstance(inner, str) else list(inner)
    return []


def complexity(texts: Iterable[str], *, quoted: bool = True, cap: int = 1_000) -> int:
    """How many prefixes of the wildcard patterns ``texts`` can match one input at once."""
    patterns = [_tokens(text, quoted) for text in sorted(set(texts))]
    alphabet = [*sorted({t for tokens in patterns for t in tokens if t != _STAR}), _OTHER]
    start: frozenset[tuple[int, int]] = frozenset((p, -1) for p in range(len(patterns)))
    seen = {start}
    pending = [start]
    worst = 0
    while pending and len(seen) < _MAX_SETS:
        active = pending.pop()
        for byte in alphabet:
            following = _step(patterns, active, byte)
            if not following:
                continue
            worst = max(worst, _live_prefixes(patterns, following))
            if worst > cap:
                return worst
            if following not in seen:
                seen.add(following)
                pending.append(following)
    return worst


def _tokens(text: str, quoted: bool) -> list[int]:
    tokens: list[int] = [_QUOTE] if quoted else []
    for i, segment in enumerate(wildcard_segments(text)):
        if i:
            tokens.append(_STAR)
        tokens.extend(segment.encode())
    if quoted:
        tokens.append(_QUOTE)
    return tokens


def _step(
    patterns: list[list[int]], active: frozenset[tuple[int, int]], byte: int
) -> frozenset[tuple[int, int]]:
    # State (p, i): the first i + 1 tokens of pattern p are matched; a star state stays
    # on any byte, and a star may also match nothing (the token after it is tried too).
    out: set[tuple[int, int]] = set()
    for p, i in active:
        tokens = patterns[p]
        if i >= 0 and tokens[i] == _STAR:
            out.add((p, i))
        j = i + 1
        if j >= len(tokens):
            continue
        if tokens[j] == _STAR:
            out.add((p, j))
            if j + 1 < len(tokens) and tokens[j + 1] == byte:
                out.add((p, j + 1))
        elif tokens[j] == byte:
            out.add((p, j))
    return frozenset(out)


def _live_prefixes(patterns: list[list[int]], active: frozenset[tuple[int, int]]) -> int:
    # A prefix ending just before a star also matches with the star taking nothing.
    reachable = {
        (p, i + 1) for p, i in active if i + 1 < len(patterns[p]) and patterns[p][i + 1] == _STAR
    }
    return len(active | reachable)
