"""Function definitions: references and ARNs, Lambda's validation rules and messages,
qualifier resolution and the registry specs' round trips."""

from __future__ import annotations

import json
import pickle
from typing import Any

import grpc
import pytest

from eventplane.errors import EventplaneError, ResourceNotFound, ValidationException
from eventplane.errors.rpc import status_of
from eventplane.functions import errors as fn_errors
from eventplane.functions import models as m
from eventplane.functions.errors import (
    InvalidParameterValueException,
    RequestTooLargeException,
    ResourceConflictException,
    ResourceInUseConflict,
    ResourceNotFoundException,
    TooManyRequestsException,
)
from eventplane.registry import Resource

ARN = "arn:aws:lambda:local:000000000000:function"
CODE = m.CodeRef("n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=", 123)


def resource(kind: str, name: str, spec: dict[str, Any]) -> Resource:
    # Through JSON, as the registry stores specs.
    return Resource(kind, name, json.loads(json.dumps(spec)), 1, 1000, 2000)


def config(**kw: Any) -> m.FunctionConfig:
    args: dict[str, Any] = {
        "handler": "app.handler",
        "code": CODE,
        "revision_id": "r1",
        "last_modified": "2024-05-01T12:00:00.000+0000",
    }
    args.update(kw)
    return m.FunctionConfig.build(**args)


def message(exc: pytest.ExceptionInfo[EventplaneError]) -> str:
    return exc.value.message


# --- errors -----------------------------------------------------------------------------------


def test_codes_are_lambdas_and_map_back_to_one_class() -> None:
    expected = {
        "InvalidParameterValueException": InvalidParameterValueException,
        "ResourceConflictException": ResourceConflictException,
        "TooManyRequestsException": TooManyRequestsException,
        "RequestEntityTooLargeException": RequestTooLargeException,
        "InvalidZipFileException": fn_errors.InvalidZipFileException,
        "CodeStorageExceededException": fn_errors.CodeStorageExceededException,
        "ServiceException": fn_errors.ServiceException,
        "ResourceNotFoundException": ResourceNotFound,
        "ValidationException": ValidationException,
    }
    for code, cls in expected.items():
        assert type(EventplaneError.from_code(code, "x")) is cls, code
    assert ResourceNotFoundException is ResourceNotFound


def test_statuses_and_retriability() -> None:
    assert status_of(ResourceConflictException) is grpc.StatusCode.ALREADY_EXISTS
    assert status_of(ResourceInUseConflict) is grpc.StatusCode.FAILED_PRECONDITION
    assert ResourceInUseConflict.code == "ResourceConflictException"
    assert TooManyRequestsException.retriable
    assert status_of(TooManyRequestsException) is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert not fn_errors.CodeStorageExceededException.retriable
    assert fn_errors.ServiceException.retriable
    assert not RequestTooLargeException.retriable


def test_throttle_carries_lambdas_reason_through_pickle() -> None:
    err = TooManyRequestsException()
    assert err.message == "Rate Exceeded."
    assert err.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    back = pickle.loads(
        pickle.dumps(TooManyRequestsException(reason="ConcurrentInvocationLimitExceeded"))
    )
    assert back.reason == "ConcurrentInvocationLimitExceeded"


# --- references and ARNs ---------------------------------------------------------------------


def test_arns() -> None:
    assert m.function_arn("f") == f"{ARN}:f"
    assert m.function_arn("f", "prod") == f"{ARN}:f:prod"
    assert m.mapping_arn("u-1") == "arn:aws:lambda:local:000000000000:event-source-mapping:u-1"


