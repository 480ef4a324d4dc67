"""A handler that calls eventplane with ``Client()`` and no credentials of its own."""

from __future__ import annotations

from typing import Any

from eventplane.client import Client
from eventplane.errors import EventplaneError


def handler(event: Any, context: Any) -> dict[str, str]:
    outcome: dict[str, str] = {}
    with Client() as ep:
        for url in event["queues"]:
            try:
                ep.queues.send_message(url, f"sent by {context.function_name}")
                outcome[url] = "sent"
            except EventplaneError as exc:
                outcome[url] = exc.code
        try:
            ep.functions.list_functions()
            outcome["list_functions"] = "ok"
        except EventplaneError as exc:
            outcome["list_functions"] = exc.code
    return outcome
