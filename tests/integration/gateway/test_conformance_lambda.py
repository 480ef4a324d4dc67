"""Lambda's control plane over the gateway as AWS documents it, found by differential
testing against moto and decided by the Lambda API reference: GetFunctionConfiguration,
the RevisionId preconditions, DeleteFunction's 204, function tags, and the configuration
members every FunctionConfiguration carries.

One server per module with the runner role; boto3 only (the client stacks are covered
by test_lambda.py), each test names its own functions.
"""

from __future__ import annotations

import contextlib
import io
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from eventplane.testing import EventplaneProcess

from .support import ACCOUNT, KEY, REGION, SECRET, gateway_process

pytestmark = pytest.mark.integration

ROLE = f"arn:aws:iam::{ACCOUNT}:role/test"


def package(body: str = "return event") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("app.py", f"def echo(event, context):\n    {body}\n")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    process = gateway_process(eventplane_kafka, "api,runner,queues")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def lam(server: EventplaneProcess) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=server.gateway_url,
        region_name=REGION,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture
def make_function(lam: Any) -> Iterator[Callable[..., str]]:
    created: list[str] = []

    def make(**kwargs: Any) -> str:
        name = f"conf-fn-{uuid.uuid4().hex[:10]}"
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.echo",
            Code={"ZipFile": package()},
            **kwargs,
        )
        created.append(name)
        return name

    yield make
    for name in created:
        with contextlib.suppress(ClientError):
            lam.delete_function(FunctionName=name)


@pytest.fixture(scope="module")
def sqs(server: EventplaneProcess) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=server.gateway_url,
        region_name=REGION,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        config=Config(retries={"max_attempts": 1}),
    )