@pytest.mark.parametrize(
    ("ref", "qualifier", "expected"),
    [
        ("f", None, ("f", None)),
        ("my-fn_1", "", ("my-fn_1", None)),
        ("f:prod", None, ("f", "prod")),
        ("f:7", None, ("f", "7")),
        ("f:$LATEST", None, ("f", "$LATEST")),
        ("f", "prod", ("f", "prod")),
        ("f:prod", "prod", ("f", "prod")),
        ("000000000000:function:f", None, ("f", None)),
        ("123456789012:function:f:3", None, ("f", "3")),
        (f"{ARN}:f", None, ("f", None)),
        (f"{ARN}:f:prod", None, ("f", "prod")),
        ("arn:aws:lambda:us-east-1:123456789012:function:f", "2", ("f", "2")),
        ("arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f", None, ("f", None)),
    ],
)
def test_function_refs(ref: str, qualifier: str | None, expected: tuple[str, str | None]) -> None:
    assert m.parse_function_ref(ref, qualifier) == expected


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "has space",
        "f:a:b",
        "function:f:x:y",
        "arn:aws:lambda:local:f",
        "arn:aws:sqs:x:y:z",
        "f/g",
    ],
)
def test_bad_function_refs(ref: str) -> None:
    with pytest.raises(ValidationException) as exc:
        m.parse_function_ref(ref)
    if ref:
        assert message(exc) == (
            f"1 validation error detected: Value '{ref}' at 'functionName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?"
            r"(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
        )
    else:
        assert "Value null at 'functionName'" in message(exc)


def test_qualifier_given_twice_must_agree() -> None:
    with pytest.raises(InvalidParameterValueException) as exc:
        m.parse_function_ref(f"{ARN}:f:prod", "dev")
    assert message(exc) == (
        "The derived qualifier from the function name does not match the specified qualifier."
    )


def test_bad_separate_qualifier() -> None:
    with pytest.raises(ValidationException, match="at 'qualifier'"):
        m.parse_function_ref("f", "a b")
    with pytest.raises(ValidationException, match="length less than or equal to 128"):
        m.parse_function_ref("f", "q" * 129)


def test_name_longer_than_64() -> None:
    name = "a" * 65
    with pytest.raises(ValidationException) as exc:
        m.parse_function_ref(name)
    assert message(exc).endswith("Member must have length less than or equal to 64")
    assert m.parse_function_ref("a" * 64) == ("a" * 64, None)


def test_unqualified_refs_refuse_qualifiers() -> None:
    assert m.parse_function_ref(f"{ARN}:f", allow_qualifier=False) == ("f", None)
    with pytest.raises(ValidationException, match=r"\(\[a-zA-Z0-9-_\]\+\)$"):
        m.parse_function_ref("f:prod", allow_qualifier=False)
    with pytest.raises(InvalidParameterValueException):
        m.parse_function_ref("f", "prod", allow_qualifier=False)


def test_validate_function_name() -> None:
    assert m.validate_function_name("ok-Name_1") == "ok-Name_1"
    for bad in ("", "a" * 65, "a.b", f"{ARN}:f"):
        with pytest.raises(ValidationException):
            m.validate_function_name(bad)


def test_not_found_messages() -> None:
    assert m.function_not_found("f").message == f"Function not found: {ARN}:f"
    assert m.function_not_found("f", "3").message == f"Function not found: {ARN}:f:3"
    assert m.alias_not_found("f", "live").message == f"Cannot find alias arn: {ARN}:f:live"


def test_keys() -> None:
    assert m.version_key("f", 3) == "f:3"
    assert m.alias_key("f", "live") == "f:live"
    assert m.invoke_config_key("f", None) == "f:$LATEST"
    assert m.invoke_config_key("f", "live") == "f:live"


# --- configuration fields -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "handler",
    ["app.handler", "pkg.app.handler", "src/app.handler", "a/b.c.d", "_m.f2"],
)
def test_python_handlers(handler: str) -> None:
    assert m.validate_handler(handler) == handler


@pytest.mark.parametrize(
    "handler", ["handler", ".handler", "app.", "app.1fn", "a-b.handler", "a..b"]
)
def test_handlers_that_name_no_python_function(handler: str) -> None:
    with pytest.raises(InvalidParameterValueException) as exc:
        m.validate_handler(handler)
    assert message(exc).startswith(f"Handler '{handler}' is not valid for a Python function")


