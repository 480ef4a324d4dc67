"""Running a Task's resource: functions, queues, topics and buses through the public API.

Workflows reach the other capabilities only through their gRPC API with
``eventplane.client`` over loopback (no capability's internals are imported), except
that a function runs through the functions core's port
(:mod:`eventplane.messaging.invoker`) when the functions role runs in this process and
the task acts as the platform, not as a role: the same core, without a gRPC client and
server in one process serializing every call. A failure comes back as the integration's
error name, so Retry/Catch match it as on AWS: a handler's ``errorType``
(``ValueError``), ``Lambda.ResourceNotFoundException``, ``SQS.QueueDoesNotExistException``,
``DynamoDB.ConditionalCheckFailedException``, ``States.Http.StatusCode.404``...
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eventplane.client import AsyncClient
from eventplane.client._function_types import client_context_text, payload_bytes
from eventplane.errors import EventplaneError
from eventplane.messaging.invoker import FunctionInvoker
from eventplane.observability.logging import get_logger
from eventplane.security.roles import role_token
from eventplane.workflows.accounts import task_role
from eventplane.workflows.dynamodb_task import DynamoDBTaskError, perform_dynamodb
from eventplane.workflows.http_task import HttpTaskError, perform_http
from eventplane.workflows.lang import dumps
from eventplane.workflows.machine import resource_kind
from eventplane.workflows.model import TaskResult
from eventplane.workflows.service_calls import (
    Answer,
    Functions,
    ServiceFailure,
    call_events,
    call_lambda,
    call_sns,
    call_sqs,
    error_name,
    function_error,
)

_log = get_logger("eventplane.workflows.perform")

INVOKE_TIMEOUT_S = 960.0  # Lambda's 900 s maximum plus start-up
MAX_RESULT_BYTES = 256 * 1024  # a task's result, as any state's data


class NoRoleCredentials(Exception):
    """A task that acts as a role when role tokens are not in use."""


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    submitted: bool = False

    def result(self, task_id: str) -> TaskResult:
        """The task's result as its execution takes it (inbox record or handed over)."""
        return TaskResult(task_id, self.ok, self.output, self.error, self.cause, self.submitted)


class _Direct:
    """The SDK's ``functions.invoke`` over the functions core's port."""

    def __init__(self, invoker: FunctionInvoker) -> None:
        self._invoker = invoker

    async def invoke(
        self,
        function_name: str,
        payload: Any = None,
        *,
        invocation_type: str = "RequestResponse",
        log_type: str | None = None,
        qualifier: str | None = None,
        client_context: str | Mapping[str, Any] | None = None,
    ) -> Answer:
        return await self._invoker.invoke(
            function_name,
            payload_bytes(payload),  # as the SDK encodes it
            invocation_type=invocation_type,
            log_type=log_type or "",
            qualifier=qualifier or "",
            client_context=client_context_text(client_context),
        )


