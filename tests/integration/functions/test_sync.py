"""Synchronous invocation: results, handled errors, timeouts, crashes and log tails."""

from __future__ import annotations

import json
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from eventplane.client import Client
from eventplane.testing import EventplaneProcess, eventually

from .support import BASICS, Resources

pytestmark = pytest.mark.integration


def test_the_result_and_context_come_back(client: Client, res: Resources) -> None:
    name = res.function("basics.echo", memory_size=256, timeout=30)
    event = {"text": "héllo", "n": [1, 2.5, None, True], "nested": {"k": "v"}}

    result = client.functions.invoke(name, event)

    assert result.status_code == 200
    assert result.function_error is None
    assert result.executed_version == "$LATEST"
    assert result.log_result is None  # no tail unless asked for
    body = result.json()
    assert body["event"] == event
    assert body["request_id"] == body["also_request_id"] == result.request_id
    assert body["function_name"] == name
    assert body["function_version"] == "$LATEST"
    assert body["memory_limit_in_mb"] == "256"
    assert 0 < body["remaining_ms"] <= 30_000


def test_a_second_invoke_gets_a_new_request_id(client: Client, res: Resources) -> None:
    name = res.function("basics.echo")
    first = client.functions.invoke(name, {"n": 1})
    second = client.functions.invoke(name, {"n": 2})
    assert first.request_id != second.request_id
    assert second.json()["request_id"] == second.request_id
    assert second.json()["event"] == {"n": 2}


def test_the_log_tail_holds_the_handlers_output(client: Client, res: Resources) -> None:
    name = res.function("basics.echo")
    result = client.functions.invoke(name, {"x": 1}, log_type="Tail")
    assert result.log_result is not None
    assert f"echo says hello to {result.request_id}" in result.log_result
    assert result.log_result.startswith(f"START RequestId: {result.request_id} Version: $LATEST\n")
    assert f"\nEND RequestId: {result.request_id}\nREPORT RequestId: {result.request_id}\t" in (
        result.log_result
    )
    assert result.log_result_base64


def test_a_raised_exception_is_a_handled_error(client: Client, res: Resources) -> None:
    name = res.function("basics.fail")
    result = client.functions.invoke(name, {"oops": 1}, log_type="Tail")

    assert result.status_code == 200
    assert result.function_error == "Unhandled"
    doc = result.json()
    assert doc["errorType"] == "ValueError"
    assert doc["errorMessage"] == "bad input: {'oops': 1}"
    assert isinstance(doc["stackTrace"], list) and doc["stackTrace"]
    assert all(isinstance(frame, str) for frame in doc["stackTrace"])
    assert "basics.py" in doc["stackTrace"][-1]
    assert result.log_result is not None and "ValueError" in result.log_result


def test_a_handler_over_its_timeout_is_stopped(client: Client, res: Resources) -> None:
    name = res.function("basics.sleep", timeout=1)
    result = client.functions.invoke(name, {"seconds": 30})

    assert result.function_error == "Unhandled"
    doc = result.json()
    assert doc["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in doc["errorMessage"]
    assert result.request_id in doc["errorMessage"]
    # A new worker serves the next invocation.
    assert client.functions.invoke(name, {"seconds": 0}).json() == "woke up"


def test_a_worker_that_exits_is_replaced(client: Client, res: Resources) -> None:
    name = res.function("basics.crash")
    assert client.functions.invoke(name, {}).json() == "still alive"

    result = client.functions.invoke(name, {"crash": True}, log_type="Tail")

    assert result.function_error == "Unhandled"
    doc = result.json()
    assert doc["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in doc["errorMessage"]
    assert result.log_result is not None and "about to exit" in result.log_result
    recovered = client.functions.invoke(name, {})
    assert recovered.function_error is None
    assert recovered.json() == "still alive"


def test_a_payload_of_null_and_a_non_object_result(client: Client, res: Resources) -> None:
    name = res.function("basics.echo")
    assert client.functions.invoke(name).json()["event"] is None
    assert client.functions.invoke(name, b"[1, 2]").json()["event"] == [1, 2]
    assert client.functions.invoke(name, json.dumps("text")).json()["event"] == "text"


def _invocations(server: EventplaneProcess, function: str) -> float | None:
    """The exported count of successful invocations of ``function``; None: no series."""
    with urllib.request.urlopen(server.metrics_url, timeout=5) as resp:
        text = resp.read().decode()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "eventplane_function_invocations_total" and s.labels == {
                "function": function,
                "outcome": "success",
            }:
                return s.value
    return None


def test_a_warm_function_follows_its_changes_and_its_re_creation(
    client: Client, res: Resources, fn_server: EventplaneProcess
) -> None:
    # The invoke path keeps what it worked out per configuration (definition, spec,
    # metric series): each change must reach the next invoke, which a warm worker serves.
    fns = client.functions
    name = res.function("basics.echo", memory_size=128)
    assert fns.invoke(name, {"n": 1}).json()["memory_limit_in_mb"] == "128"
    assert fns.invoke(name, {"n": 2}).json()["memory_limit_in_mb"] == "128"
    assert _invocations(fn_server, name) == 2

    fns.update_function_configuration(name, memory_size=256)
    assert fns.invoke(name, {"n": 3}).json()["memory_limit_in_mb"] == "256"
    assert _invocations(fn_server, name) == 3

    fns.delete_function(name)
    eventually(lambda: _invocations(fn_server, name) is None)  # removed with the function
    fns.create_function(name, "basics.echo", zip_directory=BASICS, memory_size=512)
    assert fns.invoke(name, {"n": 4}).json()["memory_limit_in_mb"] == "512"
    assert _invocations(fn_server, name) == 1  # the new function's own series
