"""Protobuf <-> SQS shapes, by field name: the gRPC edge of the queues core.

The protobuf messages in ``queues.proto`` use the same snake_case names as the shapes,
so one pair of generic functions translates every action. Three protobuf habits are
bridged here: ``has_<field>`` flags mark an optional number that was given (0 is a
valid value); an optional limit without such a flag (``max_*``) is 0 when not given,
as queues.proto documents, so 0 leaves it absent; and a message attribute's unset
string/binary value is "" / b"".
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any, TypeVar

from google.protobuf.message import Message as PbMessage

from eventplane.queues import shapes

T = TypeVar("T")
P = TypeVar("P", bound=PbMessage)


@functools.cache
def _cached_hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls, vars(shapes))


def _hints(cls: Any) -> dict[str, Any]:
    hints: dict[str, Any] = _cached_hints(cls)
    return hints


def _optional_inner(tp: Any) -> Any:
    """``X`` for ``X | None``, else None."""
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else None
    return None


def _value_to_shape(tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin is list:
        (item,) = typing.get_args(tp)
        return [_value_to_shape(item, v) for v in value]
    if origin is dict:
        _, item = typing.get_args(tp)
        return {k: _value_to_shape(item, v) for k, v in value.items()}
    if tp is shapes.MessageAttribute:
        return shapes.MessageAttribute(
            data_type=value.data_type,
            string_value=value.string_value
            if value.string_value or not value.binary_value
            else None,
            binary_value=value.binary_value or None,
        )
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return to_shape(tp, value)
    return value


def to_shape(cls: type[T], msg: PbMessage) -> T:
    """The shape ``cls`` filled from the protobuf message's fields of the same names."""
    fields = msg.DESCRIPTOR.fields_by_name
    kwargs: dict[str, Any] = {}
    for name, tp in _hints(cls).items():
        if name not in fields:
            continue
        inner = _optional_inner(tp)
        if inner is not None:
            flag = f"has_{name}"
            if flag in fields and not getattr(msg, flag):
                continue
            if flag not in fields and name.startswith("max_") and not getattr(msg, name):
                continue
            tp = inner
        kwargs[name] = _value_to_shape(tp, getattr(msg, name))
    return cls(**kwargs)


def _value_to_pb(field: Any, value: Any) -> Any:
    if field.message_type is None:
        return value
    if field.message_type.GetOptions().map_entry:
        value_field = field.message_type.fields_by_name["value"]
        return {k: _value_to_pb(value_field, v) for k, v in value.items()}
    cls = _pb_class(field)
    if isinstance(value, list):
        return [from_shape(cls, v) for v in value]
    return from_shape(cls, value)


def _pb_class(field: Any) -> type[PbMessage]:
    from eventplane._gen.v1 import queues_pb2

    cls: type[PbMessage] = getattr(queues_pb2, field.message_type.name)
    return cls


def from_shape(cls: type[P], shape: Any) -> P:
    """The protobuf message ``cls`` filled from the shape's fields of the same names."""
    fields = cls.DESCRIPTOR.fields_by_name
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(shape):
        value = getattr(shape, f.name)
        if f.name not in fields or value is None:
            continue
        kwargs[f.name] = _value_to_pb(fields[f.name], value)
        if f"has_{f.name}" in fields:
            kwargs[f"has_{f.name}"] = True
    return cls(**kwargs)
