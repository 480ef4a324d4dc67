"""Two replicas with the tables role in one cluster: every call answers the same through each.

A real deployment runs two or more replicas; each owns some of a table's partitions and
forwards the rest. The table is created through A and written through B; then every read
(DescribeTable's status and counts, Scan, Query, BatchGetItem, the stream) must give the
table's answer, whole, through either replica, and the item gauges must count each item
once across the two.
"""

from __future__ import annotations

import threading
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.tables.keys import partition_of
from eventplane.tables.transactions import TransactionCanceledException
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

pytestmark = pytest.mark.integration

PARTITIONS = 4
HASHES = [f"h{i}" for i in range(8)]
SORTS = range(3)
WRITTEN = len(HASHES) * len(SORTS)


@pytest.fixture(scope="module")
def replicas(eventplane_kafka: str) -> Iterator[tuple[EventplaneProcess, EventplaneProcess]]:
    cluster = unique_cluster()
    with (
        EventplaneProcess(eventplane_kafka, roles="tables", cluster=cluster) as a,
        EventplaneProcess(eventplane_kafka, roles="tables", cluster=cluster) as b,
    ):
        yield a, b


@pytest.fixture(scope="module")
def clients(
    replicas: tuple[EventplaneProcess, EventplaneProcess],
) -> Iterator[tuple[Client, Client]]:
    a, b = replicas
    with a.client() as ca, b.client() as cb:
        yield ca, cb


def _key(h: str, s: int) -> dict[str, Any]:
    return {"pk": {"S": h}, "sk": {"N": str(s)}}


def _metric_line(server: EventplaneProcess, name: str, table: str) -> str | None:
    text = urllib.request.urlopen(server.metrics_url, timeout=10).read().decode()
    return next((s for s in text.splitlines() if s.startswith(f'{name}{{table="{table}"}}')), None)


def _metric(server: EventplaneProcess, name: str, table: str) -> float:
    line = _metric_line(server, name, table)
    return 0.0 if line is None else float(line.rsplit(" ", 1)[1])


def _owns_some(server: EventplaneProcess, table: str) -> bool:
    """Whether the replica owns a partition of ``table`` (its item gauge has the table)."""
    return _metric_line(server, "eventplane_table_items", table) is not None


@pytest.fixture(scope="module")
def table(
    replicas: tuple[EventplaneProcess, EventplaneProcess], clients: tuple[Client, Client]
) -> Iterator[tuple[str, str]]:
    """A table created through A and written through B: (name, stream ARN)."""
    ca, cb = clients
    name = f"rep-{uuid.uuid4().hex[:10]}"
    desc = ca.tables.create_table(
        name,
        key_schema=[("pk", "HASH"), ("sk", "RANGE")],
        attribute_definitions=[("pk", "S"), ("sk", "N")],
        stream_view_type="NEW_AND_OLD_IMAGES",
        partitions=PARTITIONS,
    )
    assert desc.table_status == "ACTIVE"  # create answers once every partition is adopted
    # The table's partitions land on both replicas (the group balances them), and the
    # items land on every partition: B serves some writes and forwards the others.
    assert {partition_of({"S": h}, PARTITIONS) for h in HASHES} == set(range(PARTITIONS))
    # Right after the create, one replica may still hold every partition while the
    # group settles: write once both own some, so the writes really split.
    eventually(lambda: all(_owns_some(r, name) for r in replicas), timeout=60)

    # B knows the table created through A at once (registry/store.py catch_up).
    for h in HASHES:
        for s in SORTS:
            cb.tables.put_item(name, {**_key(h, s), "v": {"S": f"{h}-{s}"}})
    yield name, desc.latest_stream_arn
    ca.tables.delete_table(name)


def _served(server: EventplaneProcess, service: str, method: str) -> float:
    """Calls of ``service``/``method`` the process has served (its gRPC duration count)."""
    text = urllib.request.urlopen(server.metrics_url, timeout=10).read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "eventplane_rpc_duration_seconds_count"
        and sample.labels == {"service": service, "method": method}
    )


