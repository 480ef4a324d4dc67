"""Table names per account, on two real replicas of one cluster: account A and account B
each have a table of the same name, and every call, through either replica and either
door (gRPC tokens, boto3 keys), reaches the caller's own.

A table's partitions are spread over the two replicas, so many of these calls are
forwarded from the replica that took them to the one owning the item's partition: the
forwarded call runs as the replica, and must still land on B's table, not on A's (or
the installation's) of that name. Tables have no resource policies: another account's
table, even named by its ARN, does not exist for the caller. A workflow's DynamoDB Task
and a stream event source mapping reach their own account's table likewise.
"""

from __future__ import annotations

import io
import json
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.security import sha256_hex
from eventplane.tables.keys import partition_of
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

pytestmark = pytest.mark.integration

A, B = "111111111111", "222222222222"
ALICE_TOKEN = "ep-acctab-alice-0123456789abcdef"  # account A, no policies
BOB_TOKEN = "ep-acctab-bob-0123456789abcdef"  # account B, no policies
KEY_A = ("AKIDACCTABA000000001", "acctab-a-secret")
KEY_B = ("AKIDACCTABB000000001", "acctab-b-secret")
PARTITIONS = 4
HASHES = [f"h{i}" for i in range(8)]  # every partition of 4 gets some (asserted)
MISSING = "ResourceNotFoundException"


@pytest.fixture(scope="module")
def replicas(
    eventplane_kafka: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[EventplaneProcess, EventplaneProcess]]:
    tokens = tmp_path_factory.mktemp("acctab") / "tokens.yaml"
    tokens.write_text(
        json.dumps(
            {
                "tokens": [
                    {"principal": "alice", "account": A, "sha256": sha256_hex(ALICE_TOKEN)},
                    {"principal": "bob", "account": B, "sha256": sha256_hex(BOB_TOKEN)},
                ]
            }
        )
    )
    cluster = unique_cluster()
    env = {
        "EVENTPLANE_AUTH_TOKENS_FILE": str(tokens),
        "EVENTPLANE_GATEWAY_CREDENTIALS": (
            f"{KEY_A[0]}:{KEY_A[1]}:{A}:alice,{KEY_B[0]}:{KEY_B[1]}:{B}:bob"
        ),
        # Tasks of another account's machines act as its role: role tokens in use.
        "EVENTPLANE_RECEIPT_SECRET": "a-cluster-secret-for-acctab",
    }
    with (
        EventplaneProcess(
            eventplane_kafka, roles="api,tables,workflows,runner", cluster=cluster, env=env
        ) as one,
        EventplaneProcess(
            eventplane_kafka, roles="api,tables,workflows,runner", cluster=cluster, env=env
        ) as two,
    ):
        yield one, two


def _client(server: EventplaneProcess, token: str) -> Client:
    return Client(server.endpoint, token=token, timeout=30)


@pytest.fixture(scope="module")
def alice(replicas: tuple[EventplaneProcess, EventplaneProcess]) -> Iterator[Client]:
    with _client(replicas[0], ALICE_TOKEN) as ep:
        yield ep


@pytest.fixture(scope="module")
def bob(replicas: tuple[EventplaneProcess, EventplaneProcess]) -> Iterator[Client]:
    with _client(replicas[0], BOB_TOKEN) as ep:
        yield ep


@pytest.fixture(scope="module")
def bob_two(replicas: tuple[EventplaneProcess, EventplaneProcess]) -> Iterator[Client]:
    """B's token on the other replica."""
    with _client(replicas[1], BOB_TOKEN) as ep:
        yield ep


def _aws(server: EventplaneProcess, key: tuple[str, str], service: str = "dynamodb") -> Any:
    return boto3.client(
        service,
        endpoint_url=server.gateway_url,
        region_name="us-east-1",
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
        config=Config(retries={"max_attempts": 1}),
    )


