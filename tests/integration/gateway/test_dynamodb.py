"""DynamoDB through the gateway with real clients, unchanged but for the endpoint: boto3 and
aiobotocore (the ``stack`` parameter runs each client test through both), the boto3
resource layer, the AWS CLI and the AWS SDK for JavaScript v3.

One server (roles api and tables) serves the module; every test makes tables of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from eventplane.testing import EventplaneProcess, eventually

from .aio import Loop
from .conftest import _settings, js_session
from .support import KEY, REGION, SECRET, gateway_process

pytestmark = pytest.mark.integration

AWS = str(Path(sys.executable).with_name("aws"))


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    process = gateway_process(eventplane_kafka, "api,tables")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def ddb(server: EventplaneProcess, stack: str, aio_loop: Loop) -> Any:
    if stack == "aiobotocore":
        return aio_loop.client("dynamodb", **_settings(server))
    return boto3.client("dynamodb", **_settings(server))


def _name() -> str:
    return f"gw-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def make_table(ddb: Any) -> Iterator[Callable[..., str]]:
    """make_table(range_key=True, **extra) -> a new table's name (pk S [+ sk N]), deleted after."""
    made: list[str] = []

    def make(*, range_key: bool = True, **extra: Any) -> str:
        name = _name()
        keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
        attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
        if range_key:
            keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
            attrs.append({"AttributeName": "sk", "AttributeType": "N"})
        ddb.create_table(
            **{
                "TableName": name,
                "KeySchema": keys,
                "AttributeDefinitions": attrs,
                "BillingMode": "PAY_PER_REQUEST",
                **extra,
            }
        )
        made.append(name)
        return name

    yield make
    for name in made:
        with contextlib.suppress(ClientError):
            ddb.delete_table(TableName=name)


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def test_table_lifecycle(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    )
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["TableName"] == name
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert table["TableArn"].endswith(f":table/{name}")
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert table["LatestStreamArn"].startswith(table["TableArn"] + "/stream/")
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["CreationDateTime"].year >= 2024

    with pytest.raises(ClientError) as exists:
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    assert _code(exists) == "ResourceInUseException"

    others = [make_table(range_key=False) for _ in range(2)]
    first = ddb.list_tables(Limit=1, ExclusiveStartTableName=min([name, *others])[:-1] + "!")
    assert len(first["TableNames"]) == 1
    assert first["LastEvaluatedTableName"] == first["TableNames"][0]
    listed = [t for page in ddb.get_paginator("list_tables").paginate() for t in page["TableNames"]]
    assert {name, *others} <= set(listed)

    assert ddb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"AttributeName": "expires", "Enabled": True}
    )["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}
    ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}

    updated = ddb.update_table(TableName=name, DeletionProtectionEnabled=True)
    assert updated["TableDescription"]["DeletionProtectionEnabled"] is True
    with pytest.raises(ClientError) as protected:
        ddb.delete_table(TableName=name)
    assert _code(protected) == "ValidationException"
    ddb.update_table(TableName=name, DeletionProtectionEnabled=False)

    deleted = ddb.delete_table(TableName=name)["TableDescription"]
    assert deleted["TableName"] == name
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.describe_table(TableName=name)


