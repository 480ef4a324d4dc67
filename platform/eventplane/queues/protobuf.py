"""Protobuf <-> SQS shapes, by field name: the gRPC edge of the queues core.

The protobuf messages in ``queues.proto`` use the same snake_case names as the shapes,
so one pair of generic functions translates every action. Three protobuf habits are
bridged here: ``has_<field>`` flags mark an optional number that was given (0 is a
valid value); an optional limit without such a flag (``max_*``) is 0 when not given,
as queues.proto documents, so 0 leaves it absent; and a message attribute's unset
string/binary value is "" / b"".

Every call is on the hot path (each message of each batch passes through here), so the
type hints and descriptors are read once per (shape, message) pair into a plan of
field names and converters, and a call only walks its plan.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

from google.protobuf.message import Message as PbMessage

from eventplane.queues import shapes

T = TypeVar("T")
P = TypeVar("P", bound=PbMessage)

# A value's conversion; None where the value passes as it is.
Convert = Callable[[Any], Any] | None


def _optional_inner(tp: Any) -> Any:
    """``X`` for ``X | None``, else None."""
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else None
    return None


# --- protobuf -> shape -------------------------------------------------------------


def _attribute_to_shape(value: Any) -> shapes.MessageAttribute:
    return shapes.MessageAttribute(
        data_type=value.data_type,
        string_value=value.string_value if value.string_value or not value.binary_value else None,
        binary_value=value.binary_value or None,
    )


def _to_shape_converter(tp: Any) -> Convert:
    origin = typing.get_origin(tp)
    if origin is list:
        (item,) = typing.get_args(tp)
        each_item = _to_shape_converter(item)
        if each_item is None:
            return list
        return lambda value: [each_item(v) for v in value]
    if origin is dict:
        _, item = typing.get_args(tp)
        each_value = _to_shape_converter(item)
        if each_value is None:
            return dict
        return lambda value: {k: each_value(v) for k, v in value.items()}
    if tp is shapes.MessageAttribute:
        return _attribute_to_shape
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return lambda value: to_shape(tp, value)
    return None


# (name, the has_<name> flag that must be set, whether 0 means absent, conversion)
_ToShapeStep = tuple[str, str | None, bool, Convert]


@functools.cache
def _to_shape_plan(cls: Any, descriptor: Any) -> tuple[_ToShapeStep, ...]:
    fields = descriptor.fields_by_name
    plan: list[_ToShapeStep] = []
    for name, tp in typing.get_type_hints(cls, vars(shapes)).items():
        if name not in fields:
            continue
        flag: str | None = None
        zero_absent = False
        inner = _optional_inner(tp)
        if inner is not None:
            if f"has_{name}" in fields:
                flag = f"has_{name}"
            elif name.startswith("max_"):
                zero_absent = True
            tp = inner
        plan.append((name, flag, zero_absent, _to_shape_converter(tp)))
    return tuple(plan)


def to_shape(cls: type[T], msg: PbMessage) -> T:
    """The shape ``cls`` filled from the protobuf message's fields of the same names."""
    kwargs: dict[str, Any] = {}
    for name, flag, zero_absent, convert in _to_shape_plan(cast(Hashable, cls), msg.DESCRIPTOR):
        if flag is not None and not getattr(msg, flag):
            continue
        value = getattr(msg, name)
        if zero_absent and not value:
            continue
        kwargs[name] = value if convert is None else convert(value)
    return cls(**kwargs)


# --- shape -> protobuf -------------------------------------------------------------


def _pb_class(field: Any) -> type[PbMessage]:
    from eventplane._gen.v1 import queues_pb2

    cls: type[PbMessage] = getattr(queues_pb2, field.message_type.name)
    return cls


def _to_pb_converter(field: Any) -> Convert:
    if field.message_type is None:
        return None
    if field.message_type.GetOptions().map_entry:
        each = _to_pb_converter(field.message_type.fields_by_name["value"])
        if each is None:
            return dict
        return lambda value: {k: each(v) for k, v in value.items()}
    cls = _pb_class(field)

    def convert(value: Any) -> Any:
        if isinstance(value, list):
            return [from_shape(cls, v) for v in value]
        return from_shape(cls, value)

    return convert


# (name, its has_<name> flag or None, conversion)
_FromShapeStep = tuple[str, str | None, Convert]


@functools.cache
def _from_shape_plan(cls: Any, shape_cls: Any) -> tuple[_FromShapeStep, ...]:
    fields = cls.DESCRIPTOR.fields_by_name
    return tuple(
        (
            f.name,
            f"has_{f.name}" if f"has_{f.name}" in fields else None,
            _to_pb_converter(fields[f.name]),
        )
        for f in dataclasses.fields(shape_cls)
        if f.name in fields
    )


def from_shape(cls: type[P], shape: Any) -> P:
    """The protobuf message ``cls`` filled from the shape's fields of the same names."""
    kwargs: dict[str, Any] = {}
    for name, flag, convert in _from_shape_plan(cast(Hashable, cls), cast(Hashable, type(shape))):
        value = getattr(shape, name)
        if value is None:
            continue
        kwargs[name] = value if convert is None else convert(value)
        if flag is not None:
            kwargs[flag] = True
    return cls(**kwargs)
