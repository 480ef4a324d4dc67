"""Repartitioning a live table (UpdateTable ``partitions``) on a real broker and server:
items written while it runs are all there once afterwards, the stream's shards split
(parents closed with an ending sequence number, children naming their parent) and a
reader that finishes each parent before its children sees every change once, in order
per item; boto3's dynamodbstreams client through the gateway sees the same shards."""

from __future__ import annotations

import contextlib
import threading
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from eventplane.client import Client
from eventplane.errors import EventplaneError, ValidationException
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

from ..gateway.support import KEY, REGION, SECRET, gateway_process

pytestmark = pytest.mark.integration

KEYS = 40


def S(v: str) -> dict[str, Any]:
    return {"S": v}


def N(v: int) -> dict[str, Any]:
    return {"N": str(v)}


def retrying(call: Callable[[], Any]) -> Any:
    """A write retried while it is refused as retriable (a partition moving), as an AWS
    SDK retries ServiceUnavailable."""
    while True:
        try:
            return call()
        except EventplaneError as exc:
            if not exc.retriable:
                raise


class Writer(threading.Thread):
    """Puts increasing values to KEYS items and new items until stopped; remembers what
    was acknowledged."""

    def __init__(self, client: Client, table: str) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.table = table
        self.acked: dict[str, list[int]] = {f"k{i}": [] for i in range(KEYS)}
        self.new_items: list[str] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.writes = 0

    def put(self, item: dict[str, Any], **kw: Any) -> None:
        retrying(lambda: self.client.tables.put_item(self.table, item, **kw))

    def run(self) -> None:
        n = 0
        try:
            while not self.stop.is_set():
                n += 1
                key = f"k{n % KEYS}"
                self.put({"pk": S(key), "v": N(n)})
                self.acked[key].append(n)
                if n % 5 == 0:
                    fresh = f"n{n}"
                    self.put(
                        {"pk": S(fresh), "v": N(n)},
                        condition_expression="attribute_not_exists(pk)",
                    )
                    self.new_items.append(fresh)
                self.writes = n
        except BaseException as exc:
            self.error = exc


def scan_all(client: Client, name: str) -> list[str]:
    """The partition keys of every item, page by page."""
    scanned: list[str] = []
    start = None
    while True:
        page = client.tables.scan(name, exclusive_start_key=start)
        scanned += [i["pk"]["S"] for i in page.items]
        start = page.last_evaluated_key
        if not start:
            return scanned


def read_shard(client: Client, arn: str, shard: str) -> tuple[list[dict[str, Any]], bool]:
    """Every record of a shard so far, and whether the shard ended (no next iterator)."""
    out: list[dict[str, Any]] = []
    it = client.tables.get_shard_iterator(arn, shard, "TRIM_HORIZON")
    empty = 0
    while it and empty < 3:
        page = client.tables.get_records(it)
        out += page.records
        empty = 0 if page.records else empty + 1
        it = page.next_shard_iterator
    return out, not it