def test_items_with_conditions_and_updates(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    item = {
        "pk": {"S": "user#1"},
        "sk": {"N": "1"},
        "name": {"S": "Ada"},
        "blank": {"S": ""},
        "blob": {"B": b"\x00\xffbytes"},
        "tags": {"SS": ["a", "b"]},
        "big": {"N": "12345678901234567890123456789012345678"},
        "nested": {"M": {"list": {"L": [{"N": "1"}, {"NULL": True}, {"BOOL": False}]}}},
    }
    assert "Attributes" not in ddb.put_item(TableName=name, Item=item)
    got = ddb.get_item(TableName=name, Key={"pk": {"S": "user#1"}, "sk": {"N": "1"}})["Item"]
    assert got == item

    # A condition that fails, with the current item returned when asked for.
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException) as failed:
        ddb.put_item(
            TableName=name,
            Item={"pk": {"S": "user#1"}, "sk": {"N": "1"}},
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert failed.value.response["Item"]["name"] == {"S": "Ada"}
    assert failed.value.response["Error"]["Message"] == "The conditional request failed"

    updated = ddb.update_item(
        TableName=name,
        Key={"pk": {"S": "user#1"}, "sk": {"N": "1"}},
        UpdateExpression="SET #n = :n, visits = if_not_exists(visits, :zero) + :one, "
        "nested.#l = list_append(nested.#l, :more) REMOVE blank ADD tags :t",
        ConditionExpression="#n = :old",
        ExpressionAttributeNames={"#n": "name", "#l": "list"},
        ExpressionAttributeValues={
            ":n": {"S": "Grace"},
            ":old": {"S": "Ada"},
            ":zero": {"N": "0"},
            ":one": {"N": "1"},
            ":more": {"L": [{"S": "x"}]},
            ":t": {"SS": ["c"]},
        },
        ReturnValues="ALL_NEW",
    )["Attributes"]
    assert updated["name"] == {"S": "Grace"}
    assert updated["visits"] == {"N": "1"}
    assert "blank" not in updated
    assert sorted(updated["tags"]["SS"]) == ["a", "b", "c"]
    assert updated["nested"]["M"]["list"]["L"][-1] == {"S": "x"}

    old = ddb.update_item(
        TableName=name,
        Key={"pk": {"S": "user#1"}, "sk": {"N": "1"}},
        UpdateExpression="SET visits = visits + :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="UPDATED_OLD",
    )["Attributes"]
    assert old == {"visits": {"N": "1"}}

    projected = ddb.get_item(
        TableName=name,
        Key={"pk": {"S": "user#1"}, "sk": {"N": "1"}},
        ProjectionExpression="#n, nested.#l[0]",
        ExpressionAttributeNames={"#n": "name", "#l": "list"},
        ConsistentRead=True,
    )["Item"]
    assert projected == {"name": {"S": "Grace"}, "nested": {"M": {"list": {"L": [{"N": "1"}]}}}}

    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException) as no_item:
        ddb.delete_item(
            TableName=name,
            Key={"pk": {"S": "user#1"}, "sk": {"N": "1"}},
            ConditionExpression="visits > :v",
            ExpressionAttributeValues={":v": {"N": "10"}},
        )
    assert "Item" not in no_item.value.response  # not asked for
    gone = ddb.delete_item(
        TableName=name, Key={"pk": {"S": "user#1"}, "sk": {"N": "1"}}, ReturnValues="ALL_OLD"
    )["Attributes"]
    assert gone["visits"] == {"N": "2"}
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "user#1"}, "sk": {"N": "1"}})

    asked = ddb.put_item(TableName=name, Item=item, ReturnConsumedCapacity="TOTAL")
    assert asked["ConsumedCapacity"]["TableName"] == name