def test_handler_pattern_and_length() -> None:
    with pytest.raises(ValidationException) as exc:
        m.validate_handler("app. handler")
    assert message(exc) == (
        "1 validation error detected: Value 'app. handler' at 'handler' failed to satisfy "
        r"constraint: Member must satisfy regular expression pattern: [^\s]+"
    )
    with pytest.raises(ValidationException, match="Value null at 'handler'"):
        m.validate_handler("")
    long = "a" * 120 + ".handler1"
    with pytest.raises(ValidationException, match="length less than or equal to 128"):
        m.validate_handler(long)
    assert m.validate_handler("a" * 119 + ".handler") == "a" * 119 + ".handler"


def test_handler_module_path() -> None:
    assert m.handler_module_path("app.handler") == "app"
    assert m.handler_module_path("pkg.app.handler") == "pkg/app"
    assert m.handler_module_path("src/app.handler") == "src/app"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            0,
            "Value '0' at 'timeout' failed to satisfy constraint: Member must have value "
            "greater than or equal to 1",
        ),
        (
            901,
            "Value '901' at 'timeout' failed to satisfy constraint: Member must have value "
            "less than or equal to 900",
        ),
    ],
)
def test_timeout_bounds(value: int, expected: str) -> None:
    with pytest.raises(ValidationException) as exc:
        m.validate_timeout(value)
    assert message(exc) == f"1 validation error detected: {expected}"


def test_timeout_and_memory_accept_their_limits() -> None:
    assert m.validate_timeout(1) == 1
    assert m.validate_timeout(900) == 900
    assert m.validate_memory_size(128) == 128
    assert m.validate_memory_size(10240) == 10240


def test_memory_bounds() -> None:
    with pytest.raises(ValidationException) as exc:
        m.validate_memory_size(127)
    assert message(exc) == (
        "1 validation error detected: Value '127' at 'memorySize' failed to satisfy "
        "constraint: Member must have value greater than or equal to 128"
    )
    with pytest.raises(ValidationException) as exc:
        m.validate_memory_size(10241)
    assert message(exc).endswith("Member must have value less than or equal to 10240")


def test_runtime() -> None:
    assert m.validate_runtime("") == m.DEFAULT_RUNTIME
    assert m.DEFAULT_RUNTIME.startswith("python3.")
    assert m.validate_runtime("python3.12") == "python3.12"
    for bad in ("nodejs20.x", "python2.7", "python3", "python3.x"):
        with pytest.raises(InvalidParameterValueException) as exc:
            m.validate_runtime(bad)
        assert message(exc).startswith(
            f"Value {bad} at 'runtime' failed to satisfy constraint: Member must satisfy enum "
            "value set: [python3.x]"
        )


def test_description_length() -> None:
    assert m.validate_description("d" * 256) == "d" * 256
    with pytest.raises(ValidationException) as exc:
        m.validate_description("d" * 257)
    assert message(exc) == (
        f"1 validation error detected: Value '{'d' * 257}' at 'description' failed to satisfy "
        "constraint: Member must have length less than or equal to 256"
    )


def test_environment_keys() -> None:
    assert m.validate_environment({"AB": "1", "a_1": "x"}) == {"AB": "1", "a_1": "x"}
    for bad in ("A", "1AB", "A-B", "_HANDLER", "A B"):
        with pytest.raises(ValidationException) as exc:
            m.validate_environment({bad: "v"})
        assert message(exc) == (
            "1 validation error detected: Value at 'environment.variables' failed to satisfy "
            "constraint: Map keys must satisfy constraint: [Member must satisfy regular "
            f"expression pattern: [a-zA-Z]([a-zA-Z0-9_])+] (key '{bad}')"
        )


def test_reserved_environment_keys() -> None:
    with pytest.raises(InvalidParameterValueException) as exc:
        m.validate_environment({"AWS_REGION": "x", "OK": "1", "AWS_LAMBDA_FUNCTION_NAME": "y"})
    assert message(exc) == (
        "Lambda was unable to configure your environment variables because the environment "
        "variables you have provided contains reserved keys that are currently not supported "
        "for modification. Reserved keys used in this request: AWS_LAMBDA_FUNCTION_NAME, "
        "AWS_REGION"
    )
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "LAMBDA_TASK_ROOT", "AWS_EXECUTION_ENV"):
        with pytest.raises(InvalidParameterValueException):
            m.validate_environment({key: "x"})
    # AWS_ keys Lambda does not reserve stay settable.
    assert m.validate_environment({"AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR"})


