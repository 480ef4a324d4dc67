"""Two replicas sharing a table's partitions, and a SIGKILL of one of them under writes.

Each writer thread increments its own item with a conditional put (n = k only if
n was k-1), so every acknowledged change is known exactly. After the kill and a
restart, the table and the stream must hold every acknowledged change, the
stream none twice, and each item's changes in order.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.tables.errors import ConditionalCheckFailedException
from eventplane.testing import EventplaneProcess, eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _retrying(call: Callable[[], Any], *, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except EventplaneError as exc:
            if not exc.retriable or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _increment(client: Client, table: str, pk: str, k: int) -> None:
    """Set n = k if n is k-1; a retry after a lost answer finds its own write applied."""
    item = {"pk": {"S": pk}, "n": {"N": str(k)}}
    cond = "attribute_not_exists(pk)" if k == 1 else "n = :prev"
    values = {} if k == 1 else {":prev": {"N": str(k - 1)}}
    first = True
    while True:
        try:
            _retrying(
                lambda: client.tables.put_item(
                    table, item, condition_expression=cond, expression_attribute_values=values
                )
            )
            return
        except ConditionalCheckFailedException:
            got = _retrying(lambda: client.tables.get_item(table, {"pk": {"S": pk}}))
            assert not first and got is not None and got["n"]["N"] == str(k), (pk, k, got)
            return
        except EventplaneError as exc:
            if not exc.retriable:
                raise
        first = False


def _stream(client: Client, arn: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for shard in client.tables.describe_stream(arn).shards:
        it = client.tables.get_shard_iterator(arn, shard.shard_id, "TRIM_HORIZON")
        while True:
            page = client.tables.get_records(it)
            if not page.records:
                break
            records += page.records
            it = page.next_shard_iterator
    return records


@pytest.mark.timeout(300)
def test_sigkill_of_a_replica_loses_and_duplicates_no_change(eventplane_kafka: str) -> None:
    a = EventplaneProcess(eventplane_kafka, roles="tables").start()
    b = EventplaneProcess(eventplane_kafka, roles="tables").start()
    try:
        with a.client() as client:
            name = f"dur-{uuid.uuid4().hex[:10]}"
            desc = client.tables.create_table(
                name,
                key_schema=[("pk", "HASH")],
                attribute_definitions=[("pk", "S")],
                stream_view_type="NEW_AND_OLD_IMAGES",
                partitions=4,
            )
            items = [f"item-{i}" for i in range(8)]
            acked = {pk: 0 for pk in items}
            stop = threading.Event()
            errors: list[BaseException] = []

            def writer(pk: str) -> None:
                try:
                    k = 1
                    while not stop.is_set():
                        _increment(client, name, pk, k)
                        acked[pk] = k
                        k += 1
                except BaseException as exc:  # surfaced by the main thread
                    errors.append(exc)

            threads = [threading.Thread(target=writer, args=(pk,)) for pk in items]
            for t in threads:
                t.start()
            eventually(lambda: min(acked.values()) >= 5, timeout=60)
            # b serves some of the table's partitions (a forwards to it) when it dies
            # (a third replica, the session's, may join the group too: give the group
            # the time to settle on an assignment that includes b)
            eventually(lambda: f'"table": "{name}"' in b.log_path.read_text(), timeout=30)
            b.kill()  # SIGKILL: no flush, no commit, no leaving the group
            before = dict(acked)
            eventually(
                lambda: all(acked[pk] >= before[pk] + 5 for pk in items),
                timeout=90,
                message="writes did not resume after the kill",
            )
            b.restart()
            after_restart = dict(acked)
            eventually(lambda: all(acked[pk] >= after_restart[pk] + 5 for pk in items), timeout=90)
            stop.set()
            for t in threads:
                t.join(60)
            assert not errors, errors

            final = {
                pk: int(
                    _retrying(lambda pk=pk: client.tables.get_item(name, {"pk": {"S": pk}}))["n"][
                        "N"
                    ]
                )
                for pk in items
            }
            assert final == acked  # every acknowledged write is there, nothing else
            changes: dict[str, list[int]] = {pk: [] for pk in items}
            for r in _retrying(lambda: _stream(client, desc.latest_stream_arn)):
                changes[r["dynamodb"]["Keys"]["pk"]["S"]].append(
                    int(r["dynamodb"]["NewImage"]["n"]["N"])
                )
            for pk in items:  # each change exactly once, in order
                assert changes[pk] == list(range(1, final[pk] + 1)), pk
    finally:
        a.stop()
        b.stop()