def test_query_pages_with_last_evaluated_key(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    for i in range(25):
        ddb.put_item(
            TableName=name,
            Item={"pk": {"S": "p"}, "sk": {"N": str(i)}, "kind": {"S": "even" if i % 2 else "odd"}},
        )
    ddb.put_item(TableName=name, Item={"pk": {"S": "other"}, "sk": {"N": "1"}})
    seen: list[int] = []
    start: dict[str, Any] | None = None
    pages = 0
    while True:
        kwargs: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
        page = ddb.query(
            TableName=name,
            KeyConditionExpression="pk = :p AND sk >= :low",
            ExpressionAttributeValues={":p": {"S": "p"}, ":low": {"N": "3"}},
            Limit=10,
            **kwargs,
        )
        pages += 1
        seen += [int(i["sk"]["N"]) for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if start is None:
            break
        assert set(start) == {"pk", "sk"}
    assert seen == list(range(3, 25))
    assert pages == 3

    backwards = ddb.query(
        TableName=name,
        KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
        FilterExpression="kind = :k",
        ExpressionAttributeValues={
            ":p": {"S": "p"},
            ":a": {"N": "0"},
            ":b": {"N": "5"},
            ":k": {"S": "odd"},
        },
        ScanIndexForward=False,
    )
    assert [int(i["sk"]["N"]) for i in backwards["Items"]] == [4, 2, 0]
    assert backwards["ScannedCount"] == 6
    counted = ddb.query(
        TableName=name,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        Select="COUNT",
    )
    assert counted["Count"] == 25
    assert "Items" not in counted
    paged = ddb.get_paginator("query").paginate(
        TableName=name,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        PaginationConfig={"PageSize": 7},
    )
    assert sum(len(p["Items"]) for p in paged) == 25


def test_scan_and_batch_operations(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(range_key=False)
    other = make_table(range_key=False)
    written = ddb.batch_write_item(
        RequestItems={
            name: [
                {"PutRequest": {"Item": {"pk": {"S": f"k{i}"}, "n": {"N": str(i)}}}}
                for i in range(20)
            ],
            other: [{"PutRequest": {"Item": {"pk": {"S": "solo"}}}}],
        }
    )
    assert written["UnprocessedItems"] == {}
    got = ddb.batch_get_item(
        RequestItems={
            name: {"Keys": [{"pk": {"S": "k1"}}, {"pk": {"S": "k2"}}, {"pk": {"S": "nope"}}]},
            other: {"Keys": [{"pk": {"S": "solo"}}], "ProjectionExpression": "pk"},
        }
    )
    assert sorted(i["pk"]["S"] for i in got["Responses"][name]) == ["k1", "k2"]
    assert got["Responses"][other] == [{"pk": {"S": "solo"}}]
    assert got["UnprocessedKeys"] == {}

    ddb.batch_write_item(
        RequestItems={name: [{"DeleteRequest": {"Key": {"pk": {"S": f"k{i}"}}}} for i in range(10)]}
    )
    scanned = ddb.scan(
        TableName=name, FilterExpression="n >= :m", ExpressionAttributeValues={":m": {"N": "15"}}
    )
    assert sorted(int(i["n"]["N"]) for i in scanned["Items"]) == [15, 16, 17, 18, 19]
    assert scanned["ScannedCount"] == 10
    everything = [
        i for p in ddb.get_paginator("scan").paginate(TableName=name, Limit=3) for i in p["Items"]
    ]
    assert len(everything) == 10
    segments = [
        i
        for segment in range(2)
        for i in ddb.scan(TableName=name, Segment=segment, TotalSegments=2)["Items"]
    ]
    assert sorted(i["pk"]["S"] for i in segments) == sorted(i["pk"]["S"] for i in everything)


def test_return_values_on_condition_check_failure_on_every_write(
    ddb: Any, make_table: Callable[..., str]
) -> None:
    name = make_table()
    key = {"pk": {"S": "k"}, "sk": {"N": "1"}}
    stored = {**key, "v": {"N": "5"}}
    ddb.put_item(TableName=name, Item=stored)
    wrong = {"ConditionExpression": "v = :w", "ExpressionAttributeValues": {":w": {"N": "6"}}}
    writes: dict[str, Callable[..., Any]] = {
        "put": lambda **kw: ddb.put_item(TableName=name, Item={**key, "v": {"N": "7"}}, **kw),
        "update": lambda **kw: ddb.update_item(
            TableName=name,
            Key=key,
            UpdateExpression="SET v = :w",
            **{**kw, "ExpressionAttributeValues": {":w": {"N": "6"}}},
        ),
        "delete": lambda **kw: ddb.delete_item(TableName=name, Key=key, **kw),
    }
    for action, write in writes.items():
        for ask, item in (("ALL_OLD", stored), ("NONE", None), (None, None)):
            extra = {"ReturnValuesOnConditionCheckFailure": ask} if ask else {}
            with pytest.raises(ddb.exceptions.ConditionalCheckFailedException) as failed:
                write(**wrong, **extra)
            assert failed.value.response.get("Item") == item, (action, ask)
        with pytest.raises(ClientError) as bad:
            write(**wrong, ReturnValuesOnConditionCheckFailure="ALL_NEW")
        assert _code(bad) == "ValidationException", action
        assert "returnValuesOnConditionCheckFailure" in bad.value.response["Error"]["Message"]
    assert ddb.get_item(TableName=name, Key=key)["Item"] == stored

    # In a transaction each action's reason carries the item only when that action asks.
    actions: list[dict[str, dict[str, Any]]] = [
        {"Update": {"TableName": name, "Key": key, "UpdateExpression": "SET v = :w", **wrong}},
        {"Delete": {"TableName": name, "Key": key, **wrong}},
    ]
    for asked, txn_action in enumerate(actions):
        chosen = {k: dict(v) for k, v in txn_action.items()}
        chosen[next(iter(chosen))]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        with pytest.raises(ddb.exceptions.TransactionCanceledException) as canceled:
            ddb.transact_write_items(TransactItems=[chosen])
        (reason,) = canceled.value.response["CancellationReasons"]
        assert (reason["Code"], reason.get("Item")) == ("ConditionalCheckFailed", stored), asked
        with pytest.raises(ddb.exceptions.TransactionCanceledException) as plain:
            ddb.transact_write_items(TransactItems=[txn_action])
        assert "Item" not in plain.value.response["CancellationReasons"][0]


def test_select_rules_and_their_messages(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "x"}})
    key = {
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "a"}},
    }
    # DynamoDB wraps Query's refusals in its validation envelope, not Scan's.
    envelope = "1 validation error detected: "
    reads: dict[str, tuple[Callable[..., Any], str]] = {
        "query": (lambda **kw: ddb.query(TableName=name, **key, **kw), envelope),
        "scan": (lambda **kw: ddb.scan(TableName=name, **kw), ""),
    }
    for op, (read, prefix) in reads.items():
        counted = read(Select="COUNT")
        assert (counted["Count"], "Items" in counted) == (1, False), op
        assert read(Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="v")["Items"] == [
            {"v": {"S": "x"}}
        ]
        assert read(Select="ALL_ATTRIBUTES")["Items"][0]["v"] == {"S": "x"}
        refused = [
            (
                {"Select": "SPECIFIC_ATTRIBUTES"},
                "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
                "SPECIFIC_ATTRIBUTES",
            ),
            (
                {"Select": "COUNT", "ProjectionExpression": "v"},
                "Cannot specify the ProjectionExpression when choosing to get only the Count",
            ),
            (
                {"Select": "ALL_ATTRIBUTES", "ProjectionExpression": "v"},
                "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES",
            ),
            (
                {"Select": "ALL_PROJECTED_ATTRIBUTES"},
                "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
            ),
        ]
        for params, message in refused:
            with pytest.raises(ClientError) as bad:
                read(**params)
            assert _code(bad) == "ValidationException", (op, params)
            assert bad.value.response["Error"]["Message"] == prefix + message, (op, params)