def test_writes_for_the_other_replicas_partitions_reach_its_internal_owner_service(
    replicas: tuple[EventplaneProcess, EventplaneProcess], table: tuple[str, str]
) -> None:
    """B's client wrote every item (the table fixture): B's public door took each put,
    and those for A's partitions went on to A's TableOwners service, never to A's public
    Tables service."""
    a, b = replicas
    assert _served(b, "Tables", "PutItem") >= WRITTEN
    assert _served(a, "Tables", "PutItem") == 0
    forwarded = _served(a, "TableOwners", "PutItem")
    assert 1 <= forwarded <= WRITTEN, f"A's owner service served {forwarded} puts"
    assert _served(b, "TableOwners", "PutItem") == 0  # A's client wrote nothing


@pytest.mark.parametrize("via", [0, 1], ids=["A", "B"])
def test_describe_is_active_with_the_whole_tables_counts(
    clients: tuple[Client, Client], table: tuple[str, str], via: int
) -> None:
    name, _ = table
    desc = clients[via].tables.describe_table(name)
    assert desc.table_status == "ACTIVE"
    assert desc.item_count == WRITTEN
    assert desc.table_size_bytes > 0
    other = clients[1 - via].tables.describe_table(name)
    assert other.table_size_bytes == desc.table_size_bytes


def test_a_replica_that_owns_none_of_a_table_reports_it_whole(
    clients: tuple[Client, Client],
) -> None:
    """One partition: one replica owns it, the other none; both say ACTIVE and count it."""
    ca, cb = clients
    name = f"one-{uuid.uuid4().hex[:10]}"
    desc = cb.tables.create_table(
        name, key_schema=[("pk", "HASH")], attribute_definitions=[("pk", "S")], partitions=1
    )
    try:
        assert desc.table_status == "ACTIVE"
        for i in range(5):
            ca.tables.put_item(name, {"pk": {"S": f"k{i}"}})
        for client in clients:
            got = client.tables.describe_table(name)
            assert (got.table_status, got.item_count) == ("ACTIVE", 5)
            assert client.tables.scan(name).count == 5
    finally:
        ca.tables.delete_table(name)
    for client in clients:  # deleted through A: gone through B too

        def gone(client: Client = client) -> bool:
            with pytest.raises(EventplaneError) as err:
                client.tables.describe_table(name)
            assert err.value.code == "ResourceNotFoundException"
            return True

        eventually(gone, timeout=10)


@pytest.mark.parametrize("via", [0, 1], ids=["A", "B"])
def test_scan_returns_every_partition_page_by_page(
    clients: tuple[Client, Client], table: tuple[str, str], via: int
) -> None:
    name, _ = table
    client = clients[via]
    assert client.tables.scan(name).count == WRITTEN
    seen: list[tuple[str, str]] = []
    start = None
    for _ in range(WRITTEN):  # bounded: 5 items a page
        page = client.tables.scan(name, limit=5, exclusive_start_key=start)
        seen += [(i["pk"]["S"], i["sk"]["N"]) for i in page.items]
        start = page.last_evaluated_key
        if start is None:
            break
    assert sorted(seen) == sorted((h, str(s)) for h in HASHES for s in SORTS)
    segments = [client.tables.scan(name, segment=i, total_segments=3).count for i in range(3)]
    assert sum(segments) == WRITTEN


@pytest.mark.parametrize("via", [0, 1], ids=["A", "B"])
def test_query_and_batch_get_reach_every_partition(
    clients: tuple[Client, Client], table: tuple[str, str], via: int
) -> None:
    name, _ = table
    client = clients[via]
    for h in HASHES:
        page = client.tables.query(
            name,
            "pk = :h",
            expression_attribute_values={":h": {"S": h}},
            scan_index_forward=False,
        )
        assert [i["sk"]["N"] for i in page.items] == ["2", "1", "0"]
    keys = [_key(h, 1) for h in HASHES] + [_key("absent", 0)]
    got = client.tables.batch_get_item({name: {"Keys": keys, "ProjectionExpression": "v"}})
    assert sorted(i["v"]["S"] for i in got[name]) == sorted(f"{h}-1" for h in HASHES)
    for h in HASHES:
        item = client.tables.get_item(name, _key(h, 2))
        assert item is not None and item["v"]["S"] == f"{h}-2"


