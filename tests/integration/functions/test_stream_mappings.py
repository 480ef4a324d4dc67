"""Table stream event source mappings on a real server: order per item, bisection and
retries ending in an OnFailure record, partial batch failures, filters, validation, and
a SIGKILL mid-stream (every change processed, at most the in-flight chunk again)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

from .support import FUNCTIONS_ENV, HANDLERS, Resources, drain, json_lines

pytestmark = pytest.mark.integration

STREAMS = HANDLERS / "streams"
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "table_stream_fanout" / "run.py"


def S(v: str) -> dict[str, Any]:
    return {"S": v}


class Tables:
    """Stream-enabled tables that are deleted afterwards."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.names: list[str] = []

    def make(self, partitions: int = 1) -> str:
        """A new table (key ``pk``) with a NEW_AND_OLD_IMAGES stream; returns the stream ARN."""
        name = f"t-{uuid.uuid4().hex[:12]}"
        desc = self.client.tables.create_table(
            name,
            key_schema=[("pk", "HASH")],
            attribute_definitions=[("pk", "S")],
            stream_view_type="NEW_AND_OLD_IMAGES",
            partitions=partitions,
        )
        self.names.append(name)
        return str(desc.latest_stream_arn)

    def cleanup(self) -> None:
        for name in self.names:
            with contextlib.suppress(EventplaneError):
                self.client.tables.delete_table(name)


@pytest.fixture
def tables(client: Client) -> Iterator[Tables]:
    t = Tables(client)
    try:
        yield t
    finally:
        t.cleanup()


def table_of(stream_arn: str) -> str:
    return stream_arn.split(":table/")[1].split("/stream/")[0]


def handler(res: Resources, state: Path, **env: str) -> str:
    return res.function(
        "stream_handlers.handle",
        package=STREAMS,
        environment={"STATE_DIR": str(state), **env},
        timeout=30,
    )


def stream_mapping(res: Resources, stream_arn: str, function: str, **kwargs: Any) -> str:
    kwargs.setdefault("starting_position", "TRIM_HORIZON")
    m = res.client.functions.create_event_source_mapping(stream_arn, function, **kwargs)
    res._mappings.append(m.uuid)
    return m.uuid


def batches(state: Path) -> list[dict[str, Any]]:
    return json_lines(state / "batches.jsonl")


def done(state: Path) -> Counter[str]:
    """How often each sequence number was finished by the handler."""
    return Counter(s for b in batches(state) for s in b["done"])


def metric(server: EventplaneProcess, series: str) -> float | None:
    text = urllib.request.urlopen(server.metrics_url, timeout=10).read().decode()
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return None


