"""The HTTP Task (http:invoke) run by a real server against an HTTP server of the test."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

from .conftest import unique

pytestmark = pytest.mark.integration

HTTP = "arn:aws:states:::http:invoke"


class Api(BaseHTTPRequestHandler):
    """/orders echoes the order back; /flaky answers 503 once, then 200; else 404."""

    protocol_version = "HTTP/1.1"
    calls: list[tuple[str, str, str]] = []
    flaky_left = 1

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        Api.calls.append((self.command, self.path, body))
        status, doc = 404, {"message": "no such thing"}
        if self.path.startswith("/orders"):
            status, doc = 201, {"received": json.loads(body), "key": self.headers["X-Api-Key"]}
        elif self.path == "/flaky":
            status, doc = (503, {"busy": True}) if Api.flaky_left else (200, {"ok": True})
            Api.flaky_left = max(0, Api.flaky_left - 1)
        payload = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def client(eventplane_kafka: str) -> Iterator[Client]:
    server = EventplaneProcess(
        eventplane_kafka, roles="api,workflows", cluster=unique_cluster()
    ).start()
    try:
        with server.client(timeout=60) as c:
            yield c
    finally:
        server.stop()


def test_http_tasks_post_retry_a_503_and_catch_a_404(client: Client, api: str) -> None:
    definition = {
        "StartAt": "Post",
        "States": {
            "Post": {
                "Type": "Task",
                "Resource": HTTP,
                "Parameters": {
                    "ApiEndpoint": f"{api}/orders",
                    "Method": "POST",
                    "Headers": {"X-Api-Key": "k1"},
                    "QueryParameters": {"source": "wf"},
                    "RequestBody.$": "$.order",
                },
                "ResultSelector": {"status.$": "$.StatusCode", "body.$": "$.ResponseBody"},
                "ResultPath": "$.posted",
                "Next": "Flaky",
            },
            "Flaky": {
                "Type": "Task",
                "Resource": HTTP,
                "Parameters": {"ApiEndpoint": f"{api}/flaky", "Method": "GET"},
                "Retry": [{"ErrorEquals": ["States.Http.StatusCode.503"], "IntervalSeconds": 1}],
                "ResultSelector": {"body.$": "$.ResponseBody"},
                "ResultPath": "$.flaky",
                "Next": "Missing",
            },
            "Missing": {
                "Type": "Task",
                "Resource": HTTP,
                "Parameters": {"ApiEndpoint": f"{api}/nothing", "Method": "GET"},
                "Catch": [
                    {
                        "ErrorEquals": ["States.Http.StatusCode.404"],
                        "ResultPath": "$.missing",
                        "Next": "Done",
                    }
                ],
                "End": True,
            },
            "Done": {"Type": "Succeed"},
        },
    }
    sm = client.workflows.create_state_machine(unique("http"), definition).state_machine_arn
    arn = client.workflows.start_execution(sm, {"order": {"id": 5}}).execution_arn

    def done() -> Any:
        e = client.workflows.describe_execution(arn)
        assert e.status != "RUNNING", e
        return e

    e = eventually(done, timeout=60)
    assert e.status == "SUCCEEDED", (e.error, e.cause)
    out = e.json()
    assert out["posted"] == {"status": 201, "body": {"received": {"id": 5}, "key": "k1"}}
    assert out["flaky"] == {"body": {"ok": True}}
    assert out["missing"]["Error"] == "States.Http.StatusCode.404"
    assert json.loads(out["missing"]["Cause"])["ResponseBody"] == {"message": "no such thing"}
    assert ("POST", "/orders?source=wf", '{"id":5}') in Api.calls
    history = client.workflows.get_execution_history(arn)
    failed = [x["taskFailedEventDetails"]["error"] for x in history if x["type"] == "TaskFailed"]
    assert failed == ["States.Http.StatusCode.503", "States.Http.StatusCode.404"]
    scheduled = [x["taskScheduledEventDetails"] for x in history if x["type"] == "TaskScheduled"]
    assert {(d["resourceType"], d["resource"]) for d in scheduled} == {("http", "invoke")}
