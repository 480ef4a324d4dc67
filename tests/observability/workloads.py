"""The workflow and table part of the live test's load: a state machine whose executions
succeed or fail by their input, and a table with a stream, a stream mapping to a function,
refused conditional writes and canceled transactions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.testing import eventually

# Fails when the input says so: executions end as succeeded and as failed.
DEFINITION = {
    "StartAt": "Route",
    "States": {
        "Route": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Refuse"}],
            "Default": "Done",
        },
        "Done": {"Type": "Pass", "End": True},
        "Refuse": {"Type": "Fail", "Error": "Refused", "Cause": "asked to"},
    },
}


@dataclass(frozen=True)
class Stateful:
    """What the workflow and table load created."""

    state_machine: str  # name, the label of eventplane_workflow_*
    state_machine_arn: str
    table: str
    stream_arn: str
    mapping: str  # event source mapping UUID


def create(c: Client, name: str, function: str, undo: list[Callable[[], Any]]) -> Stateful:
    machine = c.workflows.create_state_machine(name, DEFINITION)
    arn = machine.state_machine_arn
    undo.append(lambda: c.workflows.delete_state_machine(arn))

    desc = c.tables.create_table(
        name,
        key_schema=[("pk", "HASH")],
        attribute_definitions=[("pk", "S")],
        stream_view_type="NEW_AND_OLD_IMAGES",
        partitions=1,
    )
    undo.append(lambda: c.tables.delete_table(name))
    stream_arn = str(desc.latest_stream_arn)
    mapping = c.functions.create_event_source_mapping(
        stream_arn, function, starting_position="TRIM_HORIZON", batch_size=10
    ).uuid
    undo.append(lambda: c.functions.delete_event_source_mapping(mapping))
    _repartitioned(c, f"{name}-re", undo)
    return Stateful(name, arn, name, stream_arn, mapping)


def _repartitioned(c: Client, name: str, undo: list[Callable[[], Any]]) -> None:
    """A table of a few items taken from one partition to two (the repartition panels)."""
    c.tables.create_table(
        name, key_schema=[("pk", "HASH")], attribute_definitions=[("pk", "S")], partitions=1
    )
    undo.append(lambda: c.tables.delete_table(name))
    for i in range(4):
        c.tables.put_item(name, {"pk": {"S": f"item-{i}"}})
    c.tables.update_table(name, partitions=2)

    def switched() -> bool:
        d = c.tables.describe_table(name)
        return (d.table_status, d.partitions) == ("ACTIVE", 2)

    eventually(switched, timeout=60, interval=0.2)


def traffic(c: Client, load: Stateful) -> None:
    """Two executions that succeed and one that fails, waited for; table writes, reads,
    a refused conditional write, a canceled transaction, a replayed one and a stream read."""
    runs = [
        c.workflows.start_execution(load.state_machine_arn, {"fail": fail}).execution_arn
        for fail in (False, False, True)
    ]
    for run in runs:
        eventually(
            lambda run=run: c.workflows.describe_execution(run).status != "RUNNING",
            timeout=20,
            interval=0.1,
        )

    for i in range(3):
        c.tables.put_item(
            load.table, {"pk": {"S": f"item-{uuid.uuid4().hex[:6]}"}, "n": {"N": str(i)}}
        )
    key = f"fixed-{uuid.uuid4().hex[:6]}"
    c.tables.put_item(load.table, {"pk": {"S": key}, "n": {"N": "0"}})
    assert c.tables.get_item(load.table, {"pk": {"S": key}}) is not None
    with pytest.raises(EventplaneError) as refused:
        c.tables.put_item(
            load.table,
            {"pk": {"S": key}, "n": {"N": "1"}},
            condition_expression="attribute_not_exists(pk)",
        )
    assert refused.value.code == "ConditionalCheckFailedException"
    with pytest.raises(EventplaneError) as canceled:
        c.tables.transact_write_items(
            [
                {
                    "Put": {
                        "TableName": load.table,
                        "Item": {"pk": {"S": key}, "n": {"N": "2"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            ]
        )
    assert canceled.value.code == "TransactionCanceledException"
    token = uuid.uuid4().hex
    replayed = [
        {
            "Put": {
                "TableName": load.table,
                "Item": {"pk": {"S": f"tx-{token[:6]}"}, "n": {"N": "3"}},
            }
        }
    ]
    for _ in range(2):  # the second call is answered from the token's record
        c.tables.transact_write_items(replayed, client_request_token=token)

    shard = c.tables.describe_stream(load.stream_arn).shards[0].shard_id
    iterator = c.tables.get_shard_iterator(load.stream_arn, shard, "TRIM_HORIZON")
    assert c.tables.get_records(iterator).records


def selectors(load: Stateful) -> list[str]:
    """Series Prometheus holds once the load's first round was scraped."""
    return [
        f'eventplane_workflow_executions_total{{state_machine="{load.state_machine}",'
        ' outcome="failed"}',
        'eventplane_workflow_execution_duration_seconds_count{type="STANDARD"}',
        f'eventplane_table_conditional_check_failures_total{{table="{load.table}"}}',
        f'eventplane_table_transactions_canceled_total{{table="{load.table}"}}',
        f'eventplane_table_stream_records_read_total{{table="{load.table}"}}',
        f'eventplane_table_items{{table="{load.table}"}}',
        f'eventplane_function_mapping_iterator_age_seconds{{mapping="{load.mapping}"}}',
    ]