def test_batch_and_transaction_limits(ddb: Any, stack: str, make_table: Callable[..., str]) -> None:
    name = make_table()

    def key(i: int) -> dict[str, Any]:
        return {"pk": {"S": "k"}, "sk": {"N": str(i)}}

    def refused(call: Callable[[], Any]) -> str:
        with pytest.raises(ClientError) as bad:
            call()
        assert _code(bad) == "ValidationException"
        return str(bad.value.response["Error"]["Message"])

    duplicates = "Provided list of item keys contains duplicates"
    assert (
        refused(lambda: ddb.batch_get_item(RequestItems={name: {"Keys": [key(1), key(1)]}}))
        == duplicates
    )
    assert (
        refused(
            lambda: ddb.batch_write_item(
                RequestItems={
                    name: [{"PutRequest": {"Item": key(1)}}, {"DeleteRequest": {"Key": key(1)}}]
                }
            )
        )
        == duplicates
    )
    assert "Too many items requested" in refused(
        lambda: ddb.batch_get_item(RequestItems={name: {"Keys": [key(i) for i in range(101)]}})
    )
    assert "less than or equal to 25" in refused(
        lambda: ddb.batch_write_item(
            RequestItems={name: [{"PutRequest": {"Item": key(i)}} for i in range(26)]}
        )
    )
    assert "less than or equal to 100" in refused(
        lambda: ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": name, "Item": key(i)}} for i in range(101)]
        )
    )
    big = {"S": "x" * 390_000}
    if stack == "boto3":  # aiohttp refuses a body this large sent as raw bytes
        assert "4 MB" in refused(
            lambda: ddb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": name, "Item": {**key(i), "pad": big}}} for i in range(11)
                ]
            )
        )
    assert "multiple operations on one item" in refused(
        lambda: ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": key(1)}},
                {"Delete": {"TableName": name, "Key": key(1)}},
            ]
        )
    )
    # The largest allowed requests pass.
    ddb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": key(i)}} for i in range(25)]})
    got = ddb.batch_get_item(RequestItems={name: {"Keys": [key(i) for i in range(100)]}})
    assert len(got["Responses"][name]) == 25 and got["UnprocessedKeys"] == {}
    assert ddb.scan(TableName=name, Select="COUNT")["Count"] == 25


