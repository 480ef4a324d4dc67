"""A state machine definition as the interpreter reads it: states by scope and name."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from eventplane.workflows.asl import MapState, ParallelState, StateDef, StateMachineDef
from eventplane.workflows.asl.definition import build_machine

LAMBDA_FUNCTION = "arn:aws:lambda:"
SERVICE_PREFIX = "arn:aws:states:::"
WAIT_FOR_TOKEN = ".waitForTaskToken"
ACTIVITY_PREFIX = "arn:aws:states:"


class Machine:
    """A definition built into typed states once; sub-machines are found by ``scope``.

    A scope is a flat list of (state name, branch index) pairs from the root down: a
    Parallel branch is ``[name, i]``, a Map's item processor ``[name, -1]``. The
    definition must have passed validation (``asl.parse_definition``) when it was stored.
    """

    def __init__(self, definition: str | dict[str, Any]) -> None:
        raw = json.loads(definition) if isinstance(definition, str) else definition
        self.definition: StateMachineDef = build_machine(raw)
        self._cache: dict[tuple[Any, ...], StateMachineDef] = {}

    @property
    def timeout_seconds(self) -> int | None:
        return self.definition.timeout_seconds

    def machine(self, scope: Sequence[Any]) -> StateMachineDef:
        key = tuple(scope)
        found = self._cache.get(key)
        if found is None:
            found = self.definition
            for i in range(0, len(scope), 2):
                state = found.states[scope[i]]
                if isinstance(state, ParallelState):
                    found = state.branches[scope[i + 1]]
                else:
                    assert isinstance(state, MapState) and state.item_processor is not None
                    found = state.item_processor
            self._cache[key] = found
        return found

    def state(self, scope: Sequence[Any], name: str) -> StateDef:
        return self.machine(scope).states[name]

    def start_at(self, scope: Sequence[Any]) -> str:
        return self.machine(scope).start_at


def resource_kind(resource: str) -> tuple[str, str, bool]:
    """(resourceType, resource, waits for a token) as history events name a task's resource.

    A function ARN is the "lambda function" kind (``LambdaFunction*`` events), an
    activity ARN the "activity" kind (``Activity*`` events); service
    integrations ``arn:aws:states:::sqs:sendMessage`` are ``("sqs", "sendMessage")``.
    """
    if resource.startswith(LAMBDA_FUNCTION):
        return "lambdaFunction", resource, False
    if resource.startswith(ACTIVITY_PREFIX) and ":activity:" in resource:
        return "activity", resource, False
    if resource.startswith(SERVICE_PREFIX):
        service, _, action = resource[len(SERVICE_PREFIX) :].partition(":")
        return service, action, action.endswith(WAIT_FOR_TOKEN)
    return "unknown", resource, False


def task_token(execution_arn: str, task_id: str) -> str:
    """An opaque token naming the execution (for routing) and its task."""
    raw = json.dumps([execution_arn, task_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_token(token: str) -> tuple[str, str] | None:
    """(execution ARN, task id) of a token, or None if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        arn, task_id = json.loads(raw)
    except (ValueError, TypeError, RecursionError):
        return None
    if not isinstance(arn, str) or not isinstance(task_id, str):
        return None
    return arn, task_id