@pytest.mark.parametrize("via", [0, 1], ids=["A", "B"])
def test_list_tables_and_streams_and_the_stream_through_each(
    clients: tuple[Client, Client], table: tuple[str, str], via: int
) -> None:
    name, arn = table
    client = clients[via]
    names, _ = client.tables.list_tables()
    assert name in names
    assert arn in client.tables.list_streams(name)
    shards = client.tables.describe_stream(arn).shards
    assert len(shards) == PARTITIONS
    inserted: list[tuple[str, str]] = []
    for shard in shards:
        it = client.tables.get_shard_iterator(arn, shard.shard_id, "TRIM_HORIZON")
        for _ in range(100):  # bounded: pages until an empty one
            page = client.tables.get_records(it)
            if not page.records:
                break
            inserted += [
                (r["dynamodb"]["Keys"]["pk"]["S"], r["dynamodb"]["Keys"]["sk"]["N"])
                for r in page.records
                if r["eventName"] == "INSERT"
            ]
            it = page.next_shard_iterator
    assert sorted(inserted) == sorted((h, str(s)) for h in HASHES for s in SORTS)


@pytest.mark.parametrize("via", [0, 1], ids=["A", "B"])
def test_a_transaction_on_one_partition_runs_through_either_replica(
    clients: tuple[Client, Client], table: tuple[str, str], via: int
) -> None:
    name, _ = table
    client = clients[via]
    h = HASHES[via]
    client.tables.transact_write_items(
        [
            {
                "Update": {
                    "TableName": name,
                    "Key": _key(h, 0),
                    "UpdateExpression": "SET n = if_not_exists(n, :zero) + :one",
                    "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"}},
                }
            },
            {
                "ConditionCheck": {
                    "TableName": name,
                    "Key": _key(h, 1),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
        ]
    )
    item = clients[1 - via].tables.get_item(name, _key(h, 0))
    assert item is not None and item["n"]["N"] == "1"


@pytest.fixture(scope="module")
def tx_table(
    replicas: tuple[EventplaneProcess, EventplaneProcess], clients: tuple[Client, Client]
) -> Iterator[str]:
    """A table of its own for the cross-replica transactions (the gauges and stream of
    ``table`` are counted exactly), with item (h, 0) for every hash."""
    ca, cb = clients
    name = f"rtx-{uuid.uuid4().hex[:10]}"
    ca.tables.create_table(
        name,
        key_schema=[("pk", "HASH"), ("sk", "RANGE")],
        attribute_definitions=[("pk", "S"), ("sk", "N")],
        stream_view_type="NEW_AND_OLD_IMAGES",
        partitions=PARTITIONS,
    )
    eventually(lambda: all(_owns_some(r, name) for r in replicas), timeout=60)
    for h in HASHES:
        cb.tables.put_item(name, {**_key(h, 0), "v": {"S": "seed"}})
    yield name
    ca.tables.delete_table(name)


def _put(name: str, h: str, s: int, v: str) -> dict[str, Any]:
    return {"Put": {"TableName": name, "Item": {**_key(h, s), "v": {"S": v}}}}


def _values(client: Client, name: str, s: int) -> list[str | None]:
    got = client.tables.batch_get_item({name: {"Keys": [_key(h, s) for h in HASHES]}})
    by_hash = {i["pk"]["S"]: i.get("v", {}).get("S") for i in got.get(name, [])}
    return [by_hash.get(h) for h in HASHES]