def _refused(call: Any, code: str = MISSING) -> EventplaneError:
    with pytest.raises(EventplaneError) as info:
        call()
    assert info.value.code == code, info.value
    return info.value


def _aws_refused(call: Any, code: str = MISSING) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call()
    error: dict[str, Any] = info.value.response["Error"]
    assert error["Code"] == code, error
    return error


def _owns_some(server: EventplaneProcess, internal: str) -> bool:
    """Whether the replica owns a partition of the table (its item gauge, labelled by the
    table's internal name, has the table)."""
    text = urllib.request.urlopen(server.metrics_url, timeout=10).read().decode()
    return any(
        line.startswith(f'eventplane_table_items{{table="{internal}"}}')
        for line in text.splitlines()
    )


def _create(ep: Client, name: str) -> Any:
    return ep.tables.create_table(
        name,
        key_schema=[("pk", "HASH")],
        attribute_definitions=[("pk", "S")],
        stream_view_type="NEW_IMAGE",
        partitions=PARTITIONS,
    )


def _key(h: str) -> dict[str, Any]:
    return {"pk": {"S": h}}


def _all_tables(ep: Client) -> list[str]:
    names: list[str] = []
    start = ""
    while True:
        page, last = ep.tables.list_tables(start, 100)
        names += page
        if last is None:
            return names
        start = last


@pytest.fixture(scope="module")
def orders(
    replicas: tuple[EventplaneProcess, EventplaneProcess], alice: Client, bob: Client
) -> Iterator[tuple[str, Any, Any]]:
    """The same table name in A and in B, spread over both replicas, each holding its
    account's letter in ``who``: (name, A's description, B's description)."""
    name = f"orders-{uuid.uuid4().hex[:8]}"
    made_a, made_b = _create(alice, name), _create(bob, name)
    assert {partition_of({"S": h}, PARTITIONS) for h in HASHES} == set(range(PARTITIONS))
    # Both replicas own some of B's table (and of A's): the writes below are split, and
    # those for the other replica's partitions are forwarded. B's table is labelled by
    # its internal name, A's (another account's too) likewise.
    for internal in (f"{A}.{name}", f"{B}.{name}"):
        eventually(lambda i=internal: all(_owns_some(r, i) for r in replicas), timeout=60)
    for h in HASHES:
        alice.tables.put_item(name, {**_key(h), "who": {"S": "A"}})
        bob.tables.put_item(name, {**_key(h), "who": {"S": "B"}})
    yield name, made_a, made_b
    alice.tables.delete_table(name)
    bob.tables.delete_table(name)


