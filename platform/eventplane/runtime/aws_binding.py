"""The usual shape of a capability's AWS-protocol binding (eventplane.gateway.binding).

Each AWS action maps by name onto a method of the capability's operations object
(``SendMessage`` -> ``send_message``) taking the request dataclass its shapes module
names ``<Action>Request``. A binding states its service, its operations and shapes,
and overrides only what its protocol does differently (SQS's renamed query error
codes and queue URLs).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType, ModuleType
from typing import Any

_WORD = re.compile(r"(?<!^)(?=[A-Z])")


def snake(action: str) -> str:
    """``SendMessageBatch`` -> ``send_message_batch``."""
    return _WORD.sub("_", action).lower()


class OperationsBinding:
    service: str
    shapes: ModuleType
    # The service's query-protocol code for each error code that differs.
    query_error_codes: Mapping[str, str] = MappingProxyType({})

    def __init__(self, ops: Any) -> None:
        self.ops = ops

    def handler(self, action: str) -> tuple[type[Any], Callable[[Any], Awaitable[Any]]] | None:
        request = getattr(self.shapes, f"{action}Request", None)
        call = getattr(self.ops, snake(action), None)
        if request is None or call is None:
            return None
        return request, call

    def query_error_code(self, code: str) -> str:
        return self.query_error_codes.get(code, code)

    def implied_members(self, path: str, base_url: str) -> Mapping[str, Any]:
        return {}

    def present(self, output: dict[str, Any], base_url: str, account: str) -> dict[str, Any]:
        return output
