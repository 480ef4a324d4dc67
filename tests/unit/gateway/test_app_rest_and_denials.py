"""The whole gateway app without a server: an unsigned REST request reaches Lambda's binding
by its path, Invoke's answer travels as body and headers, and an authorization denial
from a core leaves as each protocol's client error (never a 500)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eventplane.errors.security import AccessDeniedException
from eventplane.functions import shapes as fs
from eventplane.gateway import GatewayApp, Verifier


@dataclass
class FakeBinding:
    """A binding whose every action is ``call`` taking ``request`` (captured for the test)."""

    service: str
    request: type[Any]
    call: Callable[[Any], Awaitable[Any]]

    def handler(self, action: str) -> tuple[type[Any], Callable[[Any], Awaitable[Any]]]:
        return self.request, self.call

    def query_error_code(self, code: str) -> str:
        return {"AccessDeniedException": "AccessDenied"}.get(code, code)

    def implied_members(self, path: str, base_url: str) -> Mapping[str, Any]:
        return {}

    def present(self, output: dict[str, Any], base_url: str, account: str) -> dict[str, Any]:
        return output


def _request(
    app: GatewayApp,
    method: str,
    path: str,
    *,
    query: str = "",
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
) -> tuple[int, dict[str, str], bytes]:
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start, end = sent
    out_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], out_headers, end["body"]


async def _denied(_: Any) -> Any:
    raise AccessDeniedException("User anonymous is not authorized to perform this action")


def test_an_unsigned_invoke_reaches_lambda_by_its_path() -> None:
    seen: list[fs.InvokeRequest] = []

    async def invoke(req: fs.InvokeRequest) -> fs.InvokeResult:
        seen.append(req)
        return fs.InvokeResult(
            status_code=200,
            executed_version="3",
            request_id="r",
            payload=b'{"ok":true}',
            function_error="Unhandled",
        )

    bindings = {"lambda": FakeBinding("lambda", fs.InvokeRequest, invoke)}
    app = GatewayApp(bindings, Verifier({}, open_access=True))
    status, headers, body = _request(
        app,
        "POST",
        "/2015-03-31/functions/my-fn/invocations",
        query="Qualifier=live",
        headers={"X-Amz-Invocation-Type": "RequestResponse", "X-Amz-Log-Type": "None"},
        body=b'{"n": 1}',
    )
    assert (status, body) == (200, b'{"ok":true}')
    assert headers["x-amz-function-error"] == "Unhandled"
    assert headers["x-amz-executed-version"] == "3"
    assert seen == [
        fs.InvokeRequest(
            function_name="my-fn",
            qualifier="live",
            invocation_type="RequestResponse",
            log_type="None",
            payload=b'{"n": 1}',
        )
    ]


def test_an_unknown_lambda_path_is_not_taken_for_lambda() -> None:
    app = GatewayApp({}, Verifier({}, open_access=True))
    status, _, body = _request(app, "GET", "/2015-03-31/nothing-here")
    assert status == 400
    assert b"InvalidAction" in body  # fell through to the query protocol's answer


def test_lambda_answers_a_denial_with_403() -> None:
    bindings = {"lambda": FakeBinding("lambda", fs.GetFunctionRequest, _denied)}
    app = GatewayApp(bindings, Verifier({}, open_access=True))
    status, headers, body = _request(app, "GET", "/2015-03-31/functions/f")
    assert status == 403
    assert headers["x-amzn-errortype"] == "AccessDeniedException"
    assert json.loads(body)["Type"] == "User"


def test_sqs_json_answers_a_denial_with_400() -> None:
    @dataclass
    class Anything:
        queue_url: str = ""

    bindings = {"sqs": FakeBinding("sqs", Anything, _denied)}
    app = GatewayApp(bindings, Verifier({}, open_access=True))
    status, headers, _ = _request(
        app,
        "POST",
        "/",
        headers={
            "X-Amz-Target": "AmazonSQS.GetQueueUrl",
            "Content-Type": "application/x-amz-json-1.0",
        },
        body=b'{"QueueName": "q"}',
    )
    assert status == 400
    assert headers["x-amzn-query-error"] == "AccessDenied;Sender"


def test_sqs_query_answers_a_denial_with_400() -> None:
    @dataclass
    class Anything:
        queue_name: str = ""

    bindings = {"sqs": FakeBinding("sqs", Anything, _denied)}
    app = GatewayApp(bindings, Verifier({}, open_access=True))
    status, _, body = _request(
        app,
        "POST",
        "/",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=b"Action=GetQueueUrl&QueueName=q",
    )
    assert status == 400
    assert b"<Code>AccessDenied</Code>" in body