def test_the_same_table_name_in_two_accounts(
    orders: tuple[str, Any, Any], alice: Client, bob: Client, bob_two: Client
) -> None:
    name, made_a, made_b = orders
    assert made_a.table_name == made_b.table_name == name
    assert made_a.table_arn == f"arn:aws:dynamodb:local:{A}:table/{name}"
    assert made_b.table_arn == f"arn:aws:dynamodb:local:{B}:table/{name}"
    assert made_b.latest_stream_arn.startswith(f"arn:aws:dynamodb:local:{B}:table/{name}/stream/")
    described = bob_two.tables.describe_table(name)
    assert (described.table_name, described.table_arn) == (name, made_b.table_arn)
    assert described.latest_stream_arn == made_b.latest_stream_arn
    assert described.item_count == len(HASHES)  # B's items only, counted on both replicas
    assert alice.tables.describe_table(name).table_arn == made_a.table_arn

    # Each sees its own items, through the replica it called and the other one.
    for ep, who in ((alice, "A"), (bob, "B"), (bob_two, "B")):
        for h in HASHES:
            assert ep.tables.get_item(name, _key(h)) == {**_key(h), "who": {"S": who}}
        page = ep.tables.query(
            name, "pk = :h", expression_attribute_values={":h": {"S": HASHES[3]}}
        )
        assert page.items == [{**_key(HASHES[3]), "who": {"S": who}}]
        scanned = ep.tables.scan(name)
        assert sorted(i["pk"]["S"] for i in scanned.items) == sorted(HASHES)
        assert {i["who"]["S"] for i in scanned.items} == {who}
        assert name in _all_tables(ep)

    # A write through either replica changes the caller's table only.
    bob_two.tables.update_item(
        name,
        _key(HASHES[0]),
        update_expression="SET n = :n",
        expression_attribute_values={":n": {"N": "2"}},
    )
    assert bob.tables.get_item(name, _key(HASHES[0]))["n"] == {"N": "2"}
    assert "n" not in (alice.tables.get_item(name, _key(HASHES[0])) or {})
    bob_two.tables.delete_item(name, _key(HASHES[1]))
    assert bob.tables.get_item(name, _key(HASHES[1])) is None
    assert alice.tables.get_item(name, _key(HASHES[1])) is not None
    bob.tables.put_item(name, {**_key(HASHES[1]), "who": {"S": "B"}})

    # TTL and tags by ARN: the ARN's account's table.
    bob.tables.update_time_to_live(name, "expires", True)
    assert bob_two.tables.describe_time_to_live(name).attribute_name == "expires"
    assert alice.tables.describe_time_to_live(name).time_to_live_status == "DISABLED"
    bob.tables.tag_resource(made_b.table_arn, {"owner": "b"})
    assert bob_two.tables.list_tags_of_resource(made_b.table_arn) == {"owner": "b"}
    assert alice.tables.list_tags_of_resource(made_a.table_arn) == {}


def test_another_accounts_table_is_not_there_even_by_arn(
    orders: tuple[str, Any, Any], alice: Client, bob: Client
) -> None:
    """Tables have no resource policies (PutResourcePolicy is not offered): B's table,
    named by its ARN, does not exist for A."""
    name, made_a, made_b = orders
    refused = _refused(lambda: alice.tables.tag_resource(made_b.table_arn, {"k": "v"}))
    assert B not in refused.message
    _refused(lambda: alice.tables.list_tags_of_resource(made_b.table_arn))
    _refused(lambda: alice.tables.describe_stream(made_b.latest_stream_arn))
    # A TableName may be the table's ARN: the caller's own answers, another's does not.
    assert alice.tables.get_item(made_a.table_arn, _key(HASHES[2]))["who"] == {"S": "A"}
    _refused(lambda: alice.tables.get_item(made_b.table_arn, _key(HASHES[2])))
    _refused(lambda: alice.tables.put_item(made_b.table_arn, {**_key("x"), "who": {"S": "A"}}))
    assert bob.tables.get_item(name, _key("x")) is None
    # The internal form of B's table is no name A (or B) can use.
    _refused(lambda: alice.tables.get_item(f"{B}.{name}", _key(HASHES[2])))
    _refused(lambda: bob.tables.get_item(f"{B}.{name}", _key(HASHES[2])))
    refused = _refused(
        lambda: alice.tables.create_table(
            f"{B}.{name}", key_schema=[("pk", "HASH")], attribute_definitions=[("pk", "S")]
        ),
        "ValidationException",
    )
    assert "tableName" in refused.message
    assert f"{B}.{name}" not in _all_tables(alice)


