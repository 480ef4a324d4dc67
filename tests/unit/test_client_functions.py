"""The Functions SDK against an in-process gRPC server that records what it is sent."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fake_grpc import FakeService, run_async, serve, snake

from eventplane._gen.v1 import functions_pb2 as pb
from eventplane._gen.v1 import functions_pb2_grpc
from eventplane.client import (
    AccountLimit,
    AccountSettings,
    AccountUsage,
    Alias,
    AsyncClient,
    Client,
    DestinationConfig,
    EventSourceMapping,
    FunctionConfiguration,
    FunctionEventInvokeConfig,
    GetFunctionResult,
    InvokeResult,
    zip_from_directory,
)
from eventplane.client._channel import MAX_MESSAGE_BYTES
from eventplane.client.functions import AsyncFunctionsClient, FunctionsClient
from eventplane.errors import EventplaneError, InvalidParameterValue, ResourceNotFound
from eventplane.functions.errors import ResourceConflictException, TooManyRequestsException

SERVICE = pb.DESCRIPTOR.services_by_name["Functions"]
RPCS = [m.name for m in SERVICE.methods]
ACCOUNT = "arn:aws:lambda:local:000000000000"
FN_ARN = f"{ACCOUNT}:function:resize"
QUEUE_ARN = "arn:aws:sqs:local:000000000000:uploads"
DLQ_ARN = "arn:aws:sqs:local:000000000000:resize-failed"
TOPIC_ARN = "arn:aws:sns:local:000000000000:resized"
SHA = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
WHEN = "2024-05-01T00:00:00.000+0000"
RULE_ARN = "arn:aws:events:local:000000000000:rule/nightly"
UUID = "6d9a3c1e-0000-4000-8000-000000000001"


class FakeFunctions(FakeService, functions_pb2_grpc.FunctionsServicer):
    def __init__(self) -> None:
        super().__init__(pb, "Functions")


@contextmanager
def serve_fake() -> Iterator[tuple[FakeFunctions, str]]:
    """A real gRPC server on a free local port, serving a FakeFunctions."""
    fake = FakeFunctions()
    with serve(fake, functions_pb2_grpc.add_FunctionsServicer_to_server) as target:
        yield fake, target


@pytest.fixture
def served() -> Iterator[tuple[FakeFunctions, str]]:
    with serve_fake() as pair:
        yield pair


@pytest.fixture
def fake(served: tuple[FakeFunctions, str]) -> FakeFunctions:
    return served[0]


@pytest.fixture
def ep(served: tuple[FakeFunctions, str]) -> Iterator[Client]:
    with Client(served[1], timeout=5) as client:
        yield client


# Responses as a server would send them, and what the SDK makes of them.


def pb_config(name: str = "resize", version: str = "$LATEST") -> pb.FunctionConfiguration:
    arn = f"{ACCOUNT}:function:{name}" + ("" if version == "$LATEST" else f":{version}")
    return pb.FunctionConfiguration(
        function_name=name,
        function_arn=arn,
        handler="app.handler",
        runtime="python3.11",
        timeout=30,
        memory_size=256,
        environment={"BUCKET": "images"},
        description="thumbnails",
        version=version,
        code_sha256=SHA,
        code_size=1234,
        last_modified=WHEN,
        state="Active",
        package_type="Zip",
        revision_id="r1",
    )


def config(name: str = "resize", version: str = "$LATEST") -> FunctionConfiguration:
    arn = f"{ACCOUNT}:function:{name}" + ("" if version == "$LATEST" else f":{version}")
    return FunctionConfiguration(
        name,
        arn,
        "app.handler",
        "python3.11",
        30,
        256,
        {"BUCKET": "images"},
        "thumbnails",
        version,
        SHA,
        1234,
        WHEN,
        None,
        "Active",
        "Zip",
        "r1",
    )


def pb_alias(name: str = "prod", version: str = "1") -> pb.Alias:
    return pb.Alias(
        alias_arn=f"{FN_ARN}:{name}",
        name=name,
        function_version=version,
        description="live",
        revision_id="a1",
    )


def alias(name: str = "prod", version: str = "1") -> Alias:
    return Alias(f"{FN_ARN}:{name}", name, version, "live", "a1")


def pb_mapping(uuid: str = UUID) -> pb.EventSourceMapping:
    return pb.EventSourceMapping(
        uuid=uuid,
        event_source_arn=QUEUE_ARN,
        function_arn=FN_ARN,
        batch_size=10,
        maximum_batching_window_in_seconds=5,
        state="Enabled",
        function_response_types=["ReportBatchItemFailures"],
        maximum_concurrency=4,
        last_modified=WHEN,
    )


def mapping(uuid: str = UUID) -> EventSourceMapping:
    return EventSourceMapping(
        uuid, QUEUE_ARN, FN_ARN, 10, 5, "Enabled", ("ReportBatchItemFailures",), 4, WHEN, None
    )


def pb_invoke_config() -> pb.FunctionEventInvokeConfig:
    return pb.FunctionEventInvokeConfig(
        function_arn=FN_ARN,
        maximum_retry_attempts=1,
        maximum_event_age_in_seconds=3600,
        on_failure_destination=DLQ_ARN,
        last_modified=WHEN,
    )


def invoke_config() -> FunctionEventInvokeConfig:
    return FunctionEventInvokeConfig(FN_ARN, 1, 3600, DestinationConfig(None, DLQ_ARN), WHEN)


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


PACKAGE = {
    "app.py": "def handler(event, context):\n    return event\n",
    "lib/__init__.py": "",
    "lib/images/resize.py": "WIDTH = 640\n",
    "lib/__pycache__/resize.cpython-311.pyc": b"\x00compiled",
    "__pycache__/app.cpython-311.pyc": b"\x00compiled",
    "stale.pyc": b"\x00",
    "data/sizes.json": '{"small": 64}',
}


# --- surface ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [FunctionsClient, AsyncFunctionsClient])
def test_one_method_per_rpc(cls: type) -> None:
    missing = [snake(rpc) for rpc in RPCS if not callable(getattr(cls, snake(rpc), None))]
    assert missing == []


def test_sync_and_async_methods_take_the_same_arguments() -> None:
    import inspect

    for rpc in RPCS:
        sync = inspect.signature(getattr(FunctionsClient, snake(rpc)))
        async_ = inspect.signature(getattr(AsyncFunctionsClient, snake(rpc)))
        assert sync.parameters == async_.parameters, rpc


def test_clients_expose_functions(served: tuple[FakeFunctions, str]) -> None:
    with Client(served[1]) as client:
        assert isinstance(client.functions, FunctionsClient)

    async def check(client: AsyncClient) -> None:
        assert isinstance(client.functions, AsyncFunctionsClient)

    run_async(served[1], check)


# --- what each call sends --------------------------------------------------------------

# (call, rpc, request fields). Message-typed fields (code, maps) are compared as dicts.
REQUESTS: list[tuple[Callable[[FunctionsClient], Any], str, dict[str, Any]]] = [
    (
        lambda c: c.create_function(
            "resize",
            "app.handler",
            zip_file=b"PK-zip",
            timeout=30,
            memory_size=256,
            environment={"BUCKET": "images"},
            description="thumbnails",
            publish=True,
            dead_letter_target_arn=DLQ_ARN,
            runtime="python3.11",
            tags={"team": "media"},
        ),
        "CreateFunction",
        {
            "function_name": "resize",
            "handler": "app.handler",
            "code": {"zip_file": b"PK-zip"},
            "timeout": 30,
            "memory_size": 256,
            "environment": {"BUCKET": "images"},
            "description": "thumbnails",
            "publish": True,
            "dead_letter_target_arn": DLQ_ARN,
            "runtime": "python3.11",
            "tags": {"team": "media"},
        },
    ),
    (
        lambda c: c.create_function("resize", "app.handler", directory="/srv/fn/resize"),
        "CreateFunction",
        {
            "code": {"directory": "/srv/fn/resize"},
            "environment": {},
            "description": "",
            "publish": False,
            "dead_letter_target_arn": "",
            "runtime": "",
            "tags": {},
        },
    ),
    (
        lambda c: c.update_function_code("resize", zip_file=b"PK2", publish=True),
        "UpdateFunctionCode",
        {"function_name": "resize", "code": {"zip_file": b"PK2"}, "publish": True},
    ),
    (
        lambda c: c.update_function_code("resize", directory=Path("/srv/fn")),
        "UpdateFunctionCode",
        {"code": {"directory": "/srv/fn"}, "publish": False},
    ),
    (
        lambda c: c.update_function_configuration(
            "resize",
            handler="app.main",
            timeout=60,
            memory_size=512,
            environment={"A": "1"},
            description="new",
            dead_letter_target_arn="",
        ),
        "UpdateFunctionConfiguration",
        {
            "function_name": "resize",
            "handler": "app.main",
            "timeout": 60,
            "memory_size": 512,
            "set_environment": True,
            "environment": {"A": "1"},
            "description": "new",
            "dead_letter_target_arn": "",
        },
    ),
    (
        lambda c: c.get_function("resize", "prod"),
        "GetFunction",
        {"function_name": "resize", "qualifier": "prod"},
    ),
    (lambda c: c.get_function(FN_ARN), "GetFunction", {"function_name": FN_ARN, "qualifier": ""}),
    (
        lambda c: c.delete_function("resize", qualifier="3"),
        "DeleteFunction",
        {"function_name": "resize", "qualifier": "3"},
    ),
    (
        lambda c: c.delete_function("resize"),
        "DeleteFunction",
        {"function_name": "resize", "qualifier": ""},
    ),
    (
        lambda c: c.publish_version("resize", description="v1", code_sha256=SHA),
        "PublishVersion",
        {"function_name": "resize", "description": "v1", "code_sha256": SHA},
    ),
    (
        lambda c: c.publish_version("resize"),
        "PublishVersion",
        {"description": "", "code_sha256": ""},
    ),
    (
        lambda c: c.create_alias("resize", "prod", "1", description="live"),
        "CreateAlias",
        {"function_name": "resize", "name": "prod", "function_version": "1", "description": "live"},
    ),
    (
        lambda c: c.create_alias("resize", "dev", "$LATEST"),
        "CreateAlias",
        {"function_version": "$LATEST", "description": ""},
    ),
    (
        lambda c: c.update_alias("resize", "prod", function_version="2", description=""),
        "UpdateAlias",
        {"function_name": "resize", "name": "prod", "function_version": "2", "description": ""},
    ),
    (
        lambda c: c.update_alias(
            "resize", "prod", revision_id="r2", additional_version_weights={"3": 1}
        ),
        "UpdateAlias",
        {"revision_id": "r2", "set_routing_config": True, "additional_version_weights": {"3": 1.0}},
    ),
    (
        lambda c: c.create_alias("resize", "canary", "2", additional_version_weights={"3": 0.1}),
        "CreateAlias",
        {"function_version": "2", "additional_version_weights": {"3": 0.1}},
    ),
    (
        lambda c: c.publish_version("resize", revision_id="r1"),
        "PublishVersion",
        {"revision_id": "r1"},
    ),
    (
        lambda c: c.get_alias("resize", "prod"),
        "GetAlias",
        {"function_name": "resize", "name": "prod"},
    ),
    (
        lambda c: c.delete_alias("resize", "prod"),
        "DeleteAlias",
        {"function_name": "resize", "name": "prod"},
    ),
    (
        lambda c: c.invoke(
            "resize",
            {"width": 640},
            invocation_type="Event",
            log_type="Tail",
            qualifier="prod",
            client_context="eyJhIjogMX0=",
        ),
        "Invoke",
        {
            "function_name": "resize",
            "payload": json.dumps({"width": 640}).encode(),
            "invocation_type": "Event",
            "log_type": "Tail",
            "qualifier": "prod",
            "client_context": "eyJhIjogMX0=",
        },
    ),
    (
        lambda c: c.invoke("resize"),
        "Invoke",
        {
            "payload": b"",
            "invocation_type": "RequestResponse",
            "log_type": "",
            "qualifier": "",
            "client_context": "",
        },
    ),
    (
        lambda c: c.put_function_concurrency("resize", 5),
        "PutFunctionConcurrency",
        {"function_name": "resize", "reserved_concurrent_executions": 5},
    ),
    (
        lambda c: c.put_function_concurrency("resize", 0),
        "PutFunctionConcurrency",
        {"reserved_concurrent_executions": 0},
    ),
    (
        lambda c: c.get_function_concurrency("resize"),
        "GetFunctionConcurrency",
        {"function_name": "resize"},
    ),
    (
        lambda c: c.delete_function_concurrency("resize"),
        "DeleteFunctionConcurrency",
        {"function_name": "resize"},
    ),
    (
        lambda c: c.put_function_event_invoke_config(
            "resize",
            qualifier="prod",
            maximum_retry_attempts=1,
            maximum_event_age_in_seconds=3600,
            destination_config={
                "OnSuccess": {"Destination": TOPIC_ARN},
                "OnFailure": {"Destination": DLQ_ARN},
            },
        ),
        "PutFunctionEventInvokeConfig",
        {
            "function_name": "resize",
            "qualifier": "prod",
            "maximum_retry_attempts": 1,
            "maximum_event_age_in_seconds": 3600,
            "on_success_destination": TOPIC_ARN,
            "on_failure_destination": DLQ_ARN,
        },
    ),
    (
        lambda c: c.get_function_event_invoke_config("resize", qualifier="3"),
        "GetFunctionEventInvokeConfig",
        {"function_name": "resize", "qualifier": "3"},
    ),
    (
        lambda c: c.delete_function_event_invoke_config("resize"),
        "DeleteFunctionEventInvokeConfig",
        {"function_name": "resize", "qualifier": ""},
    ),
    (
        lambda c: c.create_event_source_mapping(
            QUEUE_ARN,
            "resize",
            enabled=False,
            batch_size=100,
            maximum_batching_window_in_seconds=5,
            function_response_types=["ReportBatchItemFailures"],
            maximum_concurrency=4,
        ),
        "CreateEventSourceMapping",
        {
            "event_source_arn": QUEUE_ARN,
            "function_name": "resize",
            "enabled": False,
            "batch_size": 100,
            "maximum_batching_window_in_seconds": 5,
            "function_response_types": ["ReportBatchItemFailures"],
            "maximum_concurrency": 4,
        },
    ),
    (
        lambda c: c.update_event_source_mapping(
            UUID,
            function_name="resize2",
            enabled=True,
            batch_size=1,
            maximum_batching_window_in_seconds=0,
            function_response_types=[],
            maximum_concurrency=2,
        ),
        "UpdateEventSourceMapping",
        {
            "uuid": UUID,
            "function_name": "resize2",
            "enabled": True,
            "batch_size": 1,
            "maximum_batching_window_in_seconds": 0,
            "set_function_response_types": True,
            "function_response_types": [],
            "maximum_concurrency": 2,
        },
    ),
    (
        lambda c: c.add_permission(
            "resize",
            "events",
            "lambda:InvokeFunction",
            "events.amazonaws.com",
            source_arn=RULE_ARN,
            source_account="000000000000",
            qualifier="prod",
            revision_id="r1",
        ),
        "AddPermission",
        {
            "function_name": "resize",
            "statement_id": "events",
            "action": "lambda:InvokeFunction",
            "principal": "events.amazonaws.com",
            "source_arn": RULE_ARN,
            "source_account": "000000000000",
            "principal_org_id": "",
            "qualifier": "prod",
            "revision_id": "r1",
        },
    ),
    (
        lambda c: c.remove_permission("resize", "events", revision_id="r2"),
        "RemovePermission",
        {"function_name": "resize", "statement_id": "events", "qualifier": "", "revision_id": "r2"},
    ),
    (
        lambda c: c.get_policy("resize", qualifier="live"),
        "GetPolicy",
        {"function_name": "resize", "qualifier": "live"},
    ),
    (lambda c: c.get_event_source_mapping(UUID), "GetEventSourceMapping", {"uuid": UUID}),
    (
        lambda c: c.get_function_configuration("resize", "prod"),
        "GetFunctionConfiguration",
        {"function_name": "resize", "qualifier": "prod"},
    ),
    (
        lambda c: c.tag_resource(FN_ARN, {"team": "media"}),
        "TagResource",
        {"resource": FN_ARN, "tags": {"team": "media"}},
    ),
    (
        lambda c: c.untag_resource(FN_ARN, ["team", "stage"]),
        "UntagResource",
        {"resource": FN_ARN, "tag_keys": ["team", "stage"]},
    ),
    (lambda c: c.list_tags(FN_ARN), "ListTags", {"resource": FN_ARN}),
    (lambda c: c.get_account_settings(), "GetAccountSettings", {}),
    (
        lambda c: c.update_function_event_invoke_config(
            "resize",
            qualifier="1",
            maximum_retry_attempts=0,
            destination_config={"OnSuccess": {"Destination": ""}},
        ),
        "UpdateFunctionEventInvokeConfig",
        {
            "function_name": "resize",
            "qualifier": "1",
            "maximum_retry_attempts": 0,
            "on_success_destination": "",
        },
    ),
    (lambda c: c.delete_event_source_mapping(UUID), "DeleteEventSourceMapping", {"uuid": UUID}),
]


def plain(value: Any) -> Any:
    """A request field as a comparable Python value."""
    if hasattr(value, "ListFields"):  # a message: its set fields
        return {f.name: plain(v) for f, v in value.ListFields()}
    if hasattr(value, "items"):  # a map field
        return dict(value)
    if hasattr(value, "extend") and not isinstance(value, bytes | str):  # a repeated field
        return list(value)
    return value


@pytest.mark.parametrize(("call", "rpc", "fields"), REQUESTS)
def test_request_fields(
    fake: FakeFunctions,
    ep: Client,
    call: Callable[[FunctionsClient], Any],
    rpc: str,
    fields: dict[str, Any],
) -> None:
    call(ep.functions)
    req = fake.only(rpc)
    for name, value in fields.items():
        assert plain(getattr(req, name)) == value, name


def test_every_rpc_has_a_request_case() -> None:
    covered = {rpc for _, rpc, _ in REQUESTS}
    # Paged calls: their requests are checked page by page below.
    tested_elsewhere = {
        "ListFunctions",
        "ListVersionsByFunction",
        "ListAliases",
        "ListEventSourceMappings",
        "ListFunctionEventInvokeConfigs",
    }
    assert set(RPCS) - covered == tested_elsewhere


def test_update_configuration_sends_only_what_is_given(fake: FakeFunctions, ep: Client) -> None:
    ep.functions.update_function_configuration("resize", timeout=10)
    req = fake.only("UpdateFunctionConfiguration")
    assert req.HasField("timeout") and req.timeout == 10
    for name in ("handler", "memory_size", "description", "dead_letter_target_arn"):
        assert not req.HasField(name), name
    # environment=None: unchanged, so the server must not replace it.
    assert (req.set_environment, dict(req.environment)) == (False, {})


def test_update_configuration_empty_environment_clears_it(fake: FakeFunctions, ep: Client) -> None:
    ep.functions.update_function_configuration("resize", environment={})
    req = fake.only("UpdateFunctionConfiguration")
    assert (req.set_environment, dict(req.environment)) == (True, {})
    assert not req.HasField("timeout")


def test_update_configuration_empty_strings_are_values(fake: FakeFunctions, ep: Client) -> None:
    ep.functions.update_function_configuration("resize", description="", dead_letter_target_arn="")
    req = fake.only("UpdateFunctionConfiguration")
    assert req.HasField("description") and req.HasField("dead_letter_target_arn")


def test_update_alias_sends_only_what_is_given(fake: FakeFunctions, ep: Client) -> None:
    ep.functions.update_alias("resize", "prod", function_version="2")
    req = fake.only("UpdateAlias")
    assert req.HasField("function_version") and not req.HasField("description")


def test_create_mapping_leaves_defaults_to_the_server(fake: FakeFunctions, ep: Client) -> None:
    ep.functions.create_event_source_mapping(QUEUE_ARN, "resize")
    req = fake.only("CreateEventSourceMapping")
    for name in ("enabled", "batch_size", "maximum_batching_window_in_seconds"):
        assert not req.HasField(name), name
    assert (list(req.function_response_types), req.maximum_concurrency) == ([], 0)


def test_update_mapping_sends_only_what_is_given(fake: FakeFunctions, ep: Client) -> None:
    ep.functions.update_event_source_mapping(UUID, enabled=False)
    req = fake.only("UpdateEventSourceMapping")
    assert req.HasField("enabled") and req.enabled is False
    for name in (
        "batch_size",
        "maximum_batching_window_in_seconds",
        "maximum_concurrency",
    ):
        assert not req.HasField(name), name
    # function_response_types=None: unchanged.
    assert (req.set_function_response_types, req.function_name) == (False, "")


def test_put_invoke_config_zero_retries_is_a_value(fake: FakeFunctions, ep: Client) -> None:
    ep.functions.put_function_event_invoke_config("resize", maximum_retry_attempts=0)
    req = fake.only("PutFunctionEventInvokeConfig")
    assert req.HasField("maximum_retry_attempts") and req.maximum_retry_attempts == 0
    assert not req.HasField("maximum_event_age_in_seconds")
    assert (req.on_success_destination, req.on_failure_destination) == ("", "")


def test_update_invoke_config_sends_only_what_is_given(fake: FakeFunctions, ep: Client) -> None:
    ep.functions.update_function_event_invoke_config(
        "resize", destination_config={"OnFailure": {"Destination": DLQ_ARN}}
    )
    req = fake.only("UpdateFunctionEventInvokeConfig")
    # Left out: unchanged on the server (unset), unlike Put's defaults.
    for name in (
        "maximum_retry_attempts",
        "maximum_event_age_in_seconds",
        "on_success_destination",
    ):
        assert not req.HasField(name), name
    assert req.HasField("on_failure_destination") and req.on_failure_destination == DLQ_ARN


def test_routing_weights_are_checked_before_calling(fake: FakeFunctions, ep: Client) -> None:
    for bad in ({"2": "0.5"}, {2: 0.5}, {"2": True}, [("2", 0.5)]):
        with pytest.raises(ValueError, match="additional_version_weights"):
            ep.functions.create_alias("resize", "canary", "1", additional_version_weights=bad)  # type: ignore[arg-type]
    assert fake.calls == []


def test_untag_refuses_one_string_before_calling(fake: FakeFunctions, ep: Client) -> None:
    with pytest.raises(ValueError, match="tag_keys"):
        ep.functions.untag_resource(FN_ARN, "team")
    with pytest.raises(ValueError, match="tags"):
        ep.functions.tag_resource(FN_ARN, {"team": 1})  # type: ignore[dict-item]
    assert fake.calls == []


def test_destination_config_as_a_dataclass(fake: FakeFunctions, ep: Client) -> None:
    ep.functions.put_function_event_invoke_config(
        "resize", destination_config=DestinationConfig(on_success=TOPIC_ARN)
    )
    req = fake.only("PutFunctionEventInvokeConfig")
    assert (req.on_success_destination, req.on_failure_destination) == (TOPIC_ARN, "")


def test_a_read_config_can_be_put_back(fake: FakeFunctions, ep: Client) -> None:
    fake.responses["GetFunctionEventInvokeConfig"] = pb_invoke_config()
    got = ep.functions.get_function_event_invoke_config("resize")
    ep.functions.put_function_event_invoke_config(
        "resize",
        maximum_retry_attempts=got.maximum_retry_attempts,
        destination_config=got.destination_config,
    )
    put = fake.calls[-1][1]
    assert (put.maximum_retry_attempts, put.on_failure_destination) == (1, DLQ_ARN)


# --- code ------------------------------------------------------------------------------


def test_create_function_zips_a_local_folder(
    fake: FakeFunctions, ep: Client, tmp_path: Path
) -> None:
    write(tmp_path, PACKAGE)
    ep.functions.create_function("resize", "app.handler", zip_directory=tmp_path)
    sent = fake.only("CreateFunction").code
    assert sent.WhichOneof("source") == "zip_file"
    assert sent.zip_file == zip_from_directory(tmp_path)


def test_update_code_zips_a_local_folder_given_as_text(
    fake: FakeFunctions, ep: Client, tmp_path: Path
) -> None:
    write(tmp_path, {"app.py": "x = 1\n"})
    ep.functions.update_function_code("resize", zip_directory=str(tmp_path), publish=True)
    req = fake.only("UpdateFunctionCode")
    with zipfile.ZipFile(io.BytesIO(req.code.zip_file)) as z:
        assert z.namelist() == ["app.py"]
    assert req.publish is True


def test_server_directory_is_sent_as_written(fake: FakeFunctions, ep: Client) -> None:
    # Resolved on the server's machine: the SDK must not make it absolute here.
    ep.functions.create_function("resize", "app.handler", directory="fn/resize")
    assert fake.only("CreateFunction").code.directory == "fn/resize"


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        ({}, "give exactly one of zip_file, directory, zip_directory; got none"),
        ({"zip_file": b"PK", "directory": "/srv"}, "got zip_file and directory"),
        ({"directory": "/srv", "zip_directory": "."}, "got directory and zip_directory"),
        ({"zip_file": "PK"}, "zip_file: expected bytes, got str"),
        ({"directory": 7}, "directory: expected a path, got int"),
        ({"zip_directory": "/no/such/folder"}, "is not a directory"),
    ],
)
def test_code_arguments_are_checked_before_calling(
    fake: FakeFunctions, ep: Client, kwargs: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        ep.functions.create_function("resize", "app.handler", **kwargs)
    with pytest.raises(ValueError, match=complaint):
        ep.functions.update_function_code("resize", **kwargs)
    assert fake.calls == []


def test_a_zip_too_big_for_one_call_names_the_way_out(fake: FakeFunctions, ep: Client) -> None:
    with pytest.raises(ValueError, match="give directory= instead"):
        ep.functions.create_function("resize", "app.handler", zip_file=b"\0" * MAX_MESSAGE_BYTES)
    assert fake.calls == []


# --- zip_from_directory ----------------------------------------------------------------


def test_zip_from_directory_holds_every_file_relative_to_the_folder(tmp_path: Path) -> None:
    write(tmp_path, PACKAGE)
    with zipfile.ZipFile(io.BytesIO(zip_from_directory(tmp_path))) as z:
        assert z.namelist() == [
            "app.py",
            "data/sizes.json",
            "lib/__init__.py",
            "lib/images/resize.py",
        ]
        assert z.read("lib/images/resize.py") == b"WIDTH = 640\n"
        assert z.read("data/sizes.json") == b'{"small": 64}'
        assert z.testzip() is None
        for info in z.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.compress_type == zipfile.ZIP_DEFLATED


def test_zip_from_directory_is_deterministic(tmp_path: Path) -> None:
    # The same files written in another order, at other times, with other modes.
    first = write(tmp_path / "a", PACKAGE)
    second = tmp_path / "b"
    for name in reversed(list(PACKAGE)):
        write(second, {name: PACKAGE[name]})
    os.utime(second / "app.py", (0, 0))
    (second / "app.py").chmod(0o755)
    assert zip_from_directory(first) == zip_from_directory(second)
    assert zip_from_directory(first) == zip_from_directory(str(first))


def test_zip_from_directory_changes_with_the_content(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": "x = 1\n"})
    before = zip_from_directory(tmp_path)
    write(tmp_path, {"app.py": "x = 2\n"})
    assert zip_from_directory(tmp_path) != before


def test_zip_from_directory_leaves_out_caches_and_vcs(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app.py": "",
            ".git/HEAD": "ref: refs/heads/main\n",
            ".DS_Store": b"\0",
            "pkg/mod.pyo": b"\0",
            ".env.example": "A=1\n",  # other dot files are the user's: kept
        },
    )
    with zipfile.ZipFile(io.BytesIO(zip_from_directory(tmp_path))) as z:
        assert z.namelist() == [".env.example", "app.py"]


def test_zip_from_directory_packages_an_importable_handler(tmp_path: Path) -> None:
    write(tmp_path / "src", {"app.py": "from lib import VALUE\n", "lib/__init__.py": "VALUE = 7\n"})
    package = tmp_path / "fn.zip"
    package.write_bytes(zip_from_directory(tmp_path / "src"))
    code = "import sys; sys.path.insert(0, sys.argv[1]); import app; print(app.VALUE)"
    out = subprocess.run(
        [sys.executable, "-c", code, str(package)], capture_output=True, text=True, check=True
    )
    assert out.stdout == "7\n"


def test_zip_from_directory_refuses_an_empty_folder_and_a_file(tmp_path: Path) -> None:
    write(tmp_path / "cache-only", {"__pycache__/x.pyc": b"\0"})
    with pytest.raises(ValueError, match="holds no files"):
        zip_from_directory(tmp_path / "cache-only")
    write(tmp_path, {"app.py": ""})
    with pytest.raises(ValueError, match="is not a directory"):
        zip_from_directory(tmp_path / "app.py")


# --- results ---------------------------------------------------------------------------


def test_results_are_converted(fake: FakeFunctions, ep: Client) -> None:
    fake.responses.update(
        {
            "CreateFunction": pb_config(),
            "UpdateFunctionCode": pb_config(),
            "UpdateFunctionConfiguration": pb_config(),
            "GetFunction": pb.GetFunctionResponse(
                configuration=pb_config(), reserved_concurrent_executions=5, tags={"t": "m"}
            ),
            "PublishVersion": pb_config(version="1"),
            "CreateAlias": pb_alias(),
            "UpdateAlias": pb_alias(version="2"),
            "GetAlias": pb_alias(),
            "PutFunctionConcurrency": pb.Concurrency(reserved_concurrent_executions=5),
            "GetFunctionConcurrency": pb.Concurrency(reserved_concurrent_executions=0),
            "PutFunctionEventInvokeConfig": pb_invoke_config(),
            "GetFunctionEventInvokeConfig": pb_invoke_config(),
            "UpdateFunctionEventInvokeConfig": pb_invoke_config(),
            "GetFunctionConfiguration": pb_config(version="1"),
            "ListTags": pb.ListFunctionTagsResponse(tags={"team": "media"}),
            "GetAccountSettings": pb.GetAccountSettingsResponse(
                account_limit=pb.AccountLimit(
                    total_code_size=80_530_636_800,
                    code_size_unzipped=262_144_000,
                    code_size_zipped=52_428_800,
                    concurrent_executions=8,
                    unreserved_concurrent_executions=6,
                ),
                account_usage=pb.AccountUsage(total_code_size=1234, function_count=2),
            ),
            "CreateEventSourceMapping": pb_mapping(),
            "UpdateEventSourceMapping": pb_mapping(),
            "GetEventSourceMapping": pb_mapping(),
            "DeleteEventSourceMapping": pb_mapping(),
        }
    )
    f = ep.functions
    assert f.create_function("resize", "app.handler", zip_file=b"PK") == config()
    assert f.update_function_code("resize", zip_file=b"PK") == config()
    assert f.update_function_configuration("resize", timeout=30) == config()
    assert f.get_function("resize") == GetFunctionResult(config(), 5, {"t": "m"})
    assert f.publish_version("resize") == config(version="1")
    assert f.create_alias("resize", "prod", "1") == alias()
    assert f.update_alias("resize", "prod", function_version="2") == alias(version="2")
    assert f.get_alias("resize", "prod") == alias()
    assert f.put_function_concurrency("resize", 5) == 5
    assert f.get_function_concurrency("resize") == 0  # 0 reserved is not "none"
    assert f.put_function_event_invoke_config("resize") == invoke_config()
    assert f.get_function_event_invoke_config("resize") == invoke_config()
    assert f.update_function_event_invoke_config("resize") == invoke_config()
    assert f.get_function_configuration("resize", "1") == config(version="1")
    assert f.list_tags(FN_ARN) == {"team": "media"}
    assert f.get_account_settings() == AccountSettings(
        AccountLimit(80_530_636_800, 262_144_000, 52_428_800, 8, 6), AccountUsage(1234, 2)
    )
    assert f.tag_resource(FN_ARN, {"k": "v"}) is None
    assert f.untag_resource(FN_ARN, ["k"]) is None
    assert f.create_event_source_mapping(QUEUE_ARN, "resize") == mapping()
    assert f.update_event_source_mapping(UUID) == mapping()
    assert f.get_event_source_mapping(UUID) == mapping()
    assert f.delete_event_source_mapping(UUID) == mapping()
    assert f.delete_function("resize") is None
    assert f.delete_alias("resize", "prod") is None
    assert f.delete_function_concurrency("resize") is None
    assert f.delete_function_event_invoke_config("resize") is None


def test_absent_fields_are_none(fake: FakeFunctions, ep: Client) -> None:
    fake.responses["GetFunction"] = pb.GetFunctionResponse(
        configuration=pb.FunctionConfiguration(function_name="bare"),
        reserved_concurrent_executions=-1,
    )
    fake.responses["GetFunctionConcurrency"] = pb.Concurrency(reserved_concurrent_executions=-1)
    fake.responses["GetEventSourceMapping"] = pb.EventSourceMapping(uuid=UUID, state="Disabled")
    fake.responses["GetFunctionEventInvokeConfig"] = pb.FunctionEventInvokeConfig(
        function_arn=FN_ARN
    )
    got = ep.functions.get_function("bare")
    assert (got.reserved_concurrent_executions, got.tags) == (None, {})
    assert got.configuration.dead_letter_target_arn is None
    assert got.configuration.environment == {}
    assert ep.functions.get_function_concurrency("bare") is None
    m = ep.functions.get_event_source_mapping(UUID)
    assert (m.maximum_concurrency, m.state_transition_reason) == (None, None)
    assert m.function_response_types == ()
    c = ep.functions.get_function_event_invoke_config("bare")
    assert c.destination_config == DestinationConfig(None, None)


def test_present_optional_fields_are_kept(fake: FakeFunctions, ep: Client) -> None:
    full = pb_config()
    full.dead_letter_target_arn = DLQ_ARN
    fake.responses["GetFunction"] = pb.GetFunctionResponse(configuration=full)
    reason = pb_mapping()
    reason.state_transition_reason = "USER_INITIATED"
    fake.responses["GetEventSourceMapping"] = reason
    assert ep.functions.get_function("resize").configuration.dead_letter_target_arn == DLQ_ARN
    assert ep.functions.get_event_source_mapping(UUID).state_transition_reason == "USER_INITIATED"


def test_results_are_frozen(fake: FakeFunctions, ep: Client) -> None:
    fake.responses["GetAlias"] = pb_alias()
    got = ep.functions.get_alias("resize", "prod")
    with pytest.raises(AttributeError):
        got.function_version = "2"  # type: ignore[misc]


# --- invoke ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "sent"),
    [
        ({"width": 640}, b'{"width": 640}'),
        ([1, 2], b"[1, 2]"),
        ('{"width":  640}', b'{"width":  640}'),  # text: unchanged
        (b'{"raw": true}', b'{"raw": true}'),
        (bytearray(b"[]"), b"[]"),
        (None, b""),
        (0, b"0"),
        (False, b"false"),
        ("caf\u00e9", "caf\u00e9".encode()),
    ],
)
def test_invoke_payload_forms(fake: FakeFunctions, ep: Client, payload: Any, sent: bytes) -> None:
    ep.functions.invoke("resize", payload)
    assert fake.only("Invoke").payload == sent


def test_invoke_result_is_converted(fake: FakeFunctions, ep: Client) -> None:
    log = "START RequestId: r-1\nresizing\nEND RequestId: r-1\n"
    fake.responses["Invoke"] = pb.InvokeResponse(
        status_code=200,
        log_result=base64.b64encode(log.encode()).decode(),
        payload=b'{"width": 640, "ok": true}',
        executed_version="3",
        request_id="r-1",
    )
    result = ep.functions.invoke("resize", {"width": 640}, log_type="Tail", qualifier="prod")
    assert result == InvokeResult(
        200,
        None,
        log,
        base64.b64encode(log.encode()).decode(),
        b'{"width": 640, "ok": true}',
        "3",
        "r-1",
    )
    assert result.json() == {"width": 640, "ok": True}


def test_invoke_function_error_is_a_result_not_an_exception(
    fake: FakeFunctions, ep: Client
) -> None:
    doc = {"errorType": "ValueError", "errorMessage": "bad width", "stackTrace": []}
    fake.responses["Invoke"] = pb.InvokeResponse(
        status_code=200, function_error="Unhandled", payload=json.dumps(doc).encode()
    )
    result = ep.functions.invoke("resize", {"width": -1})
    assert result.function_error == "Unhandled"
    assert result.json() == doc
    assert (result.log_result, result.log_result_base64) == (None, None)


def test_invoke_event_has_no_payload(fake: FakeFunctions, ep: Client) -> None:
    fake.responses["Invoke"] = pb.InvokeResponse(status_code=202, request_id="r-2")
    result = ep.functions.invoke("resize", {}, invocation_type="Event")
    assert (result.status_code, result.payload, result.json()) == (202, b"", None)


def test_invoke_log_tail_cut_inside_a_character_still_decodes(
    fake: FakeFunctions, ep: Client
) -> None:
    cut = "r\u00e9sum\u00e9".encode()[:2]  # half of the é
    fake.responses["Invoke"] = pb.InvokeResponse(log_result=base64.b64encode(cut).decode())
    assert ep.functions.invoke("resize").log_result == "r\ufffd"


def test_invoke_result_json_of_a_non_json_payload_raises() -> None:
    result = InvokeResult(200, None, None, None, b"not json", "$LATEST", "r")
    with pytest.raises(ValueError):
        result.json()


def test_client_context_dict_is_base64_json(fake: FakeFunctions, ep: Client) -> None:
    ep.functions.invoke("resize", client_context={"custom": {"tenant": "a"}})
    sent = fake.only("Invoke").client_context
    assert json.loads(base64.b64decode(sent)) == {"custom": {"tenant": "a"}}


# --- paging ----------------------------------------------------------------------------

# (call, rpc, response type, items field, one pb item per page number, expected converted)
LISTS: list[tuple[Callable[[FunctionsClient], Any], str, Any, str, Callable[[int], Any], Any]] = [
    (
        lambda c: c.list_functions(),
        "ListFunctions",
        pb.ListFunctionsResponse,
        "functions",
        lambda n: pb_config(f"f{n}"),
        lambda n: config(f"f{n}"),
    ),
    (
        lambda c: c.list_versions_by_function("resize"),
        "ListVersionsByFunction",
        pb.ListFunctionsResponse,
        "functions",
        lambda n: pb_config(version=str(n)),
        lambda n: config(version=str(n)),
    ),
    (
        lambda c: c.list_aliases("resize", function_version="1"),
        "ListAliases",
        pb.ListAliasesResponse,
        "aliases",
        lambda n: pb_alias(f"a{n}"),
        lambda n: alias(f"a{n}"),
    ),
    (
        lambda c: c.list_event_source_mappings(event_source_arn=QUEUE_ARN, function_name="resize"),
        "ListEventSourceMappings",
        pb.ListEventSourceMappingsResponse,
        "event_source_mappings",
        lambda n: pb_mapping(f"u{n}"),
        lambda n: mapping(f"u{n}"),
    ),
    (
        lambda c: c.list_function_event_invoke_configs("resize"),
        "ListFunctionEventInvokeConfigs",
        pb.ListFunctionEventInvokeConfigsResponse,
        "function_event_invoke_configs",
        lambda n: pb_invoke_config(),
        lambda n: invoke_config(),
    ),
]

# The filters each list call above passes, which must be on every page's request.
LIST_FILTERS: dict[str, dict[str, Any]] = {
    "ListFunctions": {},
    "ListVersionsByFunction": {"function_name": "resize"},
    "ListAliases": {"function_name": "resize", "function_version": "1"},
    "ListEventSourceMappings": {"event_source_arn": QUEUE_ARN, "function_name": "resize"},
    "ListFunctionEventInvokeConfigs": {"function_name": "resize"},
}


@pytest.mark.parametrize(("call", "rpc", "response", "items", "item", "expected"), LISTS)
def test_lists_follow_every_page_with_the_same_filters(
    fake: FakeFunctions,
    ep: Client,
    call: Callable[[FunctionsClient], Any],
    rpc: str,
    response: Any,
    items: str,
    item: Callable[[int], Any],
    expected: Callable[[int], Any],
) -> None:
    pages = {
        "": response(**{items: [item(1), item(2)]}, next_marker="m1"),
        "m1": response(**{items: [item(3)]}, next_marker="m2"),
        "m2": response(),
    }
    fake.responses[rpc] = lambda req: pages[req.marker]
    assert call(ep.functions) == [expected(1), expected(2), expected(3)]
    assert [req.marker for _, req in fake.calls] == ["", "m1", "m2"]
    for _, req in fake.calls:
        assert req.max_items == 0  # the server's page size
        for name, value in LIST_FILTERS[rpc].items():
            assert getattr(req, name) == value


def test_lists_stop_when_the_marker_repeats(fake: FakeFunctions, ep: Client) -> None:
    fake.responses["ListFunctions"] = lambda req: pb.ListFunctionsResponse(
        functions=[pb_config()], next_marker="same"
    )
    assert ep.functions.list_functions() == [config(), config()]
    assert [req.marker for _, req in fake.calls] == ["", "same"]


def test_list_filters_default_to_empty(fake: FakeFunctions, ep: Client) -> None:
    ep.functions.list_aliases("resize")
    ep.functions.list_event_source_mappings()
    aliases, mappings = (req for _, req in fake.calls)
    assert aliases.function_version == ""
    assert mappings.event_source_arn == mappings.function_name == ""


def test_error_while_paging_reaches_the_caller(fake: FakeFunctions, ep: Client) -> None:
    def first_page(req: pb.ListAliasesRequest) -> pb.ListAliasesResponse:
        fake.errors["ListAliases"] = ResourceNotFound("gone")  # for the second page
        return pb.ListAliasesResponse(aliases=[pb_alias()], next_marker="m1")

    fake.responses["ListAliases"] = first_page
    with pytest.raises(ResourceNotFound, match="gone"):
        ep.functions.list_aliases("resize")


# --- malformed arguments ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("destinations", "complaint"),
    [
        ({"OnSucess": {"Destination": TOPIC_ARN}}, "unknown key(s) OnSucess"),
        (
            {"OnSuccess": {"Destination": TOPIC_ARN}, "onFailure": {}},
            "unknown key(s) onFailure; eventplane accepts OnSuccess, OnFailure",
        ),
        ({"OnFailure": {"Arn": DLQ_ARN}}, "destination_config OnFailure: unknown key(s) Arn"),
        ({"OnFailure": {}}, "destination_config OnFailure: missing Destination"),
        ({"OnFailure": DLQ_ARN}, "OnFailure: expected a dict with Destination"),
        ({"OnFailure": {"Destination": 7}}, "Destination: expected an ARN"),
        ([("OnSuccess", TOPIC_ARN)], "expected a DestinationConfig or a dict"),
    ],
)
def test_destination_config_bad_keys_fail_before_calling(
    fake: FakeFunctions, ep: Client, destinations: Any, complaint: str
) -> None:
    with pytest.raises(ValueError) as info:
        ep.functions.put_function_event_invoke_config("resize", destination_config=destinations)
    assert complaint in str(info.value)
    assert fake.calls == []


@pytest.mark.parametrize(
    ("call", "complaint"),
    [
        (
            lambda c: c.create_function("f", "a.h", zip_file=b"PK", environment={"N": 1}),
            "environment: keys and values must be str; 'N' -> 1",
        ),
        (
            lambda c: c.create_function("f", "a.h", zip_file=b"PK", environment=["A=1"]),
            "environment: expected a dict",
        ),
        (lambda c: c.create_function("f", "a.h", zip_file=b"PK", tags={1: "x"}), "tags"),
        (
            lambda c: c.update_function_configuration("f", environment={"A": None}),
            "environment: keys and values must be str",
        ),
        (lambda c: c.create_function("f", "a.h", zip_file=b"PK", timeout="30"), "timeout"),
        (lambda c: c.update_function_configuration("f", memory_size=1.5), "memory_size"),
        (lambda c: c.put_function_concurrency("f", True), "reserved_concurrent_executions"),
        (lambda c: c.invoke("f", {"at": {1, 2}}), "payload: not JSON-serializable"),
        (lambda c: c.invoke("f", client_context=["x"]), "client_context: expected"),
        (lambda c: c.invoke("f", client_context={"x": {1}}), "client_context: not JSON"),
        (
            lambda c: c.create_event_source_mapping(
                QUEUE_ARN, "f", function_response_types="ReportBatchItemFailures"
            ),
            "function_response_types: expected a list of strings",
        ),
        (lambda c: c.update_event_source_mapping(UUID, batch_size="10"), "batch_size"),
        (
            lambda c: c.put_function_event_invoke_config("f", maximum_event_age_in_seconds="60"),
            "maximum_event_age_in_seconds: expected an int",
        ),
    ],
)
def test_other_malformed_arguments_fail_before_calling(
    fake: FakeFunctions, ep: Client, call: Callable[[FunctionsClient], Any], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        call(ep.functions)
    assert fake.calls == []


def test_argument_errors_are_also_eventplane_errors(ep: Client) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        ep.functions.put_function_event_invoke_config(
            "resize", destination_config={"Bogus": {"Destination": DLQ_ARN}}
        )
    assert isinstance(info.value, ValueError)
    assert info.value.code == "InvalidParameterValue"
    assert "Bogus" in info.value.message


# --- errors ----------------------------------------------------------------------------


def test_throttling_arrives_as_its_class(fake: FakeFunctions, ep: Client) -> None:
    fake.errors["Invoke"] = TooManyRequestsException("Rate Exceeded.")
    with pytest.raises(TooManyRequestsException) as info:
        ep.functions.invoke("resize")
    assert (info.value.code, info.value.retriable) == ("TooManyRequestsException", True)


def test_conflict_arrives_as_its_class(fake: FakeFunctions, ep: Client) -> None:
    fake.errors["CreateFunction"] = ResourceConflictException("Function already exist: resize")
    with pytest.raises(ResourceConflictException, match="already exist"):
        ep.functions.create_function("resize", "app.handler", zip_file=b"PK")


def test_typed_error_on_a_call_without_a_result(fake: FakeFunctions, ep: Client) -> None:
    fake.errors["DeleteAlias"] = ResourceNotFound("Alias not found: prod")
    with pytest.raises(ResourceNotFound, match="prod"):
        ep.functions.delete_alias("resize", "prod")


def test_sdk_alone_maps_function_codes_to_their_classes() -> None:
    # A fresh interpreter that imports only the SDK: the function error classes must be
    # registered without the program importing them itself.
    code = (
        "import eventplane.client\n"
        "from eventplane.errors import EventplaneError as E\n"
        "print(type(E.from_code('TooManyRequestsException', 'x')).__name__,"
        " type(E.from_code('ResourceConflictException', 'x')).__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["TooManyRequestsException", "ResourceConflictException"]


def test_unknown_server_code_keeps_its_text(fake: FakeFunctions, ep: Client) -> None:
    fake.errors["GetAlias"] = EventplaneError.from_code("KMSAccessDeniedException", "no key")
    with pytest.raises(EventplaneError) as info:
        ep.functions.get_alias("resize", "prod")
    assert (info.value.code, info.value.message) == ("KMSAccessDeniedException", "no key")


# --- async -----------------------------------------------------------------------------


def test_async_create_invoke_configure(served: tuple[FakeFunctions, str], tmp_path: Path) -> None:
    fake, target = served
    write(tmp_path, PACKAGE)
    fake.responses["CreateFunction"] = pb_config()
    fake.responses["Invoke"] = pb.InvokeResponse(status_code=200, payload=b'{"ok": true}')
    fake.responses["PutFunctionEventInvokeConfig"] = pb_invoke_config()
    fake.responses["CreateEventSourceMapping"] = pb_mapping()
    fake.responses["GetFunctionConcurrency"] = pb.Concurrency(reserved_concurrent_executions=-1)

    async def use(client: AsyncClient) -> tuple[Any, ...]:
        f = client.functions
        created = await f.create_function(
            "resize", "app.handler", zip_directory=tmp_path, environment={"A": "1"}
        )
        result = await f.invoke("resize", {"width": 640}, log_type="Tail")
        cfg = await f.put_function_event_invoke_config(
            "resize", destination_config={"OnFailure": {"Destination": DLQ_ARN}}
        )
        m = await f.create_event_source_mapping(
            QUEUE_ARN, "resize", function_response_types=["ReportBatchItemFailures"]
        )
        reserved = await f.get_function_concurrency("resize")
        return created, result.json(), cfg, m, reserved

    assert run_async(target, use) == (config(), {"ok": True}, invoke_config(), mapping(), None)
    (_, create), (_, inv), (_, put), (_, esm), _ = fake.calls
    assert create.code.zip_file == zip_from_directory(tmp_path)
    assert dict(create.environment) == {"A": "1"}
    assert (inv.payload, inv.log_type) == (b'{"width": 640}', "Tail")
    assert put.on_failure_destination == DLQ_ARN
    assert list(esm.function_response_types) == ["ReportBatchItemFailures"]


def test_async_updates_send_only_what_is_given(served: tuple[FakeFunctions, str]) -> None:
    fake, target = served

    async def use(client: AsyncClient) -> None:
        await client.functions.update_function_configuration("resize", environment={})
        await client.functions.update_event_source_mapping(UUID, function_response_types=[])
        await client.functions.update_alias("resize", "prod", description="d")

    run_async(target, use)
    (_, cfg), (_, esm), (_, al) = fake.calls
    assert (cfg.set_environment, cfg.HasField("timeout")) == (True, False)
    assert (esm.set_function_response_types, esm.HasField("enabled")) == (True, False)
    assert (al.HasField("function_version"), al.description) == (False, "d")


def test_async_lists_follow_pages(served: tuple[FakeFunctions, str]) -> None:
    fake, target = served
    function_pages = {
        "": pb.ListFunctionsResponse(functions=[pb_config("a")], next_marker="m"),
        "m": pb.ListFunctionsResponse(functions=[pb_config("b")]),
    }
    mapping_pages = {
        "": pb.ListEventSourceMappingsResponse(
            event_source_mappings=[pb_mapping("u1")], next_marker="m"
        ),
        "m": pb.ListEventSourceMappingsResponse(event_source_mappings=[pb_mapping("u2")]),
    }
    fake.responses["ListFunctions"] = lambda req: function_pages[req.marker]
    fake.responses["ListEventSourceMappings"] = lambda req: mapping_pages[req.marker]
    fake.responses["ListAliases"] = pb.ListAliasesResponse(aliases=[pb_alias()])
    fake.responses["ListVersionsByFunction"] = pb.ListFunctionsResponse(
        functions=[pb_config(version="1")]
    )

    async def use(client: AsyncClient) -> tuple[Any, ...]:
        f = client.functions
        return (
            await f.list_functions(),
            await f.list_event_source_mappings(function_name="resize"),
            await f.list_aliases("resize"),
            await f.list_versions_by_function("resize"),
        )

    functions, mappings, aliases, versions = run_async(target, use)
    assert functions == [config("a"), config("b")]
    assert mappings == [mapping("u1"), mapping("u2")]
    assert (aliases, versions) == ([alias()], [config(version="1")])
    names = [r.function_name for rpc, r in fake.calls if rpc == "ListEventSourceMappings"]
    assert names == ["resize", "resize"]


def test_async_errors(served: tuple[FakeFunctions, str]) -> None:
    fake, target = served
    fake.errors["GetFunction"] = ResourceNotFound("Function not found: resize")

    async def missing(client: AsyncClient) -> None:
        await client.functions.get_function("resize")

    with pytest.raises(ResourceNotFound, match="resize"):
        run_async(target, missing)

    async def malformed(client: AsyncClient) -> None:
        await client.functions.put_function_event_invoke_config(
            "resize", destination_config={"OnFailure": {"Destinaton": DLQ_ARN}}
        )

    with pytest.raises(ValueError, match="Destinaton"):
        run_async(target, malformed)

    async def two_codes(client: AsyncClient) -> None:
        await client.functions.create_function("f", "a.h", zip_file=b"PK", directory="/srv")

    with pytest.raises(ValueError, match="exactly one"):
        run_async(target, two_codes)
    assert [rpc for rpc, _ in fake.calls] == ["GetFunction"]