def test_repartition_under_writes(client: Client, make_table: Callable[..., Any]) -> None:
    t = make_table(partitions=2)
    name, arn = t.table_name, t.latest_stream_arn
    writer = Writer(client, name)
    writer.start()
    eventually(lambda: writer.writes >= 100, timeout=30)

    desc = client.tables.update_table(name, partitions=4)
    assert desc.table_status == "UPDATING"

    def active() -> bool:
        d = client.tables.describe_table(name)
        assert d.table_status == "ACTIVE" and d.partitions == 4, d.table_status
        return True

    eventually(active, timeout=60)
    after = writer.writes
    eventually(lambda: writer.writes >= after + 100, timeout=30)
    writer.stop.set()
    writer.join(30)
    assert writer.error is None, writer.error

    # Every acknowledged write is there, once: by key, by query and by scan.
    for key, values in writer.acked.items():
        got = client.tables.get_item(name, {"pk": S(key)})
        assert got is not None and got["v"] == N(values[-1]), key
    for key in ["k0", "k1", "k7", *writer.new_items[:5]]:
        page = client.tables.query(name, "pk = :k", expression_attribute_values={":k": S(key)})
        assert len(page.items) == 1
    scanned = scan_all(client, name)
    assert sorted(scanned) == sorted([*writer.acked, *writer.new_items])
    assert client.tables.describe_table(name).item_count == len(scanned)

    # Conditional writes and transactions see the moved items.
    with pytest.raises(EventplaneError) as failed:
        client.tables.put_item(
            name, {"pk": S("k3")}, condition_expression="attribute_not_exists(pk)"
        )
    assert failed.value.code == "ConditionalCheckFailedException"
    client.tables.transact_write_items(
        [
            {
                "Update": {
                    "TableName": name,
                    "Key": {"pk": S(f"k{i}")},
                    "UpdateExpression": "SET moved = :t",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeValues": {":t": S("yes")},
                }
            }
            for i in range(8)
        ]
    )
    for i in range(8):
        got = client.tables.get_item(name, {"pk": S(f"k{i}")})
        assert got is not None and got["moved"] == S("yes")

    # The stream: two closed parents, four children each naming its parent.
    shards = client.tables.describe_stream(arn).shards
    parents = [s for s in shards if not s.parent_shard_id]
    children = [s for s in shards if s.parent_shard_id]
    assert len(parents) == 2 and len(children) == 4
    assert all(p.ending_sequence_number for p in parents)
    assert all(not c.ending_sequence_number for c in children)
    ids = [p.shard_id for p in parents]
    for i, c in enumerate(children):
        assert c.parent_shard_id == ids[i % 2]
        if i < 2:  # the same stream partition: the child carries on after its parent
            assert int(c.starting_sequence_number) > int(parents[i].ending_sequence_number)

    # Parents first, then children: every change once, in order per item.
    seen: dict[str, list[int]] = {}
    event_ids: list[str] = []
    for shard in [*parents, *children]:
        records, ended = read_shard(client, arn, shard.shard_id)
        assert ended == (shard in parents), shard
        for r in records:
            event_ids.append(r["eventID"])
            key = r["dynamodb"]["Keys"]["pk"]["S"]
            seen.setdefault(key, []).append(int(r["dynamodb"]["NewImage"]["v"]["N"]))
    assert len(event_ids) == len(set(event_ids))
    for i, (key, values) in enumerate(writer.acked.items()):
        # The transaction's change of k0..k7 comes last, with the same v.
        assert seen[key] == values + ([values[-1]] if i < 8 else []), key
    for key in writer.new_items:
        assert len(seen[key]) == 1


def test_invalid_partition_counts(client: Client, make_table: Callable[..., Any]) -> None:
    name = make_table(partitions=2).table_name
    for bad in (2, 1, 3, 5, 128):
        with pytest.raises(ValidationException, match="partitions"):
            client.tables.update_table(name, partitions=bad)
    assert client.tables.describe_table(name).partitions == 2


@pytest.fixture(scope="module")
def gateway(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    process = gateway_process(eventplane_kafka, "api,tables")
    try:
        yield process
    finally:
        process.stop()


def _settings(gateway: EventplaneProcess) -> dict[str, Any]:
    return {
        "endpoint_url": gateway.gateway_url,
        "region_name": REGION,
        "aws_access_key_id": KEY,
        "aws_secret_access_key": SECRET,
        # The standard retries: ServiceUnavailable while a partition moves is retried.
        "config": Config(retries={"max_attempts": 10, "mode": "standard"}),
    }


def test_boto3_streams_see_the_split(gateway: EventplaneProcess) -> None:
    ddb = boto3.client("dynamodb", **_settings(gateway))
    streams = boto3.client("dynamodbstreams", **_settings(gateway))
    name = f"gw-{uuid.uuid4().hex[:12]}"
    arn = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    try:
        for i in range(20):
            ddb.put_item(TableName=name, Item={"pk": S(f"a{i}"), "v": N(1)})
        with gateway.client() as ep:
            ep.tables.update_table(name, partitions=8)

            def active() -> bool:
                d = ep.tables.describe_table(name)
                assert d.table_status == "ACTIVE" and d.partitions == 8
                return True

            eventually(active, timeout=60)
        for i in range(20):
            ddb.put_item(TableName=name, Item={"pk": S(f"a{i}"), "v": N(2)})
        shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        parents = [s for s in shards if "ParentShardId" not in s]
        children = [s for s in shards if "ParentShardId" in s]
        assert len(parents) == 4 and len(children) == 8
        assert all("EndingSequenceNumber" in p["SequenceNumberRange"] for p in parents)
        assert all("EndingSequenceNumber" not in c["SequenceNumberRange"] for c in children)
        assert {c["ParentShardId"] for c in children} == {p["ShardId"] for p in parents}
        seen: dict[str, list[str]] = {}
        for shard in [*parents, *children]:
            it = streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            empty = 0
            while it and empty < 3:
                page = streams.get_records(ShardIterator=it)
                for r in page["Records"]:
                    key = r["dynamodb"]["Keys"]["pk"]["S"]
                    seen.setdefault(key, []).append(r["dynamodb"]["NewImage"]["v"]["N"])
                empty = 0 if page["Records"] else empty + 1
                it = page.get("NextShardIterator")
            if shard in parents:
                assert not it, "a closed parent ends without a NextShardIterator"
        assert seen == {f"a{i}": ["1", "2"] for i in range(20)}
    finally:
        ddb.delete_table(TableName=name)


def _moved(server: EventplaneProcess, table: str) -> float:
    """Items the replica moved for ``table``'s repartition so far."""
    text = urllib.request.urlopen(server.metrics_url, timeout=10).read().decode()
    series = f'eventplane_table_repartition_items_moved_total{{table="{table}"}}'
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(series))