@pytest.mark.parametrize("via", [0, 1], ids=["A", "B"])
def test_a_transaction_over_both_replicas_partitions_commits_whole(
    replicas: tuple[EventplaneProcess, EventplaneProcess],
    clients: tuple[Client, Client],
    tx_table: str,
    via: int,
) -> None:
    """Items on every partition, so on both replicas: the receiving replica coordinates,
    the other prepares its items; every item is written, and read back through either."""
    name = tx_table
    sort = 10 + via
    committed_before = _cross_replica(replicas[via], "committed")
    clients[via].tables.transact_write_items(
        [_put(name, h, sort, f"tx-{via}") for h in HASHES]
        + [
            {
                "Update": {
                    "TableName": name,
                    "Key": _key(HASHES[0], 0),
                    "UpdateExpression": "SET moved = :v",
                    "ExpressionAttributeValues": {":v": {"S": f"by-{via}"}},
                }
            }
        ]
    )
    for other in clients:  # the participant applied its part before the answer came
        assert _values(other, name, sort) == [f"tx-{via}"] * len(HASHES)
        moved = other.tables.get_item(name, _key(HASHES[0], 0))
        assert moved is not None and moved["moved"]["S"] == f"by-{via}"
    assert _cross_replica(replicas[via], "committed") == committed_before + 1


@pytest.mark.parametrize("via", [0, 1], ids=["A", "B"])
def test_a_failed_condition_on_the_other_replica_cancels_the_whole_transaction(
    clients: tuple[Client, Client], tx_table: str, via: int
) -> None:
    """One ConditionCheck fails on each replica's side in turn: nothing is written, and the
    reasons come back in request order, whichever replica evaluated them."""
    name = tx_table
    sort = 20 + via
    for failing in range(len(HASHES)):
        actions = [_put(name, h, sort, "never") for h in HASHES]
        actions[failing] = {
            "ConditionCheck": {
                "TableName": name,
                "Key": _key(HASHES[failing], 0),
                "ConditionExpression": "attribute_not_exists(pk)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        with pytest.raises(TransactionCanceledException) as err:
            clients[via].tables.transact_write_items(actions)
        reasons = err.value.cancellation_reasons
        assert [r.code for r in reasons] == [
            "ConditionalCheckFailed" if i == failing else "None" for i in range(len(HASHES))
        ]
        old = reasons[failing].item
        assert old is not None and old["pk"]["S"] == HASHES[failing]
    for other in clients:
        assert _values(other, name, sort) == [None] * len(HASHES)


@pytest.mark.parametrize("via", [0, 1], ids=["A", "B"])
def test_a_cross_replica_transaction_with_a_token_is_applied_once(
    clients: tuple[Client, Client], tx_table: str, via: int
) -> None:
    name = tx_table
    sort = 30 + via
    token = f"tok-{uuid.uuid4().hex[:12]}"
    actions = [
        {
            "Update": {
                "TableName": name,
                "Key": _key(h, sort),
                "UpdateExpression": "SET n = if_not_exists(n, :zero) + :one",
                "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"}},
            }
        }
        for h in HASHES
    ]
    for _ in range(2):
        clients[via].tables.transact_write_items(actions, client_request_token=token)
    got = clients[1 - via].tables.batch_get_item({name: {"Keys": [_key(h, sort) for h in HASHES]}})
    assert sorted(i["n"]["N"] for i in got[name]) == ["1"] * len(HASHES)
    with pytest.raises(EventplaneError) as err:
        clients[via].tables.transact_write_items(actions[:-1], client_request_token=token)
    assert err.value.code == "IdempotentParameterMismatchException"


def _cross_replica(server: EventplaneProcess, outcome: str) -> float:
    text = urllib.request.urlopen(server.metrics_url, timeout=10).read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "eventplane_table_cross_replica_transactions_total"
        and sample.labels == {"outcome": outcome}
    )


