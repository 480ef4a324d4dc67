"""botocore's service models, and the generic bridge between their members and our shapes.

A core's request/result dataclasses name their fields in snake_case of the AWS member
names (botocore's own ``xform_name``), so one pair of functions converts any
operation: ``to_request`` builds the request dataclass from a parsed dict,
``from_result`` walks the operation's output shape and reads each member from the
result dataclass. No operation is named here.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

import botocore.loaders
from botocore import xform_name
from botocore.model import OperationModel, ServiceModel, Shape

from eventplane.errors import MissingParameter

T = TypeVar("T")


@functools.cache
def _loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


@functools.cache
def service_model(name: str) -> ServiceModel:
    """The latest botocore model of ``name`` ("sqs", "sns", ...), loaded once."""
    return ServiceModel(_loader().load_service_model(name, "service-2"), service_name=name)


def operation(model: ServiceModel, action: str) -> OperationModel | None:
    if action not in model.operation_names:
        return None
    return model.operation_model(action)


@functools.cache
def _snake(name: str) -> str:
    return str(xform_name(name))


@functools.cache
def _cached_hints(cls: Any) -> dict[str, Any]:
    module = __import__(cls.__module__, fromlist=["_"])
    return typing.get_type_hints(cls, vars(module))


def _hints(cls: Any) -> dict[str, Any]:
    hints: dict[str, Any] = _cached_hints(cls)
    return hints


def _strip_optional(tp: Any) -> Any:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


@functools.cache
def _plan(tp: Any) -> tuple[str, Any]:
    """How a value of the annotated type ``tp`` converts: ("list"/"dict", item type),
    ("dataclass", class) or ("plain", None); one entry per annotation in the shapes."""
    tp = _strip_optional(tp)
    origin = typing.get_origin(tp)
    if origin is list:
        (item,) = typing.get_args(tp)
        return "list", item
    if origin is dict:
        _, item = typing.get_args(tp)
        return "dict", item
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return "dataclass", tp
    return "plain", None


def _convert(tp: Any, value: Any) -> Any:
    kind, arg = _plan(tp)
    if kind == "plain":
        return value
    if kind == "list" and isinstance(value, list):
        return [_convert(arg, v) for v in value]
    if kind == "dict" and isinstance(value, Mapping):
        return {k: _convert(arg, v) for k, v in value.items()}
    if kind == "dataclass" and isinstance(value, Mapping):
        return to_request(arg, value)
    return value


@functools.cache
def _required(cls: Any) -> tuple[str, ...]:
    """The fields of ``cls`` without a default, in declaration order."""
    return tuple(
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )


def _required_fields(cls: Any) -> tuple[str, ...]:
    required: tuple[str, ...] = _required(cls)
    return required


def to_request(cls: type[T], data: Mapping[str, Any]) -> T:
    """The dataclass ``cls`` from a dict keyed by AWS member names; unknown members ignored."""
    hints = _hints(cls)
    kwargs = {}
    for key, value in data.items():
        name = _snake(key)
        if name in hints and value is not None:
            kwargs[name] = _convert(hints[name], value)
    for field in _required_fields(cls):
        if field not in kwargs:
            # A nested member the model requires (a message attribute's DataType): the
            # request names it in AWS's spelling.
            member = "".join(part.title() for part in field.split("_"))
            raise MissingParameter(f"The request must contain the parameter {member}.")
    return cls(**kwargs)


def _empty(value: Any, keep_collections: bool) -> bool:
    if value is None or (isinstance(value, str) and not value):
        return True
    return not keep_collections and isinstance(value, list | dict) and not value


@functools.lru_cache(maxsize=4096)
def _members(shape: Shape) -> tuple[tuple[str, str, Shape], ...]:
    """(member, snake_case attribute, member shape) of a structure, once per shape
    (botocore's shapes hash by identity and live as long as their cached model)."""
    return tuple((m, _snake(m), s) for m, s in shape.members.items())


def from_result(shape: Shape | None, value: Any, *, keep_empty: bool = False) -> Any:
    """``value`` (dataclass, list, dict or scalar) as the plain data ``shape`` describes.

    Empty strings of a dataclass are left out (its fields use "" for absent), while a
    Mapping's are values it holds (DynamoDB's ``{"S": ""}``); empty lists and maps only
    unless ``keep_empty``: the query protocol writes them as an empty element (SNS's
    ``<Subscriptions/>``, which boto3 reads as ``[]``), while JSON services leave the
    member out.
    """
    if shape is None:
        return {}
    kind = shape.type_name
    if kind == "structure":
        out: dict[str, Any] = {}
        mapping = isinstance(value, Mapping)
        for member, attribute, member_shape in _members(shape):
            if mapping:
                item = value.get(member)
                if item == "":
                    out[member] = item
                    continue
            else:
                item = getattr(value, attribute, None)
            if not _empty(item, keep_empty):
                out[member] = from_result(member_shape, item, keep_empty=keep_empty)
        return out
    if kind == "list":
        return [from_result(shape.member, v, keep_empty=keep_empty) for v in value]
    if kind == "map":
        return {k: from_result(shape.value, v, keep_empty=keep_empty) for k, v in value.items()}
    return value


@functools.cache
def _modeled_statuses(service: str) -> dict[str, int]:
    model = service_model(service)
    # A JSON-born service's error without a status is 400 (500 if a fault), the model
    # format's default; services that came from query (SQS) keep the status table's.
    json_born = model.metadata.get("protocol") == "json" and (
        "awsQueryCompatible" not in model.metadata
    )
    statuses: dict[str, int] = {}
    for shape in model.error_shapes:
        error = shape.metadata.get("error") or {}
        code = str(error.get("code", shape.name))
        if "httpStatusCode" in error:
            statuses[code] = int(error["httpStatusCode"])
        elif json_born:
            statuses[code] = 500 if shape.metadata.get("fault") else 400
    return statuses


def modeled_status(model: ServiceModel, code: str) -> int | None:
    """The HTTP status ``model`` gives the error ``code`` (SNS: NotFound is 404, EventBridge:
    ResourceNotFoundException is 400), if the model knows the code."""
    return _modeled_statuses(model.service_name).get(code)


def from_result_members(members: Mapping[str, Shape], value: Any) -> dict[str, Any]:
    """The ``members`` (name -> shape) read from ``value``'s snake_case attributes, as
    plain data; absent and empty ones left out (an error's extra members)."""
    out: dict[str, Any] = {}
    for member, shape in members.items():
        item = getattr(value, _snake(member), None)
        if not _empty(item, False):
            out[member] = from_result(shape, item, keep_empty=True)
    return out
