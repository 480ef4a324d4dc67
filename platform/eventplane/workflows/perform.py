"""Running a Task's resource: functions, queues, topics and buses through the public API.

Workflows reach the other capabilities only through their gRPC API with
``eventplane.client`` over loopback (no capability's internals are imported). A
failure comes back as the integration's error name, so Retry/Catch match it as on
AWS: a handler's ``errorType`` (``ValueError``), ``Lambda.ResourceNotFoundException``,
``SQS.QueueDoesNotExist``, ``DynamoDB.ConditionalCheckFailedException``,
``States.Http.StatusCode.404``...
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any

from eventplane.client import AsyncClient
from eventplane.errors import EventplaneError
from eventplane.workflows.dynamodb_task import DynamoDBTaskError, perform_dynamodb
from eventplane.workflows.http_task import HttpTaskError, perform_http
from eventplane.workflows.lang import dumps
from eventplane.workflows.machine import resource_kind

INVOKE_TIMEOUT_S = 960.0  # Lambda's 900 s maximum plus start-up


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    submitted: bool = False


class Performer:
    """Runs task resources with one client per event loop (gRPC aio channels are per loop)."""

    def __init__(self, endpoint: str, token: str = "") -> None:
        self._endpoint = endpoint
        self._token = token or None
        self._clients: dict[asyncio.AbstractEventLoop, AsyncClient] = {}

    def client(self) -> AsyncClient:
        """This loop's client of the platform (Distributed Map readers and writers)."""
        return self._client()

    def _client(self) -> AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            for old in [lp for lp in self._clients if lp.is_closed()]:
                del self._clients[old]
            client = self._clients[loop] = AsyncClient(
                self._endpoint, token=self._token, timeout=INVOKE_TIMEOUT_S
            )
        return client

    async def perform(self, resource: str, payload: Any, waits: bool) -> Outcome:
        rtype, action, _ = resource_kind(resource)
        base = action.removesuffix(".waitForTaskToken")
        try:
            if rtype == "lambdaFunction":
                return await self._lambda(resource, payload, None, raw=True)
            if rtype == "lambda" and base == "invoke":
                params = payload if isinstance(payload, dict) else {}
                if "FunctionName" not in params:
                    return Outcome(False, error="States.Runtime", cause="FunctionName is required")
                out = await self._lambda(
                    str(params["FunctionName"]), params.get("Payload"), params.get("Qualifier")
                )
                return Outcome(out.ok, out.output, out.error, out.cause, waits and out.ok)
            if rtype == "sqs" and base == "sendMessage":
                out = await self._sqs(payload)
            elif rtype == "sns" and base == "publish":
                out = await self._sns(payload)
            elif rtype == "events" and base == "putEvents":
                out = await self._events(payload)
            elif rtype == "http" and action == "invoke":
                return Outcome(True, output=dumps(await perform_http(payload)))
            elif rtype == "dynamodb":
                doc = await perform_dynamodb(self._client().tables, action, payload)
                return Outcome(True, output=dumps(doc))
            else:
                return Outcome(
                    False, error="States.Runtime", cause=f"Unsupported resource {resource!r}"
                )
        except (DynamoDBTaskError, HttpTaskError) as exc:
            return Outcome(False, error=exc.error, cause=exc.cause)
        except EventplaneError as exc:
            prefix = {"lambda": "Lambda", "sqs": "SQS", "sns": "SNS", "events": "EventBridge"}
            name = prefix.get(rtype, "Lambda" if rtype == "lambdaFunction" else rtype)
            return Outcome(False, error=f"{name}.{exc.code}", cause=exc.message)
        return Outcome(out.ok, out.output, out.error, out.cause, waits and out.ok)

    async def _lambda(self, fn: str, event: Any, qualifier: Any, raw: bool = False) -> Outcome:
        try:
            res = await self._client().functions.invoke(
                fn, event, qualifier=str(qualifier) if qualifier else None
            )
        except EventplaneError as exc:
            return Outcome(False, error=f"Lambda.{exc.code}", cause=exc.message)
        text = res.payload.decode() if res.payload else "null"
        if res.function_error:
            try:
                doc = json.loads(text)
            except ValueError:
                doc = {}
            error = doc.get("errorType") if isinstance(doc, dict) else None
            return Outcome(False, error=str(error or "Lambda.Unknown"), cause=text)
        if raw:
            return Outcome(True, output=text)
        return Outcome(
            True,
            output=dumps(
                {
                    "ExecutedVersion": res.executed_version,
                    "Payload": json.loads(text),
                    "SdkHttpMetadata": {"HttpStatusCode": res.status_code},
                    "StatusCode": res.status_code,
                }
            ),
        )

    async def _sqs(self, p: Any) -> Outcome:
        body = p.get("MessageBody")
        r = await self._client().queues.send_message(
            str(p["QueueUrl"]),
            body if isinstance(body, str) else dumps(body),
            delay_seconds=p.get("DelaySeconds"),
            message_group_id=p.get("MessageGroupId"),
            message_deduplication_id=p.get("MessageDeduplicationId"),
        )
        out: dict[str, Any] = {"MessageId": r.message_id, "MD5OfMessageBody": r.md5_of_message_body}
        if r.sequence_number:
            out["SequenceNumber"] = r.sequence_number
        return Outcome(True, output=dumps(out))

    async def _sns(self, p: Any) -> Outcome:
        message = p.get("Message")
        r = await self._client().topics.publish(
            str(p["TopicArn"]),
            message if isinstance(message, str) else dumps(message),
            subject=p.get("Subject"),
        )
        return Outcome(True, output=dumps({"MessageId": r.message_id}))

    async def _events(self, p: Any) -> Outcome:
        r = await self._client().events.put_events(p.get("Entries", []))
        result = [
            {"EventId": x.event_id}
            if x.event_id
            else {"ErrorCode": x.error_code, "ErrorMessage": x.error_message}
            for x in r.entries
        ]
        if r.failed_entry_count:
            return Outcome(
                False,
                error="EventBridge.FailedEntry",
                cause=dumps({"FailedEntryCount": r.failed_entry_count, "Entries": result}),
            )
        return Outcome(True, output=dumps({"Entries": result, "FailedEntryCount": 0}))

    async def close(self) -> None:
        for client in self._clients.values():
            # a loop that is gone closed its channel with it
            with contextlib.suppress(Exception):
                await client.close()
        self._clients.clear()
