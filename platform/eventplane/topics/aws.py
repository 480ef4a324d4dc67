"""The topics core as the AWS-protocol gateway sees it: SNS's binding.

Registered by the fanout component under ``ctx.extras["gateway.bindings"]["sns"]``;
it imports nothing of the gateway. Each SNS action maps by name onto a
``TopicOperations`` method and its request shape; an action with no method (SMS,
platform applications, ConfirmSubscription, tags, ...) has no handler, so the
gateway answers it as unsupported.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from eventplane.topics import shapes
from eventplane.topics.operations import TopicOperations

QUERY_ERROR_CODES = {"UnsupportedOperation": "InvalidAction"}


def _snake(action: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()


class SnsBinding:
    service = "sns"

    def __init__(self, ops: TopicOperations) -> None:
        self.ops = ops

    def handler(self, action: str) -> tuple[type[Any], Callable[[Any], Awaitable[Any]]] | None:
        request = getattr(shapes, f"{action}Request", None)
        call = getattr(self.ops, _snake(action), None)
        if request is None or call is None:
            return None
        return request, call

    def query_error_code(self, code: str) -> str:
        # SNS's codes are the errors' own names (NotFound, InvalidParameter, ...); it has no
        # UnsupportedOperation, and answers an action it does not serve with InvalidAction.
        return QUERY_ERROR_CODES.get(code, code)

    def implied_members(self, path: str, base_url: str) -> Mapping[str, Any]:
        return {}

    def present(self, output: dict[str, Any], base_url: str, account: str) -> dict[str, Any]:
        return output
