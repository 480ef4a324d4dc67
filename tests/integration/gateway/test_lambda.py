"""Lambda over the AWS-protocol gateway (REST-JSON), with boto3 and the AWS CLI unchanged.

One server per module with the runner role (functions) beside the gateway; each test
names its own functions. Code is a zip built here, uploaded as boto3 does (ZipFile).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from eventplane.testing import EventplaneProcess, eventually

from .aio import Loop
from .conftest import js_session
from .support import ACCOUNT, KEY, REGION, SECRET, gateway_process

pytestmark = pytest.mark.integration

ROLE = f"arn:aws:iam::{ACCOUNT}:role/test"
APP = """
import json


def echo(event, context):
    print("echo called with", json.dumps(event))
    return {"event": event, "function": context.function_name,
            "version": context.function_version}


def boom(event, context):
    raise ValueError("kaboom: " + str(event.get("why")))


def record(event, context):
    with open(event["path"], "a") as f:
        f.write(json.dumps(event) + "\\n")
    return "ok"
"""


def package(source: str = APP) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("app.py", source)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    process = gateway_process(eventplane_kafka, "api,runner,queues")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module", params=["boto3", "aiobotocore"])
def lam(server: EventplaneProcess, request: pytest.FixtureRequest) -> Any:
    """boto3, then aiobotocore: every test here runs through both client stacks."""
    settings: dict[str, Any] = {
        "endpoint_url": server.gateway_url,
        "region_name": REGION,
        "aws_access_key_id": KEY,
        "aws_secret_access_key": SECRET,
        "config": Config(retries={"max_attempts": 1}),
    }
    if request.param == "aiobotocore":
        loop: Loop = request.getfixturevalue("aio_loop")
        return loop.client("lambda", **settings)
    return boto3.client("lambda", **settings)


@pytest.fixture
def make_function(lam: Any) -> Iterator[Callable[..., str]]:
    """make_function(handler="app.echo", **kwargs) -> name, deleted afterwards."""
    created: list[str] = []

    def make(handler: str = "app.echo", **kwargs: Any) -> str:
        name = f"gw-fn-{uuid.uuid4().hex[:10]}"
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler=handler,
            Code={"ZipFile": package()},
            **kwargs,
        )
        created.append(name)
        return name

    yield make
    for name in created:
        with contextlib.suppress(ClientError):
            lam.delete_function(FunctionName=name)


def invoke(lam: Any, **kwargs: Any) -> dict[str, Any]:
    """lam.invoke with the streamed Payload read (and its connection freed) into "Body"."""
    out: dict[str, Any] = lam.invoke(**kwargs)
    with out.pop("Payload") as payload:
        out["Body"] = payload.read()
    return out


def _error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    err = caught.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def test_create_invoke_and_read_back(lam: Any, make_function: Callable[..., str]) -> None:
    name = make_function(Timeout=10, Environment={"Variables": {"STAGE": "test"}})
    got = lam.get_function(FunctionName=name)
    config = got["Configuration"]
    assert config["FunctionName"] == name
    assert config["FunctionArn"].endswith(f":function:{name}")
    assert config["Handler"] == "app.echo"
    assert config["Timeout"] == 10
    assert config["Role"] == ROLE  # the execution role given, kept
    assert config["Environment"]["Variables"] == {"STAGE": "test"}
    assert config["CodeSize"] > 0
    assert config["Version"] == "$LATEST"
    assert config["State"] == "Active"
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200

    out = invoke(lam, FunctionName=name, Payload=json.dumps({"hello": "λ", "n": [1, 2]}))
    assert out["StatusCode"] == 200
    assert "FunctionError" not in out
    assert out["ExecutedVersion"] == "$LATEST"
    doc = json.loads(out["Body"])
    assert doc == {"event": {"hello": "λ", "n": [1, 2]}, "function": name, "version": "$LATEST"}

    names = []
    for page in lam.get_paginator("list_functions").paginate():
        names += [f["FunctionName"] for f in page["Functions"]]
    assert name in names


def test_a_handler_that_raises_is_an_unhandled_function_error(
    lam: Any, make_function: Callable[..., str]
) -> None:
    name = make_function("app.boom")
    out = invoke(lam, FunctionName=name, Payload=b'{"why": "testing"}')
    assert out["StatusCode"] == 200
    # What Lambda's Python runtime says for an exception the handler raised.
    assert out["FunctionError"] == "Unhandled"
    doc = json.loads(out["Body"])
    assert doc["errorType"] == "ValueError"
    assert doc["errorMessage"] == "kaboom: testing"


def test_log_type_tail_returns_the_log_in_base64(
    lam: Any, make_function: Callable[..., str]
) -> None:
    name = make_function()
    out = invoke(lam, FunctionName=name, Payload=b'{"marker": "tail-me"}', LogType="Tail")
    log = base64.b64decode(out["LogResult"]).decode()
    assert "echo called with" in log and "tail-me" in log
    # Lambda's platform lines around the handler's, as tools that parse REPORT expect.
    rid = out["ResponseMetadata"]["RequestId"]
    lines = log.splitlines()
    assert lines[0] == f"START RequestId: {rid} Version: $LATEST"
    assert lines[-2] == f"END RequestId: {rid}"
    assert re.fullmatch(
        rf"REPORT RequestId: {rid}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms"
        r"\tMemory Size: 128 MB\tMax Memory Used: \d+ MB(\tInit Duration: \d+\.\d\d ms)?\t",
        lines[-1],
    ), lines[-1]
    assert "LogResult" not in invoke(lam, FunctionName=name, Payload=b"{}")


def test_event_and_dry_run_invocations(
    lam: Any, make_function: Callable[..., str], tmp_path: Path
) -> None:
    name = make_function("app.record")
    path = tmp_path / "calls.jsonl"
    dry = invoke(lam, FunctionName=name, InvocationType="DryRun", Payload=b"{}")
    assert dry["StatusCode"] == 204
    queued = invoke(
        lam,
        FunctionName=name,
        InvocationType="Event",
        Payload=json.dumps({"path": str(path), "id": 1}),
    )
    assert queued["StatusCode"] == 202
    assert queued["Body"] == b""

    def ran() -> list[Any]:
        lines = path.read_text().splitlines() if path.exists() else []
        assert lines, "the Event invocation has not run yet"
        return [json.loads(line) for line in lines]

    assert [e["id"] for e in eventually(ran, timeout=60)] == [1]


def test_versions_alias_and_invoke_by_qualifier(
    lam: Any, make_function: Callable[..., str]
) -> None:
    name = make_function()
    v1 = lam.publish_version(FunctionName=name, Description="first")
    assert v1["Version"] == "1"
    assert v1["ResponseMetadata"]["HTTPStatusCode"] == 201
    lam.update_function_configuration(FunctionName=name, Description="changed", Timeout=7)
    v2 = lam.publish_version(FunctionName=name)
    assert v2["Version"] == "2"
    versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]

    alias = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert alias["AliasArn"].endswith(f":function:{name}:live")
    out = invoke(lam, FunctionName=name, Qualifier="live", Payload=b"{}")
    assert out["ExecutedVersion"] == "1"
    assert json.loads(out["Body"])["version"] == "1"

    lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"
    out = invoke(lam, FunctionName=f"{name}:live", Payload=b"{}")
    assert out["ExecutedVersion"] == "2"
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]] == ["live"]
    lam.delete_alias(FunctionName=name, Name="live")
    assert lam.list_aliases(FunctionName=name)["Aliases"] == []

    lam.update_function_code(FunctionName=name, ZipFile=package(APP.replace("echo", "echo2")))
    assert lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]["Version"] == "1"


def test_concurrency_and_async_invoke_config(lam: Any, make_function: Callable[..., str]) -> None:
    name = make_function()
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)
    put = lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=3)
    assert put["ReservedConcurrentExecutions"] == 3
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 3
    assert lam.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 3}
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(lam.exceptions.TooManyRequestsException) as caught:
        lam.invoke(FunctionName=name, Payload=b"{}")
    assert _error(caught)[1] == 429
    assert caught.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    lam.delete_function_concurrency(FunctionName=name)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)

    config = lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=0, MaximumEventAgeInSeconds=120
    )
    assert config["MaximumRetryAttempts"] == 0
    got = lam.get_function_event_invoke_config(FunctionName=name)
    assert got["MaximumEventAgeInSeconds"] == 120
    assert got["LastModified"].year >= 2024
    lam.delete_function_event_invoke_config(FunctionName=name)
    with pytest.raises(ClientError) as caught:
        lam.get_function_event_invoke_config(FunctionName=name)
    assert _error(caught)[:2] == ("ResourceNotFoundException", 404)


def test_event_source_mapping_over_a_queue(
    lam: Any, server: EventplaneProcess, make_function: Callable[..., str]
) -> None:
    name = make_function()
    sqs = boto3.client(
        "sqs",
        endpoint_url=server.gateway_url,
        region_name=REGION,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
    )
    queue = f"gw-esm-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    try:
        mapping = lam.create_event_source_mapping(
            EventSourceArn=arn, FunctionName=name, BatchSize=5, Enabled=False
        )
        assert mapping["BatchSize"] == 5
        uid = mapping["UUID"]
        assert lam.get_event_source_mapping(UUID=uid)["EventSourceArn"] == arn
        listed = lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
        assert [m["UUID"] for m in listed] == [uid]
        updated = lam.update_event_source_mapping(UUID=uid, BatchSize=7)
        assert updated["BatchSize"] == 7
        assert lam.delete_event_source_mapping(UUID=uid)["UUID"] == uid
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_missing_function_is_resource_not_found_404(lam: Any) -> None:
    missing = f"gw-none-{uuid.uuid4().hex[:8]}"
    for call in (
        lambda: lam.get_function(FunctionName=missing),
        lambda: lam.invoke(FunctionName=missing, Payload=b"{}"),
        lambda: lam.delete_function(FunctionName=missing),
    ):
        with pytest.raises(lam.exceptions.ResourceNotFoundException) as caught:
            call()
        code, status, message = _error(caught)
        assert (code, status) == ("ResourceNotFoundException", 404)
        assert missing in message


def test_bad_input_is_named_and_the_server_keeps_serving(
    lam: Any, make_function: Callable[..., str]
) -> None:
    name = f"gw-bad-{uuid.uuid4().hex[:8]}"
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as caught:
        lam.create_function(
            FunctionName=name, Role=ROLE, Handler="nohandler", Code={"ZipFile": package()}
        )
    code, status, message = _error(caught)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert "Handler" in message
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as caught:
        lam.create_function(
            FunctionName=name, Role=ROLE, Handler="app.echo", Code={"ZipFile": b"not a zip"}
        )
    assert "unzip" in _error(caught)[2]
    with pytest.raises(ClientError) as caught:
        lam.create_function(
            FunctionName=name,
            Role=ROLE,
            Handler="app.echo",
            Code={"ZipFile": package()},
            Timeout=901,
        )
    code, status, message = _error(caught)
    assert status == 400 and "timeout" in message
    ok = make_function()
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        invoke(lam, FunctionName=ok, Payload=b"{not json")
    with pytest.raises(lam.exceptions.ResourceConflictException) as caught:
        lam.create_function(
            FunctionName=ok, Role=ROLE, Handler="app.echo", Code={"ZipFile": package()}
        )
    assert _error(caught)[1] == 409
    assert invoke(lam, FunctionName=ok, Payload=b"{}")["StatusCode"] == 200


def _aws(server: EventplaneProcess, tmp: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=KEY,
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(tmp / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp / "credentials"),
    )
    aws = str(Path(sys.executable).with_name("aws"))
    done = subprocess.run(
        [aws, "--endpoint-url", server.gateway_url, "--output", "json", "lambda", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_aws_cli_create_and_invoke(server: EventplaneProcess, tmp_path: Path) -> None:
    name = f"gw-cli-{uuid.uuid4().hex[:8]}"
    code = tmp_path / "fn.zip"
    code.write_bytes(package())
    created = _aws(
        server,
        tmp_path,
        "create-function",
        "--function-name",
        name,
        "--runtime",
        "python3.12",
        "--handler",
        "app.echo",
        "--role",
        ROLE,
        "--zip-file",
        f"fileb://{code}",
    )
    try:
        assert json.loads(created)["FunctionName"] == name
        out = tmp_path / "out.json"
        answer = _aws(
            server,
            tmp_path,
            "invoke",
            "--function-name",
            name,
            "--payload",
            '{"from": "cli"}',
            str(out),
        )
        assert json.loads(answer)["StatusCode"] == 200
        assert json.loads(out.read_text())["event"] == {"from": "cli"}
        listed = json.loads(_aws(server, tmp_path, "list-functions"))["Functions"]
        assert name in [f["FunctionName"] for f in listed]
    finally:
        _aws(server, tmp_path, "delete-function", "--function-name", name)


def test_javascript_sdk_creates_invokes_and_deletes(
    server: EventplaneProcess, node: str, tmp_path: Path
) -> None:
    """A third client stack: @aws-sdk/client-lambda, run with node (tests/js)."""
    code = tmp_path / "fn.zip"
    code.write_bytes(package())
    run, seen = js_session(node, "lambda_session.mjs", server, EP_ZIP=str(code), EP_ROLE=ROLE)
    assert seen["created"] == f"js-fn-{run}"
    assert seen["state"] == "Active"
    assert (seen["status"], seen["echo"], seen["logHasCall"]) == (200, {"from": "node"}, True)
    assert seen["aliasVersion"] == "1"
    assert seen["eventStatus"] == 202
    assert seen["missing"] == {"name": "ResourceNotFoundException", "status": 404}