def _error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    err = caught.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_get_function_configuration_resolves_each_qualifier(
    lam: Any, make_function: Callable[..., str]
) -> None:
    name = make_function(Description="first", Timeout=9)
    lam.publish_version(FunctionName=name)
    lam.update_function_configuration(FunctionName=name, Timeout=20)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")

    latest = lam.get_function_configuration(FunctionName=name)
    assert latest["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert latest["FunctionName"] == name
    assert latest["Version"] == "$LATEST"
    assert latest["Timeout"] == 20
    assert latest["Description"] == "first"
    assert latest == {**latest, **lam.get_function(FunctionName=name)["Configuration"]}
    assert lam.get_function_configuration(FunctionName=name, Qualifier="$LATEST")["Timeout"] == 20

    for qualifier in ("1", "live"):
        v1 = lam.get_function_configuration(FunctionName=name, Qualifier=qualifier)
        assert (v1["Version"], v1["Timeout"]) == ("1", 9)
        assert v1["FunctionArn"].endswith(f":function:{name}:1")
    by_arn = lam.get_function_configuration(FunctionName=f"{latest['FunctionArn']}:live")
    assert by_arn["Version"] == "1"

    for qualifier in ("7", "nope"):
        with pytest.raises(ClientError) as caught:
            lam.get_function_configuration(FunctionName=name, Qualifier=qualifier)
        assert _error(caught) == ("ResourceNotFoundException", 404)
        assert caught.value.response["Error"]["Message"].endswith(f":function:{name}:{qualifier}")
    with pytest.raises(ClientError) as caught:
        lam.get_function_configuration(FunctionName=f"{name}-missing")
    assert _error(caught) == ("ResourceNotFoundException", 404)


def test_configuration_carries_lambdas_defaults(
    lam: Any, make_function: Callable[..., str]
) -> None:
    name = make_function()
    created = lam.get_function(FunctionName=name)["Configuration"]
    listed = next(
        f for f in lam.list_functions(MaxItems=50)["Functions"] if f["FunctionName"] == name
    )
    updated = lam.update_function_configuration(FunctionName=name, MemorySize=256)
    for config in (created, listed, updated):
        assert config["LastUpdateStatus"] == "Successful"
        assert config["Architectures"] == ["x86_64"]
        assert config["EphemeralStorage"] == {"Size": 512}
        assert config["TracingConfig"] == {"Mode": "PassThrough"}
        assert config["PackageType"] == "Zip"
        assert "Environment" not in config  # no variables: Lambda leaves the member out


def test_revision_id_is_a_precondition_of_updates(
    lam: Any, make_function: Callable[..., str]
) -> None:
    name = make_function()
    revision = lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    calls: list[Callable[[str], Any]] = [
        lambda r: lam.update_function_configuration(FunctionName=name, Timeout=11, RevisionId=r),
        lambda r: lam.update_function_code(
            FunctionName=name, ZipFile=package("return 2"), RevisionId=r
        ),
        lambda r: lam.publish_version(FunctionName=name, RevisionId=r),
    ]
    for call in calls:
        with pytest.raises(ClientError) as caught:
            call("0" * 8 + "-stale-revision")
        assert _error(caught) == ("PreconditionFailedException", 412)
        call(revision)  # the latest RevisionId lets the change through
        revision = lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    config = lam.get_function_configuration(FunctionName=name)
    assert config["Timeout"] == 11

    alias = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    with pytest.raises(ClientError) as caught:
        lam.update_alias(FunctionName=name, Name="live", Description="x", RevisionId="stale")
    assert _error(caught) == ("PreconditionFailedException", 412)
    assert "Description" not in lam.get_alias(FunctionName=name, Name="live")  # unchanged: ""
    updated = lam.update_alias(
        FunctionName=name, Name="live", Description="x", RevisionId=alias["RevisionId"]
    )
    assert updated["Description"] == "x"
    assert updated["RevisionId"] != alias["RevisionId"]


def test_delete_function_answers_204(lam: Any, make_function: Callable[..., str]) -> None:
    name = make_function()
    lam.publish_version(FunctionName=name)
    version = lam.delete_function(FunctionName=name, Qualifier="1")
    assert version["ResponseMetadata"]["HTTPStatusCode"] == 204
    out = lam.delete_function(FunctionName=name)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert out["StatusCode"] == 204
    with pytest.raises(ClientError) as caught:
        lam.delete_function(FunctionName=name)
    assert _error(caught) == ("ResourceNotFoundException", 404)


def test_tags_on_a_function(lam: Any, make_function: Callable[..., str]) -> None:
    name = make_function(Tags={"team": "a"})
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "a"}

    tagged = lam.tag_resource(Resource=arn, Tags={"stage": "test", "team": "b"})
    assert tagged["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "b", "stage": "test"}
    assert lam.get_function(FunctionName=name)["Tags"] == {"team": "b", "stage": "test"}

    untagged = lam.untag_resource(Resource=arn, TagKeys=["team", "absent"])
    assert untagged["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.list_tags(Resource=arn)["Tags"] == {"stage": "test"}

    with pytest.raises(ClientError) as caught:
        lam.list_tags(Resource=f"{arn}-missing")
    assert _error(caught) == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as caught:
        lam.tag_resource(Resource=f"{arn}:1", Tags={"k": "v"})
    assert _error(caught) == ("InvalidParameterValueException", 400)
    # The limits are the functions core's, so the SDK meets the same (tests/integration/
    # functions/test_function_rpcs.py): at most 50 tags, and nothing is kept of a refusal.
    with pytest.raises(ClientError) as caught:
        lam.tag_resource(Resource=arn, Tags={f"k{i}": "v" for i in range(50)})
    assert _error(caught) == ("InvalidParameterValueException", 400)
    assert lam.list_tags(Resource=arn)["Tags"] == {"stage": "test"}


def test_update_and_list_event_invoke_configs(lam: Any, make_function: Callable[..., str]) -> None:
    name = make_function()
    lam.publish_version(FunctionName=name)
    with pytest.raises(ClientError) as caught:
        lam.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    assert _error(caught) == ("ResourceNotFoundException", 404)

    lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=1, MaximumEventAgeInSeconds=120
    )
    updated = lam.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    assert (updated["MaximumRetryAttempts"], updated["MaximumEventAgeInSeconds"]) == (0, 120)
    got = lam.get_function_event_invoke_config(FunctionName=name)
    assert (got["MaximumRetryAttempts"], got["MaximumEventAgeInSeconds"]) == (0, 120)
    with pytest.raises(ClientError) as caught:
        lam.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=3)
    assert _error(caught)[1] == 400

    lam.put_function_event_invoke_config(FunctionName=name, Qualifier="1", MaximumRetryAttempts=2)
    listed = lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
    assert sorted(
        (c["FunctionArn"].rsplit(":", 1)[1], c["MaximumRetryAttempts"]) for c in listed
    ) == [
        ("$LATEST", 0),
        ("1", 2),
    ]
    first = lam.list_function_event_invoke_configs(FunctionName=name, MaxItems=1)
    assert len(first["FunctionEventInvokeConfigs"]) == 1
    rest = lam.list_function_event_invoke_configs(FunctionName=name, Marker=first["NextMarker"])
    assert len(rest["FunctionEventInvokeConfigs"]) == 1
    assert "NextMarker" not in rest
    with pytest.raises(ClientError) as caught:
        lam.list_function_event_invoke_configs(FunctionName=f"{name}-missing")
    assert _error(caught) == ("ResourceNotFoundException", 404)


