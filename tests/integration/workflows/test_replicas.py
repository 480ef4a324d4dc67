"""Standard executions on two replicas of one installation.

Each replica's owners hold some of the inbox partitions and its dispatchers some of the
task partitions, independently. A function Task runs in its owner only where that
replica also reads the task record's partition; elsewhere the record's dispatcher runs
it. Either way once: the Tasks the owners ran and the ones the dispatchers ran add up
to the Tasks there were.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from eventplane.kafka import naming
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

from .conftest import FN_PREFIX, HANDLERS, stage_count, tasks_journaled, unique

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXECUTIONS = 8
TASKS = 3


@pytest.fixture(scope="module")
def replicas(eventplane_kafka: str) -> Iterator[list[EventplaneProcess]]:
    cluster = unique_cluster()
    servers = [
        EventplaneProcess(eventplane_kafka, roles="api,runner,workflows", cluster=cluster)
        for _ in range(2)
    ]
    try:
        for s in servers:
            s.start()
        yield servers
    finally:
        for s in servers:
            s.stop()


def settled(servers: list[EventplaneProcess]) -> bool:
    """Both groups stable with both replicas holding partitions (no move mid-test)."""
    prefix = naming.cluster_prefix(servers[0].cluster or "")
    admin = AdminClient({"bootstrap.servers": servers[0].bootstrap})
    groups = [f"{prefix}.wf-owners", f"{prefix}.wf-tasks"]
    for future in admin.describe_consumer_groups(groups, request_timeout=10).values():
        group = future.result()
        holding = [m for m in group.members if m.assignment and m.assignment.topic_partitions]
        if str(group.state).rsplit(".", 1)[-1] != "STABLE" or len(holding) != 2:
            return False
    return True


def counts(servers: list[EventplaneProcess]) -> tuple[float, float]:
    direct = sum(stage_count(s, "wf_commit_to_direct_invoke") for s in servers)
    dispatched = sum(stage_count(s, "wf_task_consume_to_invoke") for s in servers)
    return direct, dispatched


def test_each_function_task_runs_once_whichever_replica_runs_it(
    replicas: list[EventplaneProcess], tmp_path: Path
) -> None:
    eventually(lambda: settled(replicas), timeout=60)
    with replicas[0].client(timeout=60) as c:
        name = unique("wf-mark")
        c.functions.create_function(name, "wf_steps.mark", zip_directory=HANDLERS)
        task = {"Type": "Task", "Resource": FN_PREFIX + name}
        states = {
            f"T{i}": {
                **task,
                "Parameters": {"step": f"T{i}", "log.$": "$.log"},
                "Next": f"T{i + 1}",
            }
            for i in range(TASKS)
        }
        states[f"T{TASKS - 1}"] = {
            **task,
            "Parameters": {"step": f"T{TASKS - 1}", "log.$": "$.log"},
            "End": True,
        }
        sm = c.workflows.create_state_machine(unique("sm"), {"StartAt": "T0", "States": states})
        before = counts(replicas)
        logs = [tmp_path / f"log{i}" for i in range(EXECUTIONS)]
        arns = [
            c.workflows.start_execution(sm.state_machine_arn, {"log": str(log)}).execution_arn
            for log in logs
        ]

        def finished() -> bool:
            return all(c.workflows.describe_execution(a).status != "RUNNING" for a in arns)

        eventually(finished, timeout=60)
        assert {c.workflows.describe_execution(a).status for a in arns} == {"SUCCEEDED"}
    tasks_journaled(replicas[0], arns)
    for log in logs:
        assert [json.loads(x) for x in log.read_text().splitlines()] == [
            f"T{i}" for i in range(TASKS)
        ]
    direct, dispatched = (a - b for a, b in zip(counts(replicas), before, strict=True))
    assert direct + dispatched == EXECUTIONS * TASKS, (direct, dispatched)