@pytest.mark.parametrize("via", [0, 1], ids=["A", "B"])
def test_transact_get_reads_items_of_both_replicas(
    clients: tuple[Client, Client], table: tuple[str, str], via: int
) -> None:
    name, _ = table
    gets = [{"Get": {"TableName": name, "Key": _key(h, 2)}} for h in HASHES]
    got = clients[via].tables.transact_get_items(gets)
    assert [i["v"]["S"] if i else None for i in got] == [f"{h}-2" for h in HASHES]
    # The items of one partition only: served by whichever replica owns it.
    one = clients[via].tables.transact_get_items(
        [{"Get": {"TableName": name, "Key": _key(HASHES[0], s)}} for s in SORTS]
    )
    assert [i["sk"]["N"] for i in one if i] == [str(s) for s in SORTS]


def test_transact_get_over_both_replicas_is_a_snapshot_under_writes(
    replicas: tuple[EventplaneProcess, EventplaneProcess],
    clients: tuple[Client, Client],
    table: tuple[str, str],
) -> None:
    """A writer sets k on (h0, 0)..(h7, 0), in that order, to 1, 2, ...: every snapshot
    holds some k on a prefix and k-1 on the rest. The items are on both replicas."""
    name, _ = table
    assert all(_metric(r, "eventplane_table_size_bytes", name) > 0 for r in replicas)
    ca, cb = clients
    stop = threading.Event()
    failures: list[BaseException] = []

    def set_k(h: str, k: int) -> None:
        ca.tables.update_item(
            name,
            _key(h, 0),
            update_expression="SET k = :k",
            expression_attribute_values={":k": {"N": str(k)}},
        )

    def write() -> None:
        try:
            k = 0
            while not stop.is_set():
                k += 1
                for h in HASHES:
                    set_k(h, k)
        except BaseException as exc:  # reported by the test thread
            failures.append(exc)

    for h in HASHES:
        set_k(h, 0)
    writer = threading.Thread(target=write)
    writer.start()
    gets = [
        {"Get": {"TableName": name, "Key": _key(h, 0), "ProjectionExpression": "k"}} for h in HASHES
    ]
    snapshots = conflicts = 0
    try:
        for _ in range(40):
            try:
                got = cb.tables.transact_get_items(gets)
            except TransactionCanceledException as exc:
                codes = {r.code for r in exc.cancellation_reasons}
                assert codes <= {"None", "TransactionConflict"}, codes
                conflicts += 1
                continue
            ks = [int(i["k"]["N"]) for i in got if i is not None]
            assert len(ks) == len(HASHES)
            assert ks == sorted(ks, reverse=True) and ks[0] - ks[-1] <= 1, ks
            snapshots += 1
    finally:
        stop.set()
        writer.join(30)
    assert not failures, failures
    assert snapshots > 0, f"every read conflicted ({conflicts})"
    # B served every call: each conflict it answered is counted once for the table.
    counted = [_metric(r, "eventplane_table_transaction_conflicts_total", name) for r in replicas]
    assert counted == [0, conflicts], (counted, conflicts)


def test_item_gauges_count_each_partition_once_across_replicas(
    replicas: tuple[EventplaneProcess, EventplaneProcess], table: tuple[str, str]
) -> None:
    name, _ = table
    a, b = replicas

    def counted() -> bool:
        items = [_metric(r, "eventplane_table_items", name) for r in (a, b)]
        assert sum(items) == WRITTEN, items
        return True

    eventually(counted, timeout=10)
    sizes = [_metric(r, "eventplane_table_size_bytes", name) for r in (a, b)]
    assert all(s > 0 for s in sizes), sizes  # both replicas own some of the partitions


def test_a_missing_table_is_not_found_through_either_replica(
    clients: tuple[Client, Client],
) -> None:
    for client in clients:
        with pytest.raises(EventplaneError) as err:
            client.tables.describe_table(f"missing-{uuid.uuid4().hex[:8]}")
        assert err.value.code == "ResourceNotFoundException"


