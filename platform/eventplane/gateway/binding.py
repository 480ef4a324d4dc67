"""How a capability offers its core to the gateway, without either importing the other.

A capability's component puts an object of this shape into
``ctx.extras[BINDINGS_KEY][service]`` when it starts (service = botocore's model
name: "sqs", "sns", ...). The gateway looks it up per request, so the order
components start in does not matter, and a process without that capability's
role answers its actions with ServiceUnavailable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

BINDINGS_KEY = "gateway.bindings"

Handler = tuple[type[Any], Callable[[Any], Awaitable[Any]]]


class ServiceBinding(Protocol):
    # botocore's service model name.
    service: str

    def handler(self, action: str) -> Handler | None:
        """(request dataclass, coroutine taking it) for ``action``; None if not implemented."""
        ...

    def query_error_code(self, code: str) -> str:
        """The code the service's query protocol used for ``code`` (SQS renamed several)."""
        ...

    def implied_members(self, path: str, base_url: str) -> Mapping[str, Any]:
        """Members a request's path stands for (SQS query requests posted to a queue URL)."""
        ...

    def present(self, output: dict[str, Any], base_url: str, account: str) -> dict[str, Any]:
        """The serialized output as this endpoint shows it (queue URLs on its host)."""
        ...
