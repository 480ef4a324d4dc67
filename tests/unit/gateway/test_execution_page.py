"""The execution page through the whole gateway app, without a server: it is open when
the gateway is, refused to an unsigned or policy-denied caller when it is not, reloads
only while the execution runs, and answers 404, 405 and 503 pages."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from eventplane.errors.workflows import ExecutionDoesNotExist
from eventplane.gateway import GatewayApp, Verifier
from eventplane.gateway.authz import GatewayAuthorizer
from eventplane.security import TokenStore
from eventplane.workflows import aws_shapes as s

pytestmark = pytest.mark.skipif(
    shutil.which("dot") is None and os.environ.get("EVENTPLANE_REQUIRE_BROWSER") != "1",
    reason="Graphviz's dot is not installed (tools/install_viewer_deps.sh)",
)

EXECUTION = "arn:aws:states:local:000000000000:execution:orders:order-7"
MACHINE = "arn:aws:states:local:000000000000:stateMachine:orders"
DEFINITION = (
    '{"StartAt": "Check", "States": {"Check": {"Type": "Choice", "Choices": [{"Variable": '
    '"$.ok", "BooleanEquals": true, "Next": "Ship"}], "Default": "Reject"}, '
    '"Ship": {"Type": "Pass", "End": true}, "Reject": {"Type": "Fail"}}}'
)
KEY, SECRET, ACCOUNT = "AKIDPAGE", "page-secret", "000000000000"
HOST = "gw.test"


class Binding:
    """Step Functions' read actions over one execution whose status the test sets."""

    service = "stepfunctions"

    def __init__(self, status: str = "RUNNING") -> None:
        self.status = status

    def handler(self, action: str) -> tuple[type[Any], Callable[[Any], Awaitable[Any]]] | None:
        return {
            "DescribeExecution": (s.DescribeExecutionRequest, self.describe),
            "DescribeStateMachineForExecution": (
                s.DescribeStateMachineForExecutionRequest,
                self.machine,
            ),
            "GetExecutionHistory": (s.GetExecutionHistoryRequest, self.history),
        }.get(action)

    def _known(self, arn: str) -> None:
        if arn != EXECUTION:
            raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")

    async def describe(self, r: s.DescribeExecutionRequest) -> s.ExecutionResult:
        self._known(r.execution_arn)
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        return s.ExecutionResult(EXECUTION, MACHINE, "order-7", self.status, start)

    async def machine(
        self, r: s.DescribeStateMachineForExecutionRequest
    ) -> s.DescribeStateMachineForExecutionResult:
        self._known(r.execution_arn)
        now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        return s.DescribeStateMachineForExecutionResult(MACHINE, "orders", DEFINITION, "", now, "")

    async def history(self, r: s.GetExecutionHistoryRequest) -> s.GetExecutionHistoryResult:
        self._known(r.execution_arn)
        # Two pages: the page reads them all.
        if not r.next_token:
            entered = {"id": 1, "type": "ChoiceStateEntered"}
            entered["stateEnteredEventDetails"] = {"name": "Check"}
            return s.GetExecutionHistoryResult([entered], next_token="more")
        events: list[dict[str, Any]] = [
            {"id": 2, "type": "ChoiceStateExited", "stateExitedEventDetails": {"name": "Check"}},
            {"id": 3, "type": "PassStateEntered", "stateEnteredEventDetails": {"name": "Ship"}},
        ]
        return s.GetExecutionHistoryResult(events)

    def query_error_code(self, code: str) -> str:
        return code

    def implied_members(self, path: str, base_url: str) -> Mapping[str, Any]:
        return {}

    def present(self, output: dict[str, Any], base_url: str, account: str) -> dict[str, Any]:
        return output


def _get(app: GatewayApp, url: str, method: str = "GET") -> tuple[int, dict[str, str], str]:
    parts = urlsplit(url)
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "method": method,
        "path": parts.path,
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "headers": [(b"host", HOST.encode())],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start, end = sent
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, end["body"].decode()


def _url(arn: str = EXECUTION, suffix: str = "") -> str:
    return f"http://{HOST}/ui/executions/{quote(arn, safe='')}{suffix}"


def _presigned(url: str) -> str:
    request = AWSRequest(method="GET", url=url)
    SigV4QueryAuth(Credentials(KEY, SECRET), "states", "us-east-1", expires=60).add_auth(request)
    return str(request.prepare().url)


def _open(binding: Binding | None = None) -> GatewayApp:
    bindings = {"stepfunctions": binding or Binding()}
    return GatewayApp(bindings, Verifier({}, open_access=True))


def test_an_open_gateway_shows_the_page_and_reloads_it_while_running() -> None:
    binding = Binding()
    app = _open(binding)
    status, headers, page = _get(app, _url())
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert "no-store" in headers["cache-control"]
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "<svg" in page and "<?xml" not in page
    for name in ("Check", "Ship", "Reject"):
        assert f">{name}</text>" in page
    assert ">RUNNING<" in page
    # The ARN unencoded in the path is the same page.
    assert _get(app, f"http://{HOST}/ui/executions/{EXECUTION}")[0] == 200

    binding.status = "SUCCEEDED"
    status, _, page = _get(app, _url())
    assert status == 200 and "http-equiv" not in page and ">SUCCEEDED<" in page

    status, headers, svg = _get(app, _url(suffix="/graph.svg"))
    assert status == 200 and headers["content-type"] == "image/svg+xml"
    assert ">Ship</text>" in svg


def test_unknown_executions_other_methods_and_no_workflows_role() -> None:
    status, _, page = _get(_open(), _url("arn:aws:states:local:000000000000:execution:o:nope"))
    assert status == 404 and "No such execution" in page and "nope" in page
    assert _get(_open(), _url(), method="POST")[0] == 405
    status, _, page = _get(GatewayApp({}, Verifier({}, open_access=True)), _url())
    assert status == 503 and "not served by this replica" in page


def test_with_credentials_only_a_signed_request_sees_the_page() -> None:
    app = GatewayApp({"stepfunctions": Binding()}, Verifier({KEY: (SECRET, ACCOUNT)}))
    status, _, page = _get(app, _url())
    assert status in (400, 403) and "Check" not in page
    status, _, page = _get(app, _presigned(_url()))
    assert status == 200 and ">Check</text>" in page
    wrong = _presigned(_url()).replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert _get(app, wrong)[0] in (400, 403)


def test_the_principal_needs_each_read_action() -> None:
    describe_only = {
        "Statement": [{"Effect": "Allow", "Action": "states:DescribeExecution", "Resource": "*"}]
    }
    store = TokenStore([], principals={"viewer": {"policies": [describe_only]}})
    app = GatewayApp(
        {"stepfunctions": Binding()},
        Verifier({KEY: (SECRET, ACCOUNT, "viewer")}),
        authorizer=GatewayAuthorizer(store),
    )
    status, _, page = _get(app, _presigned(_url()))
    assert status == 403, page
    assert "AccessDeniedException" in page and "states:DescribeStateMachineForExecution" in page
    assert "Check</text>" not in page
