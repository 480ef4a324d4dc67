"""`eventplane function ...` against the in-process fake Functions server."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_harness import as_json, cli_runner, usage_error
from test_client_functions import (
    DLQ_ARN,
    FN_ARN,
    PACKAGE,
    QUEUE_ARN,
    SHA,
    TOPIC_ARN,
    UUID,
    WHEN,
    FakeFunctions,
    pb_alias,
    pb_config,
    pb_invoke_config,
    pb_mapping,
    serve_fake,
    write,
)

from eventplane._gen.v1 import functions_pb2 as pb
from eventplane.cli import main
from eventplane.client import zip_from_directory
from eventplane.errors import ResourceNotFound
from eventplane.functions.errors import InvalidParameterValueException, TooManyRequestsException


@pytest.fixture
def served() -> Iterator[tuple[FakeFunctions, str]]:
    with serve_fake() as pair:
        yield pair


@pytest.fixture
def fake(served: tuple[FakeFunctions, str]) -> FakeFunctions:
    return served[0]


@pytest.fixture
def run(served: tuple[FakeFunctions, str], capsys: pytest.CaptureFixture[str]) -> Any:
    """Run `eventplane function <args> --endpoint <fake>`; returns (exit code, stdout, stderr)."""

    return cli_runner("function", served[1], capsys)


# --- functions -------------------------------------------------------------------------


def test_create_from_a_zip_file(fake: FakeFunctions, run: Any, tmp_path: Path) -> None:
    fake.responses["CreateFunction"] = pb_config()
    package = tmp_path / "fn.zip"
    package.write_bytes(b"PK-zip-bytes")
    result = run(
        "create", "resize", "--handler", "app.handler", "--zip", str(package),
        "--timeout", "30", "--memory", "256", "--env", "BUCKET=images", "--env", "MODE=a=b",
        "--description", "thumbnails", "--publish", "--dlq", DLQ_ARN, "--tag", "team=media",
    )  # fmt: skip
    assert result == (0, FN_ARN + "\n", "")
    req = fake.only("CreateFunction")
    assert (req.function_name, req.handler, req.code.zip_file) == (
        "resize",
        "app.handler",
        b"PK-zip-bytes",
    )
    assert (req.timeout, req.memory_size, req.description) == (30, 256, "thumbnails")
    assert dict(req.environment) == {"BUCKET": "images", "MODE": "a=b"}
    assert (req.publish, req.dead_letter_target_arn, dict(req.tags)) == (
        True,
        DLQ_ARN,
        {"team": "media"},
    )


def test_create_defaults_are_left_to_the_server(fake: FakeFunctions, run: Any) -> None:
    fake.responses["CreateFunction"] = pb_config()
    run("create", "resize", "--handler", "app.handler", "--dir", "/srv/resize")
    req = fake.only("CreateFunction")
    assert not req.HasField("timeout") and not req.HasField("memory_size")
    assert (dict(req.environment), req.publish, req.dead_letter_target_arn) == ({}, False, "")


def test_create_zips_a_local_folder(fake: FakeFunctions, run: Any, tmp_path: Path) -> None:
    write(tmp_path, PACKAGE)
    fake.responses["CreateFunction"] = pb_config()
    got = as_json(
        run("create", "resize", "--handler", "app.handler", "--code", str(tmp_path), "--json")
    )
    assert got["function_arn"] == FN_ARN
    assert got["environment"] == {"BUCKET": "images"}
    sent = fake.only("CreateFunction").code.zip_file
    assert sent == zip_from_directory(tmp_path)
    with zipfile.ZipFile(io.BytesIO(sent)) as z:
        assert not any("__pycache__" in n for n in z.namelist())


def test_create_server_directory_is_made_absolute(
    fake: FakeFunctions, run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run("create", "resize", "--handler", "app.handler", "--dir", "fn/resize")
    assert fake.only("CreateFunction").code.directory == os.path.join(tmp_path, "fn", "resize")


def test_create_usage_errors(
    fake: FakeFunctions, run: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base = ("create", "resize", "--handler", "app.handler")
    err = usage_error(run, capsys, *base)
    assert "one of the arguments --zip --code --dir is required" in err
    err = usage_error(run, capsys, *base, "--dir", "/srv", "--code", str(tmp_path))
    assert "not allowed with argument" in err
    err = usage_error(run, capsys, *base, "--code", str(tmp_path / "nope"))
    assert "is not a directory" in err
    err = usage_error(run, capsys, *base, "--zip", str(tmp_path / "nope.zip"))
    assert "cannot read" in err
    err = usage_error(run, capsys, "create", "resize", "--dir", "/srv")
    assert "--handler" in err
    err = usage_error(run, capsys, *base, "--dir", "/srv", "--env", "NOVALUE")
    assert "expected KEY=VALUE" in err
    err = usage_error(run, capsys, *base, "--dir", "/srv", "--timeout", "soon")
    assert "invalid int value" in err
    assert fake.calls == []


def test_update_code(fake: FakeFunctions, run: Any, tmp_path: Path) -> None:
    published = pb_config(version="2")
    fake.responses["UpdateFunctionCode"] = published
    write(tmp_path, {"app.py": "x = 1\n"})
    code, out, _ = run("update-code", "resize", "--code", str(tmp_path), "--publish")
    assert (code, out) == (0, f"updated code of resize (version 2, sha256 {SHA})\n")
    req = fake.only("UpdateFunctionCode")
    assert (req.code.zip_file, req.publish) == (zip_from_directory(tmp_path), True)
    assert as_json(run("update-code", "resize", "--dir", "/srv", "--json"))["version"] == "2"
    assert fake.calls[-1][1].code.directory == "/srv"


def test_update_config_sends_only_what_is_given(fake: FakeFunctions, run: Any) -> None:
    fake.responses["UpdateFunctionConfiguration"] = pb_config()
    assert run("update-config", "resize", "--timeout", "60") == (
        0,
        "updated configuration of resize\n",
        "",
    )
    req = fake.only("UpdateFunctionConfiguration")
    assert req.HasField("timeout") and req.timeout == 60
    assert not req.HasField("handler") and not req.HasField("description")
    assert req.set_environment is False

    run("update-config", "resize", "--env", "A=1", "--env", "B=2", "--handler", "app.main")
    req = fake.calls[-1][1]
    assert (req.set_environment, dict(req.environment), req.handler) == (
        True,
        {"A": "1", "B": "2"},
        "app.main",
    )
    run("update-config", "resize", "--clear-env", "--dlq", "", "--memory", "512")
    req = fake.calls[-1][1]
    assert (req.set_environment, dict(req.environment)) == (True, {})
    assert req.HasField("dead_letter_target_arn") and req.dead_letter_target_arn == ""
    assert req.memory_size == 512


def test_update_config_usage_errors(
    fake: FakeFunctions, run: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "give --handler, --timeout" in usage_error(run, capsys, "update-config", "resize")
    err = usage_error(run, capsys, "update-config", "resize", "--env", "A=1", "--clear-env")
    assert "not allowed with argument" in err
    assert fake.calls == []


def test_get(fake: FakeFunctions, run: Any) -> None:
    fake.responses["GetFunction"] = pb.GetFunctionResponse(
        configuration=pb_config(), reserved_concurrent_executions=-1, tags={"team": "media"}
    )
    code, out, _ = run("get", "resize", "--qualifier", "prod")
    assert code == 0
    assert out == (
        "function_name: resize\n"
        f"function_arn: {FN_ARN}\n"
        "handler: app.handler\n"
        "runtime: python3.11\n"
        "timeout: 30\n"
        "memory_size: 256\n"
        "environment: BUCKET=images\n"
        "description: thumbnails\n"
        "version: $LATEST\n"
        f"code_sha256: {SHA}\n"
        "code_size: 1234\n"
        f"last_modified: {WHEN}\n"
        "state: Active\n"
        "package_type: Zip\n"
        "revision_id: r1\n"
        "tags: team=media\n"
    )
    assert fake.only("GetFunction").qualifier == "prod"
    got = as_json(run("get", "resize", "--json"))
    assert got["reserved_concurrent_executions"] is None
    assert got["configuration"]["memory_size"] == 256
    assert got["tags"] == {"team": "media"}
    assert fake.calls[-1][1].qualifier == ""


def test_get_config(fake: FakeFunctions, run: Any) -> None:
    fake.responses["GetFunctionConfiguration"] = pb_config(version="1")
    code, out, _ = run("get-config", "resize", "--qualifier", "1")
    assert code == 0
    assert out.startswith(f"function_name: resize\nfunction_arn: {FN_ARN}:1\n")
    assert "version: 1\n" in out and "tags" not in out
    req = fake.only("GetFunctionConfiguration")
    assert (req.function_name, req.qualifier) == ("resize", "1")
    got = as_json(run("get-config", f"{FN_ARN}:prod", "--json"))
    assert (got["version"], got["memory_size"]) == ("1", 256)
    assert (fake.calls[-1][1].function_name, fake.calls[-1][1].qualifier) == (f"{FN_ARN}:prod", "")


def test_tags_by_name_or_arn(fake: FakeFunctions, run: Any) -> None:
    # A bare name is sent as the function's ARN: Lambda's tag calls take only ARNs.
    assert run("tag", "resize", "team=media", "stage=test") == (
        0,
        "tagged resize with stage, team\n",
        "",
    )
    req = fake.only("TagResource")
    assert (req.resource, dict(req.tags)) == (FN_ARN, {"team": "media", "stage": "test"})
    assert run("untag", FN_ARN, "stage")[0] == 0
    assert (fake.calls[-1][1].resource, list(fake.calls[-1][1].tag_keys)) == (FN_ARN, ["stage"])
    fake.responses["ListTags"] = pb.ListFunctionTagsResponse(tags={"team": "media", "a": "b"})
    assert run("tags", "resize") == (0, "a=b\nteam=media\n", "")
    assert fake.calls[-1][1].resource == FN_ARN
    assert as_json(run("tags", "resize", "--json")) == {"team": "media", "a": "b"}
    fake.responses["ListTags"] = pb.ListFunctionTagsResponse()
    assert run("tags", "resize") == (0, "no tags\n", "")


def test_tag_refused_by_the_server_exits_1(
    fake: FakeFunctions, run: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.errors["TagResource"] = InvalidParameterValueException(
        "Tags are not valid: at most 50 tags per resource, this request would make 51."
    )
    assert run("tag", "resize", "k=v") == (
        1,
        "",
        "eventplane: InvalidParameterValueException: Tags are not valid: at most 50 tags per "
        "resource, this request would make 51.\n",
    )
    assert "KEY=VALUE" in usage_error(run, capsys, "tag", "resize")


def test_get_account_settings(fake: FakeFunctions, run: Any) -> None:
    fake.responses["GetAccountSettings"] = pb.GetAccountSettingsResponse(
        account_limit=pb.AccountLimit(
            total_code_size=1000,
            code_size_unzipped=300,
            code_size_zipped=50,
            concurrent_executions=8,
            unreserved_concurrent_executions=6,
        ),
        account_usage=pb.AccountUsage(total_code_size=120, function_count=2),
    )
    assert run("get-account-settings") == (
        0,
        "functions: 2\n"
        "code storage: 120 of 1000 bytes\n"
        "package size: 50 bytes zipped, 300 unzipped\n"
        "concurrent executions: 8 (6 unreserved)\n",
        "",
    )
    got = as_json(run("get-account-settings", "--json"))
    assert got["account_limit"]["unreserved_concurrent_executions"] == 6
    assert got["account_usage"] == {"total_code_size": 120, "function_count": 2}


def test_list_follows_pages(fake: FakeFunctions, run: Any) -> None:
    pages = {
        "": pb.ListFunctionsResponse(functions=[pb_config("a")], next_marker="m"),
        "m": pb.ListFunctionsResponse(functions=[pb_config("b")]),
    }
    fake.responses["ListFunctions"] = lambda req: pages[req.marker]
    code, out, _ = run("list")
    assert code == 0
    assert out == (
        "a  python3.11  app.handler  30s  256MB\nb  python3.11  app.handler  30s  256MB\n"
    )
    listed = as_json(run("list", "--json"))
    assert [f["function_name"] for f in listed["functions"]] == ["a", "b"]


def test_delete(fake: FakeFunctions, run: Any) -> None:
    assert run("delete", "resize") == (0, "deleted resize\n", "")
    assert fake.only("DeleteFunction").qualifier == ""
    assert run("delete", "resize", "--qualifier", "3") == (0, "deleted version 3 of resize\n", "")
    assert as_json(run("delete", "resize", "--json")) == {"deleted": "resize", "qualifier": None}


# --- versions and aliases --------------------------------------------------------------


def test_publish_version_prints_the_number(fake: FakeFunctions, run: Any) -> None:
    fake.responses["PublishVersion"] = pb_config(version="4")
    assert run("publish-version", "resize", "--description", "v4", "--code-sha256", SHA) == (
        0,
        "4\n",
        "",
    )
    req = fake.only("PublishVersion")
    assert (req.description, req.code_sha256) == ("v4", SHA)
    assert as_json(run("publish-version", "resize", "--json"))["function_arn"] == FN_ARN + ":4"


def test_list_versions(fake: FakeFunctions, run: Any) -> None:
    fake.responses["ListVersionsByFunction"] = pb.ListFunctionsResponse(
        functions=[pb_config(), pb_config(version="1")]
    )
    code, out, _ = run("list-versions", "resize")
    assert (code, out) == (0, f"$LATEST  {SHA}  thumbnails\n1  {SHA}  thumbnails\n")
    assert fake.only("ListVersionsByFunction").function_name == "resize"
    listed = as_json(run("list-versions", "resize", "--json"))
    assert [v["version"] for v in listed["versions"]] == ["$LATEST", "1"]


def test_aliases(fake: FakeFunctions, run: Any) -> None:
    fake.responses["CreateAlias"] = pb_alias()
    fake.responses["UpdateAlias"] = pb_alias(version="2")
    fake.responses["GetAlias"] = pb_alias()
    fake.responses["ListAliases"] = pb.ListAliasesResponse(
        aliases=[pb_alias(), pb_alias("dev", "$LATEST")]
    )
    assert run("create-alias", "resize", "prod", "--version", "1", "--description", "live") == (
        0,
        f"{FN_ARN}:prod\n",
        "",
    )
    create = fake.calls[-1][1]
    assert (create.name, create.function_version, create.description) == ("prod", "1", "live")

    assert run("update-alias", "resize", "prod", "--version", "2") == (
        0,
        "alias prod -> version 2\n",
        "",
    )
    update = fake.calls[-1][1]
    assert update.function_version == "2" and not update.HasField("description")
    assert (update.revision_id, update.set_routing_config) == ("", False)  # unchanged

    run("create-alias", "resize", "canary", "--version", "1", "--routing", "2=0.25")
    assert dict(fake.calls[-1][1].additional_version_weights) == {"2": 0.25}
    run("update-alias", "resize", "canary", "--routing", "3=0.5", "--revision-id", "r7")
    update = fake.calls[-1][1]
    assert (update.revision_id, update.set_routing_config) == ("r7", True)
    assert dict(update.additional_version_weights) == {"3": 0.5}
    run("update-alias", "resize", "canary", "--clear-routing")
    update = fake.calls[-1][1]
    assert update.set_routing_config and dict(update.additional_version_weights) == {}

    code, out, _ = run("get-alias", "resize", "prod")
    assert code == 0
    assert out == (
        f"alias_arn: {FN_ARN}:prod\nname: prod\nfunction_version: 1\n"
        "description: live\nrevision_id: a1\n"
    )
    assert run("list-aliases", "resize", "--version", "1") == (
        0,
        "prod  -> 1  live\ndev  -> $LATEST  live\n",
        "",
    )
    assert fake.calls[-1][1].function_version == "1"
    assert run("delete-alias", "resize", "prod") == (0, "deleted alias prod of resize\n", "")
    assert fake.calls[-1][1].name == "prod"


def test_update_alias_needs_a_change(
    fake: FakeFunctions, run: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "give --version, --description, --routing or --clear-routing" in usage_error(
        run, capsys, "update-alias", "resize", "prod"
    )
    assert "--version" in usage_error(run, capsys, "create-alias", "resize", "prod")
    assert "expected VERSION=WEIGHT" in usage_error(
        run, capsys, "update-alias", "resize", "prod", "--routing", "2=lots"
    )
    assert "not allowed with argument" in usage_error(
        run, capsys, "update-alias", "resize", "prod", "--routing", "2=1", "--clear-routing"
    )
    assert fake.calls == []


# --- invoke ----------------------------------------------------------------------------


def test_invoke_prints_the_payload(fake: FakeFunctions, run: Any) -> None:
    fake.responses["Invoke"] = pb.InvokeResponse(
        status_code=200, payload=b'{"width": 640}', executed_version="$LATEST", request_id="r-1"
    )
    assert run("invoke", "resize", "--payload", '{"width":  640}', "--qualifier", "prod") == (
        0,
        '{"width": 640}\n',
        "",
    )
    req = fake.only("Invoke")
    assert (req.payload, req.qualifier) == (b'{"width":  640}', "prod")  # sent as written
    assert (req.invocation_type, req.log_type) == ("RequestResponse", "")


def test_invoke_without_payload_sends_an_empty_one(fake: FakeFunctions, run: Any) -> None:
    fake.responses["Invoke"] = pb.InvokeResponse(status_code=200, payload=b"null")
    assert run("invoke", "resize") == (0, "null\n", "")
    assert fake.only("Invoke").payload == b""


def test_invoke_payload_from_a_file_or_stdin(
    fake: FakeFunctions, run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "event.json").write_text('{"from": "file"}')
    run("invoke", "resize", "--payload", f"@{tmp_path / 'event.json'}")
    monkeypatch.setattr("sys.stdin", io.StringIO('{"from": "stdin"}'))
    run("invoke", "resize", "--payload", "@-")
    assert [r.payload for _, r in fake.calls] == [b'{"from": "file"}', b'{"from": "stdin"}']


def test_invoke_log_goes_to_stderr(fake: FakeFunctions, run: Any) -> None:
    log = "START RequestId: r-1\nresizing\nEND RequestId: r-1"
    fake.responses["Invoke"] = pb.InvokeResponse(
        status_code=200, payload=b"{}", log_result=base64.b64encode(log.encode()).decode()
    )
    assert run("invoke", "resize", "--log") == (0, "{}\n", log + "\n")
    assert fake.only("Invoke").log_type == "Tail"


def test_invoke_function_error_exits_1(fake: FakeFunctions, run: Any) -> None:
    doc = {"errorType": "ValueError", "errorMessage": "bad width", "stackTrace": []}
    fake.responses["Invoke"] = pb.InvokeResponse(
        status_code=200, function_error="Unhandled", payload=json.dumps(doc).encode()
    )
    code, out, err = run("invoke", "resize", "--payload", '{"width": -1}')
    assert (code, json.loads(out)) == (1, doc)
    assert err == "eventplane: function error: Unhandled: ValueError: bad width\n"

    fake.responses["Invoke"] = pb.InvokeResponse(function_error="Unhandled", payload=b"crash")
    assert run("invoke", "resize") == (1, "crash\n", "eventplane: function error: Unhandled\n")


def test_invoke_event_and_dry_run(fake: FakeFunctions, run: Any) -> None:
    fake.responses["Invoke"] = lambda req: pb.InvokeResponse(
        status_code=202 if req.invocation_type == "Event" else 204, request_id="r-9"
    )
    assert run("invoke", "resize", "--event", "--payload", "{}") == (
        0,
        "queued (202), request id r-9\n",
        "",
    )
    assert run("invoke", "resize", "--dry-run") == (0, "dry run passed (204)\n", "")
    assert [r.invocation_type for _, r in fake.calls] == ["Event", "DryRun"]


def test_invoke_json(fake: FakeFunctions, run: Any) -> None:
    fake.responses["Invoke"] = pb.InvokeResponse(
        status_code=200,
        payload=b'{"ok": true}',
        log_result=base64.b64encode(b"hello\n").decode(),
        executed_version="3",
        request_id="r-1",
    )
    assert as_json(run("invoke", "resize", "--log", "--json")) == {
        "status_code": 200,
        "function_error": None,
        "executed_version": "3",
        "request_id": "r-1",
        "log_result": "hello\n",
        "payload": {"ok": True},
    }
    fake.responses["Invoke"] = pb.InvokeResponse(function_error="Unhandled", payload=b"crash")
    code, out, err = run("invoke", "resize", "--json")
    assert (code, err) == (1, "")
    got = json.loads(out)
    assert (got["function_error"], got["payload"], got["log_result"]) == (
        "Unhandled",
        "crash",
        None,
    )


def test_invoke_usage_errors(
    fake: FakeFunctions, run: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert "not valid JSON" in usage_error(run, capsys, "invoke", "resize", "--payload", "{x")
    err = usage_error(run, capsys, "invoke", "resize", "--payload", f"@{tmp_path / 'nope'}")
    assert "cannot read" in err
    assert "not allowed with argument" in usage_error(
        run, capsys, "invoke", "resize", "--event", "--dry-run"
    )
    assert fake.calls == []


def test_invoke_throttled_is_an_error(fake: FakeFunctions, run: Any) -> None:
    fake.errors["Invoke"] = TooManyRequestsException("Rate Exceeded.")
    assert run("invoke", "resize") == (
        1,
        "",
        "eventplane: TooManyRequestsException: Rate Exceeded.\n",
    )


# --- concurrency -----------------------------------------------------------------------


def test_concurrency(fake: FakeFunctions, run: Any) -> None:
    fake.responses["PutFunctionConcurrency"] = pb.Concurrency(reserved_concurrent_executions=5)
    assert run("put-concurrency", "resize", "--reserved", "5") == (
        0,
        "reserved 5 concurrent executions for resize\n",
        "",
    )
    assert fake.only("PutFunctionConcurrency").reserved_concurrent_executions == 5

    fake.responses["GetFunctionConcurrency"] = pb.Concurrency(reserved_concurrent_executions=-1)
    assert run("get-concurrency", "resize") == (0, "none reserved\n", "")
    assert as_json(run("get-concurrency", "resize", "--json")) == {
        "function_name": "resize",
        "reserved_concurrent_executions": None,
    }
    fake.responses["GetFunctionConcurrency"] = pb.Concurrency(reserved_concurrent_executions=0)
    assert run("get-concurrency", "resize") == (0, "0\n", "")
    assert run("delete-concurrency", "resize") == (
        0,
        "removed the reserved concurrency of resize\n",
        "",
    )
    assert fake.calls[-1][1].function_name == "resize"


# --- asynchronous invocation -----------------------------------------------------------


def test_put_invoke_config(fake: FakeFunctions, run: Any) -> None:
    fake.responses["PutFunctionEventInvokeConfig"] = pb_invoke_config()
    code, out, _ = run(
        "put-invoke-config", "resize", "--qualifier", "prod", "--max-retries", "0",
        "--max-age", "3600", "--on-success", TOPIC_ARN, "--on-failure", DLQ_ARN,
    )  # fmt: skip
    assert code == 0
    assert out == (
        f"function_arn: {FN_ARN}\n"
        "maximum_retry_attempts: 1\n"
        "maximum_event_age_in_seconds: 3600\n"
        f"on_failure: {DLQ_ARN}\n"
        f"last_modified: {WHEN}\n"
    )
    req = fake.only("PutFunctionEventInvokeConfig")
    assert req.HasField("maximum_retry_attempts") and req.maximum_retry_attempts == 0
    assert (req.maximum_event_age_in_seconds, req.qualifier) == (3600, "prod")
    assert (req.on_success_destination, req.on_failure_destination) == (TOPIC_ARN, DLQ_ARN)

    run("put-invoke-config", "resize")
    bare = fake.calls[-1][1]
    assert not bare.HasField("maximum_retry_attempts")
    assert (bare.on_success_destination, bare.on_failure_destination) == ("", "")


def test_get_and_delete_invoke_config(fake: FakeFunctions, run: Any) -> None:
    fake.responses["GetFunctionEventInvokeConfig"] = pb_invoke_config()
    got = as_json(run("get-invoke-config", "resize", "--qualifier", "3", "--json"))
    assert got["destination_config"] == {"on_success": None, "on_failure": DLQ_ARN}
    assert fake.only("GetFunctionEventInvokeConfig").qualifier == "3"
    assert run("delete-invoke-config", "resize") == (
        0,
        "deleted the async invoke config of resize\n",
        "",
    )


def test_update_invoke_config_sends_only_what_is_given(fake: FakeFunctions, run: Any) -> None:
    fake.responses["UpdateFunctionEventInvokeConfig"] = pb_invoke_config()
    code, out, _ = run(
        "update-invoke-config", "resize", "--qualifier", "prod", "--max-retries", "0",
        "--on-success", "",
    )  # fmt: skip
    assert code == 0
    assert out.startswith(f"function_arn: {FN_ARN}\n")
    req = fake.only("UpdateFunctionEventInvokeConfig")
    assert (req.qualifier, req.maximum_retry_attempts) == ("prod", 0)
    assert req.HasField("on_success_destination") and req.on_success_destination == ""
    assert not req.HasField("maximum_event_age_in_seconds")
    assert not req.HasField("on_failure_destination")


def test_update_invoke_config_needs_a_change(
    fake: FakeFunctions, run: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "give --max-retries" in usage_error(run, capsys, "update-invoke-config", "resize")
    assert fake.calls == []


def test_list_invoke_configs(fake: FakeFunctions, run: Any) -> None:
    pages = {
        "": pb.ListFunctionEventInvokeConfigsResponse(
            function_event_invoke_configs=[pb_invoke_config()], next_marker="m"
        ),
        "m": pb.ListFunctionEventInvokeConfigsResponse(
            function_event_invoke_configs=[pb_invoke_config()]
        ),
    }
    fake.responses["ListFunctionEventInvokeConfigs"] = lambda req: pages[req.marker]
    code, out, _ = run("list-invoke-configs", "resize")
    assert code == 0
    assert out == f"{FN_ARN}  retries 1  max age 3600s\n" * 2
    listed = as_json(run("list-invoke-configs", "resize", "--json"))
    assert [c["maximum_retry_attempts"] for c in listed["function_event_invoke_configs"]] == [1, 1]


# --- resource-based policy -------------------------------------------------------------


def test_add_get_and_remove_permission(fake: FakeFunctions, run: Any) -> None:
    statement = {"Sid": "ci", "Effect": "Allow", "Principal": "*"}
    fake.responses["AddPermission"] = pb.AddPermissionResponse(statement=json.dumps(statement))
    code, out, _ = run(
        "add-permission", "resize", "--statement-id", "ci", "--principal", "111122223333",
        "--source-account", "111122223333", "--qualifier", "live",
    )  # fmt: skip
    assert (code, json.loads(out)) == (0, statement)
    req = fake.only("AddPermission")
    assert (req.action, req.principal, req.qualifier) == (
        "lambda:InvokeFunction",
        "111122223333",
        "live",
    )
    assert req.source_account == "111122223333"
    document = {"Version": "2012-10-17", "Statement": [statement]}
    fake.responses["GetPolicy"] = pb.GetPolicyResponse(
        policy=json.dumps(document), revision_id="r1"
    )
    got = as_json(run("get-policy", "resize", "--json"))
    assert got == {"policy": document, "revision_id": "r1"}
    assert run("remove-permission", "resize", "--statement-id", "ci", "--revision-id", "r1") == (
        0,
        "removed statement ci from resize's policy\n",
        "",
    )
    assert fake.calls[-1][1].revision_id == "r1"


# --- event source mappings -------------------------------------------------------------


def test_create_mapping(fake: FakeFunctions, run: Any) -> None:
    fake.responses["CreateEventSourceMapping"] = pb_mapping()
    result = run(
        "create-mapping", "--source", QUEUE_ARN, "--function", "resize", "--batch-size", "100",
        "--window", "5", "--disabled", "--report-batch-item-failures", "--max-concurrency", "4",
    )  # fmt: skip
    assert result == (0, UUID + "\n", "")
    req = fake.only("CreateEventSourceMapping")
    assert (req.event_source_arn, req.function_name) == (QUEUE_ARN, "resize")
    assert (req.batch_size, req.maximum_batching_window_in_seconds) == (100, 5)
    assert req.HasField("enabled") and req.enabled is False
    assert list(req.function_response_types) == ["ReportBatchItemFailures"]
    assert req.maximum_concurrency == 4

    run("create-mapping", "--source", QUEUE_ARN, "--function", "resize")
    plain = fake.calls[-1][1]
    assert not plain.HasField("enabled") and not plain.HasField("batch_size")
    assert (list(plain.function_response_types), plain.maximum_concurrency) == ([], 0)


def test_update_mapping(fake: FakeFunctions, run: Any) -> None:
    fake.responses["UpdateEventSourceMapping"] = pb_mapping()
    assert run("update-mapping", UUID, "--disabled", "--no-report-batch-item-failures") == (
        0,
        f"{UUID}  Enabled  {QUEUE_ARN} -> {FN_ARN}\n",
        "",
    )
    req = fake.only("UpdateEventSourceMapping")
    assert req.HasField("enabled") and req.enabled is False
    assert (req.set_function_response_types, list(req.function_response_types)) == (True, [])
    assert not req.HasField("batch_size") and req.function_name == ""

    run("update-mapping", UUID, "--enabled", "--batch-size", "1", "--function", "other")
    req = fake.calls[-1][1]
    assert (req.enabled, req.batch_size, req.function_name) == (True, 1, "other")
    assert req.set_function_response_types is False

    run("update-mapping", UUID, "--report-batch-item-failures")
    assert list(fake.calls[-1][1].function_response_types) == ["ReportBatchItemFailures"]


def test_update_mapping_usage_errors(
    fake: FakeFunctions, run: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "give --function" in usage_error(run, capsys, "update-mapping", UUID)
    err = usage_error(run, capsys, "update-mapping", UUID, "--enabled", "--disabled")
    assert "not allowed with argument" in err
    err = usage_error(run, capsys, "create-mapping", "--function", "resize")
    assert "--source" in err
    assert fake.calls == []


def test_get_list_delete_mapping(fake: FakeFunctions, run: Any) -> None:
    fake.responses["GetEventSourceMapping"] = pb_mapping()
    fake.responses["DeleteEventSourceMapping"] = pb_mapping()
    pages = {
        "": pb.ListEventSourceMappingsResponse(
            event_source_mappings=[pb_mapping("u1")], next_marker="m"
        ),
        "m": pb.ListEventSourceMappingsResponse(event_source_mappings=[pb_mapping("u2")]),
    }
    fake.responses["ListEventSourceMappings"] = lambda req: pages[req.marker]
    code, out, _ = run("get-mapping", UUID)
    assert code == 0
    assert out == (
        f"uuid: {UUID}\n"
        f"event_source_arn: {QUEUE_ARN}\n"
        f"function_arn: {FN_ARN}\n"
        "batch_size: 10\n"
        "maximum_batching_window_in_seconds: 5\n"
        "state: Enabled\n"
        "function_response_types: ReportBatchItemFailures\n"
        "maximum_concurrency: 4\n"
        f"last_modified: {WHEN}\n"
    )
    code, out, _ = run("list-mappings", "--source", QUEUE_ARN, "--function", "resize")
    assert code == 0
    assert out == (f"u1  Enabled  {QUEUE_ARN} -> {FN_ARN}\nu2  Enabled  {QUEUE_ARN} -> {FN_ARN}\n")
    lists = [r for rpc, r in fake.calls if rpc == "ListEventSourceMappings"]
    assert [(r.event_source_arn, r.function_name) for r in lists] == [(QUEUE_ARN, "resize")] * 2
    assert run("delete-mapping", UUID) == (0, f"deleted mapping {UUID}\n", "")
    got = as_json(run("delete-mapping", UUID, "--json"))
    assert got["function_response_types"] == ["ReportBatchItemFailures"]


# --- every command, --json, errors -----------------------------------------------------

EVERY_COMMAND = [
    ["create", "f", "--handler", "a.h", "--dir", "/srv"],
    ["update-code", "f", "--dir", "/srv"],
    ["update-config", "f", "--timeout", "5"],
    ["get", "f"],
    ["get-config", "f"],
    ["list"],
    ["delete", "f"],
    ["tag", "f", "k=v"],
    ["untag", "f", "k"],
    ["tags", "f"],
    ["get-account-settings"],
    ["publish-version", "f"],
    ["list-versions", "f"],
    ["create-alias", "f", "a", "--version", "1"],
    ["update-alias", "f", "a", "--version", "2"],
    ["get-alias", "f", "a"],
    ["list-aliases", "f"],
    ["delete-alias", "f", "a"],
    ["invoke", "f"],
    ["put-concurrency", "f", "--reserved", "1"],
    ["get-concurrency", "f"],
    ["delete-concurrency", "f"],
    ["put-invoke-config", "f"],
    ["update-invoke-config", "f", "--max-age", "60"],
    ["list-invoke-configs", "f"],
    ["get-invoke-config", "f"],
    ["delete-invoke-config", "f"],
    ["add-permission", "f", "--statement-id", "s", "--principal", "*"],
    ["remove-permission", "f", "--statement-id", "s"],
    ["get-policy", "f"],
    ["create-mapping", "--source", QUEUE_ARN, "--function", "f"],
    ["update-mapping", UUID, "--enabled"],
    ["get-mapping", UUID],
    ["list-mappings"],
    ["delete-mapping", UUID],
]


@pytest.mark.parametrize("args", EVERY_COMMAND, ids=lambda a: a[0])
def test_every_command_prints_one_json_document(
    fake: FakeFunctions, run: Any, args: list[str]
) -> None:
    code, out, err = run(*args, "--json")
    assert (code, err) == (0, "")
    assert isinstance(json.loads(out), dict)
    assert len(fake.calls) == 1


def test_every_command_is_tested_here(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["function", "--help"])
    help_text = capsys.readouterr().out
    # Actions are indented by exactly 4 spaces; their wrapped help by more.
    listed = set(re.findall(r"^ {4}([a-z][a-z-]+)", help_text, re.MULTILINE))
    assert listed == {args[0] for args in EVERY_COMMAND}


@pytest.mark.parametrize(
    "args",
    [["get", "nope"], ["delete-alias", "nope", "a"], ["list-aliases", "nope"], ["invoke", "nope"]],
    ids=lambda a: a[0],
)
def test_error_exits_1_with_one_line(fake: FakeFunctions, run: Any, args: list[str]) -> None:
    for rpc in ("GetFunction", "DeleteAlias", "ListAliases", "Invoke"):
        fake.errors[rpc] = ResourceNotFound("Function not found: nope")
    code, out, err = run(*args, "--json")
    assert (code, out) == (1, "")
    assert err == "eventplane: ResourceNotFoundException: Function not found: nope\n"


def test_endpoint_from_the_environment(
    served: tuple[FakeFunctions, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake, target = served
    monkeypatch.setenv("EVENTPLANE_ENDPOINT", target)
    fake.responses["GetFunctionConcurrency"] = pb.Concurrency(reserved_concurrent_executions=3)
    assert main(["function", "get-concurrency", "resize"]) == 0
    assert capsys.readouterr().out == "3\n"


def test_function_needs_an_action(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["function"])
    assert info.value.code == 2
    assert "ACTION" in capsys.readouterr().err
