"""Two replicas sharing a table's partitions, and a SIGKILL of one of them under writes;
a broker restart under writes.

Each writer thread increments its own item with a conditional put (n = k only if
n was k-1), so every acknowledged change is known exactly. After the kill and a
restart, the table and the stream must hold every acknowledged change, the
stream none twice, and each item's changes in order.
"""

from __future__ import annotations

import threading
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from eventplane.client import Client
from eventplane.config import load_settings
from eventplane.errors import EventplaneError
from eventplane.kafka.local import LocalKafka
from eventplane.tables.errors import ConditionalCheckFailedException, TransactionCanceledException
from eventplane.testing import EventplaneProcess, eventually, free_port, retrying, unique_cluster

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _increment(client: Client, table: str, pk: str, k: int) -> None:
    """Set n = k if n is k-1; a retry after a lost answer finds its own write applied."""
    item = {"pk": {"S": pk}, "n": {"N": str(k)}}
    cond = "attribute_not_exists(pk)" if k == 1 else "n = :prev"
    values = {} if k == 1 else {":prev": {"N": str(k - 1)}}
    attempts = 0

    def put() -> Any:
        nonlocal attempts
        attempts += 1
        return client.tables.put_item(
            table, item, condition_expression=cond, expression_attribute_values=values
        )

    while True:
        try:
            retrying(put)
            return
        except ConditionalCheckFailedException:
            # Only a retry may find the condition false: its earlier attempt was applied
            # (the answer was lost with the replica), and then n is already k.
            got = retrying(lambda: client.tables.get_item(table, {"pk": {"S": pk}}))
            assert attempts > 1 and got is not None and got["n"]["N"] == str(k), (pk, k, got)
            return
        except EventplaneError as exc:
            if not exc.retriable:
                raise


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
    cluster = unique_cluster()
    a = EventplaneProcess(eventplane_kafka, roles="tables", cluster=cluster).start()
    b = EventplaneProcess(eventplane_kafka, roles="tables", cluster=cluster).start()
    name = f"dur-{uuid.uuid4().hex[:10]}"
    try:
        with a.client() as admin:
            desc = _streamed_table(admin, name, "NEW_AND_OLD_IMAGES", 4)

        # The group balances partitions over every table, so which replica owns this
        # table's partitions varies: the victim is one that owns some (a third replica,
        # the session's, may share the group too). Clients talk to the other one, which
        # forwards to the victim until it dies.
        eventually(lambda: _owns(a, name) or _owns(b, name), timeout=30)
        victim, survivor = (b, a) if _owns(b, name) else (a, b)
        with survivor.client() as client:
            # The table was created through A: the survivor knows it at once
            # (registry/store.py catch_up), so no writer waits for it.
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

            def progressed(base: dict[str, int], by: int) -> bool:
                assert not errors, errors  # a writer that died says why at once
                return all(acked[pk] >= base[pk] + by for pk in items)

            threads = [threading.Thread(target=writer, args=(pk,)) for pk in items]
            for t in threads:
                t.start()
            eventually(lambda: progressed(dict.fromkeys(items, 0), 5), timeout=60)
            victim.kill()  # SIGKILL: no flush, no commit, no leaving the group
            before = dict(acked)
            eventually(
                lambda: progressed(before, 5),
                timeout=90,
                message="writes did not resume after the kill",
            )
            victim.restart()
            after_restart = dict(acked)
            eventually(lambda: progressed(after_restart, 5), timeout=90)
            stop.set()
            for t in threads:
                t.join(60)
            assert not errors, errors

            final = {
                pk: int(
                    retrying(lambda pk=pk: client.tables.get_item(name, {"pk": {"S": pk}}))["n"][
                        "N"
                    ]
                )
                for pk in items
            }
            assert final == acked  # every acknowledged write is there, nothing else
            changes: dict[str, list[int]] = {pk: [] for pk in items}
            for r in retrying(lambda: _stream(client, desc.latest_stream_arn)):
                changes[r["dynamodb"]["Keys"]["pk"]["S"]].append(
                    int(r["dynamodb"]["NewImage"]["n"]["N"])
                )
            for pk in items:  # each change exactly once, in order
                assert changes[pk] == list(range(1, final[pk] + 1)), pk
            client.tables.delete_table(name)
    finally:
        a.stop()
        b.stop()


