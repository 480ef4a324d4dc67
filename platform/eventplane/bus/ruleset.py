"""Many compiled event patterns matched against one event, through an index on their values.

Evaluating every rule's pattern per event costs time linear in the number of rules. Most
rules, though, name exact values (``"source": ["aws.ec2"]``), and an event can only match
a rule if it carries them. So each rule gets *requirements*: conditions on field paths,
exact values or string prefixes, that any matching event meets. The requirements of all
rules form a trie (a small state machine, as in aws/event-ruler): each node branches on
the values found at one path (one dict lookup per value, or per prefix length), in a fixed
path order (``source``, ``detail-type``, then shallow paths first), and the
rules whose requirements end at a node are its candidates. Per event, the walk only looks
at the paths of the branches it reaches, and each candidate is confirmed by what its
requirements leave unchecked. Rules without requirements sit at the root: always checked.

Requirements of a pattern object (all of whose keys must hold):

- each leaf listing only exact values (strings, numbers, booleans, null) and plain
  ``prefix`` expressions;
- the requirements of each nested object, with the path extended: a pattern that descends
  into an object (or the object elements of an array) needs the values in one of them;
- for ``$or``, when every branch has requirements: one of the branches' (the rule is then
  reachable along several chains).

A chain is cut at four paths or 64 value combinations; fewer requirements only mean more
candidates. A candidate reached along a chain of top-level leaves has those leaves checked
already (such a leaf holds exactly when one of the event's leaf values equals one of its
values or starts with one of its prefixes), so it is confirmed by a matcher compiled from
the remaining keys, or not at all. Other requirements only narrow, and the whole pattern is
checked.

The requirements come from :attr:`CompiledPattern.source`, the document
:func:`compile_pattern` compiled, and values compare as in :mod:`patterns`: by type
(``true`` is not ``1``, ``"3"`` is not ``3``) and numbers by value (``5 == 5.0``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Generic, TypeVar

from eventplane.bus.patterns import EVENTBRIDGE
from eventplane.matching.patterns import (
    OR_KEY,
    CompiledPattern,
    ObjectTest,
    Path,
    build_matcher,
    descent_tree,
    expander,
)

T = TypeVar("T")

Keys = tuple[Any, ...]
Extractor = Callable[[Mapping[str, Any]], Keys]
# What a leaf needs: a value equal to one of the keys, or a string with one of the prefixes.
Leaf = tuple[Keys, tuple[str, ...]]
# Requirements that hold together: the value at each path meets its leaf.
Chain = tuple[tuple[Path, Leaf], ...]
# A frozen trie node: (rules ending here, edges). An edge is (path position, key -> child,
# None) for exact values or (path position, prefix -> child, prefix lengths) for prefixes.
Edge = tuple[int, dict[Any, "Node"], tuple[int, ...] | None]
Node = tuple[tuple[int, ...], tuple[Edge, ...]]

# Path order in chains: the envelope fields rules usually pin, then shallow paths first.
_PREFERRED: Final[dict[Path, int]] = {("source",): 0, ("detail-type",): 1}
_MAX_CHAIN: Final = 4
_MAX_COMBINATIONS: Final = 64
# $or branches multiply a rule's chains; past this many, an $or is left unindexed.
_MAX_ALTERNATIVES: Final = 16
_NO_KEY: Final[Any] = object()
_MISSING: Final[Any] = object()


class _Literal:
    """Index key of ``true``/``false``, which must not meet ``1``/``0`` in a dict."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_TRUE: Final = _Literal("true")
_FALSE: Final = _Literal("false")


def _key(value: Any) -> Any:
    """The index key of a leaf value, or ``_NO_KEY`` for a value no exact value equals."""
    if isinstance(value, str):
        return value
    if value is None:
        return None
    if isinstance(value, bool):
        return _TRUE if value else _FALSE
    if isinstance(value, int | float):
        return value
    return _NO_KEY