def test_changes_reach_the_function_in_order_per_item(
    client: Client, res: Resources, tables: Tables, tmp_path: Path, fn_server: EventplaneProcess
) -> None:
    arn = tables.make(partitions=2)
    name = table_of(arn)
    fn = handler(res, tmp_path)
    mapping = stream_mapping(res, arn, fn, batch_size=3)
    items = [f"k{i}" for i in range(6)]
    for k in items:
        client.tables.put_item(name, {"pk": S(k), "v": S("1")})
    for k in items:
        client.tables.put_item(name, {"pk": S(k), "v": S("2")})
    for k in items:
        client.tables.delete_item(name, {"pk": S(k)})

    def all_seen() -> list[dict[str, Any]]:
        records = [r for b in batches(tmp_path) for r in b["records"]]
        assert len(records) == 18, len(records)
        return records

    records = eventually(all_seen, timeout=60)
    for b in batches(tmp_path):
        assert 1 <= len(b["seqs"]) <= 3  # BatchSize
    per_item: dict[str, list[str]] = {}
    for r in records:
        per_item.setdefault(r["dynamodb"]["Keys"]["pk"]["S"], []).append(r["eventName"])
        assert r["eventSourceARN"] == arn
        assert r["eventSource"] == "aws:dynamodb" and r["eventVersion"] == "1.1"
        assert r["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert per_item == {k: ["INSERT", "MODIFY", "REMOVE"] for k in items}
    modify = next(r for r in records if r["eventName"] == "MODIFY")
    assert modify["dynamodb"]["OldImage"]["v"] == S("1")
    assert modify["dynamodb"]["NewImage"]["v"] == S("2")
    # Metrics: every batch counted (just after the handler's line is written), and the
    # iterator age of the mapping is known.
    series = f'eventplane_function_mapping_batches_total{{function="{fn}",outcome="success"}}'

    def counted() -> bool:
        assert metric(fn_server, series) == len(batches(tmp_path))
        return True

    eventually(counted, timeout=15)
    age = metric(
        fn_server,
        f'eventplane_function_mapping_iterator_age_seconds{{function="{fn}",mapping="{mapping}"}}',
    )
    assert age is not None and 0 <= age < 600


def test_at_timestamp_starts_each_shard_at_the_first_change_from_that_time(
    client: Client, res: Resources, tables: Tables, tmp_path: Path, fn_server: EventplaneProcess
) -> None:
    """StartingPosition AT_TIMESTAMP, set to a moment between two rounds of writes made
    before the mapping exists: the function gets the second round, all of it, and nothing
    of the first."""
    arn = tables.make(partitions=2)
    name = table_of(arn)
    before = [f"before-{i}" for i in range(6)]
    after = [f"after-{i}" for i in range(6)]
    for k in before:
        client.tables.put_item(name, {"pk": S(k)})
    at = time.time() + 0.002  # past every acknowledged write of the first round
    eventually(lambda: time.time() > at + 0.002, timeout=1, interval=0.001)
    for k in after:
        client.tables.put_item(name, {"pk": S(k)})
    fn = handler(res, tmp_path)
    stream_mapping(res, arn, fn, starting_position="AT_TIMESTAMP", starting_position_timestamp=at)

    def seen() -> list[str]:
        keys = [r["dynamodb"]["Keys"]["pk"]["S"] for b in batches(tmp_path) for r in b["records"]]
        assert sorted(keys) == sorted(after), keys
        return keys

    eventually(seen, timeout=60)


def test_a_poisoned_record_is_bisected_out_to_the_on_failure_queue(
    client: Client, res: Resources, tables: Tables, tmp_path: Path
) -> None:
    arn = tables.make()
    name = table_of(arn)
    dlq = res.queue("onfail")
    fn = handler(res, tmp_path, POISON="bad", MODE="raise")
    for i in range(8):
        client.tables.put_item(name, {"pk": S(f"k{i}"), "v": S("bad" if i == 5 else "ok")})
    stream_mapping(
        res,
        arn,
        fn,
        batch_size=8,
        maximum_batching_window_in_seconds=1,
        bisect_batch_on_function_error=True,
        maximum_retry_attempts=1,
        destination_config={"OnFailure": {"Destination": dlq.arn}},
    )
    got = drain(client, dlq.url, 1, timeout=60)
    assert len(got) == 1
    record = json.loads(got[0].body)
    info = record["DDBStreamBatchInfo"]
    seqs = eventually(lambda: _seqs_of_eight(tmp_path), timeout=30)
    poison = seqs[5]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == poison
    assert info["streamArn"] == arn and info["shardId"].startswith("shardId-")
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["functionArn"].endswith(f":function:{fn}")
    assert record["responseContext"]["functionError"] == "Unhandled"

    # Every other record was finished exactly once; the poisoned one never. The batches
    # after the poisoned record's may still be running when its failure record lands.
    def _others_finished() -> Counter[str]:
        finished = done(tmp_path)
        assert {s: finished[s] for s in seqs if s != poison} == {s: 1 for s in seqs if s != poison}
        return finished

    finished = eventually(_others_finished, timeout=30)
    assert finished[poison] == 0
    # The poisoned record alone was tried twice (1 retry) after bisection isolated it.
    alone = [b for b in batches(tmp_path) if b["seqs"] == [poison]]
    assert len(alone) == 2
    # The shard goes on after the given-up record.
    client.tables.put_item(name, {"pk": S("later"), "v": S("ok")})
    eventually(lambda: _assert_len(done(tmp_path), 8), timeout=30)
    assert drain(client, dlq.url, 1, timeout=2) == []


def _seqs_of_eight(state: Path) -> list[str]:
    first = batches(state)[0]["seqs"]
    assert len(first) == 8
    return list(first)


def _assert_len(counter: Counter[str], n: int) -> bool:
    assert len(counter) == n, counter
    return True


def test_reported_item_failures_checkpoint_at_the_lowest_failed_record(
    client: Client, res: Resources, tables: Tables, tmp_path: Path
) -> None:
    arn = tables.make()
    name = table_of(arn)
    fn = handler(res, tmp_path, POISON="bad", MODE="report-once")
    values = ["ok", "ok", "bad", "ok", "bad", "ok"]
    for i, v in enumerate(values):
        client.tables.put_item(name, {"pk": S(f"k{i}"), "v": S(v)})
    stream_mapping(
        res,
        arn,
        fn,
        batch_size=6,
        maximum_batching_window_in_seconds=1,
        function_response_types=["ReportBatchItemFailures"],
    )
    eventually(lambda: _assert_len(done(tmp_path), 6), timeout=60)
    first, second = batches(tmp_path)[:2]
    assert first["done"] == first["seqs"][:2]
    # Retried from the lowest failed record: it and everything after it.
    assert second["seqs"] == first["seqs"][2:]
    assert second["done"] == second["seqs"]
    assert set(done(tmp_path).values()) == {1}


def test_filter_criteria_skip_records_without_invoking(
    client: Client, res: Resources, tables: Tables, tmp_path: Path
) -> None:
    arn = tables.make()
    name = table_of(arn)
    fn = handler(res, tmp_path)
    pattern = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"v": {"S": ["keep"]}}}}
    m = res.client.functions.create_event_source_mapping(
        arn,
        fn,
        starting_position="LATEST",
        filter_criteria={"Filters": [{"Pattern": json.dumps(pattern)}]},
    )
    res._mappings.append(m.uuid)
    assert m.stream is not None and m.stream.filter_patterns == (json.dumps(pattern),)
    client.tables.put_item(name, {"pk": S("a"), "v": S("drop")})
    client.tables.put_item(name, {"pk": S("b"), "v": S("keep")})
    client.tables.put_item(name, {"pk": S("b"), "v": S("keep")})  # no change: no record
    client.tables.put_item(name, {"pk": S("c"), "v": S("x")})
    client.tables.put_item(name, {"pk": S("c"), "v": S("keep")})  # a MODIFY: filtered out
    client.tables.put_item(name, {"pk": S("d"), "v": S("keep")})

    def two() -> list[str]:
        keys = [r["dynamodb"]["Keys"]["pk"]["S"] for b in batches(tmp_path) for r in b["records"]]
        assert keys == ["b", "d"], keys
        return keys

    eventually(two, timeout=60)