def test_environment_size_limit() -> None:
    # {"KEY":"<v>"} is 10 bytes of JSON around the value.
    at_limit = {"KEY": "v" * (4096 - 10)}
    assert m.validate_environment(at_limit) == at_limit
    over = {"KEY": "v" * (4096 - 9)}
    with pytest.raises(InvalidParameterValueException) as exc:
        m.validate_environment(over)
    assert message(exc) == (
        "Lambda was unable to configure your environment variables because the environment "
        "variables you have provided exceeded the 4KB limit. String measured: "
        + json.dumps(over, separators=(",", ":"))
    )
    # Bytes, not characters.
    with pytest.raises(InvalidParameterValueException):
        m.validate_environment({"KEY": "é" * 2100})


def test_execution_role() -> None:
    assert m.validate_role(None).endswith(":role/eventplane")
    role = "arn:aws:iam::123456789012:role/service/orders"
    assert m.validate_role(role) == role
    for bad in ("orders", "arn:aws:iam::12:role/x", "arn:aws:sqs:local:123456789012:q"):
        with pytest.raises(ValidationException, match="at 'role' failed"):
            m.validate_role(bad)
    config = m.FunctionConfig.build(
        handler="app.handler", code=m.CodeRef("x", 1), role=role, revision_id="r", last_modified=""
    )
    assert m.FunctionConfig.from_spec(config.to_spec()).role == role
    assert config.update(revision_id="s", last_modified="").role == role


def test_dead_letter_target() -> None:
    assert m.validate_dead_letter_arn("") is None
    assert m.validate_dead_letter_arn(None) is None
    for arn in ("arn:aws:sqs:local:000000000000:dlq", "arn:aws:sns:us-east-1:123456789012:t"):
        assert m.validate_dead_letter_arn(arn) == arn
    with pytest.raises(ValidationException, match=r"at 'deadLetterConfig\.targetArn'"):
        m.validate_dead_letter_arn("not-an-arn")
    with pytest.raises(InvalidParameterValueException, match=r"queue .* or a topic"):
        m.validate_dead_letter_arn("arn:aws:events:local:000000000000:event-bus/default")


def test_tags() -> None:
    fifty = {f"k{i}": "v" for i in range(50)}
    assert m.validate_tags(fifty) == fifty
    longest = {"k" * 128: "v" * 256, "empty": ""}
    assert m.validate_tags(longest) == longest
    for bad, reason in (
        ({**fifty, "one-more": "v"}, "at most 50 tags"),
        ({"": "v"}, "1 to 128 characters"),
        ({"k" * 129: "v"}, "1 to 128 characters"),
        ({"AWS:team": "v"}, "reserved for AWS use"),
        ({"k": "v" * 257}, "at most 256 characters"),
    ):
        with pytest.raises(InvalidParameterValueException, match=reason):
            m.validate_tags(bad)


def test_reserved_concurrency() -> None:
    assert m.validate_reserved_concurrency(0) == 0
    assert m.validate_reserved_concurrency(50, limit=50) == 50
    with pytest.raises(ValidationException) as exc:
        m.validate_reserved_concurrency(-1)
    assert message(exc).endswith(
        "at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have "
        "value greater than or equal to 0"
    )
    with pytest.raises(InvalidParameterValueException, match="limit of 50"):
        m.validate_reserved_concurrency(51, limit=50)


def test_payload_limits() -> None:
    m.check_payload_size(b"x" * m.MAX_SYNC_PAYLOAD, "RequestResponse")
    m.check_payload_size(b"x" * m.MAX_ASYNC_PAYLOAD, "Event")
    with pytest.raises(RequestTooLargeException) as exc:
        m.check_payload_size(b"x" * (m.MAX_SYNC_PAYLOAD + 1), "RequestResponse")
    assert message(exc) == (
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )
    with pytest.raises(RequestTooLargeException) as exc:
        m.check_payload_size(b"x" * (m.MAX_ASYNC_PAYLOAD + 1), "Event")
    assert message(exc) == (
        "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)"
    )
    assert exc.value.code == "RequestEntityTooLargeException"


