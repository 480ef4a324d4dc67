"""One server per module for the workflow tests, a client, and handler functions."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from eventplane.bench._stages import scrape
from eventplane.client import Client
from eventplane.kafka import naming
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

HANDLERS = Path(__file__).parent / "handlers" / "wfsteps"
FN_PREFIX = "arn:aws:lambda:local:000000000000:function:"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def wf_server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    server = EventplaneProcess(
        eventplane_kafka, roles="api,runner,workflows,queues,fanout,bus", cluster=unique_cluster()
    ).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def client(wf_server: EventplaneProcess) -> Iterator[Client]:
    with wf_server.client(timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def fns(client: Client) -> Iterator[dict[str, str]]:
    """One function per handler of wf_steps, by handler name -> function ARN."""
    names = {
        h: unique(f"wf-{h}".replace("_", "-"))
        for h in ("add", "flaky", "boom", "keep_token", "mark", "big")
    }
    for handler, name in names.items():
        client.functions.create_function(name, f"wf_steps.{handler}", zip_directory=HANDLERS)
    yield {h: FN_PREFIX + n for h, n in names.items()}
    for name in names.values():
        client.functions.delete_function(name)


def stage_count(server: EventplaneProcess, stage: str) -> float:
    """How often the server observed ``stage`` (observability.stages): e.g. the function
    Tasks its owners ran themselves (``wf_commit_to_direct_invoke``) or its dispatchers
    ran (``wf_task_consume_to_invoke``)."""
    return scrape(server.metrics_url).get(stage, {}).get(math.inf, 0.0)


def read_to_end(server: EventplaneProcess, name: str) -> list[Any]:
    """Every committed record of the server's topic ``name`` (``wf.inbox``, ``wf.tasks``),
    from its beginning to its end as it is now."""
    topic = f"{naming.cluster_prefix(server.cluster or '')}.{name}"
    reader = Consumer(
        {
            "bootstrap.servers": server.bootstrap,
            "group.id": unique("test-reader"),
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    found: list[Any] = []
    try:
        parts = reader.list_topics(topic, timeout=10).topics[topic].partitions
        tps = [TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts]
        ends = {
            p: reader.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts
        }
        reader.assign(tps)
        # to the end of every partition (a read_committed position passes the markers)
        while any(tp.offset < ends[tp.partition] for tp in reader.position(tps)):
            m = reader.poll(1.0)
            if m is None:
                break
            if m.error() is None:
                found.append(m)
    finally:
        reader.close()
    return found


def tasks_journaled(server: EventplaneProcess, arns: Sequence[str]) -> None:
    """Wait until every task record of ``arns`` is journaled as finished by the task
    dispatchers: a dispatcher that ran a record its owner ran too has run it by then."""
    prefix = naming.cluster_prefix(server.cluster or "")
    topic = f"{prefix}.wf.tasks"
    keys = {a.encode() for a in arns}
    last: dict[int, int] = {}
    for m in read_to_end(server, "wf.tasks"):
        if m.key() in keys:
            last[m.partition()] = m.offset()
    assert last, "no task records of the executions"
    group = Consumer({"bootstrap.servers": server.bootstrap, "group.id": f"{prefix}.wf-tasks"})
    try:

        def journaled() -> bool:
            done = group.committed([TopicPartition(topic, p) for p in last], timeout=10)
            return all(tp.offset > last[tp.partition] for tp in done)

        eventually(journaled, timeout=30)
    finally:
        group.close()