def test_a_queue_mappings_filter_deletes_what_it_does_not_match(
    client: Client, res: Resources, tmp_path: Path
) -> None:
    queue = res.queue("filtered", VisibilityTimeout="6")
    fn = res.function("basics.batch", environment={"STATE_DIR": str(tmp_path)})
    pattern = {"body": {"kind": ["keep"]}}
    m = client.functions.create_event_source_mapping(
        queue.arn, fn, filter_criteria={"Filters": [{"Pattern": json.dumps(pattern)}]}
    )
    res._mappings.append(m.uuid)
    assert m.stream is None
    bodies = ['{"kind": "keep", "n": 1}', '{"kind": "drop"}', "plain text", '{"kind": "keep"}']
    for body in bodies:
        client.queues.send_message(queue.url, body)

    def settled() -> list[str]:
        got = sorted(r["body"] for r in json_lines(tmp_path / "records.jsonl"))
        assert got == sorted([bodies[0], bodies[3]]), got
        counts = client.queues.get_queue_attributes(
            queue.url, ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )
        assert set(counts.values()) == {"0"}, counts  # the filtered-out ones were deleted
        return got

    eventually(settled, timeout=60)


def test_stream_mapping_settings_are_validated_and_shown(
    client: Client, res: Resources, tables: Tables, tmp_path: Path
) -> None:
    arn = tables.make()
    fn = handler(res, tmp_path)
    fns = client.functions
    with pytest.raises(EventplaneError) as err:
        fns.create_event_source_mapping(arn, fn)
    assert err.value.code == "InvalidParameterValueException"
    assert "StartingPosition" in err.value.message
    bad: list[tuple[dict[str, Any], str, str]] = [
        ({"starting_position": "SOMEWHERE"}, "ValidationException", "startingPosition"),
        ({"parallelization_factor": 11}, "ValidationException", "parallelizationFactor"),
        ({"maximum_retry_attempts": -2}, "ValidationException", "maximumRetryAttempts"),
        ({"maximum_record_age_in_seconds": 30}, "InvalidParameterValueException", "Age"),
        ({"batch_size": 10001}, "ValidationException", "batchSize"),
        (
            {"filter_criteria": {"Filters": [{"Pattern": "{"}]}},
            "InvalidParameterValueException",
            "filter pattern",
        ),
        (
            {"destination_config": {"OnFailure": {"Destination": "arn:aws:lambda:x"}}},
            "InvalidParameterValueException",
            "OnFailure",
        ),
    ]
    for kwargs, code, words in bad:
        kwargs.setdefault("starting_position", "LATEST")
        with pytest.raises(EventplaneError) as err:
            fns.create_event_source_mapping(arn, fn, **kwargs)
        assert err.value.code == code, kwargs
        assert words in err.value.message, (kwargs, err.value.message)
    queue = res.queue()
    with pytest.raises(EventplaneError) as err:
        fns.create_event_source_mapping(queue.arn, fn, starting_position="LATEST")
    assert err.value.code == "InvalidParameterValueException"
    assert "StartingPosition" in err.value.message
    missing = arn.replace(table_of(arn), "no-such-table")
    with pytest.raises(EventplaneError) as err:
        fns.create_event_source_mapping(missing, fn, starting_position="LATEST")
    assert err.value.code == "InvalidParameterValueException"

    uuid_ = stream_mapping(
        res,
        arn,
        fn,
        starting_position="LATEST",
        parallelization_factor=3,
        maximum_record_age_in_seconds=3600,
        enabled=False,
    )
    m = fns.get_event_source_mapping(uuid_)
    assert m.batch_size == 100 and m.event_source_arn == arn
    assert m.stream is not None
    assert (m.stream.starting_position, m.stream.parallelization_factor) == ("LATEST", 3)
    assert (m.stream.maximum_retry_attempts, m.stream.maximum_record_age_in_seconds) == (-1, 3600)
    m = fns.update_event_source_mapping(
        uuid_, maximum_retry_attempts=5, bisect_batch_on_function_error=True
    )
    assert m.stream is not None
    assert (m.stream.maximum_retry_attempts, m.stream.bisect_batch_on_function_error) == (5, True)
    assert m.stream.parallelization_factor == 3


