"""AWS JSON 1.0/1.1 protocol, from botocore's model: parse a request body, write a response.

Requests are ``POST /`` with ``X-Amz-Target: <targetPrefix>.<Action>`` and a JSON
object body. Members are checked against the input shape's types (a string where
an integer belongs is a SerializationException, as AWS answers) and blobs are
base64-decoded. Responses are the output shape as JSON; errors carry ``__type``,
``X-Amzn-ErrorType`` and, for services that moved from the query protocol (SQS),
``x-amzn-query-error`` with the legacy code so SDKs raise the modeled exception.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape

from eventplane.errors import EventplaneError
from eventplane.gateway.errors import SerializationException, http_status, sender_fault
from eventplane.gateway.shapes import from_result_members, modeled_status

_TYPE_NAMES = {
    "string": "STRING_VALUE",
    "integer": "INTEGER_VALUE",
    "long": "LONG_VALUE",
    "boolean": "BOOLEAN_VALUE",
    "double": "DOUBLE_VALUE",
    "float": "FLOAT_VALUE",
}


def _wrong(path: str, shape: Shape, value: Any) -> SerializationException:
    got = type(value).__name__
    return SerializationException(
        f"Value at '{path}' of type {got} can not be converted to "
        f"{_TYPE_NAMES.get(shape.type_name, shape.type_name)} ({shape.name})."
    )


def _check(shape: Shape, value: Any, path: str) -> Any:
    """``value`` checked against ``shape`` (and blobs decoded), or a SerializationException."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise _wrong(path, shape, value)
        members = shape.members
        return {
            k: _check(members[k], v, f"{path}.{k}" if path else k)
            for k, v in value.items()
            if k in members
        }
    if kind == "list":
        if not isinstance(value, list):
            raise _wrong(path, shape, value)
        return [_element(shape.member, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if kind == "map":
        if not isinstance(value, dict):
            raise _wrong(path, shape, value)
        return {k: _element(shape.value, v, f"{path}.{k}") for k, v in value.items()}
    if kind == "string":
        if not isinstance(value, str):
            raise _wrong(path, shape, value)
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong(path, shape, value)
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _wrong(path, shape, value)
        return value
    if kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _wrong(path, shape, value)
        return float(value)
    if kind == "blob":
        if not isinstance(value, str):
            raise _wrong(path, shape, value)
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise SerializationException(f"Value at '{path}' is not valid base64.") from None
    if kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _wrong(path, shape, value)
        try:
            return dt.datetime.fromtimestamp(value, dt.UTC)
        except (OverflowError, ValueError, OSError):
            raise SerializationException(f"Value at '{path}' is not a valid timestamp.") from None
    return value


def _element(shape: Shape, value: Any, path: str) -> Any:
    """A list element or map value: unlike an absent member, null is not a value."""
    if value is None:
        raise SerializationException(f"Value at '{path}' must not be null.")
    return _check(shape, value, path)


def parse(op: OperationModel, body: bytes) -> dict[str, Any]:
    """The request's members, checked against the operation's input shape."""
    if not body.strip():
        data: Any = {}
    else:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SerializationException(f"The request body is not valid JSON: {exc}") from None
        except RecursionError:  # the decoder recurses per level of nesting
            raise SerializationException("The request body nests too deeply.") from None
    if op.input_shape is None:
        return {}
    if not isinstance(data, dict):
        raise SerializationException("The request body must be a JSON object.")
    checked: dict[str, Any] = _check(op.input_shape, data, "")
    return checked


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def content_type(model: ServiceModel) -> str:
    return f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.0')}"


def serialize(model: ServiceModel, output: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps(_plain(output), separators=(",", ":")).encode()
    return 200, {"content-type": content_type(model)}, body


# The namespace a service writes before ``#Code`` in ``__type``, where it is not
# ``com.amazonaws.<endpoint prefix>`` (clients read only the part after ``#``).
_ERROR_NAMESPACES = {
    "dynamodb": "com.amazonaws.dynamodb.v20120810",
    "dynamodbstreams": "com.amazonaws.dynamodb.v20120810",
}


def _error_members(model: ServiceModel, err: EventplaneError) -> dict[str, Any]:
    """The members the model's error shape has beside its message, read from the error
    by their snake_case names (DynamoDB's ConditionalCheckFailedException ``Item``,
    TransactionCanceledException ``CancellationReasons``)."""
    shape = next((e for e in model.error_shapes if e.name == err.code), None)
    if shape is None:
        return {}
    wanted = {k: v for k, v in shape.members.items() if k.lower() != "message"}
    found = from_result_members(wanted, err)
    return found


def serialize_error(
    model: ServiceModel, err: EventplaneError, query_code: str | None
) -> tuple[int, dict[str, str], bytes]:
    prefix = _ERROR_NAMESPACES.get(model.service_name, f"com.amazonaws.{model.endpoint_prefix}")
    headers = {"content-type": content_type(model), "x-amzn-errortype": err.code}
    if query_code is not None:
        fault = "Sender" if sender_fault(err) else "Receiver"
        headers["x-amzn-query-error"] = f"{query_code};{fault}"
    doc = {"__type": f"{prefix}#{err.code}", "message": err.message}
    doc.update(_error_members(model, err))
    body = json.dumps(_plain(doc)).encode()
    status = modeled_status(model, err.code) or http_status(err, model.service_name)
    return status, headers, body


# The REST-JSON protocol checks its JSON body members, and writes its JSON, the same way.
check = _check
plain = _plain