@pytest.mark.timeout(300)
def test_a_broker_restart_loses_and_duplicates_no_change() -> None:
    """The broker (its own, on a free port) stops and starts again between conditional
    increments: the server reconnects, every acknowledged change is in the table and in
    the stream exactly once, in order per item."""
    broker = LocalKafka.from_settings(load_settings({}), free_port())
    broker.start(fresh=True)
    server = EventplaneProcess(broker.bootstrap, roles="tables").start()
    name = f"brk-{uuid.uuid4().hex[:10]}"
    items = [f"item-{i}" for i in range(4)]
    try:
        with server.client(timeout=15) as client:
            desc = _streamed_table(client, name, "NEW_AND_OLD_IMAGES", 2)
            for k in range(1, 4):
                for pk in items:
                    _increment(client, name, pk, k)
            broker.stop()
            broker.start()
            for k in range(4, 7):
                for pk in items:
                    _increment(client, name, pk, k)
            for pk in items:
                got = retrying(lambda pk=pk: client.tables.get_item(name, {"pk": {"S": pk}}))
                assert got is not None and got["n"]["N"] == "6", (pk, got)
            changes: dict[str, list[int]] = {pk: [] for pk in items}
            for r in retrying(lambda: _stream(client, desc.latest_stream_arn)):
                changes[r["dynamodb"]["Keys"]["pk"]["S"]].append(
                    int(r["dynamodb"]["NewImage"]["n"]["N"])
                )
            assert changes == {pk: [1, 2, 3, 4, 5, 6] for pk in items}
    finally:
        server.stop()
        broker.stop()


def _both(client: Client, table: str, keys: list[str], k: int) -> None:
    """One transaction setting n = k on every key if each is at k-1; a retry after a lost
    answer finds its own transaction applied (every item at k) and stops."""

    def action(pk: str) -> dict[str, Any]:
        cond = "attribute_not_exists(pk)" if k == 1 else "n = :prev"
        values = {":k": {"N": str(k)}, **({} if k == 1 else {":prev": {"N": str(k - 1)}})}
        return {
            "Update": {
                "TableName": table,
                "Key": {"pk": {"S": pk}},
                "UpdateExpression": "SET n = :k",
                "ConditionExpression": cond,
                "ExpressionAttributeValues": values,
            }
        }

    attempts = 0

    def send() -> None:
        nonlocal attempts
        attempts += 1
        client.tables.transact_write_items([action(pk) for pk in keys])

    while True:
        try:
            retrying(send)
            return
        except TransactionCanceledException as exc:
            if any(r.code == "TransactionConflict" for r in exc.cancellation_reasons):
                # Another replica's part was locked or moved: nothing was written.
                continue
            got = [
                retrying(lambda pk=pk: client.tables.get_item(table, {"pk": {"S": pk}}))
                for pk in keys
            ]
            assert attempts > 1 and all(g is not None and g["n"]["N"] == str(k) for g in got)
            return
        except EventplaneError as exc:
            if not exc.retriable:
                raise


@pytest.mark.timeout(300)
def test_sigkill_mid_transaction_applies_all_of_it_or_nothing(eventplane_kafka: str) -> None:
    """Transactions over items on every partition while the only replica is SIGKILLed and
    restarted: the items always agree, and the stream holds each transaction's changes
    exactly once for every item."""
    server = EventplaneProcess(eventplane_kafka, roles="tables", cluster=unique_cluster())
    server.start()
    name = f"txk-{uuid.uuid4().hex[:10]}"
    keys = [f"item-{i}" for i in range(8)]  # over the table's 4 partitions
    try:
        with server.client(timeout=15) as client:
            desc = _streamed_table(client, name, "NEW_IMAGE", 4)
            _transactions_under_kills(
                client, name, desc.latest_stream_arn, keys, [server, server], timeout=120
            )
    finally:
        server.stop()


