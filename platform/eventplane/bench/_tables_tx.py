"""TransactWriteItems over two replicas' items beside one over a single replica's.

Two ``eventplane server --roles tables`` replicas share a 4-partition table. Through
replica A, one client at a time sends a two-Put transaction either over two items of
partitions A owns (one Kafka transaction, the ordinary path) or over one item of A's and
one of B's (the coordinator path of ``tables/coordinator.py``: a prepare and a confirm
call to B, one Kafka transaction, a commit call to B). Which replica owns which
partition is read from the replicas' adoption log lines once the group has settled.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from eventplane.bench._stats import figure, percentile
from eventplane.config import Settings
from eventplane.tables.keys import partition_of
from eventplane.testing.harness import EventplaneProcess, eventually, unique_cluster

Result = dict[str, Any]
PARTITIONS = 4


def _owners(servers: list[EventplaneProcess], table: str) -> dict[int, int]:
    """partition -> index of the server that adopted it last."""
    latest: dict[int, tuple[str, int]] = {}
    for index, server in enumerate(servers):
        for line in server.log_path.read_text().splitlines():
            if '"table partition adopted"' not in line or table not in line:
                continue
            event = json.loads(line)
            if event.get("table") != table:
                continue
            p = int(event["partition"])
            if p not in latest or event["timestamp"] > latest[p][0]:
                latest[p] = (event["timestamp"], index)
    return {p: index for p, (_, index) in latest.items()}


def _keys_on(partitions: set[int], count: int) -> list[str]:
    keys: list[str] = []
    i = 0
    while len(keys) < count:
        k = f"k{i}"
        if partition_of({"S": k}, PARTITIONS) in partitions:
            keys.append(k)
        i += 1
    return keys


def run(settings: Settings, count: int) -> Iterator[Result]:
    cluster = unique_cluster("bench")
    a = EventplaneProcess(settings.bootstrap, roles="tables", cluster=cluster).start()
    b = EventplaneProcess(settings.bootstrap, roles="tables", cluster=cluster).start()
    name = f"bench-tx-{uuid.uuid4().hex[:8]}"
    try:
        with a.client() as ep:
            ep.tables.create_table(
                name,
                key_schema=[("pk", "HASH")],
                attribute_definitions=[("pk", "S")],
                stream_view_type="NEW_AND_OLD_IMAGES",
                partitions=PARTITIONS,
            )

            def split() -> dict[int, int]:
                owners = _owners([a, b], name)
                assert len(owners) == PARTITIONS and set(owners.values()) == {0, 1}, owners
                return owners

            owners = eventually(split, timeout=90)
            time.sleep(2)  # let the group settle: a move now would skew the figures
            owners = split()
            mine = _keys_on({p for p, i in owners.items() if i == 0}, 2 * count)
            theirs = _keys_on({p for p, i in owners.items() if i == 1}, count)
            pad = {"S": "x" * 200}

            def put(k: str, n: int) -> dict[str, Any]:
                return {
                    "Put": {
                        "TableName": name,
                        "Item": {"pk": {"S": k}, "n": {"N": str(n)}, "pad": pad},
                    }
                }

            def timed(pairs: list[tuple[str, str]]) -> list[float]:
                samples = []
                for n, (x, y) in enumerate(pairs):
                    start = time.perf_counter()
                    ep.tables.transact_write_items([put(x, n), put(y, n)])
                    samples.append(time.perf_counter() - start)
                return samples

            warm = min(20, count)
            timed(list(zip(mine[:warm], theirs[:warm], strict=True)))
            local = timed(list(zip(mine[:count], mine[count:], strict=True)))
            cross = timed(list(zip(mine[:count], theirs, strict=True)))
            for p in (50, 99):
                yield figure(
                    f"tables_transact_write_cross_replica_p{p}",
                    "ms",
                    percentile(cross, p) * 1000,
                    (f"tables_transact_write_one_replica_p{p}", percentile(local, p) * 1000),
                    count=count,
                    actions=2,
                )
            ep.tables.delete_table(name)
    finally:
        a.stop()
        b.stop()