def test_transactions(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table(range_key=False)
    ddb.put_item(TableName=name, Item={"pk": {"S": "acct"}, "balance": {"N": "10"}})
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as cancelled:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": {"pk": {"S": "new"}}}},
                {
                    "Update": {
                        "TableName": name,
                        "Key": {"pk": {"S": "acct"}},
                        "UpdateExpression": "SET balance = balance - :amt",
                        "ConditionExpression": "balance >= :amt",
                        "ExpressionAttributeValues": {":amt": {"N": "50"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        )
    reasons = cancelled.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed"]
    assert reasons[1]["Item"]["balance"] == {"N": "10"}
    assert "ConditionalCheckFailed" in cancelled.value.response["Error"]["Message"]
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "new"}})  # nothing written

    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": name, "Item": {"pk": {"S": "new"}, "v": {"N": "1"}}}},
            {
                "ConditionCheck": {
                    "TableName": name,
                    "Key": {"pk": {"S": "acct"}},
                    "ConditionExpression": "attribute_exists(balance)",
                }
            },
        ],
        ClientRequestToken=str(uuid.uuid4()),
    )
    snap = ddb.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": name, "Key": {"pk": {"S": "new"}}}},
            {"Get": {"TableName": name, "Key": {"pk": {"S": "missing"}}}},
            {
                "Get": {
                    "TableName": name,
                    "Key": {"pk": {"S": "acct"}},
                    "ProjectionExpression": "balance",
                }
            },
        ]
    )["Responses"]
    assert snap[0]["Item"] == {"pk": {"S": "new"}, "v": {"N": "1"}}
    assert snap[1] == {}
    assert snap[2]["Item"] == {"balance": {"N": "10"}}


def test_continuous_backups_say_disabled_and_refuse_point_in_time_recovery(
    ddb: Any, make_table: Callable[..., str]
) -> None:
    """What Terraform's and CDK's table refresh read; eventplane keeps no backups."""
    name = make_table()
    disabled = {
        "ContinuousBackupsStatus": "DISABLED",
        "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"},
    }
    got = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert got == disabled
    off = {"PointInTimeRecoveryEnabled": False}
    updated = ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification=off)
    assert updated["ContinuousBackupsDescription"] == disabled
    with pytest.raises(ClientError) as on:
        ddb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    assert _code(on) == "ValidationException" and "not supported" in str(on.value)
    with pytest.raises(ClientError) as missing:
        ddb.describe_continuous_backups(TableName=_name())
    assert _code(missing) == "TableNotFoundException"