def test_event_source_mapping_carries_its_arn(
    lam: Any, sqs: Any, make_function: Callable[..., str]
) -> None:
    name = make_function()
    url = sqs.create_queue(QueueName=f"conf-q-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    try:
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        created = lam.create_event_source_mapping(
            EventSourceArn=arn, FunctionName=name, Enabled=False
        )
        uuid_ = created["UUID"]
        expected = created["FunctionArn"].replace(
            f":function:{name}", f":event-source-mapping:{uuid_}"
        )
        assert created["EventSourceMappingArn"] == expected
        got = lam.get_event_source_mapping(UUID=uuid_)
        assert got["EventSourceMappingArn"] == expected
        assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
        # Lambda answers each change with the transition it starts; reads show where it
        # settled.
        assert (created["State"], got["State"]) == ("Creating", "Disabled")
        states = []
        for change in ({"Enabled": True}, {"BatchSize": 3}, {"Enabled": False}):
            answered = lam.update_event_source_mapping(UUID=uuid_, **change)
            states.append((answered["State"], lam.get_event_source_mapping(UUID=uuid_)["State"]))
        assert states == [
            ("Enabling", "Enabled"),
            ("Updating", "Enabled"),
            ("Disabling", "Disabled"),
        ]
        deleted = lam.delete_event_source_mapping(UUID=uuid_)
        assert (deleted["State"], deleted["EventSourceMappingArn"]) == ("Deleting", expected)
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_one_mapping_per_source_and_function(
    lam: Any, sqs: Any, make_function: Callable[..., str]
) -> None:
    """A second mapping of the same queue to the same function is a 409 naming the
    first; another function, or another version of it, may map the queue."""
    name, other = make_function(), make_function()
    lam.publish_version(FunctionName=name)
    url = sqs.create_queue(QueueName=f"conf-q-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    made: list[str] = []
    try:
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        first = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)["UUID"]
        made.append(first)
        with pytest.raises(ClientError) as caught:
            lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=2)
        assert _error(caught) == ("ResourceConflictException", 409)
        assert caught.value.response["Error"]["Message"] == (
            f'An event source mapping with SQS arn (" {arn} ") and function (" {name} ") '
            f"already exists. Please update or delete the existing mapping with UUID {first}"
        )
        for function in (other, f"{name}:1"):
            made.append(
                lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=function)["UUID"]
            )
        listed = lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]
        assert sorted(m["UUID"] for m in listed) == sorted(made)
        lam.delete_event_source_mapping(UUID=first)
        made.remove(first)
        made.append(lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)["UUID"])
    finally:
        for uuid_ in made:
            lam.delete_event_source_mapping(UUID=uuid_)
        sqs.delete_queue(QueueUrl=url)


