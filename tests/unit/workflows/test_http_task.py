"""The HTTP Task (http:invoke): requests as the parameters describe them, against a real
local HTTP server; results, error names, and the create-time checks."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest

from eventplane.workflows.asl.definition import validate_definition
from eventplane.workflows.http_task import HttpTaskError, build_request, perform_http

HTTP = "arn:aws:states:::http:invoke"


class Handler(BaseHTTPRequestHandler):
    """Echoes what it got as JSON; /status/NNN answers NNN; /text answers plain text."""

    protocol_version = "HTTP/1.1"
    seen: list[dict[str, Any]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        path, _, query = self.path.partition("?")
        got = {
            "method": self.command,
            "path": path,
            "query": parse_qsl(query, keep_blank_values=True),
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
        }
        Handler.seen.append(got)
        status = int(path.rsplit("/", 1)[-1]) if path.startswith("/status/") else 200
        if path == "/text":
            payload, kind = b"plain words", "text/plain"
        else:
            payload, kind = json.dumps(got).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("X-Multi", "a")
        self.send_header("X-Multi", "b")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def call(params: Any, **kw: Any) -> dict[str, Any]:
    return asyncio.run(perform_http(params, **kw))


def failed(params: Any, **kw: Any) -> HttpTaskError:
    with pytest.raises(HttpTaskError) as info:
        call(params, **kw)
    return info.value


def test_get_with_query_and_headers_returns_the_parsed_json(base: str) -> None:
    out = call(
        {
            "ApiEndpoint": f"{base}/items?fixed=1",
            "Method": "GET",
            "QueryParameters": {"id": "7", "tag": ["a", "b"], "n": 3},
            "Headers": {"Authorization": "Bearer t", "X-Trace": ["x", "y"]},
        }
    )
    assert out["StatusCode"] == 200 and out["StatusText"] == "OK"
    got = out["ResponseBody"]
    assert got["method"] == "GET" and got["path"] == "/items"
    assert got["query"] == [["fixed", "1"], ["id", "7"], ["tag", "a"], ["tag", "b"], ["n", "3"]]
    assert got["headers"]["authorization"] == "Bearer t"
    assert got["headers"]["x-trace"] == "x,y"
    assert out["Headers"]["x-multi"] == ["a", "b"]
    assert out["Headers"]["content-type"] == ["application/json"]


def test_a_json_body_is_sent_as_json(base: str) -> None:
    out = call({"ApiEndpoint": base, "Method": "POST", "RequestBody": {"a": [1, 2], "b": None}})
    got = out["ResponseBody"]
    assert json.loads(got["body"]) == {"a": [1, 2], "b": None}
    assert got["headers"]["content-type"] == "application/json; charset=UTF-8"


@pytest.mark.parametrize(
    ("array_format", "form"),
    [
        (None, [("a[0]", "x"), ("a[1]", "y"), ("k", "v")]),
        ("INDICES", [("a[0]", "x"), ("a[1]", "y"), ("k", "v")]),
        ("REPEAT", [("a", "x"), ("a", "y"), ("k", "v")]),
        ("COMMAS", [("a", "x,y"), ("k", "v")]),
        ("BRACKETS", [("a[]", "x"), ("a[]", "y"), ("k", "v")]),
    ],
)
def test_url_encoded_bodies_follow_the_array_format(
    array_format: str | None, form: list[tuple[str, str]]
) -> None:
    transform: dict[str, Any] = {"RequestBodyEncoding": "URL_ENCODED"}
    if array_format:
        transform["RequestEncodingOptions"] = {"ArrayFormat": array_format}
    req = build_request(
        {
            "ApiEndpoint": "http://h/x",
            "Method": "POST",
            "RequestBody": {"a": ["x", "y"], "k": "v"},
            "Transform": transform,
        }
    )
    assert parse_qsl(req.body.decode()) == form
    assert ("Content-Type", "application/x-www-form-urlencoded") in req.headers


def test_text_answers_and_head_requests(base: str) -> None:
    assert call({"ApiEndpoint": f"{base}/text", "Method": "GET"})["ResponseBody"] == "plain words"
    head = call({"ApiEndpoint": base, "Method": "HEAD"})
    assert head["StatusCode"] == 200 and head["ResponseBody"] == ""


def test_a_non_2xx_answer_is_its_status_code_error_with_the_response_as_cause(base: str) -> None:
    err = failed({"ApiEndpoint": f"{base}/status/404", "Method": "DELETE"})
    assert err.error == "States.Http.StatusCode.404"
    cause = json.loads(err.cause)
    assert cause["StatusCode"] == 404 and cause["StatusText"] == "Not Found"
    assert cause["ResponseBody"]["method"] == "DELETE"


def test_no_connection_and_no_answer_are_socket_errors() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    err = failed({"ApiEndpoint": f"http://127.0.0.1:{port}/", "Method": "GET"})
    assert err.error == "States.Http.Socket"
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        err = failed({"ApiEndpoint": url, "Method": "GET"}, timeout=0.5)
    assert err.error == "States.Http.Socket" and "no answer within 0.5 s" in err.cause


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"ApiEndpoint": "ftp://h/", "Method": "GET"}, "http(s) URL"),
        ({"ApiEndpoint": "http://h/", "Method": "FETCH"}, "Method must be one of"),
        ({"ApiEndpoint": "http://h/", "Method": "GET", "Headers": {"Host": "x"}}, "'Host'"),
        ({"ApiEndpoint": "http://h/", "Method": "GET", "Headers": {"X-Amz-Date": "1"}}, "X-Amz"),
        (
            {"ApiEndpoint": "http://h/", "Method": "GET", "Authentication": {"ConnectionArn": "a"}},
            "EventBridge connection",
        ),
        (
            {
                "ApiEndpoint": "http://h/",
                "Method": "POST",
                "RequestBody": {},
                "Transform": {"RequestBodyEncoding": "GZIP"},
            },
            "RequestBodyEncoding",
        ),
    ],
)
def test_bad_parameters_are_runtime_errors(params: dict[str, Any], says: str) -> None:
    err = failed(params)
    assert err.error == "States.Runtime" and says in err.cause


def _errors(state: dict[str, Any]) -> list[str]:
    text = json.dumps({"StartAt": "T", "States": {"T": {"Type": "Task", "End": True, **state}}})
    return [d.message for d in validate_definition(text) if d.severity == "ERROR"]


def test_create_time_checks() -> None:
    ok = {"ApiEndpoint.$": "$.url", "Method": "GET", "QueryParameters": {"a": "b"}}
    assert _errors({"Resource": HTTP, "Parameters": ok}) == []
    assert (
        "request-response task only"
        in _errors({"Resource": HTTP + ".waitForTaskToken", "Parameters": ok})[0]
    )
    assert _errors({"Resource": HTTP, "Parameters": {**ok, "Body": 1}}) == [
        "The field 'Body' is not supported by Step Functions for http:invoke"
    ]
    auth = {**ok, "Authentication": {"ConnectionArn": "arn:aws:events:r:1:connection/c/x"}}
    assert "EventBridge connection" in _errors({"Resource": HTTP, "Parameters": auth})[0]
    assert _errors({"Resource": HTTP, "Parameters": {"ApiEndpoint": "http://h"}}) == [
        "These fields are required: [Method]"
    ]
