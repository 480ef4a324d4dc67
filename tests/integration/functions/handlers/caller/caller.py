"""Calls eventplane from inside a function with ``Client()`` and no arguments: the
runner sets $EVENTPLANE_ENDPOINT."""

from __future__ import annotations

from typing import Any

from eventplane.client import Client


def handler(event: Any, context: Any) -> dict[str, Any]:
    with Client() as ep:
        result = ep.functions.invoke(event["callee"], {"from": context.function_name})
        queued = ep.functions.invoke(
            event["async_callee"], {"id": event["async_id"]}, invocation_type="Event"
        )
        sent = ep.queues.send_message(event["queue_url"], f"sent by {context.aws_request_id}")
    return {
        "callee_result": result.json(),
        "callee_error": result.function_error,
        "async_status": queued.status_code,
        "message_id": sent.message_id,
        "endpoint": ep.target,
    }
