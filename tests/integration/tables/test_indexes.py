"""Secondary indexes through the client against a real server: LSIs, GSIs, backfill, errors.

One server for the module (its own cluster, since one test SIGKILLs it), fresh tables
per test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.client.tables import SecondaryIndex
from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    with EventplaneProcess(eventplane_kafka, roles="tables", cluster=unique_cluster()) as s:
        yield s


@pytest.fixture(scope="module")
def ep(server: EventplaneProcess) -> Iterator[Client]:
    with server.client() as c:
        yield c


def _name() -> str:
    return f"ix-{uuid.uuid4().hex[:10]}"


def _orders(ep: Client, **kw: Any) -> str:
    """customer (HASH) + order (RANGE); LSI bySpend (customer, spend N); GSI byStatus
    (status S, placed N) projecting KEYS_ONLY + spend."""
    name = _name()
    ep.tables.create_table(
        name,
        key_schema=[("customer", "HASH"), ("order", "RANGE")],
        attribute_definitions=[
            ("customer", "S"),
            ("order", "S"),
            ("spend", "N"),
            ("status", "S"),
            ("placed", "N"),
        ],
        local_secondary_indexes=[
            SecondaryIndex("bySpend", [("customer", "HASH"), ("spend", "RANGE")], "KEYS_ONLY")
        ],
        global_secondary_indexes=[
            SecondaryIndex(
                "byStatus", [("status", "HASH"), ("placed", "RANGE")], "INCLUDE", ("spend",)
            )
        ],
        **{"partitions": 3, **kw},
    )
    return name


def _gsi_keys(ep: Client, table: str, status: str, **kw: Any) -> list[tuple[str, str]]:
    items = ep.tables.table(table).query(
        "#s = :s", names={"#s": "status"}, values={":s": status}, index_name="byStatus", **kw
    )
    return [(i["customer"], i["order"]) for i in items]


def test_describe_shows_the_indexes_as_dynamodb_does(ep: Client) -> None:
    name = _orders(ep)
    desc = ep.tables.describe_table(name)
    (lsi,) = desc.local_secondary_indexes
    (gsi,) = desc.global_secondary_indexes
    assert lsi.index_name == "bySpend" and lsi.projection_type == "KEYS_ONLY"
    assert lsi.key_schema == [("customer", "HASH"), ("spend", "RANGE")]
    assert lsi.index_arn == f"{desc.table_arn}/index/bySpend"
    assert gsi.index_status == "ACTIVE" and not gsi.backfilling
    assert gsi.projection_type == "INCLUDE" and gsi.non_key_attributes == ["spend"]
    t = ep.tables.table(name)
    t.put_item({"customer": "c1", "order": "o1", "spend": 5, "status": "NEW", "placed": 1})
    t.put_item({"customer": "c1", "order": "o2"})  # in neither index (sparse)

    def counted() -> bool:
        d = ep.tables.describe_table(name)
        assert d.item_count == 2
        assert d.global_secondary_indexes[0].item_count == 1
        assert d.local_secondary_indexes[0].item_count == 1
        assert d.global_secondary_indexes[0].index_size_bytes > 0
        return True

    eventually(counted, timeout=20)


def test_lsi_query_in_index_order_sparse_and_projected(ep: Client) -> None:
    name = _orders(ep)
    t = ep.tables.table(name)
    for order, spend in (("o1", 30), ("o2", 10), ("o3", 20)):
        t.put_item({"customer": "c1", "order": order, "spend": spend, "note": "x"})
    t.put_item({"customer": "c1", "order": "o4", "note": "no spend"})
    t.put_item({"customer": "c2", "order": "o1", "spend": 1})
    items = t.query(
        "customer = :c AND spend >= :t",
        values={":c": "c1", ":t": 15},
        index_name="bySpend",
        consistent_read=True,
    )
    assert items == [
        {"customer": "c1", "order": "o3", "spend": Decimal(20)},
        {"customer": "c1", "order": "o1", "spend": Decimal(30)},
    ]  # KEYS_ONLY: table and index keys, nothing else
    backward = t.query(
        "customer = :c", values={":c": "c1"}, index_name="bySpend", scan_index_forward=False
    )
    assert [i["order"] for i in backward] == ["o1", "o3", "o2"]  # o4 has no spend
    # An LSI read is strongly consistent: a write is in it at once.
    t.update_item({"customer": "c1", "order": "o4"}, "SET spend = :t", values={":t": 1})
    first = t.query("customer = :c", values={":c": "c1"}, index_name="bySpend")[0]
    assert first["order"] == "o4"


def test_gsi_query_eventually_equals_the_table(ep: Client) -> None:
    name = _orders(ep)
    t = ep.tables.table(name)
    expect = []
    for i in range(12):
        status = "OPEN" if i % 3 else "DONE"
        t.put_item({"customer": f"c{i % 5}", "order": f"o{i}", "status": status, "placed": i % 4})
        if status == "OPEN":
            expect.append((i % 4, f"c{i % 5}", f"o{i}"))
    expect.sort()
    t.put_item({"customer": "c9", "order": "no-status", "placed": 1})  # sparse

    def equal() -> bool:
        got = _gsi_keys(ep, name, "OPEN")
        assert got == [(c, o) for _, c, o in expect]
        return True

    eventually(equal, timeout=20)
    # Pages of 3 over duplicate index keys: LastEvaluatedKey holds table and index keys.
    pages, start = [], None
    while True:
        page = ep.tables.query(
            name,
            "#s = :s",
            index_name="byStatus",
            expression_attribute_names={"#s": "status"},
            expression_attribute_values={":s": {"S": "OPEN"}},
            limit=3,
            exclusive_start_key=start,
        )
        pages.append(page)
        start = page.last_evaluated_key
        if start is None:
            break
    assert set(pages[0].last_evaluated_key or {}) == {"customer", "order", "status", "placed"}
    flat = [(i["customer"]["S"], i["order"]["S"]) for p in pages for i in p.items]
    assert flat == [(c, o) for _, c, o in expect]
    # Projection INCLUDE spend: the other attributes stay behind.
    t.put_item(
        {"customer": "z", "order": "z", "status": "RARE", "placed": 1, "spend": 9, "big": "b"}
    )
    eventually(lambda: _gsi_keys(ep, name, "RARE") == [("z", "z")], timeout=20)
    (item,) = t.query(
        "#s = :s", names={"#s": "status"}, values={":s": "RARE"}, index_name="byStatus"
    )
    assert item == {
        "customer": "z",
        "order": "z",
        "status": "RARE",
        "placed": Decimal(1),
        "spend": Decimal(9),
    }
    # Deleting or moving an item out of an index key takes it out of the index.
    t.delete_item({"customer": "z", "order": "z"})
    eventually(lambda: _gsi_keys(ep, name, "RARE") == [], timeout=20)


def test_index_errors(ep: Client) -> None:
    name = _orders(ep)
    t = ep.tables.table(name)
    q = {"names": {"#s": "status"}, "values": {":s": "x"}}
    with pytest.raises(EventplaneError, match="Consistent reads are not supported on global"):
        t.query("#s = :s", index_name="byStatus", consistent_read=True, **q)
    with pytest.raises(EventplaneError, match="does not have the specified index: nope"):
        t.query("#s = :s", index_name="nope", **q)
    with pytest.raises(EventplaneError, match="Query condition missed key schema element: status"):
        t.query("customer = :c", values={":c": "c"}, index_name="byStatus")
    with pytest.raises(
        EventplaneError, match="Consistent reads are not supported on global secondary indexes"
    ):
        ep.tables.scan(name, index_name="byStatus", consistent_read=True)
    with pytest.raises(EventplaneError, match="Type mismatch for Index Key status Expected: S"):
        t.put_item({"customer": "c", "order": "o", "status": 5})
    with pytest.raises(EventplaneError, match="Type mismatch for Index Key spend"):
        t.put_item({"customer": "c", "order": "o", "spend": "high"})
    assert t.get_item({"customer": "c", "order": "o"}) is None  # nothing written
    with pytest.raises(EventplaneError) as err:
        ep.tables.create_table(
            _name(),
            key_schema=[("id", "HASH")],
            attribute_definitions=[("id", "S"), ("x", "S")],
            local_secondary_indexes=[SecondaryIndex("byX", [("id", "HASH"), ("x", "RANGE")])],
        )
    assert err.value.code == "ValidationException"
    assert "does not have a range key" in err.value.message
    with pytest.raises(EventplaneError, match="Some index key attributes are not defined"):
        ep.tables.create_table(
            _name(),
            key_schema=[("id", "HASH")],
            attribute_definitions=[("id", "S")],
            global_secondary_indexes=[SecondaryIndex("byX", [("x", "HASH")])],
        )
    # The server keeps serving.
    t.put_item({"customer": "c", "order": "o", "status": "ok"})
    assert t.get_item({"customer": "c", "order": "o"}) == {
        "customer": "c",
        "order": "o",
        "status": "ok",
    }


def test_gsi_added_later_is_backfilled_then_deleted(ep: Client) -> None:
    name = _name()
    ep.tables.create_table(
        name,
        key_schema=[("id", "HASH")],
        attribute_definitions=[("id", "S")],
        partitions=3,
    )
    t = ep.tables.table(name)
    for i in range(20):
        t.put_item({"id": f"u{i}", "team": f"t{i % 2}", "rank": i})
    desc = ep.tables.update_table(
        name,
        attribute_definitions=[("team", "S"), ("rank", "N")],
        global_secondary_index_updates=[
            {"Create": SecondaryIndex("byTeam", [("team", "HASH"), ("rank", "RANGE")])}
        ],
    )
    (gsi,) = desc.global_secondary_indexes
    assert (gsi.index_status, gsi.backfilling) == ("CREATING", True)

    def active() -> bool:
        d = ep.tables.describe_table(name)
        assert d.global_secondary_indexes[0].index_status == "ACTIVE"
        return True

    eventually(active, timeout=30)
    items = t.query("team = :t", values={":t": "t1"}, index_name="byTeam")
    assert [i["rank"] for i in items] == [Decimal(r) for r in range(1, 20, 2)]
    with pytest.raises(EventplaneError, match="Attempting to create an index which already"):
        ep.tables.update_table(
            name,
            attribute_definitions=[("team", "S")],
            global_secondary_index_updates=[
                {"Create": SecondaryIndex("byTeam", [("team", "HASH")])}
            ],
        )
    ep.tables.update_table(
        name, global_secondary_index_updates=[{"Delete": {"IndexName": "byTeam"}}]
    )

    def gone() -> bool:
        d = ep.tables.describe_table(name)
        assert d.global_secondary_indexes == []
        assert d.attribute_definitions == [("id", "S")]
        return True

    eventually(gone, timeout=30)
    with pytest.raises(EventplaneError, match="does not have the specified index"):
        t.query("team = :t", values={":t": "t1"}, index_name="byTeam")


def test_scan_an_index(ep: Client) -> None:
    name = _orders(ep)
    t = ep.tables.table(name)
    for i in range(6):
        t.put_item({"customer": f"c{i}", "order": "o", "spend": i, "note": "n"})
    t.put_item({"customer": "x", "order": "o", "status": "OPEN", "placed": 1, "spend": 1})
    scanned = t.scan(index_name="bySpend")
    assert sorted(i["customer"] for i in scanned) == ["c0", "c1", "c2", "c3", "c4", "c5", "x"]
    assert all(set(i) == {"customer", "order", "spend"} for i in scanned)  # KEYS_ONLY
    page = ep.tables.scan(name, index_name="bySpend", limit=2)
    assert set(page.last_evaluated_key or {}) == {"customer", "order", "spend"}
    (only,) = t.scan(index_name="byStatus")  # sparse
    assert only["customer"] == "x" and "note" not in only


def test_gsi_query_across_two_replicas(eventplane_kafka: str) -> None:
    """Each replica owns some partitions: a GSI query asks the other for its candidates.

    Two replicas of a cluster of their own, so this table's partitions are the only
    ones the two share out."""
    cluster = unique_cluster()
    with (
        EventplaneProcess(eventplane_kafka, roles="tables", cluster=cluster) as a,
        EventplaneProcess(eventplane_kafka, roles="tables", cluster=cluster) as b,
        a.client() as ep,
        b.client() as ep2,
    ):
        name = _orders(ep, partitions=4)
        t = ep.tables.table(name)
        want = []
        for i in range(16):
            t.put_item({"customer": f"c{i:02d}", "order": "o", "status": "OPEN", "placed": i % 3})
            want.append((i % 3, f"c{i:02d}"))
        want.sort()

        def both_whole() -> bool:
            # Both replicas own some of the table's partitions (the remote path is used).
            assert all(_items_gauge(r, name) > 0 for r in (a, b))
            for c in (ep, ep2):
                try:
                    got = _gsi_keys(c, name, "OPEN", limit=5)
                except EventplaneError as exc:  # partitions moving between the replicas
                    raise AssertionError(str(exc)) from None
                assert got == [(cu, "o") for _, cu in want]
            return True

        eventually(both_whole, timeout=60)
        d = ep2.tables.describe_table(name)
        assert d.global_secondary_indexes[0].item_count == 16


def _items_gauge(server: EventplaneProcess, table: str) -> float:
    text = urllib.request.urlopen(server.metrics_url, timeout=10).read().decode()
    for line in text.splitlines():
        if line.startswith(f'eventplane_table_items{{table="{table}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_cli_indexes(server: EventplaneProcess) -> None:
    def run(*args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "eventplane.cli", "table", *args, "--endpoint", server.endpoint],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    name = _name()
    run(
        "create",
        name,
        "--key",
        "id:S",
        "--range",
        "at:N",
        "--gsi",
        "byMail:mail:S:KEYS_ONLY",
        "--lsi",
        "bySize:kb:N",
    )
    run(
        "put",
        name,
        '{"id": {"S": "u1"}, "at": {"N": "1"}, "mail": {"S": "a@b"}, "kb": {"N": "3"}}',
    )
    out = run("query", name, "mail = :m", "--index", "byMail", "--values", '{":m": {"S": "a@b"}}')
    assert [json.loads(line) for line in out.splitlines()] == [
        {"id": {"S": "u1"}, "at": {"N": "1"}, "mail": {"S": "a@b"}}
    ]
    out = run(
        "query",
        name,
        "id = :i AND kb > :s",
        "--index",
        "bySize",
        "--values",
        '{":i": {"S": "u1"}, ":s": {"N": "2"}}',
    )
    assert len(out.splitlines()) == 1
    run("update-table", name, "--create-gsi", "bySizeG:kb:N")

    def active() -> bool:
        desc = json.loads(run("describe", name, "--json"))
        (gsi,) = [g for g in desc["global_secondary_indexes"] if g["index_name"] == "bySizeG"]
        assert gsi["index_status"] == "ACTIVE"
        return True

    eventually(active, timeout=30)
    run("update-table", name, "--delete-gsi", "bySizeG")


def test_gsi_after_sigkill_and_restart(ep: Client, server: EventplaneProcess) -> None:
    name = _orders(ep)
    t = ep.tables.table(name)
    for i in range(10):
        t.put_item({"customer": f"c{i}", "order": "o", "status": "OPEN", "placed": i})
    eventually(lambda: len(_gsi_keys(ep, name, "OPEN")) == 10, timeout=20)
    # A GSI added just before the crash: its change is in the registry, and the next
    # owner of partition 0 finishes the backfill.
    ep.tables.update_table(
        name,
        global_secondary_index_updates=[
            {"Create": SecondaryIndex("byOrder", [("order", "HASH")], "KEYS_ONLY")}
        ],
    )
    server.kill()  # SIGKILL
    server.restart()

    def restored() -> bool:
        try:
            got = _gsi_keys(ep, name, "OPEN")
        except EventplaneError as exc:  # partitions still being adopted
            raise AssertionError(str(exc)) from None
        assert got == [(f"c{i}", "o") for i in range(10)]
        return True

    eventually(restored, timeout=90)

    def backfilled() -> bool:
        (_, added) = ep.tables.describe_table(name).global_secondary_indexes
        assert (added.index_name, added.index_status) == ("byOrder", "ACTIVE")
        assert (
            len(t.query("#o = :o", names={"#o": "order"}, values={":o": "o"}, index_name="byOrder"))
            == 10
        )
        return True

    eventually(backfilled, timeout=60)
    t.put_item({"customer": "c0", "order": "o", "status": "DONE", "placed": 0})
    eventually(lambda: len(_gsi_keys(ep, name, "OPEN")) == 9, timeout=20)