def test_iso8601_and_sha_hex() -> None:
    assert m.iso8601(1714564800123) == "2024-05-01T12:00:00.123+0000"
    assert m.iso8601(0) == "1970-01-01T00:00:00.000+0000"
    assert CODE.sha256_hex == bytes.fromhex(CODE.sha256_hex).hex()
    assert len(CODE.sha256_hex) == 64


# --- functions and versions -----------------------------------------------------------------


def test_config_defaults() -> None:
    c = config()
    assert (c.timeout, c.memory_size, c.runtime) == (3, 128, m.DEFAULT_RUNTIME)
    assert c.environment == {}
    assert c.dead_letter_arn is None


def test_config_build_validates_every_field() -> None:
    with pytest.raises(ValidationException, match="'timeout'"):
        config(timeout=0)
    with pytest.raises(ValidationException, match="'memorySize'"):
        config(memory_size=64)
    with pytest.raises(InvalidParameterValueException, match="Handler"):
        config(handler="nodots")
    with pytest.raises(InvalidParameterValueException, match="Reserved keys"):
        config(environment={"AWS_REGION": "x"})
    with pytest.raises(InvalidParameterValueException, match="runtime"):
        config(runtime="java21")
    with pytest.raises(ValidationException, match="'description'"):
        config(description="x" * 300)
    with pytest.raises(InvalidParameterValueException):
        config(dead_letter_arn="arn:aws:lambda:local:000000000000:function:f")


def test_config_update_keeps_unset_fields_and_removes_dlq_with_empty() -> None:
    c = config(timeout=10, environment={"AB": "1"}, dead_letter_arn="arn:aws:sqs:local:0:q")
    u = c.update(revision_id="r2", last_modified="later", memory_size=256)
    assert (u.timeout, u.memory_size, u.environment, u.revision_id) == (10, 256, {"AB": "1"}, "r2")
    assert u.dead_letter_arn == "arn:aws:sqs:local:0:q"
    assert c.update(revision_id="r3", last_modified="x", dead_letter_arn="").dead_letter_arn is None
    with pytest.raises(ValidationException):
        c.update(revision_id="r4", last_modified="x", timeout=1000)


def test_function_def_round_trip() -> None:
    fn = m.FunctionDef(
        "f",
        config(environment={"AB": "1"}, description="d", timeout=30),
        reserved_concurrency=5,
        tags={"team": "a"},
        next_version=4,
    )
    back = m.FunctionDef.from_resource(resource(m.FUNCTION, "f", fn.to_spec()))
    assert back == m.FunctionDef("f", fn.config, 5, {"team": "a"}, 4, created_ms=1000)
    assert back.arn == f"{ARN}:f"
    none_reserved = m.FunctionDef("g", config())
    assert m.FunctionDef.from_resource(resource(m.FUNCTION, "g", none_reserved.to_spec())) == (
        m.FunctionDef("g", none_reserved.config, created_ms=1000)
    )


def test_directory_code_round_trip() -> None:
    ref = m.CodeRef(CODE.sha256, 10, m.DIRECTORY, "/src/fn")
    c = config(code=ref)
    assert m.FunctionConfig.from_spec(json.loads(json.dumps(c.to_spec()))) == c


def test_version_round_trip() -> None:
    v = m.VersionDef("f", 12, config(description="v12"))
    assert (v.key, v.version, v.arn) == ("f:12", "12", f"{ARN}:f:12")
    back = m.VersionDef.from_resource(resource(m.VERSION, v.key, v.to_spec()))
    assert back == m.VersionDef("f", 12, v.config, created_ms=1000)


# --- aliases and qualifiers ------------------------------------------------------------------