class RuleSet(Generic[T]):
    """An immutable set of compiled rules indexed for matching many rules per event.

    ``matching(event)`` always equals ``[t for t, p in rules if p.matches(event)]``.
    """

    __slots__ = ("_checks", "_expand", "_extractors", "_root", "_size", "_top", "_values")

    def __init__(self, rules: Iterable[tuple[T, CompiledPattern]]) -> None:
        values: list[T] = []
        checks: list[ObjectTest | None] = []
        chains: list[tuple[int, Chain]] = []
        sources: list[Mapping[str, Any]] = []
        for i, (value, pattern) in enumerate(rules):
            values.append(value)
            sources.append(pattern.source)
            alternatives = [_cut(chain) for chain in _requirements(pattern.source, ())]
            chains.extend((i, chain) for chain in alternatives)
            checks.append(_residual(pattern, alternatives))
        paths = sorted({path for _, chain in chains for path, _ in chain}, key=_rank)
        position = {path: n for n, path in enumerate(paths)}
        root = _Builder()
        for i, chain in chains:
            root.insert(tuple((position[path], leaf) for path, leaf in chain), i)
        self._values: tuple[T, ...] = tuple(values)
        self._checks: tuple[ObjectTest | None, ...] = tuple(checks)
        self._extractors: tuple[Extractor, ...] = tuple(_extractor(path) for path in paths)
        # The field of each top-level path, read in place (no call); None for a deeper
        # path, the only kind that can read a dotted event key.
        self._top: tuple[str | None, ...] = tuple(
            path[0] if len(path) == 1 else None for path in paths
        )
        self._root: Node = root.freeze()
        self._size = root.size()
        # Where any rule descends: an event is expanded only for a dotted key on that way.
        self._expand = expander(descent_tree({OR_KEY: sources}) if sources else {})

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"RuleSet({len(self._values)} rules, {self._size} index nodes)"

    def matching(self, event: Mapping[str, Any]) -> list[T]:
        """The rules whose pattern matches ``event``, in insertion order."""
        if type(event) is not dict and not isinstance(event, Mapping):
            return []
        # Rules see event keys "a.b" as the path a -> b. Expanding them changes no leaf
        # value at the top level (a dotted key only adds an object there), so top-level
        # paths read the event as it is; the event is expanded (once, for all rules, and
        # only when a dotted key lies where some rule looks) the first time a deeper path
        # or a rule's own check needs it. An event no rule's top-level keys lead to is
        # answered without looking for dots at all.
        expanded: Mapping[str, Any] | None = None
        extractors, top = self._extractors, self._top
        keys_at: list[Keys | None] = [None] * len(extractors)
        found: list[tuple[int, ...]] = []
        pending = [self._root]
        while pending:
            rules, edges = pending.pop()
            if rules:
                found.append(rules)
            for at, children, lengths in edges:
                keys = keys_at[at]
                if keys is None:
                    name = top[at]
                    if name is not None:
                        raw = event.get(name, _MISSING)
                        keys = (raw,) if type(raw) is str else _leaf_keys(raw)
                    else:
                        if expanded is None:
                            expanded = self._expand(event)
                        keys = extractors[at](expanded)
                    keys_at[at] = keys
                if lengths is None:
                    for key in keys:
                        child = children.get(key)
                        if child is not None:
                            pending.append(child)
                    continue
                for key in keys:
                    if type(key) is str or isinstance(key, str):
                        for length in lengths:
                            if len(key) < length:
                                break
                            child = children.get(key[:length])
                            if child is not None:
                                pending.append(child)
        if not found:
            return []
        if len(found) == 1:
            candidates: Iterable[int] = found[0]
        else:
            candidates = sorted({i for rules in found for i in rules})
        if expanded is None:
            expanded = self._expand(event)
        checks, values = self._checks, self._values
        matched: list[T] = []
        for i in candidates:
            check = checks[i]
            if check is None or check(expanded):
                matched.append(values[i])
        return matched


class _Builder:
    """A trie node while rules are added."""

    __slots__ = ("edges", "rules")

    def __init__(self) -> None:
        self.rules: list[int] = []
        # (path position, whether the keys are prefixes) -> key -> child
        self.edges: dict[tuple[int, bool], dict[Any, _Builder]] = {}

    def insert(self, chain: tuple[tuple[int, Leaf], ...], rule: int) -> None:
        if not chain:
            # Rules arrive in order, so a repeat can only be the rule just added.
            if not self.rules or self.rules[-1] != rule:
                self.rules.append(rule)
            return
        (at, (keys, prefixes)), rest = chain[0], chain[1:]
        for is_prefix, keys_or_prefixes in ((False, keys), (True, prefixes)):
            if not keys_or_prefixes:
                continue
            children = self.edges.setdefault((at, is_prefix), {})
            for key in keys_or_prefixes:
                child = children.get(key)
                if child is None:
                    child = children[key] = _Builder()
                child.insert(rest, rule)

    def freeze(self) -> Node:
        edges = tuple(
            (
                at,
                {key: child.freeze() for key, child in children.items()},
                tuple(sorted({len(prefix) for prefix in children})) if is_prefix else None,
            )
            for (at, is_prefix), children in sorted(self.edges.items())
        )
        return tuple(self.rules), edges

    def size(self) -> int:
        return 1 + sum(c.size() for children in self.edges.values() for c in children.values())


# --- requirements ---------------------------------------------------------------------------


def _requirements(obj: Mapping[str, Any], path: Path) -> list[Chain]:
    """Chains of which every event matching the pattern object meets one; ``[()]`` when
    nothing is required."""
    chain: list[tuple[Path, Leaf]] = []
    factors: list[list[Chain]] = []
    for name, spec in obj.items():
        if name == OR_KEY:
            continue
        if isinstance(spec, list):
            leaf = _leaf(spec)
            if leaf is not None:
                chain.append(((*path, name), leaf))
        elif isinstance(spec, Mapping):
            nested = _requirements(spec, (*path, name))
            if len(nested) == 1:
                chain.extend(nested[0])
            else:
                factors.append(nested)
    branches = obj.get(OR_KEY)
    if isinstance(branches, list):
        either = [_requirements(branch, path) for branch in branches]
        if all(() not in alternatives for alternatives in either):
            factors.append([c for alternatives in either for c in alternatives])
    alternatives: list[Chain] = [tuple(chain)]
    for factor in sorted(factors, key=len):
        # Without requirements of its own, the object takes its cheapest factor at any size.
        if alternatives == [()] or len(alternatives) * len(factor) <= _MAX_ALTERNATIVES:
            alternatives = [a + c for a in alternatives for c in factor]
    return alternatives