def test_bad_requests_get_dynamodb_errors(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.get_item(TableName=_name(), Key={"pk": {"S": "x"}})
    with pytest.raises(ClientError) as wrong_type:
        ddb.get_item(TableName=name, Key={"pk": {"S": "x"}, "sk": {"S": "not a number"}})
    assert _code(wrong_type) == "ValidationException"
    assert "key element does not match the schema" in str(wrong_type.value)
    with pytest.raises(ClientError) as legacy:
        ddb.put_item(
            TableName=name,
            Item={"pk": {"S": "x"}, "sk": {"N": "1"}},
            Expected={"pk": {"Exists": False}},
        )
    assert _code(legacy) == "ValidationException"
    assert "Expected" in str(legacy.value)
    with pytest.raises(ClientError) as bad_update:
        ddb.update_item(
            TableName=name, Key={"pk": {"S": "x"}, "sk": {"N": "1"}}, UpdateExpression="SET = 1"
        )
    assert _code(bad_update) == "ValidationException"
    assert "Invalid UpdateExpression" in str(bad_update.value)
    with pytest.raises(ClientError) as two_types:
        ddb.put_item(TableName=name, Item={"pk": {"S": "x"}, "sk": {"N": "1"}, "a": {}})
    assert _code(two_types) == "ValidationException"
    with pytest.raises(ClientError) as gsi:
        ddb.create_table(  # the index key g has no attribute definition
            TableName=_name(),
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by-g",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
    assert _code(gsi) == "ValidationException"
    assert "g" in str(gsi.value)
    # The server keeps serving.
    assert ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"


def test_secondary_indexes(ddb: Any, make_table: Callable[..., str]) -> None:
    """GSI and LSI through unchanged clients: created, described, queried, sparse; a GSI
    is eventually consistent (as on DynamoDB), added later with a backfill, deleted."""
    name = make_table(
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "stage", "AttributeType": "S"},
            {"AttributeName": "spend", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byStage",
                "KeySchema": [
                    {"AttributeName": "stage", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["spend"]},
            }
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "bySpend",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "spend", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    table = ddb.describe_table(TableName=name)["Table"]
    (gsi,) = table["GlobalSecondaryIndexes"]
    (lsi,) = table["LocalSecondaryIndexes"]
    assert (gsi["IndexName"], gsi["IndexStatus"], gsi["Projection"]["ProjectionType"]) == (
        "byStage",
        "ACTIVE",
        "INCLUDE",
    )
    assert gsi["IndexArn"].endswith(f"table/{name}/index/byStage")
    assert lsi["IndexName"] == "bySpend" and "IndexStatus" not in lsi

    for i, (stage, spend) in enumerate([("OPEN", 30), ("OPEN", 10), ("DONE", 20)]):
        item = {"pk": {"S": "c1"}, "sk": {"N": str(i)}, "stage": {"S": stage}}
        item["spend"] = {"N": str(spend)}
        ddb.put_item(TableName=name, Item=item)
    ddb.put_item(TableName=name, Item={"pk": {"S": "c1"}, "sk": {"N": "9"}})  # in neither

    by_spend = ddb.query(
        TableName=name,
        IndexName="bySpend",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "c1"}},
        ConsistentRead=True,
    )["Items"]
    assert [int(i["spend"]["N"]) for i in by_spend] == [10, 20, 30]

    def open_items() -> list[dict[str, Any]]:
        return ddb.query(  # type: ignore[no-any-return]
            TableName=name,
            IndexName="byStage",
            KeyConditionExpression="stage = :s",
            ExpressionAttributeValues={":s": {"S": "OPEN"}},
        )["Items"]

    eventually(lambda: len(open_items()) == 2, timeout=20)
    assert [sorted(i) for i in open_items()] == [["pk", "sk", "spend", "stage"]] * 2
    with pytest.raises(ClientError) as consistent:
        ddb.query(
            TableName=name,
            IndexName="byStage",
            KeyConditionExpression="stage = :s",
            ExpressionAttributeValues={":s": {"S": "OPEN"}},
            ConsistentRead=True,
        )
    assert _code(consistent) == "ValidationException"
    assert "Consistent reads are not supported on global secondary indexes" in str(consistent.value)
    with pytest.raises(ClientError) as mistyped:
        ddb.put_item(
            TableName=name, Item={"pk": {"S": "c2"}, "sk": {"N": "1"}, "stage": {"N": "1"}}
        )
    assert _code(mistyped) == "ValidationException"
    assert "Type mismatch for Index Key" in str(mistyped.value)

    ddb.update_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "spend", "AttributeType": "N"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "bySpendGlobal",
                    "KeySchema": [{"AttributeName": "spend", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )

    def status(index: str) -> str | None:
        found = [
            g
            for g in ddb.describe_table(TableName=name)["Table"].get("GlobalSecondaryIndexes", [])
            if g["IndexName"] == index
        ]
        return found[0]["IndexStatus"] if found else None

    eventually(lambda: status("bySpendGlobal") == "ACTIVE", timeout=30)
    backfilled = ddb.query(
        TableName=name,
        IndexName="bySpendGlobal",
        KeyConditionExpression="spend = :v",
        ExpressionAttributeValues={":v": {"N": "20"}},
    )["Items"]
    assert [i["sk"]["N"] for i in backfilled] == ["2"]
    ddb.update_table(
        TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "bySpendGlobal"}}]
    )
    eventually(lambda: status("bySpendGlobal") is None, timeout=30)