def test_batches_and_transactions_see_their_own(
    replicas: tuple[EventplaneProcess, EventplaneProcess], orders: tuple[str, Any, Any]
) -> None:
    """Through boto3 on the second replica (the gateway's forwarding), each account's
    batches and transactions over its own table of the name."""
    name, _, _ = orders
    ddb_a, ddb_b = _aws(replicas[1], KEY_A), _aws(replicas[1], KEY_B)
    other = f"lines-{uuid.uuid4().hex[:8]}"
    for ddb in (ddb_a, ddb_b):
        ddb.create_table(
            TableName=other,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    try:
        for ddb, who in ((ddb_a, "A"), (ddb_b, "B")):
            ddb.batch_write_item(
                RequestItems={
                    other: [
                        {"PutRequest": {"Item": {**_key(h), "who": {"S": who}}}} for h in HASHES
                    ],
                    name: [{"PutRequest": {"Item": {**_key("batch"), "who": {"S": who}}}}],
                }
            )
        for ddb, who in ((ddb_a, "A"), (ddb_b, "B")):
            got = ddb.batch_get_item(
                RequestItems={
                    name: {"Keys": [_key(h) for h in [*HASHES, "batch"]]},
                    other: {"Keys": [_key(h) for h in HASHES]},
                }
            )["Responses"]
            assert set(got) == {name, other}  # keyed by the names asked for
            assert len(got[name]) == len(HASHES) + 1 and len(got[other]) == len(HASHES)
            assert {i["who"]["S"] for items in got.values() for i in items} == {who}

            ddb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": name, "Item": {**_key("tx"), "who": {"S": who}}}},
                    {
                        "Update": {
                            "TableName": other,
                            "Key": _key(HASHES[5]),
                            "UpdateExpression": "SET tx = :w",
                            "ExpressionAttributeValues": {":w": {"S": who}},
                        }
                    },
                    {
                        "ConditionCheck": {
                            "TableName": name,
                            "Key": _key(HASHES[6]),
                            "ConditionExpression": "who = :w",
                            "ExpressionAttributeValues": {":w": {"S": who}},
                        }
                    },
                ]
            )
            read = ddb.transact_get_items(
                TransactItems=[
                    {"Get": {"TableName": name, "Key": _key("tx")}},
                    {"Get": {"TableName": other, "Key": _key(HASHES[5])}},
                ]
            )["Responses"]
            assert [r["Item"]["who"]["S"] for r in read] == [who, who]
            assert read[1]["Item"]["tx"] == {"S": who}
            # One item each: those of the first replica's partitions go there whole.
            for h in HASHES:
                one = ddb.transact_get_items(
                    TransactItems=[{"Get": {"TableName": name, "Key": _key(h)}}]
                )["Responses"]
                assert [(i["Item"]["pk"], i["Item"]["who"]) for i in one] == [
                    ({"S": h}, {"S": who})
                ]
            # A condition on the other account's value fails: it is not this table's.
            theirs = "B" if who == "A" else "A"
            _aws_refused(
                lambda ddb=ddb, theirs=theirs: ddb.transact_write_items(
                    TransactItems=[
                        {
                            "ConditionCheck": {
                                "TableName": name,
                                "Key": _key(HASHES[6]),
                                "ConditionExpression": "who = :w",
                                "ExpressionAttributeValues": {":w": {"S": theirs}},
                            }
                        }
                    ]
                ),
                "TransactionCanceledException",
            )
            assert {name, other} <= set(ddb.list_tables()["TableNames"])
            described = ddb.describe_table(TableName=other)["Table"]
            account = A if who == "A" else B
            assert described["TableName"] == other
            assert described["TableArn"] == f"arn:aws:dynamodb:local:{account}:table/{other}"
    finally:
        ddb_a.delete_table(TableName=other)
        ddb_b.delete_table(TableName=other)
    _aws_refused(lambda: ddb_a.describe_table(TableName=other))


def _stream_keys(ep: Client, stream_arn: str) -> tuple[set[str], set[str]]:
    """(keys, ``who`` values) of every record on the stream so far."""
    keys: set[str] = set()
    whos: set[str] = set()
    for shard in ep.tables.describe_stream(stream_arn).shards:
        it = ep.tables.get_shard_iterator(stream_arn, shard.shard_id, "TRIM_HORIZON")
        while it:
            page = ep.tables.get_records(it)
            for r in page.records:
                keys.add(r["dynamodb"]["Keys"]["pk"]["S"])
                whos.add(r["dynamodb"].get("NewImage", {}).get("who", {}).get("S", ""))
            if not page.records:
                break
            it = page.next_shard_iterator
    return keys, whos


