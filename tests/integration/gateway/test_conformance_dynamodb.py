"""DynamoDB and DynamoDB Streams behaviours AWS documents that a differential run against
another emulator showed we got wrong, through boto3 against one server (api, tables)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from eventplane.testing import EventplaneProcess

from .conftest import _settings
from .support import gateway_process

pytestmark = pytest.mark.integration

HASH = [{"AttributeName": "pk", "KeyType": "HASH"}]
PK = [{"AttributeName": "pk", "AttributeType": "S"}]


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    process = gateway_process(eventplane_kafka, "api,tables")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def ddb(server: EventplaneProcess) -> Any:
    return boto3.client("dynamodb", **_settings(server))


@pytest.fixture(scope="module")
def streams(server: EventplaneProcess) -> Any:
    return boto3.client("dynamodbstreams", **_settings(server))


@pytest.fixture(scope="module")
def make_table(ddb: Any) -> Iterator[Callable[..., str]]:
    """make_table(**extra) -> a new table's name (pk S; on demand unless ``extra`` gives
    ProvisionedThroughput), deleted with the module."""
    made: list[str] = []

    def make(**extra: Any) -> str:
        name = f"cf-{uuid.uuid4().hex[:12]}"
        if "ProvisionedThroughput" not in extra:
            extra.setdefault("BillingMode", "PAY_PER_REQUEST")
        extra.setdefault("AttributeDefinitions", PK)
        ddb.create_table(TableName=name, KeySchema=HASH, **extra)
        made.append(name)
        return name

    yield make
    for name in made:
        with contextlib.suppress(ClientError):
            ddb.delete_table(TableName=name)


@pytest.fixture(scope="module")
def indexed(make_table: Callable[..., str]) -> str:
    """One table with a global index ``byg`` (g S, all projected)."""
    return make_table(
        AttributeDefinitions=[*PK, {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byg",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    r = exc.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def test_create_table_with_only_provisioned_throughput_is_provisioned(
    ddb: Any, make_table: Callable[..., str]
) -> None:
    # CreateTable: the API reference's own example ("To create a table") gives
    # ProvisionedThroughput and no BillingMode, whose default is PROVISIONED.
    name = make_table(ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7})
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 7
    # Neither given: eventplane keeps its on-demand default.
    plain = f"cf-{uuid.uuid4().hex[:12]}"
    ddb.create_table(TableName=plain, KeySchema=HASH, AttributeDefinitions=PK)
    try:
        summary = ddb.describe_table(TableName=plain)["Table"]["BillingModeSummary"]
        assert summary == {"BillingMode": "PAY_PER_REQUEST"}
    finally:
        ddb.delete_table(TableName=plain)


def test_create_table_provisioned_needs_throughput(ddb: Any) -> None:
    # ProvisionedThroughput: "If you set BillingMode as PROVISIONED, you must specify this
    # property."
    name = f"cf-{uuid.uuid4().hex[:12]}"
    with pytest.raises(ClientError) as refused:
        ddb.create_table(
            TableName=name, KeySchema=HASH, AttributeDefinitions=PK, BillingMode="PROVISIONED"
        )
    assert error(refused) == ("ValidationException", 400)
    assert "PROVISIONED" in refused.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as missing:
        ddb.describe_table(TableName=name)
    assert error(missing) == ("ResourceNotFoundException", 400)