def _owns_some(server: EventplaneProcess, table: str) -> bool:
    text = urllib.request.urlopen(server.metrics_url, timeout=10).read().decode()
    return f'eventplane_table_items{{table="{table}"}}' in text


def test_a_replica_killed_in_the_middle_of_moving_items(eventplane_kafka: str) -> None:
    """One item per move transaction, so the moves take a while; the first of the two
    replicas seen to have moved some is SIGKILLed (which one moves depends on how the
    owners' group assigns the table's partitions once it has four). The survivor restores
    the partitions it takes over (MOVING, or not started), moves the rest and switches
    the table: every item is there once."""
    cluster = unique_cluster()
    env = {"EVENTPLANE_TABLES_REPARTITION_CHUNK": "1"}
    with (
        EventplaneProcess(eventplane_kafka, roles="tables", cluster=cluster, env=env) as a,
        EventplaneProcess(eventplane_kafka, roles="tables", cluster=cluster, env=env) as b,
        contextlib.ExitStack() as stack,
    ):
        ca = stack.enter_context(a.client())
        name = f"kill-{uuid.uuid4().hex[:10]}"
        ca.tables.create_table(
            name,
            key_schema=[("pk", "HASH")],
            attribute_definitions=[("pk", "S")],
            stream_view_type="NEW_IMAGE",
            partitions=2,
        )
        eventually(lambda: _owns_some(a, name) and _owns_some(b, name), timeout=60)
        keys = [f"x{i}" for i in range(600)]
        ca.tables.batch_write_item(
            {name: [{"PutRequest": {"Item": {"pk": S(k)}}} for k in keys[:25]]}
        )
        for start in range(25, len(keys), 25):
            retrying(
                lambda start=start: ca.tables.batch_write_item(
                    {
                        name: [
                            {"PutRequest": {"Item": {"pk": S(k)}}} for k in keys[start : start + 25]
                        ]
                    }
                )
            )
        ca.tables.update_table(name, partitions=4)

        def mover() -> EventplaneProcess | None:
            return next((s for s in (a, b) if _moved(s, name) >= 10), None)

        killed = eventually(mover, timeout=60, interval=0.01)
        assert killed is not None
        killed.kill()
        survivor = b if killed is a else a
        ca = stack.enter_context(survivor.client())

        def active() -> bool:
            d = ca.tables.describe_table(name)
            assert (d.table_status, d.partitions) == ("ACTIVE", 4), d.table_status
            return True

        eventually(active, timeout=120, interval=0.5)
        assert sorted(retrying(lambda: scan_all(ca, name))) == sorted(keys)
        assert ca.tables.describe_table(name).item_count == len(keys)
        shards = ca.tables.describe_stream(ca.tables.describe_table(name).latest_stream_arn).shards
        assert len(shards) == 6
        ca.tables.delete_table(name)