def test_boto3_resource_layer(server: EventplaneProcess) -> None:
    resource = boto3.resource("dynamodb", **_settings(server))
    name = _name()
    table = resource.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "user", "KeyType": "HASH"},
            {"AttributeName": "ts", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "user", "AttributeType": "S"},
            {"AttributeName": "ts", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        table.wait_until_exists()
        assert table.table_status == "ACTIVE"
        for ts in range(5):
            table.put_item(
                Item={"user": "ada", "ts": ts, "score": Decimal("1.5") * ts, "tags": {"x", "y"}}
            )
        assert table.get_item(Key={"user": "ada", "ts": 2})["Item"] == {
            "user": "ada",
            "ts": Decimal(2),
            "score": Decimal("3.0"),
            "tags": {"x", "y"},
        }
        found = table.query(
            KeyConditionExpression=Key("user").eq("ada") & Key("ts").between(1, 3),
            FilterExpression=Attr("score").gt(2),
        )["Items"]
        assert [i["ts"] for i in found] == [2, 3]
        with table.batch_writer() as batch:
            for ts in range(5, 8):
                batch.put_item(Item={"user": "ada", "ts": ts})
        assert table.query(KeyConditionExpression=Key("user").eq("ada"))["Count"] == 8
    finally:
        table.delete()


def test_cli_session(server: EventplaneProcess, tmp_path: Path) -> None:
    def aws(*args: str) -> Any:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID=KEY,
            AWS_SECRET_ACCESS_KEY=SECRET,
            AWS_DEFAULT_REGION=REGION,
            AWS_CONFIG_FILE=str(tmp_path / "config"),
            AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        )
        done = subprocess.run(
            [AWS, "--endpoint-url", server.gateway_url, "--output", "json", "dynamodb", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    name = _name()
    created = aws(
        "create-table",
        "--table-name",
        name,
        "--attribute-definitions",
        "AttributeName=id,AttributeType=S",
        "--key-schema",
        "AttributeName=id,KeyType=HASH",
        "--billing-mode",
        "PAY_PER_REQUEST",
    )
    # CreateTable answers once the table is ACTIVE, so no waiter is needed (each CLI run
    # costs seconds).
    assert created["TableDescription"]["TableStatus"] == "ACTIVE"
    aws("put-item", "--table-name", name, "--item", '{"id": {"S": "a"}, "n": {"N": "1"}}')
    aws(
        "update-item",
        "--table-name",
        name,
        "--key",
        '{"id": {"S": "a"}}',
        "--update-expression",
        "SET n = n + :one",
        "--expression-attribute-values",
        '{":one": {"N": "41"}}',
    )
    got = aws("get-item", "--table-name", name, "--key", '{"id": {"S": "a"}}')
    assert got["Item"] == {"id": {"S": "a"}, "n": {"N": "42"}}
    scanned = aws("scan", "--table-name", name)
    assert scanned["Count"] == 1
    aws("delete-table", "--table-name", name)


def test_javascript_sdk(node: str, server: EventplaneProcess) -> None:
    run, seen = js_session(node, "dynamodb_session.mjs", server)
    assert seen["created"] == f"js-{run}"
    assert seen["item"] == {"id": {"S": "a"}, "sk": {"N": "1"}, "body": {"S": "from node"}}
    assert seen["queried"] == ["1", "2", "3"]
    assert seen["conditionFailed"] == {"name": "ConditionalCheckFailedException", "status": 400}
    assert seen["missing"] == "ResourceNotFoundException"