def test_account_settings(lam: Any, make_function: Callable[..., str]) -> None:
    before = lam.get_account_settings()
    limit, usage = before["AccountLimit"], before["AccountUsage"]
    assert before["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert (limit["CodeSizeZipped"], limit["CodeSizeUnzipped"]) == (52428800, 262144000)
    assert limit["TotalCodeSize"] == 80530636800
    assert limit["ConcurrentExecutions"] >= limit["UnreservedConcurrentExecutions"] >= 1

    name = make_function()
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    after = lam.get_account_settings()
    assert after["AccountUsage"]["FunctionCount"] == usage["FunctionCount"] + 1
    size = lam.get_function(FunctionName=name)["Configuration"]["CodeSize"]
    assert after["AccountUsage"]["TotalCodeSize"] == usage["TotalCodeSize"] + size
    assert (
        after["AccountLimit"]["UnreservedConcurrentExecutions"]
        == limit["UnreservedConcurrentExecutions"] - 1
    )


def _executed(lam: Any, name: str, qualifier: str) -> str:
    out = lam.invoke(FunctionName=name, Qualifier=qualifier, Payload=b"{}")
    with out.pop("Payload") as payload:
        payload.read()
    assert out["StatusCode"] == 200
    return str(out["ExecutedVersion"])


def test_alias_routing_config(lam: Any, make_function: Callable[..., str]) -> None:
    name = make_function()
    lam.publish_version(FunctionName=name)
    lam.update_function_code(FunctionName=name, ZipFile=package("return 2"))
    lam.publish_version(FunctionName=name)

    alias = lam.create_alias(
        FunctionName=name,
        Name="canary",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 1.0}},
    )
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 1.0}}
    got = lam.get_alias(FunctionName=name, Name="canary")
    assert got["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 1.0}}
    # The whole weight on version 2: every invocation through the alias runs it, while
    # the alias's configuration stays its primary version's.
    assert _executed(lam, name, "canary") == "2"
    assert lam.get_function_configuration(FunctionName=name, Qualifier="canary")["Version"] == "1"

    kept = lam.update_alias(FunctionName=name, Name="canary", Description="kept")
    assert kept["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 1.0}}
    lam.update_alias(
        FunctionName=name, Name="canary", RoutingConfig={"AdditionalVersionWeights": {"2": 0.0}}
    )
    assert _executed(lam, name, "canary") == "1"
    cleared = lam.update_alias(
        FunctionName=name, Name="canary", RoutingConfig={"AdditionalVersionWeights": {}}
    )
    assert "RoutingConfig" not in cleared

    refused = [
        ({"FunctionVersion": "1", "weights": {"2": 1.5}}, ("ValidationException", 400)),
        (
            {"FunctionVersion": "$LATEST", "weights": {"2": 0.5}},
            ("InvalidParameterValueException", 400),
        ),
        ({"FunctionVersion": "1", "weights": {"1": 0.5}}, ("InvalidParameterValueException", 400)),
        (
            {"FunctionVersion": "1", "weights": {"2": 0.1, "3": 0.1}},
            ("InvalidParameterValueException", 400),
        ),
        ({"FunctionVersion": "1", "weights": {"9": 0.5}}, ("ResourceNotFoundException", 404)),
    ]
    for given, expected in refused:
        with pytest.raises(ClientError) as caught:
            lam.create_alias(
                FunctionName=name,
                Name="refused",
                FunctionVersion=given["FunctionVersion"],
                RoutingConfig={"AdditionalVersionWeights": given["weights"]},
            )
        assert _error(caught) == expected, given
    with pytest.raises(ClientError) as caught:
        lam.get_alias(FunctionName=name, Name="refused")
    assert _error(caught) == ("ResourceNotFoundException", 404)
