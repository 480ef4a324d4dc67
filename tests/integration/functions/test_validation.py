"""Bad input gets Lambda's typed errors, and the server keeps serving."""

from __future__ import annotations

import pytest

from eventplane.client import Client
from eventplane.functions.errors import (
    InvalidParameterValueException,
    InvalidRequestContentException,
    RequestTooLargeException,
    ResourceNotFoundException,
    ValidationException,
)

from .support import BASICS, Resources, unique

pytestmark = pytest.mark.integration

SIX_MB = 6 * 1024 * 1024


def _still_serving(client: Client, res: Resources) -> None:
    name = res.function("basics.echo")
    assert client.functions.invoke(name, {"ok": True}).json()["event"] == {"ok": True}


def test_a_handler_that_names_no_function_is_refused(client: Client, res: Resources) -> None:
    name = unique("bad")
    res.adopt_function(name)
    with pytest.raises(InvalidParameterValueException, match="nohandler"):
        client.functions.create_function(name, "nohandler", zip_directory=BASICS)
    with pytest.raises(ResourceNotFoundException):
        client.functions.get_function(name)
    _still_serving(client, res)


@pytest.mark.parametrize(
    ("timeout", "memory_size", "field", "value"),
    [(901, None, "timeout", 901), (0, None, "timeout", 0), (None, 100, "memorySize", 100)],
)
def test_out_of_range_settings_name_the_field(
    client: Client,
    res: Resources,
    timeout: int | None,
    memory_size: int | None,
    field: str,
    value: int,
) -> None:
    name = unique("bad")
    res.adopt_function(name)
    with pytest.raises(ValidationException, match=f"Value '{value}' at '{field}'"):
        client.functions.create_function(
            name, "basics.echo", zip_directory=BASICS, timeout=timeout, memory_size=memory_size
        )
    with pytest.raises(ResourceNotFoundException):
        client.functions.get_function(name)


def test_a_missing_module_fails_the_invoke(client: Client, res: Resources) -> None:
    name = res.function("nowhere.handler")  # accepted, as Lambda does
    result = client.functions.invoke(name, {})
    assert result.function_error == "Unhandled"
    doc = result.json()
    assert doc["errorType"] == "Runtime.ImportModuleError"
    assert "nowhere" in doc["errorMessage"]
    _still_serving(client, res)


def test_a_missing_handler_function_fails_the_invoke(client: Client, res: Resources) -> None:
    name = res.function("basics.nothing_here")
    result = client.functions.invoke(name, {})
    assert result.function_error == "Unhandled"
    assert result.json()["errorType"] == "Runtime.HandlerNotFound"


def test_an_oversized_payload_is_refused(client: Client, res: Resources) -> None:
    name = res.function("basics.echo")
    big = b'"' + b"x" * SIX_MB + b'"'
    with pytest.raises(RequestTooLargeException) as caught:
        client.functions.invoke(name, big)
    assert caught.value.code == "RequestEntityTooLargeException"
    # Event invocations stop at 1 MiB.
    with pytest.raises(RequestTooLargeException):
        client.functions.invoke(name, b'"' + b"x" * (1024 * 1024) + b'"', invocation_type="Event")
    # Just under the sync limit still runs.
    fits = b'"' + b"y" * (SIX_MB - 1024) + b'"'
    assert len(client.functions.invoke(name, fits).json()["event"]) == SIX_MB - 1024


def test_a_missing_function_is_not_found(client: Client, res: Resources) -> None:
    with pytest.raises(ResourceNotFoundException, match="Function not found"):
        client.functions.invoke(unique("ghost"), {})
    name = res.function("basics.echo")
    with pytest.raises(ResourceNotFoundException):
        client.functions.invoke(name, {}, qualifier="7")
    with pytest.raises(ResourceNotFoundException):
        client.functions.invoke(name, {}, qualifier="no-such-alias")


def test_a_payload_that_is_not_json_is_refused(client: Client, res: Resources) -> None:
    name = res.function("basics.echo")
    with pytest.raises(InvalidRequestContentException, match="Could not parse request body"):
        client.functions.invoke(name, b"{not json")
    with pytest.raises(InvalidRequestContentException):
        client.functions.invoke(name, b"{not json", invocation_type="Event")
    _still_serving(client, res)