class Performer:
    """Runs task resources with one client per event loop (gRPC aio channels are per loop)
    and credentials: the platform's own token, or the role a task acts as
    (``accounts.task_role``: a machine of another account's, ``role_secret`` signs its
    token; without a secret such a task fails rather than act as the platform)."""

    def __init__(
        self,
        endpoint: str,
        token: str = "",
        role_secret: str = "",
        invoker: Callable[[], FunctionInvoker | None] = lambda: None,
    ) -> None:
        self._endpoint = endpoint
        self._token = token or None
        self._role_secret = role_secret
        self._clients: dict[tuple[asyncio.AbstractEventLoop, str | None], AsyncClient] = {}
        # The functions core's port, looked up per call (the role may start after this).
        self._invoker = invoker

    def client(self) -> AsyncClient:
        """This loop's client of the platform (Distributed Map readers and writers)."""
        return self._client()

    def _credentials(self) -> str | None:
        role = task_role.get()
        if role is None:
            return self._token
        if not self._role_secret:
            raise NoRoleCredentials(
                f"Neither role {role} nor any other credentials are available to this task: "
                "set EVENTPLANE_RECEIPT_SECRET (a state machine of another account than the "
                "installation's acts as its role)"
            )
        return role_token(self._role_secret, role)

    def _client(self) -> AsyncClient:
        loop = asyncio.get_running_loop()
        token = self._credentials()
        client = self._clients.get((loop, token))
        if client is None:
            for old in [k for k in self._clients if k[0].is_closed()]:
                del self._clients[old]
            client = self._clients[loop, token] = AsyncClient(
                self._endpoint, token=token, timeout=INVOKE_TIMEOUT_S
            )
        return client

    def _functions(self) -> Functions:
        """Where a function task invokes: the core's port when the functions role runs
        here and the task acts as the platform; else the API, with the task's credentials."""
        invoker = self._invoker() if task_role.get() is None else None
        return _Direct(invoker) if invoker is not None else self._client().functions

    async def perform(
        self, resource: str, payload: Any, waits: bool, execution_arn: str | None = None
    ) -> Outcome:
        """Run one task's resource; every failure comes back as an Outcome (a task that
        raised would never answer its execution). A result over the 256 KiB a state may
        carry is States.DataLimitExceeded, as AWS reports it for the task."""
        out = await self._perform(resource, payload, waits, execution_arn)
        if out.ok and out.output is not None and len(out.output.encode()) > MAX_RESULT_BYTES:
            rtype = resource_kind(resource)[0].replace("lambdaFunction", "lambda")
            return Outcome(
                False,
                error="States.DataLimitExceeded",
                cause=f"The state/task '{rtype}' returned a result with a size exceeding the "
                "maximum number of bytes service limit.",
            )
        return out

    async def _perform(
        self, resource: str, payload: Any, waits: bool, execution_arn: str | None
    ) -> Outcome:
        rtype, action, _ = resource_kind(resource)
        base = action.removesuffix(".waitForTaskToken")
        try:
            if rtype == "lambdaFunction":
                return await self._function(resource, payload)
            if rtype == "http" and action == "invoke":
                return Outcome(True, output=dumps(await perform_http(payload)))
            if rtype == "dynamodb":
                doc = await perform_dynamodb(self._client().tables, action, payload)
                return Outcome(True, output=dumps(doc))
            if rtype == "lambda" and base == "invoke":
                doc = await call_lambda(self._functions(), payload)
                return Outcome(True, output=dumps(doc), submitted=waits)
            client = self._client()
            if rtype == "sqs" and base == "sendMessage":
                doc = await call_sqs(client, payload)
            elif rtype == "sns" and base == "publish":
                doc = await call_sns(client, payload)
            elif rtype == "events" and base == "putEvents":
                doc = await call_events(client, payload, execution_arn)
            else:
                return Outcome(
                    False, error="States.Runtime", cause=f"Unsupported resource {resource!r}"
                )
        except (DynamoDBTaskError, HttpTaskError, ServiceFailure) as exc:
            return Outcome(False, error=exc.error, cause=exc.cause)
        except EventplaneError as exc:
            return Outcome(False, error="States.TaskFailed", cause=f"{exc.code}: {exc.message}")
        except NoRoleCredentials as exc:
            return Outcome(False, error="States.TaskFailed", cause=str(exc))
        except Exception as exc:  # the task must answer, whatever happened
            _log.warning("task_failed", resource=resource, error=repr(exc))
            return Outcome(False, error="States.TaskFailed", cause=f"{type(exc).__name__}: {exc}")
        return Outcome(True, output=dumps(doc), submitted=waits)

    async def _function(self, fn: str, event: Any) -> Outcome:
        """A Task whose Resource is a function ARN: the function's result is the state's."""
        try:
            res = await self._functions().invoke(fn, event)
        except EventplaneError as exc:
            return Outcome(False, error=error_name("lambda", exc.code), cause=exc.message)
        text = res.payload.decode() if res.payload else "null"
        if res.function_error:
            failed = function_error(text)
            return Outcome(False, error=failed.error, cause=failed.cause)
        return Outcome(True, output=text)

    async def close(self) -> None:
        for client in self._clients.values():
            # a loop that is gone closed its channel with it
            with contextlib.suppress(Exception):
                await client.close()
        self._clients.clear()