def test_sigkill_mid_stream_repeats_at_most_the_in_flight_chunk(
    eventplane_kafka: str, tmp_path: Path
) -> None:
    """One server of its own cluster (it is killed); one shard, batches of 5."""
    cluster = unique_cluster()
    server = EventplaneProcess(eventplane_kafka, env=FUNCTIONS_ENV, cluster=cluster).start()
    try:
        with server.client(timeout=30) as client:
            res = Resources(client)
            arn = Tables(client).make()
            name = table_of(arn)
            fn = handler(res, tmp_path, SLEEP="0.3")
            total = 40
            for i in range(total):
                client.tables.put_item(name, {"pk": S(f"k{i:02d}"), "v": S("ok")})
            stream_mapping(res, arn, fn, batch_size=5)
            eventually(lambda: _at_least(done(tmp_path), 10), timeout=60)
        server.kill()
        before = done(tmp_path)
        assert len(before) < total  # killed mid-stream
        server.restart()
        eventually(lambda: _assert_len(done(tmp_path), total), timeout=90)
        finished = done(tmp_path)
        repeated = sum(n - 1 for n in finished.values())
        # Only the chunk in flight at the kill (one batch of 5 on the one shard) ran again.
        assert repeated <= 5, finished
        with server.client(timeout=30) as client:
            client.tables.delete_table(name)
            for m in client.functions.list_event_source_mappings(function_name=fn):
                client.functions.delete_event_source_mapping(m.uuid)
    finally:
        server.stop()