def test_describe_stays_active_and_counts_everything_when_a_replica_dies(
    eventplane_kafka: str,
) -> None:
    """SIGKILL of one of two replicas: DescribeTable through the survivor answers at once
    (the dead one's stats call fails fast), stays ACTIVE, and counts every item again once
    the survivor has adopted the dead one's partitions."""
    cluster = unique_cluster()
    with EventplaneProcess(eventplane_kafka, roles="tables", cluster=cluster) as a:
        b = EventplaneProcess(eventplane_kafka, roles="tables", cluster=cluster).start()
        try:
            with a.client() as ca:
                name = f"kill-{uuid.uuid4().hex[:10]}"
                ca.tables.create_table(
                    name,
                    key_schema=[("pk", "HASH")],
                    attribute_definitions=[("pk", "S")],
                    partitions=PARTITIONS,
                )
                for h in HASHES:
                    ca.tables.put_item(name, {"pk": {"S": h}})
                eventually(lambda: _metric(b, "eventplane_table_items", name) > 0, timeout=30)
                b.kill()
                assert ca.tables.describe_table(name).table_status == "ACTIVE"

                def whole() -> bool:
                    desc = ca.tables.describe_table(name)
                    assert desc.table_status == "ACTIVE"
                    return desc.item_count == len(HASHES)

                eventually(whole, timeout=60, message="the survivor never counted every item")
                assert ca.tables.scan(name).count == len(HASHES)
        finally:
            b.stop()


def test_a_repartition_across_two_replicas(
    replicas: tuple[EventplaneProcess, EventplaneProcess], clients: tuple[Client, Client]
) -> None:
    """Each replica moves the items of the partitions it owns; the owner of partition 0
    learns from the other's PartitionStats that it moved, and switches the table. A
    writer through A runs meanwhile; afterwards both replicas answer with every item once
    and the same split stream."""
    ca, cb = clients
    name = f"rep-{uuid.uuid4().hex[:10]}"
    arn = ca.tables.create_table(
        name,
        key_schema=[("pk", "HASH")],
        attribute_definitions=[("pk", "S")],
        stream_view_type="NEW_IMAGE",
        partitions=2,
    ).latest_stream_arn
    try:
        eventually(lambda: all(_owns_some(r, name) for r in replicas), timeout=60)
        keys = [f"r{i}" for i in range(40)]
        for k in keys:
            cb.tables.put_item(name, {"pk": {"S": k}, "v": {"N": "1"}})
        stop = threading.Event()
        acked: dict[str, int] = {}
        failures: list[BaseException] = []

        def write() -> None:
            n = 1
            try:
                while not stop.is_set():
                    n += 1
                    for k in keys[:10]:
                        while True:
                            try:
                                ca.tables.put_item(name, {"pk": {"S": k}, "v": {"N": str(n)}})
                                break
                            except EventplaneError as exc:
                                if not exc.retriable:
                                    raise
                        acked[k] = n
            except BaseException as exc:
                failures.append(exc)

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        eventually(lambda: len(acked) == 10, timeout=30)
        assert cb.tables.update_table(name, partitions=4).table_status == "UPDATING"

        def active() -> bool:
            for c in clients:
                d = c.tables.describe_table(name)
                assert (d.table_status, d.partitions) == ("ACTIVE", 4)
            return True

        eventually(active, timeout=90)
        eventually(lambda: all(_owns_some(r, name) for r in replicas), timeout=60)
        stop.set()
        writer.join(30)
        assert not failures, failures
        for c in clients:
            scanned = [i["pk"]["S"] for i in c.tables.scan(name).items]
            assert sorted(scanned) == sorted(keys)
            for k in keys:
                item = c.tables.get_item(name, {"pk": {"S": k}})
                assert item is not None and item["v"]["N"] == str(acked.get(k, 1)), k
            shards = c.tables.describe_stream(arn).shards
            parents = [s for s in shards if not s.parent_shard_id]
            assert len(parents) == 2 and all(p.ending_sequence_number for p in parents)
            assert len(shards) == 6
    finally:
        ca.tables.delete_table(name)
