"""Resource-based policies of functions (AddPermission) and buses (PutPermission) on real
servers: boto3 through the AWS-protocol gateway and the SDK over gRPC. A principal whose
identity policies say nothing of a function or bus may use it once its resource policy
allows it, and not after the statement is removed."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.security import sha256_hex
from eventplane.testing import EventplaneProcess, unique_cluster

pytestmark = pytest.mark.integration

ACCOUNT = "111122223333"
ADMIN = ("AKIDPERMSADMIN000001", "perms-admin-secret")
CI = ("AKIDPERMSCI000000001", "perms-ci-secret")
ADMIN_TOKEN = "ep-perms-admin-0123456789abcdef"
CI_TOKEN = "ep-perms-ci-0123456789abcdef"
CI_ARN = f"arn:aws:iam::{ACCOUNT}:user/ci"
# ci may use queues, and nothing of functions or buses on its own.
CI_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}],
}
HANDLER = "def handler(event, context):\n    return {'echo': event}\n"


@pytest.fixture(scope="module")
def server(
    eventplane_kafka: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EventplaneProcess]:
    tokens = tmp_path_factory.mktemp("perms") / "tokens.yaml"
    tokens.write_text(
        json.dumps(
            {
                "tokens": [
                    # The admin token acts in the keys' account: the functions and buses
                    # the admin key creates are that account's.
                    {"principal": "admin", "account": ACCOUNT, "sha256": sha256_hex(ADMIN_TOKEN)},
                    # The token's account is its entry's (the principals: section's is not
                    # inherited by tokens).
                    {"principal": "ci", "account": ACCOUNT, "sha256": sha256_hex(CI_TOKEN)},
                ],
                "principals": {"ci": {"account": ACCOUNT, "policies": [CI_POLICY]}},
            }
        )
    )
    keys = f"{ADMIN[0]}:{ADMIN[1]}:{ACCOUNT},{CI[0]}:{CI[1]}:{ACCOUNT}:ci"
    proc = EventplaneProcess(
        eventplane_kafka,
        roles="api,runner,bus",
        cluster=unique_cluster(),
        env={"EVENTPLANE_GATEWAY_CREDENTIALS": keys, "EVENTPLANE_AUTH_TOKENS_FILE": str(tokens)},
    )
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def _aws(server: EventplaneProcess, service: str, key: tuple[str, str]) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.gateway_url,
        region_name="us-east-1",
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
        config=Config(retries={"max_attempts": 1}),
    )


def _error(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return str(info.value.response["Error"]["Code"])


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("app.py", HANDLER)
    return out.getvalue()


def _function(server: EventplaneProcess) -> str:
    name = f"perms-{uuid.uuid4().hex[:8]}"
    _aws(server, "lambda", ADMIN).create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=f"arn:aws:iam::{ACCOUNT}:role/any",  # a function's role is of its account
        Handler="app.handler",
        Code={"ZipFile": _zip()},
    )
    return name


def test_add_get_remove_permission_round_trip_through_boto3(server: EventplaneProcess) -> None:
    aws = _aws(server, "lambda", ADMIN)
    name = _function(server)
    assert _error(aws.get_policy, FunctionName=name) == "ResourceNotFoundException"

    added = aws.add_permission(
        FunctionName=name,
        StatementId="rule-invoke",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn="arn:aws:events:us-east-1:000000000000:rule/nightly",
    )
    statement = json.loads(added["Statement"])
    assert statement["Sid"] == "rule-invoke"
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Resource"].endswith(f":function:{name}")
    assert statement["Condition"] == {
        "ArnLike": {"AWS:SourceArn": "arn:aws:events:us-east-1:000000000000:rule/nightly"}
    }
    got = aws.get_policy(FunctionName=name)
    assert json.loads(got["Policy"])["Statement"] == [statement]
    revision = got["RevisionId"]

    duplicate = _error(
        aws.add_permission,
        FunctionName=name,
        StatementId="rule-invoke",
        Action="lambda:InvokeFunction",
        Principal=ACCOUNT,
    )
    assert duplicate == "ResourceConflictException"
    stale = _error(
        aws.add_permission,
        FunctionName=name,
        StatementId="account",
        Action="lambda:InvokeFunction",
        Principal=ACCOUNT,
        RevisionId="not-the-latest",
    )
    assert stale == "PreconditionFailedException"
    aws.add_permission(
        FunctionName=name,
        StatementId="account",
        Action="lambda:InvokeFunction",
        Principal=ACCOUNT,
        RevisionId=revision,
    )
    policy = json.loads(aws.get_policy(FunctionName=name)["Policy"])
    assert [s["Principal"] for s in policy["Statement"]] == [
        {"Service": "events.amazonaws.com"},
        {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    ]
    unknown = _error(aws.remove_permission, FunctionName=name, StatementId="nobody")
    assert unknown == "ResourceNotFoundException"
    aws.remove_permission(FunctionName=name, StatementId="rule-invoke")
    aws.remove_permission(FunctionName=name, StatementId="account")
    assert _error(aws.get_policy, FunctionName=name) == "ResourceNotFoundException"


def test_a_qualifier_has_a_policy_of_its_own(server: EventplaneProcess) -> None:
    aws = _aws(server, "lambda", ADMIN)
    name = _function(server)
    version = aws.publish_version(FunctionName=name)["Version"]
    aws.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    aws.add_permission(
        FunctionName=name,
        StatementId="live-only",
        Action="lambda:InvokeFunction",
        Principal=CI_ARN,
        Qualifier="live",
    )
    live = json.loads(aws.get_policy(FunctionName=name, Qualifier="live")["Policy"])
    assert live["Statement"][0]["Resource"].endswith(f":function:{name}:live")
    assert _error(aws.get_policy, FunctionName=name) == "ResourceNotFoundException"
    missing = _error(aws.get_policy, FunctionName=name, Qualifier="nope")
    assert missing == "ResourceNotFoundException"


def test_a_policy_goes_with_its_function(server: EventplaneProcess) -> None:
    aws = _aws(server, "lambda", ADMIN)
    name = _function(server)
    aws.add_permission(
        FunctionName=name, StatementId="ci", Action="lambda:InvokeFunction", Principal=CI_ARN
    )
    aws.delete_function(FunctionName=name)
    aws.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=f"arn:aws:iam::{ACCOUNT}:role/any",  # a function's role is of its account
        Handler="app.handler",
        Code={"ZipFile": _zip()},
    )
    # A new function of the same name starts without the old one's grants.
    assert _error(aws.get_policy, FunctionName=name) == "ResourceNotFoundException"
    ci = _aws(server, "lambda", CI)
    assert "AccessDenied" in _error(ci.invoke, FunctionName=name, Payload=b"{}")


def test_a_function_policy_grants_and_takes_back_invoke(server: EventplaneProcess) -> None:
    admin = _aws(server, "lambda", ADMIN)
    ci = _aws(server, "lambda", CI)
    name = _function(server)
    assert "AccessDenied" in _error(ci.invoke, FunctionName=name, Payload=b"{}")

    admin.add_permission(
        FunctionName=name, StatementId="ci", Action="lambda:InvokeFunction", Principal=CI_ARN
    )
    answer = ci.invoke(FunctionName=name, Payload=b'{"n": 1}')
    assert json.loads(answer["Payload"].read()) == {"echo": {"n": 1}}
    # The same principal over gRPC, with its token.
    with Client(server.endpoint, token=CI_TOKEN, timeout=30) as sdk:
        assert sdk.functions.invoke(name, {"n": 2}).json() == {"echo": {"n": 2}}
        # The policy grants invoking, nothing else.
        with pytest.raises(EventplaneError) as info:
            sdk.functions.get_function(name)
        assert info.value.code == "AccessDeniedException"

    admin.remove_permission(FunctionName=name, StatementId="ci")
    assert "AccessDenied" in _error(ci.invoke, FunctionName=name, Payload=b"{}")
    with Client(server.endpoint, token=CI_TOKEN, timeout=30) as sdk:
        with pytest.raises(EventplaneError) as info:
            sdk.functions.invoke(name, {})
        assert info.value.code == "AccessDeniedException"


def test_the_sdk_manages_function_policies(server: EventplaneProcess) -> None:
    name = _function(server)
    with Client(server.endpoint, token=ADMIN_TOKEN, timeout=30) as sdk:
        statement = sdk.functions.add_permission(
            name, "acct", "lambda:InvokeFunction", ACCOUNT, source_account=ACCOUNT
        )
        assert statement["Condition"] == {"StringEquals": {"AWS:SourceAccount": ACCOUNT}}
        policy, revision = sdk.functions.get_policy(name)
        assert policy["Statement"] == [statement] and revision
        with pytest.raises(EventplaneError) as info:
            sdk.functions.remove_permission(name, "acct", revision_id="stale")
        assert info.value.code == "PreconditionFailedException"
        sdk.functions.remove_permission(name, "acct", revision_id=revision)
        with pytest.raises(EventplaneError) as info:
            sdk.functions.get_policy(name)
        assert info.value.code == "ResourceNotFoundException"


def _entry(bus: str) -> dict[str, str]:
    return {"Source": "shop", "DetailType": "order", "Detail": "{}", "EventBusName": bus}


def test_a_bus_policy_grants_and_takes_back_put_events(server: EventplaneProcess) -> None:
    admin = _aws(server, "events", ADMIN)
    ci = _aws(server, "events", CI)
    bus = f"orders-{uuid.uuid4().hex[:8]}"
    admin.create_event_bus(Name=bus)
    assert "AccessDenied" in _error(ci.put_events, Entries=[_entry(bus)])
    assert "Policy" not in admin.describe_event_bus(Name=bus)

    admin.put_permission(
        EventBusName=bus, Action="events:PutEvents", Principal=ACCOUNT, StatementId="ci"
    )
    policy = json.loads(admin.describe_event_bus(Name=bus)["Policy"])
    assert policy["Statement"] == [
        {
            "Sid": "ci",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "events:PutEvents",
            "Resource": admin.describe_event_bus(Name=bus)["Arn"],
        }
    ]
    put = ci.put_events(Entries=[_entry(bus)])
    assert put["FailedEntryCount"] == 0 and put["Entries"][0]["EventId"]
    # The same principal over gRPC.
    with Client(server.endpoint, token=CI_TOKEN, timeout=30) as sdk:
        result = sdk.events.put_events([{**_entry(bus), "Detail": {"n": 1}}])
        assert result.failed_entry_count == 0
        # The policy is about this bus only.
        with pytest.raises(EventplaneError) as info:
            sdk.events.put_events([{**_entry("default"), "Detail": {"n": 1}}])
        assert info.value.code == "AccessDeniedException"

    unknown = _error(admin.remove_permission, EventBusName=bus, StatementId="nobody")
    assert unknown == "ResourceNotFoundException"
    admin.remove_permission(EventBusName=bus, StatementId="ci")
    assert "AccessDenied" in _error(ci.put_events, Entries=[_entry(bus)])
    assert "Policy" not in admin.describe_event_bus(Name=bus)


def test_a_whole_bus_policy_document_and_remove_all(server: EventplaneProcess) -> None:
    admin = _aws(server, "events", ADMIN)
    ci = _aws(server, "events", CI)
    bus = f"shared-{uuid.uuid4().hex[:8]}"
    admin.create_event_bus(Name=bus)
    # Anyone of an organization: ci belongs to none, so it is still refused.
    admin.put_permission(
        EventBusName=bus,
        Action="events:PutEvents",
        Principal="*",
        StatementId="org",
        Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-abcdefghij"},
    )
    assert "AccessDenied" in _error(ci.put_events, Entries=[_entry(bus)])
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ci", "Effect": "Allow", "Principal": {"AWS": CI_ARN}, "Action": "events:*"}
        ],
    }
    admin.put_permission(EventBusName=bus, Policy=json.dumps(document))
    assert json.loads(admin.describe_event_bus(Name=bus)["Policy"]) == document
    assert ci.put_events(Entries=[_entry(bus)])["FailedEntryCount"] == 0
    malformed = _error(
        admin.put_permission, EventBusName=bus, Policy='{"Statement": [{"Effect": "Allow"}]}'
    )
    assert malformed == "ValidationException"

    admin.remove_permission(EventBusName=bus, RemoveAllPermissions=True)
    assert "Policy" not in admin.describe_event_bus(Name=bus)
    assert "AccessDenied" in _error(ci.put_events, Entries=[_entry(bus)])


def test_the_sdk_manages_bus_policies(server: EventplaneProcess) -> None:
    bus = f"sdk-{uuid.uuid4().hex[:8]}"
    with Client(server.endpoint, token=ADMIN_TOKEN, timeout=30) as sdk:
        sdk.events.create_event_bus(bus)
        sdk.events.put_permission(event_bus_name=bus, statement_id="ci", principal=ACCOUNT)
        policy = json.loads(sdk.events.describe_event_bus(bus).policy)
        assert [s["Sid"] for s in policy["Statement"]] == ["ci"]
        sdk.events.remove_permission(event_bus_name=bus, remove_all_permissions=True)
        assert sdk.events.describe_event_bus(bus).policy == ""


def test_policies_survive_a_restart(server: EventplaneProcess) -> None:
    """Kept in the registry on Kafka: a restarted server enforces them as before."""
    name = _function(server)
    bus = f"kept-{uuid.uuid4().hex[:8]}"
    admin_events = _aws(server, "events", ADMIN)
    admin_events.create_event_bus(Name=bus)
    _aws(server, "lambda", ADMIN).add_permission(
        FunctionName=name, StatementId="ci", Action="lambda:InvokeFunction", Principal=CI_ARN
    )
    admin_events.put_permission(
        EventBusName=bus, Action="events:PutEvents", Principal=ACCOUNT, StatementId="ci"
    )
    server.stop()
    server.start()

    assert json.loads(_aws(server, "lambda", ADMIN).get_policy(FunctionName=name)["Policy"])
    answer = _aws(server, "lambda", CI).invoke(FunctionName=name, Payload=b'{"n": 3}')
    assert json.loads(answer["Payload"].read()) == {"echo": {"n": 3}}
    put = _aws(server, "events", CI).put_events(Entries=[_entry(bus)])
    assert put["FailedEntryCount"] == 0