def test_alias_validation_and_round_trip() -> None:
    a = m.AliasDef.build("f", "live", "3", description="d", revision_id="r")
    assert (a.key, a.arn) == ("f:live", f"{ARN}:f:live")
    assert m.AliasDef.from_resource(resource(m.ALIAS, a.key, a.to_spec())) == a
    assert m.AliasDef.build("f", "v2-a", "$LATEST", revision_id="r").function_version == "$LATEST"
    assert m.AliasDef.build("f", "1a", "1", revision_id="r").name == "1a"


@pytest.mark.parametrize("name", ["123", "a b", "a:b", "$LATEST", "a" * 129, ""])
def test_bad_alias_names(name: str) -> None:
    with pytest.raises(ValidationException) as exc:
        m.AliasDef.build("f", name, "1", revision_id="r")
    if name and len(name) <= 128:
        assert message(exc) == (
            f"1 validation error detected: Value '{name}' at 'name' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "(?!^[0-9]+$)([a-zA-Z0-9-_]+)"
        )


@pytest.mark.parametrize("version", ["", "live", "1.0", "-1"])
def test_bad_alias_versions(version: str) -> None:
    with pytest.raises(ValidationException, match="'functionVersion'"):
        m.AliasDef.build("f", "live", version, revision_id="r")


def _world() -> tuple[m.FunctionDef, dict[str, m.VersionDef], dict[str, m.AliasDef]]:
    fn = m.FunctionDef("f", config(description="latest"), next_version=3)
    versions = {
        "1": m.VersionDef("f", 1, config(description="one")),
        "2": m.VersionDef("f", 2, config(description="two")),
    }
    aliases = {
        "live": m.AliasDef("f", "live", "2"),
        "edge": m.AliasDef("f", "edge", "$LATEST"),
        "gone": m.AliasDef("f", "gone", "9"),
    }
    return fn, versions, aliases


@pytest.mark.parametrize(
    ("qualifier", "version", "description"),
    [
        (None, "$LATEST", "latest"),
        ("", "$LATEST", "latest"),
        ("$LATEST", "$LATEST", "latest"),
        ("1", "1", "one"),
        ("live", "2", "two"),
        ("edge", "$LATEST", "latest"),
    ],
)
def test_resolve_qualifier(qualifier: str | None, version: str, description: str) -> None:
    fn, versions, aliases = _world()
    got_version, got = m.resolve_qualifier(fn, qualifier, versions, aliases)
    assert (got_version, got.description) == (version, description)


@pytest.mark.parametrize("qualifier", ["7", "nope", "gone"])
def test_resolve_unknown_qualifier(qualifier: str) -> None:
    fn, versions, aliases = _world()
    with pytest.raises(ResourceNotFound) as exc:
        m.resolve_qualifier(fn, qualifier, versions, aliases)
    assert message(exc) == f"Function not found: {ARN}:f:{qualifier}"
    assert exc.value.code == "ResourceNotFoundException"


# --- async invoke configuration ----------------------------------------------------------------


def test_invoke_config_defaults_and_round_trip() -> None:
    c = m.InvokeConfig.build("f")
    assert (c.qualifier, c.maximum_retry_attempts, c.maximum_event_age_seconds) == (
        "$LATEST",
        2,
        21600,
    )
    assert c.function_arn == f"{ARN}:f:$LATEST"
    full = m.InvokeConfig.build(
        "f",
        "live",
        maximum_retry_attempts=0,
        maximum_event_age_seconds=60,
        on_success="arn:aws:sqs:local:000000000000:ok",
        on_failure=f"{ARN}:other:2",
        last_modified="t",
    )
    assert full.key == "f:live"
    assert m.InvokeConfig.from_resource(resource(m.INVOKE_CONFIG, full.key, full.to_spec())) == full


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        (
            {"maximum_retry_attempts": 3},
            "Value '3' at 'maximumRetryAttempts' failed to satisfy "
            "constraint: Member must have value less than or equal to 2",
        ),
        (
            {"maximum_retry_attempts": -1},
            "Value '-1' at 'maximumRetryAttempts' failed to "
            "satisfy constraint: Member must have value greater than or equal to 0",
        ),
        (
            {"maximum_event_age_seconds": 59},
            "Value '59' at 'maximumEventAgeInSeconds' failed to "
            "satisfy constraint: Member must have value greater than or equal to 60",
        ),
        (
            {"maximum_event_age_seconds": 21601},
            "Value '21601' at 'maximumEventAgeInSeconds' "
            "failed to satisfy constraint: Member must have value less than or equal to 21600",
        ),
    ],
)
def test_invoke_config_bounds(kw: dict[str, int], expected: str) -> None:
    with pytest.raises(ValidationException) as exc:
        m.InvokeConfig.build("f", **kw)  # type: ignore[arg-type]
    assert message(exc) == f"1 validation error detected: {expected}"


