"""AWS query protocol, from botocore's model: form parameters in, XML out.

Requests carry ``Action=...&Version=...`` and the input members as flat, dotted
parameters (``Attribute.1.Name``, ``SendMessageBatchRequestEntry.2.MessageBody``,
``AttributeName.member.1``), in a form body or the query string. This is the
inverse of botocore's QuerySerializer. Responses are ``<ActionResponse>`` with an
``<ActionResult>`` holding the output members, errors an ``<ErrorResponse>``.

SQS's current model is JSON-era and has lost the query element names its old
query model carried; ``_flat_name`` restores them by the rule they followed
(a flattened list is named after its structure member, else the singular of
its member name), with ``_LEGACY_NAMES`` for the few exceptions. Models that
still carry names (SNS) use them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import re
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET

from botocore.model import OperationModel, ServiceModel, Shape

from eventplane.errors import EventplaneError, InvalidParameterValue
from eventplane.gateway.errors import http_status
from eventplane.gateway.shapes import modeled_status

_LEGACY_NAMES = {"queueUrls": "QueueUrl", "Actions": "ActionName", "tags": "Tag"}
_NAMESPACES = {"sqs": "http://queue.amazonaws.com/doc/2012-11-05/"}
CONTENT_TYPE = "text/xml"


def namespace(model: ServiceModel) -> str:
    return str(
        model.metadata.get("xmlNamespace")
        or _NAMESPACES.get(model.endpoint_prefix)
        or f"https://{model.endpoint_prefix}.amazonaws.com/doc/{model.api_version}/"
    )


def _flattened(shape: Shape) -> bool:
    return bool(shape.serialization.get("flattened"))


def _flat_name(member: str, shape: Shape) -> str:
    """The element/parameter name of a flattened list or map member."""
    if shape.type_name == "list":
        inner: Shape = shape.member
        if inner.serialization.get("name"):
            return str(inner.serialization["name"])
        if inner.type_name == "structure":
            return str(inner.name)
    if shape.serialization.get("name"):
        return str(shape.serialization["name"])
    return _LEGACY_NAMES.get(member, member[:-1] if member.endswith("s") else member)


def _member_name(member: str, shape: Shape) -> str:
    if _flattened(shape) and shape.type_name in ("list", "map"):
        return _flat_name(member, shape)
    return str(shape.serialization.get("name", member))


def _map_names(shape: Shape) -> tuple[str, str]:
    key: Shape = shape.key
    value: Shape = shape.value
    default_key = "Key" if key.name == "TagKey" else ("Name" if _flattened(shape) else "key")
    default_value = "Value" if _flattened(shape) else "value"
    return (
        str(key.serialization.get("name", default_key)),
        str(value.serialization.get("name", default_value)),
    )


# --- parse ------------------------------------------------------------------------------


class _Params:
    def __init__(self, params: Mapping[str, str]) -> None:
        self.values = dict(params)
        self.prefixes = set()
        for key in params:
            parts = key.split(".")
            for i in range(1, len(parts)):
                self.prefixes.add(".".join(parts[:i]))

    def has(self, prefix: str) -> bool:
        return prefix in self.values or prefix in self.prefixes


def _scalar(shape: Shape, raw: str, name: str) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(raw)
        except ValueError:
            raise InvalidParameterValue(
                f"Value {raw} for parameter {name} is invalid. Reason: Must be an integer."
            ) from None
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise InvalidParameterValue(
                f"Value {raw} for parameter {name} is invalid. Reason: Must be true or false."
            )
        return raw.lower() == "true"
    if kind in ("double", "float"):
        try:
            return float(raw)
        except ValueError:
            raise InvalidParameterValue(
                f"Value {raw} for parameter {name} is invalid. Reason: Must be a number."
            ) from None
    if kind == "blob":
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidParameterValue(
                f"Value for parameter {name} is invalid. Reason: Must be base64."
            ) from None
    return raw


@functools.lru_cache(maxsize=4096)
def _named_members(shape: Shape) -> tuple[tuple[str, str, Shape], ...]:
    """(member, parameter name, member shape) of a structure, worked out once per shape
    (botocore's shapes hash by identity and live as long as their cached model)."""
    return tuple((m, _member_name(m, s), s) for m, s in shape.members.items())


def _parse(shape: Shape, params: _Params, prefix: str) -> Any:
    kind = shape.type_name
    if kind in ("structure", "list", "map") and prefix and not params.has(prefix):
        return None  # no parameter at or under it: absent, whatever its members
    if kind == "structure":
        out = {}
        for member, name, member_shape in _named_members(shape):
            value = _parse(member_shape, params, f"{prefix}.{name}" if prefix else name)
            if value is not None:
                out[member] = value
        if not prefix or out or params.has(prefix):
            return out
        return None
    if kind == "list":
        base = prefix if _flattened(shape) else f"{prefix}.member"
        items = []
        i = 1
        while params.has(f"{base}.{i}"):
            items.append(_parse(shape.member, params, f"{base}.{i}"))
            i += 1
        if items or prefix in params.values:
            return items
        return None
    if kind == "map":
        base = prefix if _flattened(shape) else f"{prefix}.entry"
        key_name, value_name = _map_names(shape)
        entries: dict[str, Any] = {}
        i = 1
        while params.has(f"{base}.{i}"):
            key = params.values.get(f"{base}.{i}.{key_name}", "")
            value = _parse(shape.value, params, f"{base}.{i}.{value_name}")
            entries[key] = value
            i += 1
        return entries if entries else None
    raw = params.values.get(prefix)
    if raw is None:
        return None
    return _scalar(shape, raw, prefix)


def parse(op: OperationModel, params: Mapping[str, str]) -> dict[str, Any]:
    """The request's members from its flat parameters, typed as the input shape says."""
    if op.input_shape is None:
        return {}
    parsed: dict[str, Any] = _parse(op.input_shape, _Params(params), "")
    return parsed


# --- serialize ----------------------------------------------------------------------------


# Characters XML 1.0 cannot carry at all, not even as references.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """``text`` with what XML 1.0 cannot hold replaced by U+FFFD.

    Error messages echo the request (a queue URL with a control character in it); one
    such character would make the whole answer unparseable for the client.
    """
    return _NOT_XML.sub("\ufffd", text)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return xml_safe(str(value))


def _write(parent: ET.Element, name: str, shape: Shape, value: Any) -> None:
    kind = shape.type_name
    if kind == "list":
        inner: Shape = shape.member
        if _flattened(shape):
            for v in value:
                _write(parent, name, inner, v)
        else:
            holder = ET.SubElement(parent, name)
            item_name = str(inner.serialization.get("name", "member"))
            for v in value:
                _write(holder, item_name, inner, v)
        return
    if kind == "map":
        key_name, value_name = _map_names(shape)
        holder = parent if _flattened(shape) else ET.SubElement(parent, name)
        for k, v in value.items():
            entry = ET.SubElement(holder, name if _flattened(shape) else "entry")
            ET.SubElement(entry, key_name).text = xml_safe(str(k))
            _write(entry, value_name, shape.value, v)
        return
    element = ET.SubElement(parent, name)
    if kind == "structure":
        _write_members(element, shape, value)
    else:
        element.text = _text(value)


def _write_members(element: ET.Element, shape: Shape, value: Mapping[str, Any]) -> None:
    for member, member_shape in shape.members.items():
        if member in value:
            _write(element, _member_name(member, member_shape), member_shape, value[member])


def serialize(
    model: ServiceModel, op: OperationModel, output: Mapping[str, Any], request_id: str
) -> tuple[int, dict[str, str], bytes]:
    root = ET.Element(f"{op.name}Response", xmlns=namespace(model))
    if op.output_shape is not None:
        wrapper = op.output_shape.serialization.get("resultWrapper", f"{op.name}Result")
        _write_members(ET.SubElement(root, wrapper), op.output_shape, output)
    meta = ET.SubElement(root, "ResponseMetadata")
    ET.SubElement(meta, "RequestId").text = request_id
    return 200, {"content-type": CONTENT_TYPE}, ET.tostring(root, xml_declaration=True)


def serialize_error(
    model: ServiceModel, err: EventplaneError, code: str, request_id: str
) -> tuple[int, dict[str, str], bytes]:
    status = modeled_status(model, code) or http_status(err, model.service_name)
    root = ET.Element("ErrorResponse", xmlns=namespace(model))
    error = ET.SubElement(root, "Error")
    ET.SubElement(error, "Type").text = "Sender" if status < 500 else "Receiver"
    ET.SubElement(error, "Code").text = code
    ET.SubElement(error, "Message").text = xml_safe(err.message)
    ET.SubElement(error, "Detail")
    ET.SubElement(root, "RequestId").text = request_id
    body = ET.tostring(root, xml_declaration=True)
    return status, {"content-type": CONTENT_TYPE}, body
