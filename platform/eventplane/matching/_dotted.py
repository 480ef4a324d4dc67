"""Dotted keys: event-ruler flattens rules and events into dotted paths, so ``"a.b"``
and ``{"a": {"b": ...}}`` name the same field. Patterns are stored split into nested
objects; events are expanded (rarely: only when a key on a pattern's way holds a dot)
before matching, by an :func:`expander`."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Final

Path = tuple[str, ...]
OR_KEY: Final = "$or"
_MISSING: Final[Any] = object()


class DuplicateField(Exception):
    """A pattern gives one path twice, once through a dotted key."""

    def __init__(self, path: Path) -> None:
        super().__init__(".".join(path))
        self.path = path


def split_dotted_keys(document: Mapping[str, Any], path: Path = ()) -> dict[str, Any]:
    """The pattern with every key "a.b" turned into nested objects {"a": {"b": ...}}.

    A path written twice (``"a.b"`` next to ``"a": {"b": ...}``) is merged when both
    are objects and rejected when a leaf would be given twice.
    """
    out: dict[str, Any] = {}
    for key, spec in document.items():
        if key == OR_KEY:
            value: Any = (
                [split_dotted_keys(b, path) if isinstance(b, Mapping) else b for b in spec]
                if isinstance(spec, list)
                else spec
            )
            _merge_key(out, [key], value, path)
            continue
        if isinstance(spec, Mapping):
            spec = split_dotted_keys(spec, (*path, key))
        _merge_key(out, key.split(".") if key else [key], spec, path)
    return out


def _merge_key(out: dict[str, Any], names: list[str], spec: Any, path: Path) -> None:
    first, *rest = names
    here = (*path, first)
    if rest:
        spec = _nest(rest, spec)
    existing = out.get(first, _MISSING)
    if existing is _MISSING:
        out[first] = spec
    elif isinstance(existing, dict) and isinstance(spec, dict):
        for key, value in spec.items():
            _merge_key(existing, [key], value, here)
    else:
        raise DuplicateField(here)


def _nest(names: list[str], spec: Any) -> Any:
    for name in reversed(names):
        spec = {name: spec}
    return spec


def _expanded(value: Any) -> Any:
    if isinstance(value, list):
        return [_expanded(item) for item in value]
    if not isinstance(value, Mapping):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        names = key.split(".") if isinstance(key, str) else [key]
        _merge_event(out, names, _expanded(item))
    return out


def _merge_event(out: dict[str, Any], names: list[str], item: Any) -> None:
    first, *rest = names
    if rest:
        item = _nest(rest, item)
    existing = out.get(first, _MISSING)
    if existing is _MISSING:
        out[first] = item
    elif isinstance(existing, dict) and isinstance(item, dict):
        for key, value in item.items():
            _merge_event(existing, [key], value)
    else:
        out[first] = _as_list(existing) + _as_list(item)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


Tree = dict[str, "Tree"]


def descent_tree(document: Mapping[str, Any]) -> Tree:
    """The keys a (split) pattern descends through, as nested dicts; ``{}`` when it has
    no nested objects, so events never need expanding for it."""
    tree: Tree = {}
    for key, spec in document.items():
        if key == OR_KEY:
            for branch in spec:
                _merge_tree(tree, descent_tree(branch))
        elif isinstance(spec, Mapping):
            _merge_tree(tree.setdefault(key, {}), descent_tree(spec))
    return tree


def _merge_tree(into: Tree, other: Tree) -> None:
    for key, sub in other.items():
        _merge_tree(into.setdefault(key, {}), sub)


def expand_for(event: Mapping[str, Any], tree: Tree) -> Mapping[str, Any]:
    """The event with each key "a.b" moved to the nested path a -> b, when such a key lies
    where a pattern with this :func:`descent_tree` goes; else ``event`` itself.

    A dotted key meeting a value that is not an object keeps both, as an array
    ``[value, {"b": ...}]``: leaf values and nested objects then both match, as they do
    in event-ruler's flattened view of the event.
    """
    if tree and _dotted_on_path(event, tree):
        return _expanded(event)
    return event


Expand = Callable[[Mapping[str, Any]], Mapping[str, Any]]


def expander(tree: Tree) -> Expand:
    """:func:`expand_for` bound to one descent tree, for matching many events: a plain
    function (one call per event, no method lookup).

    With no tree, the event itself. Where no pattern descends two objects deep, only
    top-level keys can need expanding. Events of one stream mostly share their
    top-level keys, so keys already seen without a dot are remembered: an event whose
    keys are all among them (the usual case) costs one C-level set test, and only a new
    key is scanned for dots.
    """
    if not tree:
        return _itself
    if any(tree.values()):
        return functools.partial(expand_for, tree=tree)
    plain = _PLAIN_KEYS

    def shallow(event: Mapping[str, Any]) -> Mapping[str, Any]:
        if plain.issuperset(event):
            return event
        try:
            dotted = "." in "\x00".join(event)
        except TypeError:  # a key that is not a string
            dotted = True
        if not dotted:
            if len(plain) < _PLAIN_KEYS_KEPT:
                plain.update(event)
            return event
        return expand_for(event, tree)

    return shallow


# Top-level event keys seen without a dot, shared by every expander: a set only ever
# added to (one C call, safe across threads), bounded so that events with ever-new keys
# cannot grow it without end (past the bound, new keys are scanned each time).
_PLAIN_KEYS: set[str] = set()
_PLAIN_KEYS_KEPT: Final = 4096


def _itself(event: Mapping[str, Any]) -> Mapping[str, Any]:
    return event


def _top_level_dot(value: Mapping[str, Any]) -> bool:
    try:
        return "." in "\x00".join(value)
    except TypeError:  # a key that is not a string
        return True


def _dotted_on_path(value: Any, tree: Tree) -> bool:
    if isinstance(value, list):
        return any(
            _dotted_on_path(item, tree) for item in value if isinstance(item, list | Mapping)
        )
    if not isinstance(value, Mapping):
        return False
    if _top_level_dot(value):
        for key in value:
            if isinstance(key, str) and "." in key and key.partition(".")[0] in tree:
                return True
    for name, sub in tree.items():
        child = value.get(name)
        if sub and isinstance(child, list | Mapping) and _dotted_on_path(child, sub):
            return True
    return False