def test_each_stream_carries_only_its_accounts_changes(
    orders: tuple[str, Any, Any], alice: Client, bob: Client, bob_two: Client
) -> None:
    name, made_a, made_b = orders
    described = bob_two.tables.describe_stream(made_b.latest_stream_arn)
    assert described.stream_arn == made_b.latest_stream_arn
    assert described.table_name == name
    assert len(described.shards) == PARTITIONS
    assert alice.tables.list_streams(name) == [made_a.latest_stream_arn]
    assert bob.tables.list_streams(name) == [made_b.latest_stream_arn]

    def complete(ep: Client, arn: str, who: str) -> bool:
        keys, whos = _stream_keys(ep, arn)
        assert set(HASHES) <= keys, sorted(keys)
        assert whos <= {who, ""}, whos
        return True

    eventually(lambda: complete(alice, made_a.latest_stream_arn, "A"), timeout=30)
    eventually(lambda: complete(bob_two, made_b.latest_stream_arn, "B"), timeout=30)


def test_a_workflows_dynamodb_task_uses_its_accounts_table(
    orders: tuple[str, Any, Any], alice: Client, bob: Client
) -> None:
    """A bare TableName names the machine's account's table; an ARN another account's,
    which grants nothing (ResourceNotFound)."""
    name, _, made_b = orders
    tag = uuid.uuid4().hex[:8]

    def machine(ep: Client, table: str, n: int) -> str:
        definition = {
            "StartAt": "Get",
            "States": {
                "Get": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::dynamodb:getItem",
                    "Parameters": {"TableName": table, "Key": _key(HASHES[4])},
                    "End": True,
                }
            },
        }
        # (State machine names are still unique per installation.)
        made = ep.workflows.create_state_machine(f"get-{tag}-{n}", definition)
        return str(made.state_machine_arn)

    def run(ep: Client, arn: str) -> Any:
        execution = ep.workflows.start_execution(arn, {}).execution_arn

        def ended() -> Any:
            e = ep.workflows.describe_execution(execution)
            assert e.status != "RUNNING"
            return e

        return eventually(ended, timeout=30)

    done = run(bob, machine(bob, name, 1))
    assert done.status == "SUCCEEDED", done.cause
    assert json.loads(done.output)["Item"]["who"] == {"S": "B"}
    done = run(alice, machine(alice, name, 2))
    assert done.status == "SUCCEEDED", done.cause
    assert json.loads(done.output)["Item"]["who"] == {"S": "A"}
    refused = run(alice, machine(alice, made_b.table_arn, 3))
    assert (refused.status, refused.error) == ("FAILED", "DynamoDB.ResourceNotFoundException")


def _sink_zip(path: Path) -> bytes:
    """A handler appending each record it gets (source ARN, key, ``who``) to ``path``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            "app.py",
            "import json\n"
            "def handler(event, context):\n"
            f"    with open({str(path)!r}, 'a') as f:\n"
            "        for r in event['Records']:\n"
            "            image = r['dynamodb'].get('NewImage', {})\n"
            "            key = r['dynamodb']['Keys']['pk']['S']\n"
            "            who = image.get('who', {}).get('S', '')\n"
            "            f.write(json.dumps([r['eventSourceARN'], key, who]) + '\\n')\n",
        )
    return out.getvalue()


def test_a_stream_mapping_reads_its_accounts_table(
    orders: tuple[str, Any, Any], bob: Client, tmp_path: Path
) -> None:
    """B's function mapped to B's table stream gets B's changes only, with B's stream ARN;
    A's stream is refused it (tables grant no other account)."""
    _, made_a, made_b = orders
    got = tmp_path / "records.jsonl"
    function = f"sink-{uuid.uuid4().hex[:8]}"
    bob.functions.create_function(function, "app.handler", zip_file=_sink_zip(got))
    _refused(
        lambda: bob.functions.create_event_source_mapping(
            made_a.latest_stream_arn, function, starting_position="TRIM_HORIZON"
        ),
        "InvalidParameterValueException",
    )
    mapping = bob.functions.create_event_source_mapping(
        made_b.latest_stream_arn, function, starting_position="TRIM_HORIZON"
    )
    try:

        def delivered() -> list[list[str]]:
            lines = got.read_text().splitlines() if got.exists() else []
            records = [json.loads(line) for line in lines]
            assert set(HASHES) <= {key for _, key, _ in records}, records
            return records

        records = eventually(delivered, timeout=60)
        assert {arn for arn, _, _ in records} == {made_b.latest_stream_arn}
        assert {who for _, _, who in records} <= {"B", ""}
    finally:
        bob.functions.delete_event_source_mapping(mapping.uuid)