def test_invoke_config_accepts_its_limits() -> None:
    c = m.InvokeConfig.build("f", maximum_retry_attempts=2, maximum_event_age_seconds=21600)
    assert (c.maximum_retry_attempts, c.maximum_event_age_seconds) == (2, 21600)


@pytest.mark.parametrize(
    ("arn", "kind", "name"),
    [
        ("arn:aws:sqs:local:000000000000:q", "queue", "q"),
        ("arn:aws:sns:local:000000000000:t", "topic", "t"),
        ("arn:aws:events:local:000000000000:event-bus/b", "bus", "b"),
        (f"{ARN}:f", "function", "f"),
        (f"{ARN}:f:live", "function", "f"),
    ],
)
def test_destination_kinds(arn: str, kind: str, name: str) -> None:
    assert m.destination_kind(arn) == (kind, name)
    assert m.InvokeConfig.build("g", on_failure=arn).on_failure == arn


def test_bad_destinations() -> None:
    with pytest.raises(InvalidParameterValueException, match=r"The destination ARN .* is invalid"):
        m.InvokeConfig.build("f", on_success="arn:aws:s3:::bucket")
    with pytest.raises(ValidationException, match=r"onFailure\.destination"):
        m.InvokeConfig.build("f", on_failure="queue-name")


# --- event source mappings -----------------------------------------------------------------------

QUEUE = "arn:aws:sqs:local:000000000000:jobs"
FIFO = "arn:aws:sqs:local:000000000000:jobs.fifo"


def test_mapping_defaults() -> None:
    mp = m.MappingDef.build("u1", QUEUE, "f")
    assert (mp.queue, mp.batch_size, mp.maximum_batching_window_seconds) == ("jobs", 10, 0)
    assert (mp.enabled, mp.state, mp.maximum_concurrency, mp.fifo) == (True, "Enabled", None, False)
    assert mp.function_arn == f"{ARN}:f"
    assert not mp.report_batch_item_failures
    assert m.MappingDef.build("u2", QUEUE, "f", enabled=False).state == "Disabled"


def test_mapping_round_trip() -> None:
    mp = m.MappingDef.build(
        "u1",
        QUEUE,
        "f",
        "live",
        batch_size=500,
        maximum_batching_window_seconds=5,
        enabled=False,
        function_response_types=["ReportBatchItemFailures"],
        maximum_concurrency=2,
        last_modified="t",
    )
    assert mp.function_arn == f"{ARN}:f:live"
    assert mp.report_batch_item_failures
    assert m.MappingDef.from_resource(resource(m.MAPPING, "u1", mp.to_spec())) == mp


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        (
            {"batch_size": 0},
            "Value '0' at 'batchSize' failed to satisfy constraint: Member must "
            "have value greater than or equal to 1",
        ),
        (
            {"batch_size": 10001, "maximum_batching_window_seconds": 1},
            "Value '10001' at "
            "'batchSize' failed to satisfy constraint: Member must have value less than or equal "
            "to 10000",
        ),
        (
            {"maximum_batching_window_seconds": 301},
            "Value '301' at "
            "'maximumBatchingWindowInSeconds' failed to satisfy constraint: Member must have value "
            "less than or equal to 300",
        ),
        (
            {"maximum_batching_window_seconds": -1},
            "Value '-1' at "
            "'maximumBatchingWindowInSeconds' failed to satisfy constraint: Member must have value "
            "greater than or equal to 0",
        ),
        (
            {"maximum_concurrency": 1},
            "Value '1' at 'scalingConfig.maximumConcurrency' failed to "
            "satisfy constraint: Member must have value greater than or equal to 2",
        ),
        (
            {"maximum_concurrency": 1001},
            "Value '1001' at 'scalingConfig.maximumConcurrency' "
            "failed to satisfy constraint: Member must have value less than or equal to 1000",
        ),
        (
            {"function_response_types": ["Nope"]},
            "Value '[Nope]' at 'functionResponseTypes' "
            "failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy "
            "enum value set: [ReportBatchItemFailures]]",
        ),
    ],
)
def test_mapping_bounds(kw: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValidationException) as exc:
        m.MappingDef.build("u", QUEUE, "f", **kw)
    assert message(exc) == f"1 validation error detected: {expected}"


