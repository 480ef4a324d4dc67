"""Hypothesis strategies that build any protobuf request from its descriptor.

Why from descriptors: a method added to a .proto is fuzzed without anyone
writing a strategy for it. Strings lean towards what breaks parsers (empty,
huge, unicode, deep JSON, NaN and 1e400 as numbers), bytes towards random
receipt handles and page tokens.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import strategies as st

__all__ = ["TRIED", "message_strategy"]

# Requests tried per method in this session; conftest prints it at the end.
TRIED: Counter[str] = Counter()

_DEPTH = 3  # nested messages deeper than this stay empty
_BIG = 1_100_000  # a little over 1 MiB, under the server's 64 MiB frame limit


def _deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


_NASTY_STRINGS = [
    "",
    " ",
    "NaN",
    "1e400",
    "-1e400",
    "Infinity",
    "-0",
    "18446744073709551617",
    "null",
    "{}",
    "[]",
    '{"a":',
    _deep_json(5000),
    '{"a":' * 2000 + "1" + "}" * 2000,
    json.dumps({"Version": "2012-10-17", "x": float("nan")}, allow_nan=True),
    "\u0000",
    "\ud7ff\ue000\U0010ffff",
    "名前-キュー",
    "queue.fifo",
    "🎉" * 100,
    "a" * 81,
    "a" * 257,
    "arn:aws:sqs:us-east-1:000000000000:x",
    "https://localhost/000000000000/x",
    "../../etc/passwd",
    "%s%s%n",
]

_text = st.one_of(
    st.sampled_from(_NASTY_STRINGS),
    st.text(max_size=40),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=90),
    st.just("x" * _BIG),
)
_bytes = st.one_of(
    st.binary(max_size=64),
    st.just(b"\xff\xfe\xc3\x28"),
    st.just(b"\x00" * _BIG),
)
_ints = st.one_of(
    st.sampled_from([0, -1, 1, 2**31 - 1, -(2**31)]), st.integers(-(2**31), 2**31 - 1)
)
_uints = st.one_of(st.sampled_from([0, 1, 2**32 - 1]), st.integers(0, 2**32 - 1))
_int64 = st.one_of(st.sampled_from([0, -1, 2**63 - 1, -(2**63)]), st.integers(-(2**63), 2**63 - 1))
_uint64 = st.one_of(st.sampled_from([0, 2**64 - 1]), st.integers(0, 2**64 - 1))
_floats = st.floats(allow_nan=True, allow_infinity=True)

_T = FieldDescriptor
_SCALARS: dict[int, st.SearchStrategy[Any]] = {
    _T.TYPE_STRING: _text,
    _T.TYPE_BYTES: _bytes,
    _T.TYPE_BOOL: st.booleans(),
    _T.TYPE_INT32: _ints,
    _T.TYPE_SINT32: _ints,
    _T.TYPE_SFIXED32: _ints,
    _T.TYPE_UINT32: _uints,
    _T.TYPE_FIXED32: _uints,
    _T.TYPE_INT64: _int64,
    _T.TYPE_SINT64: _int64,
    _T.TYPE_SFIXED64: _int64,
    _T.TYPE_UINT64: _uint64,
    _T.TYPE_FIXED64: _uint64,
    _T.TYPE_DOUBLE: _floats,
    _T.TYPE_FLOAT: st.floats(width=32, allow_nan=True, allow_infinity=True),
}


def _is_repeated(field: FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def _value(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    if field.type == _T.TYPE_ENUM:
        # Unknown enum numbers too: open enums keep them.
        return st.one_of(st.sampled_from([v.number for v in field.enum_type.values]), _ints)
    if field.type == _T.TYPE_MESSAGE:
        return _message_dict(field.message_type, depth + 1)
    return _SCALARS[field.type]


def _message_dict(desc: Descriptor, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    """A dict of field name → value, fields chosen independently (most left unset)."""
    if depth > _DEPTH:
        return st.just({})
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for field in desc.fields:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            key = _value(field.message_type.fields_by_name["key"], depth)
            val = _value(field.message_type.fields_by_name["value"], depth)
            parts[field.name] = st.dictionaries(key, val, max_size=4)
        elif _is_repeated(field):
            parts[field.name] = st.lists(_value(field, depth), max_size=4)
        else:
            parts[field.name] = _value(field, depth)
    if not parts:
        return st.just({})
    return st.fixed_dictionaries({}, optional=parts)


def _fill(msg: Message, values: dict[str, Any]) -> None:
    desc = msg.DESCRIPTOR
    for name, value in values.items():
        field = desc.fields_by_name[name]
        target = getattr(msg, name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            for k, v in value.items():
                if value_field.message_type is not None:
                    _fill(target[k], v)
                else:
                    target[k] = v
        elif _is_repeated(field):
            for item in value:
                if field.message_type is not None:
                    _fill(target.add(), item)
                else:
                    target.append(item)
        elif field.message_type is not None:
            target.SetInParent()
            _fill(target, value)
        else:
            setattr(msg, name, value)


def message_strategy(desc: Descriptor) -> st.SearchStrategy[Message]:
    """Any message of type ``desc``: valid, odd, huge or empty field by field."""
    cls = GetMessageClass(desc)

    def build(values: dict[str, Any]) -> Message:
        msg = cls()
        _fill(msg, values)
        return msg

    return _message_dict(desc, 0).map(build)