def _leaf(spec: list[Any]) -> Leaf | None:
    """What a leaf of exact values and plain prefixes needs; None for any other leaf."""
    keys: list[Any] = []
    prefixes: list[str] = []
    for item in spec:
        if isinstance(item, Mapping):
            prefix = item.get("prefix") if len(item) == 1 else None
            if not isinstance(prefix, str):  # another operator, or a case-insensitive prefix
                return None
            if prefix not in prefixes:
                prefixes.append(prefix)
            continue
        key = _key(item)
        if key is _NO_KEY:
            return None
        if key not in keys:
            keys.append(key)
    return (tuple(keys), tuple(prefixes)) if keys or prefixes else None


def _rank(path: Path) -> tuple[int, int, Path]:
    return _PREFERRED.get(path, len(_PREFERRED)), len(path), path


def _cut(chain: Chain) -> Chain:
    """The chain in path order, cut where it grows too long or too wide."""
    ordered = sorted(chain, key=lambda link: _rank(link[0]))
    kept: list[tuple[Path, Leaf]] = []
    combinations = 1
    for link in ordered[:_MAX_CHAIN]:
        keys, prefixes = link[1]
        combinations *= len(keys) + len(prefixes)
        if kept and combinations > _MAX_COMBINATIONS:
            break
        kept.append(link)
    return tuple(kept)


def _residual(pattern: CompiledPattern, alternatives: list[Chain]) -> ObjectTest | None:
    """What a candidate reached along ``alternatives`` still has to pass (None: nothing)."""
    if len(alternatives) != 1:
        return pattern.matches_expanded
    document = pattern.source
    # A top-level leaf reached through all of its own values holds; nothing else is sure.
    checked = {
        path[0]
        for path, leaf in alternatives[0]
        if len(path) == 1
        and isinstance(document.get(path[0]), list)
        and _leaf(document[path[0]]) == leaf
    }
    if not checked:
        return pattern.matches_expanded
    rest = {name: spec for name, spec in document.items() if name not in checked}
    return build_matcher(rest, EVENTBRIDGE) if rest else None


# --- reading the event ----------------------------------------------------------------------


def _extractor(path: Path) -> Extractor:
    """A function giving the index keys of the leaf values found at ``path`` in an event."""
    *parents, leaf = path
    if not parents:

        def top_level(event: Mapping[str, Any]) -> Keys:
            raw = event.get(leaf, _MISSING)
            if type(raw) is str:  # the common case first
                return (raw,)
            return _leaf_keys(raw)

        return top_level

    def nested(event: Mapping[str, Any]) -> Keys:
        obj = event
        for name in parents:  # the common case first: objects all the way down
            obj = obj.get(name, _MISSING)
            if type(obj) is not dict:
                return anywhere(event)
        raw = obj.get(leaf, _MISSING)
        return (raw,) if type(raw) is str else _leaf_keys(raw)

    def anywhere(event: Mapping[str, Any]) -> Keys:
        objects: list[Mapping[str, Any]] = [event]
        for name in parents:
            inner: list[Mapping[str, Any]] = []
            for obj in objects:
                raw = obj.get(name, _MISSING)
                if isinstance(raw, Mapping):
                    inner.append(raw)
                elif isinstance(raw, list):
                    _collect_objects(raw, inner)
            if not inner:
                return ()
            objects = inner
        if len(objects) == 1:
            return _leaf_keys(objects[0].get(leaf, _MISSING))
        return tuple(key for obj in objects for key in _leaf_keys(obj.get(leaf, _MISSING)))

    return nested


def _leaf_keys(raw: Any) -> Keys:
    if isinstance(raw, list):
        keys: list[Any] = []
        _collect_leaf_keys(raw, keys)
        return tuple(keys)
    if raw is _MISSING or isinstance(raw, Mapping):
        return ()
    key = _key(raw)
    return () if key is _NO_KEY else (key,)


def _collect_leaf_keys(raw: list[Any], keys: list[Any]) -> None:
    # Arrays are flattened; objects inside them are not leaf values.
    for item in raw:
        if isinstance(item, list):
            _collect_leaf_keys(item, keys)
        elif not isinstance(item, Mapping):
            key = _key(item)
            if key is not _NO_KEY:
                keys.append(key)


def _collect_objects(raw: list[Any], objects: list[Mapping[str, Any]]) -> None:
    for item in raw:
        if isinstance(item, Mapping):
            objects.append(item)
        elif isinstance(item, list):
            _collect_objects(item, objects)