def test_mapping_accepts_its_limits() -> None:
    mp = m.MappingDef.build(
        "u",
        QUEUE,
        "f",
        batch_size=10000,
        maximum_batching_window_seconds=300,
        maximum_concurrency=1000,
    )
    assert (mp.batch_size, mp.maximum_batching_window_seconds, mp.maximum_concurrency) == (
        10000,
        300,
        1000,
    )
    assert m.MappingDef.build("u", QUEUE, "f", batch_size=1).batch_size == 1
    assert m.MappingDef.build("u", QUEUE, "f", maximum_concurrency=0).maximum_concurrency is None


def test_large_batches_need_a_window() -> None:
    with pytest.raises(InvalidParameterValueException) as exc:
        m.MappingDef.build("u", QUEUE, "f", batch_size=11)
    assert message(exc) == (
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
        "greater than 10"
    )
    assert m.MappingDef.build("u", QUEUE, "f", batch_size=11, maximum_batching_window_seconds=1)


def test_fifo_mappings() -> None:
    mp = m.MappingDef.build("u", FIFO, "f", batch_size=10, maximum_batching_window_seconds=0)
    assert mp.fifo and mp.queue == "jobs.fifo"
    with pytest.raises(
        InvalidParameterValueException, match="FIFO queues must be between 1 and 10"
    ):
        m.MappingDef.build("u", FIFO, "f", batch_size=11, maximum_batching_window_seconds=0)
    with pytest.raises(InvalidParameterValueException) as exc:
        m.MappingDef.build("u", FIFO, "f", maximum_batching_window_seconds=1)
    assert message(exc) == "Batching window is not supported for FIFO queues"


def test_mapping_sources_must_be_queues() -> None:
    with pytest.raises(InvalidParameterValueException, match="Unrecognized event source"):
        m.MappingDef.build("u", "arn:aws:sns:local:000000000000:t", "f")
    with pytest.raises(ValidationException, match="'eventSourceArn'"):
        m.MappingDef.build("u", "jobs", "f")
    with pytest.raises(ValidationException, match="Value null at 'eventSourceArn'"):
        m.MappingDef.build("u", "", "f")


def test_mapping_response_types_deduplicated() -> None:
    mp = m.MappingDef.build(
        "u", QUEUE, "f", function_response_types=[m.REPORT_BATCH_ITEM_FAILURES] * 2
    )
    assert mp.function_response_types == (m.REPORT_BATCH_ITEM_FAILURES,)


def test_mapping_update_revalidates_merged_values() -> None:
    mp = m.MappingDef.build(
        "u", QUEUE, "f", "live", batch_size=100, maximum_batching_window_seconds=2
    )
    u = mp.update(last_modified="t2", enabled=False, maximum_concurrency=5)
    assert (u.batch_size, u.qualifier, u.enabled, u.state, u.maximum_concurrency) == (
        100,
        "live",
        False,
        "Disabled",
        5,
    )
    assert u.update(last_modified="t3", maximum_concurrency=0).maximum_concurrency is None
    assert u.update(last_modified="t3", function="g").qualifier is None
    with pytest.raises(InvalidParameterValueException, match="batch window"):
        mp.update(last_modified="t", maximum_batching_window_seconds=0)
