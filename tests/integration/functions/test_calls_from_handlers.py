"""A handler uses the SDK with ``Client()`` and no arguments (the runner sets
$EVENTPLANE_ENDPOINT): it invokes another function synchronously and asynchronously
and sends to a queue."""

from __future__ import annotations

from pathlib import Path

import pytest

from eventplane.client import Client
from eventplane.testing import EventplaneProcess, eventually

from .support import CALLER, Resources, drain, lines

pytestmark = pytest.mark.integration


def test_a_handler_calls_functions_and_queues(
    client: Client, res: Resources, tmp_path: Path, fn_server: EventplaneProcess
) -> None:
    out = tmp_path / "recorded"
    callee = res.function("basics.echo")
    async_callee = res.function("basics.record", environment={"RECORD_FILE": str(out)})
    queue = res.queue("from-fn")
    caller = res.function("caller.handler", package=CALLER, timeout=30)

    result = client.functions.invoke(
        caller,
        {
            "callee": callee,
            "async_callee": async_callee,
            "async_id": "from-caller",
            "queue_url": queue.url,
        },
    )

    assert result.function_error is None, result.payload
    body = result.json()
    assert body["endpoint"].endswith(f":{fn_server.grpc_port}")
    assert body["callee_error"] is None
    assert body["callee_result"]["event"] == {"from": caller}
    assert body["callee_result"]["function_name"] == callee
    assert body["callee_result"]["endpoint"] == body["endpoint"]
    assert body["async_status"] == 202
    eventually(lambda: lines(out) == ["from-caller"], timeout=20)
    messages = drain(client, queue.url, 1)
    assert len(messages) == 1
    message = messages[0]
    assert message.message_id == body["message_id"]
    assert message.body == f"sent by {result.request_id}"
