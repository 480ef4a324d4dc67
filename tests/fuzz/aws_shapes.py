"""Hypothesis strategies that build any AWS request from botocore's service model.

The gateway's counterpart of strategies.py: an action added to a served model is
fuzzed without anyone writing a strategy for it. Values mostly have the member's
type (so botocore's own serializer can write them, and the request reaches the
engine's validation); strings lean towards what breaks parsers, required members
are sometimes missing, and raw bodies (any JSON, wrong types, garbage bytes) test
the protocol parsers themselves.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from botocore.model import Shape
from hypothesis import strategies as st

from .strategies import _NASTY_STRINGS

__all__ = ["input_strategy", "raw_json_strategy"]

_DEPTH = 4


def _string(shape: Shape) -> st.SearchStrategy[str]:
    choices: list[st.SearchStrategy[str]] = [
        st.sampled_from([s for s in _NASTY_STRINGS if len(s) < 300_000]),
        st.text(max_size=40),
        st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    ]
    if shape.enum:
        choices.insert(0, st.sampled_from(list(shape.enum)))
    return st.one_of(choices)


def _value(shape: Shape, depth: int) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if kind == "structure":
        return _structure(shape, depth)
    if depth >= _DEPTH and kind in ("list", "map"):
        return st.just([] if kind == "list" else {})
    if kind == "list":
        return st.lists(_value(shape.member, depth + 1), max_size=3)
    if kind == "map":
        return st.dictionaries(_string(shape.key), _value(shape.value, depth + 1), max_size=3)
    if kind == "string":
        return _string(shape)
    if kind in ("integer", "long"):
        return st.one_of(
            st.sampled_from([0, -1, 1, 2**31, -(2**31) - 1, 2**63 - 1]),
            st.integers(-(10**6), 10**6),
        )
    if kind == "boolean":
        return st.booleans()
    if kind in ("float", "double"):
        return st.floats(allow_nan=True, allow_infinity=True)
    if kind == "blob":
        return st.binary(max_size=64)
    if kind == "timestamp":
        return st.datetimes(
            min_value=datetime.datetime(1, 1, 2), max_value=datetime.datetime(9999, 12, 30)
        )
    return st.none()


def _structure(shape: Shape, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    if depth >= _DEPTH:
        return st.just({})
    required = set(shape.required_members)
    members = {name: _value(member, depth + 1) for name, member in shape.members.items()}
    needed = {k: v for k, v in members.items() if k in required}
    optional = {k: v for k, v in members.items() if k not in required}
    complete = st.fixed_dictionaries(needed, optional=optional)
    # Now and then a required member is missing: MissingParameter / ValidationException.
    partial = st.fixed_dictionaries({}, optional=members)
    return st.one_of(complete, complete, complete, partial)


def input_strategy(shape: Shape | None) -> st.SearchStrategy[dict[str, Any]]:
    """Parameters for an operation whose input shape is ``shape`` (None: takes nothing)."""
    if shape is None:
        return st.just({})
    return _structure(shape, 0)


_ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


def raw_json_strategy(shape: Shape | None) -> st.SearchStrategy[bytes]:
    """A JSON-protocol body: typed members with wrong-typed ones mixed in, any JSON, or garbage."""
    wrong_types = input_strategy(shape).flatmap(
        lambda params: st.fixed_dictionaries(
            {}, optional={k: _ANY_JSON for k in params} or {"x": _ANY_JSON}
        ).map(lambda swapped: {**params, **swapped})
    )
    return st.one_of(
        wrong_types.map(lambda d: json.dumps(d, default=str).encode()),
        _ANY_JSON.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=200),
        st.sampled_from(
            [b"", b"{", b"null", b"[]", b'{"a":' * 3000, "\ud800".encode("utf-8", "surrogatepass")]
        ),
    )