def _at_least(counter: Counter[str], n: int) -> bool:
    assert len(counter) >= n, len(counter)
    return True


def test_the_table_stream_fanout_example_runs(fn_server: EventplaneProcess) -> None:
    """examples/table_stream_fanout/run.py, as a user runs it, against this module's server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTPLANE_")}
    env["EVENTPLANE_ENDPOINT"] = fn_server.endpoint
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}\n{fn_server.log_tail()}"
    assert "OK: 5 profile changes fanned out" in proc.stdout
    assert "sign-ups counted: 3 (['free', 'free', 'pro'])" in proc.stdout


def test_stream_lag_per_shard_shows_what_a_blocked_mapping_has_not_finished(
    client: Client, res: Resources, tables: Tables, tmp_path: Path, fn_server: EventplaneProcess
) -> None:
    """eventplane_table_stream_lag_offsets: a batch failing forever (no retry limit) keeps
    its shard's three writes unfinished (a record and a transaction marker each); another
    table's caught-up shard shows 0."""
    blocked, flowing = tables.make(), tables.make()
    fn = handler(res, tmp_path, POISON="bad", MODE="raise")
    for i in range(3):
        client.tables.put_item(table_of(blocked), {"pk": S(f"k{i}"), "v": S("bad")})
    client.tables.put_item(table_of(flowing), {"pk": S("k"), "v": S("ok")})
    stream_mapping(res, blocked, fn, batch_size=10)
    stream_mapping(res, flowing, fn, batch_size=10)

    def lag(arn: str) -> float | None:
        (shard,) = client.tables.describe_stream(arn).shards
        labels = {f'shard="{shard.shard_id}"', f'table="{table_of(arn)}"'}
        text = urllib.request.urlopen(fn_server.metrics_url, timeout=10).read().decode()
        for line in text.splitlines():
            name, _, rest = line.partition("{")
            if name == "eventplane_table_stream_lag_offsets" and (
                set(rest.split("}")[0].split(",")) == labels
            ):
                return float(line.split()[-1])
        return None

    def settled() -> bool:
        got = (lag(blocked), lag(flowing))
        assert got[0] is not None and got[0] >= 3 and got[1] == 0, got
        assert any(b["done"] == [] for b in batches(tmp_path))  # the blocked batch ran
        return True

    eventually(settled, timeout=60)


def test_a_mapping_follows_a_repartition_parents_before_children(
    client: Client, res: Resources, tables: Tables, tmp_path: Path, fn_server: EventplaneProcess
) -> None:
    arn = tables.make(partitions=2)
    name = table_of(arn)
    items = [f"k{i}" for i in range(12)]
    for k in items:
        client.tables.put_item(name, {"pk": S(k), "v": S("1")})
    client.tables.update_table(name, partitions=4)

    def split() -> bool:
        d = client.tables.describe_table(name)
        assert d.table_status == "ACTIVE" and d.partitions == 4
        return True

    eventually(split, timeout=60)
    for k in items:
        client.tables.put_item(name, {"pk": S(k), "v": S("2")})
    for k in items:
        client.tables.delete_item(name, {"pk": S(k)})
    # Created after the split from TRIM_HORIZON: parents and children are all there to
    # read at once, and the children must wait for their parents.
    fn = handler(res, tmp_path)
    stream_mapping(res, arn, fn, batch_size=2)

    def all_seen() -> list[dict[str, Any]]:
        records = [r for b in batches(tmp_path) for r in b["records"]]
        assert len(records) == 36, len(records)
        return records

    records = eventually(all_seen, timeout=90)
    per_item: dict[str, list[str]] = {}
    for r in records:
        per_item.setdefault(r["dynamodb"]["Keys"]["pk"]["S"], []).append(r["eventName"])
    assert per_item == {k: ["INSERT", "MODIFY", "REMOVE"] for k in items}
    assert len({r["eventID"] for r in records}) == 36