def test_repartitioning_and_an_index_of_bs_table_leave_as_table_alone(
    alice: Client, bob: Client, bob_two: Client
) -> None:
    """B's table of a name A has too: B adds a global secondary index and repartitions it
    (both replicas move its partitions); each account's items, by key and by index, stay
    its own."""
    name = f"split-{uuid.uuid4().hex[:8]}"
    for ep in (alice, bob):
        ep.tables.create_table(
            name,
            key_schema=[("pk", "HASH")],
            attribute_definitions=[("pk", "S"), ("who", "S")],
            partitions=2,
            global_secondary_indexes=[
                {
                    "IndexName": "by-who",
                    "KeySchema": [{"AttributeName": "who", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
        )
    try:
        for ep, who in ((alice, "A"), (bob, "B")):
            for h in HASHES:
                ep.tables.put_item(name, {**_key(h), "who": {"S": who}})
        assert bob_two.tables.update_table(name, partitions=4).table_status == "UPDATING"

        def active() -> bool:
            d = bob.tables.describe_table(name)
            assert d.table_status == "ACTIVE" and d.partitions == 4, d.table_status
            return True

        eventually(active, timeout=90)
        assert alice.tables.describe_table(name).partitions == 2
        for ep, who in ((alice, "A"), (bob, "B"), (bob_two, "B")):
            for h in HASHES:
                assert ep.tables.get_item(name, _key(h)) == {**_key(h), "who": {"S": who}}
            for asked in ("A", "B"):
                page = ep.tables.query(
                    name,
                    "who = :w",
                    index_name="by-who",
                    expression_attribute_values={":w": {"S": asked}},
                )
                assert len(page.items) == (len(HASHES) if asked == who else 0), (who, asked)
    finally:
        alice.tables.delete_table(name)
        bob.tables.delete_table(name)


def test_grpc_batches_and_transactions_see_their_own(
    orders: tuple[str, Any, Any], alice: Client, bob_two: Client
) -> None:
    """The gRPC door's batches and transactions (their requests rewritten to the internal
    names before they are served or forwarded whole): each account's own table."""
    name, _, _ = orders
    for ep, who in ((alice, "A"), (bob_two, "B")):
        ep.tables.batch_write_item(
            {name: [{"PutRequest": {"Item": {**_key("grpc"), "who": {"S": who}}}}]}
        )
        got = ep.tables.batch_get_item({name: {"Keys": [_key(h) for h in [*HASHES, "grpc"]]}})
        assert list(got) == [name]
        assert len(got[name]) == len(HASHES) + 1
        assert {i["who"]["S"] for i in got[name]} == {who}
        ep.tables.transact_write_items(
            [{"Put": {"TableName": name, "Item": {**_key("grpc-tx"), "who": {"S": who}}}}]
        )
        for h in [*HASHES, "grpc-tx"]:  # one item each: some sent whole to the other replica
            (item,) = ep.tables.transact_get_items([{"Get": {"TableName": name, "Key": _key(h)}}])
            assert item is not None and item["who"] == {"S": who}