@pytest.mark.timeout(420)
def test_sigkill_of_the_coordinator_or_a_participant_applies_all_or_nothing(
    eventplane_kafka: str,
) -> None:
    """Transactions over items of two replicas, sent to A (the coordinator; B prepares its
    part), while A is SIGKILLed and restarted, then B: the items always agree, every
    acknowledged transaction is there, and the stream holds each change once, in order."""
    cluster = unique_cluster()
    a = EventplaneProcess(eventplane_kafka, roles="tables", cluster=cluster).start()
    b = EventplaneProcess(eventplane_kafka, roles="tables", cluster=cluster).start()
    name = f"txr-{uuid.uuid4().hex[:10]}"
    keys = [f"item-{i}" for i in range(8)]  # over the table's 4 partitions
    try:
        with a.client(timeout=15) as client:
            desc = _streamed_table(client, name, "NEW_IMAGE", 4)

            eventually(lambda: _owns(a, name) and _owns(b, name), timeout=60)

            def coordinated() -> float:
                text = urllib.request.urlopen(a.metrics_url, timeout=10).read().decode()
                return sum(
                    s.value
                    for f in text_string_to_metric_families(text)
                    for s in f.samples
                    if s.name == "eventplane_table_cross_replica_transactions_total"
                    and s.labels == {"outcome": "committed"}
                )

            _transactions_under_kills(
                client,
                name,
                desc.latest_stream_arn,
                keys,
                [a, b],
                timeout=150,
                # A coordinated them: B owns part of the items.
                before_kills=lambda: coordinated() >= 5,
            )
    finally:
        a.stop()
        b.stop()


def _transactions_under_kills(
    client: Client,
    name: str,
    stream_arn: str,
    keys: list[str],
    victims: list[EventplaneProcess],
    *,
    timeout: float,
    before_kills: Callable[[], bool] = lambda: True,
) -> None:
    """Back-to-back transactions setting n = k on every key (``_both``) while each victim
    in turn is SIGKILLed and restarted; then the items all hold the last acknowledged k,
    and the stream holds every item's changes once, in order."""
    acked = 0
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        nonlocal acked
        try:
            k = 1
            while not stop.is_set():
                _both(client, name, keys, k)
                acked = k
                k += 1
        except BaseException as exc:  # surfaced by the main thread
            errors.append(exc)

    def progressed(base: int, by: int) -> bool:
        assert not errors, errors
        return acked >= base + by

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        eventually(lambda: progressed(0, 5), timeout=60)
        assert before_kills()
        for victim in victims:
            victim.kill()  # mid-transaction: the writer sends one after another
            before = acked
            victim.restart()
            eventually(lambda b=before: progressed(b, 3), timeout=timeout)
    finally:
        stop.set()
        thread.join(120)
    assert not errors, errors
    items = [retrying(lambda pk=pk: client.tables.get_item(name, {"pk": {"S": pk}})) for pk in keys]
    values = {int(i["n"]["N"]) for i in items}
    assert values == {acked}, values
    changes: dict[str, list[int]] = {pk: [] for pk in keys}
    for r in retrying(lambda: _stream(client, stream_arn)):
        changes[r["dynamodb"]["Keys"]["pk"]["S"]].append(int(r["dynamodb"]["NewImage"]["n"]["N"]))
    assert changes == {pk: list(range(1, acked + 1)) for pk in keys}


def _streamed_table(client: Client, name: str, view: str, partitions: int) -> Any:
    """A table keyed by ``pk`` with a stream of ``view``; its description."""
    return client.tables.create_table(
        name,
        key_schema=[("pk", "HASH")],
        attribute_definitions=[("pk", "S")],
        stream_view_type=view,
        partitions=partitions,
    )


def _owns(server: EventplaneProcess, table: str) -> bool:
    """Whether the replica adopted a partition of ``table`` (its log says so)."""
    return f'"table": "{table}"' in server.log_path.read_text()
