"""Standard starts the owner of their inbox partition takes directly (``owner.HandedStart``),
on the real broker: no Start record in the inbox, the call answered once the step
committed, and the execution readable at once on the replica that answered."""

from __future__ import annotations

import json
import uuid

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess, eventually
from eventplane.workflows.starts import inbox_partition

from .conftest import read_to_end, stage_count, unique

pytestmark = pytest.mark.integration

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": 1}, "End": True}}}
WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}


def inbox_keys(server: EventplaneProcess) -> set[bytes]:
    """The keys of every record in the server's workflow inbox."""
    return {m.key() for m in read_to_end(server, "wf.inbox")}


def test_a_start_the_owner_takes_skips_the_inbox_and_is_read_back_at_once(
    client: Client, wf_server: EventplaneProcess
) -> None:
    sm = client.workflows.create_state_machine(unique("sm"), PASS).state_machine_arn
    # The first start may come before the owner holds its partition (the inbox way).
    first = client.workflows.start_execution(sm, {})
    eventually(
        lambda: client.workflows.describe_execution(first.execution_arn).status == "SUCCEEDED"
    )
    through_inbox = stage_count(wf_server, "wf_inbox_to_owner_consume")
    arns = []
    for i in range(20):
        e = client.workflows.start_execution(sm, {"i": i})
        arns.append(e.execution_arn)
        # Answered after its step committed: this replica reads it at once.
        described = client.workflows.describe_execution(e.execution_arn)
        assert described.status == "SUCCEEDED" and described.output == '{"ok":1}'
        assert json.loads(described.input) == {"i": i}
        history = [h["type"] for h in client.workflows.get_execution_history(e.execution_arn)]
        assert history[0] == "ExecutionStarted" and history[-1] == "ExecutionSucceeded"
    assert stage_count(wf_server, "wf_inbox_to_owner_consume") == through_inbox
    assert not {a.encode() for a in arns} & inbox_keys(wf_server)


def test_a_name_started_directly_is_the_same_execution_when_started_again(
    client: Client,
) -> None:
    sm = client.workflows.create_state_machine(unique("sm"), WAIT).state_machine_arn
    warm = client.workflows.start_execution(sm, {})
    eventually(lambda: client.workflows.describe_execution(warm.execution_arn).status == "RUNNING")
    first = client.workflows.start_execution(sm, {"a": 1}, name="twice")
    again = client.workflows.start_execution(sm, {"a": 1}, name="twice")
    assert (again.execution_arn, again.start_date) == (first.execution_arn, first.start_date)
    with pytest.raises(EventplaneError) as exc:
        client.workflows.start_execution(sm, {"a": 2}, name="twice")
    assert exc.value.code == "ExecutionAlreadyExists"
    listed = client.workflows.list_executions(sm)
    assert sum(1 for e in listed if e.name == "twice") == 1
    for arn in (warm.execution_arn, first.execution_arn):
        client.workflows.stop_execution(arn)


def test_the_inbox_partition_of_an_execution_is_the_one_kafka_puts_its_records_in(
    eventplane_kafka: str,
) -> None:
    """The owner takes a start for a partition it holds; the execution's later records
    (task results, timers) go to the inbox by Kafka's partitioner: both must agree."""
    topic = f"eventplane-test-partitioner-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": eventplane_kafka})
    admin.create_topics([NewTopic(topic, 8, 1)])[topic].result(30)
    try:
        producer = Producer({"bootstrap.servers": eventplane_kafka})
        placed: dict[bytes, int] = {}
        keys = [
            f"arn:aws:states:local:000000000000:execution:m:{uuid.uuid4()}".encode()
            for _ in range(200)
        ]
        for key in keys:
            producer.produce(
                topic,
                b"x",
                key=key,
                on_delivery=lambda err, m: placed.__setitem__(m.key(), m.partition()),
            )
        assert producer.flush(30) == 0
        assert {k: inbox_partition(k.decode(), 8) for k in keys} == placed
    finally:
        admin.delete_topics([topic])
