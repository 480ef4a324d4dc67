"""State machine versions and aliases through the client against a real server."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from eventplane._gen.v1 import workflows_pb2 as pb
from eventplane._gen.v1 import workflows_pb2_grpc
from eventplane.client import Client
from eventplane.errors import ValidationException
from eventplane.errors.workflows import (
    ConflictException,
    InvalidArn,
    StatesResourceNotFound,
)
from eventplane.testing import EventplaneProcess, eventually

from .conftest import unique

pytestmark = pytest.mark.integration


def says(word: str) -> dict[str, Any]:
    """A machine whose output names the definition that ran."""
    return {"StartAt": "Say", "States": {"Say": {"Type": "Pass", "Result": word, "End": True}}}


def finished(client: Client, arn: str) -> Any:
    def done() -> Any:
        e = client.workflows.describe_execution(arn)
        assert e.status != "RUNNING", e
        return e

    return eventually(done, timeout=30)


def test_publish_numbers_versions_and_an_unchanged_definition_returns_the_latest(
    client: Client,
) -> None:
    wf = client.workflows
    sm = wf.create_state_machine(unique("ver"), says("v1"), publish=True, version_description="one")
    base = sm.state_machine_arn
    assert sm.state_machine_version_arn == base + ":1"
    assert wf.publish_state_machine_version(base).state_machine_version_arn == base + ":1"
    v2 = wf.update_state_machine(base, definition=says("v2"), publish=True)
    assert v2.state_machine_version_arn == base + ":2"
    listed = [v.state_machine_version_arn for v in wf.list_state_machine_versions(base)]
    assert listed == [base + ":2", base + ":1"]
    one = wf.describe_state_machine(base + ":1")
    assert (one.state_machine_arn, one.description) == (base + ":1", "one")
    assert '"v1"' in one.definition and '"v2"' in wf.describe_state_machine(base).definition
    with pytest.raises(ConflictException):
        wf.publish_state_machine_version(base, revision_id="not-the-revision")
    with pytest.raises(StatesResourceNotFound):
        wf.describe_state_machine(base + ":9")


def test_an_execution_of_a_version_runs_that_versions_definition(client: Client) -> None:
    wf = client.workflows
    base = wf.create_state_machine(unique("ver"), says("old"), publish=True).state_machine_arn
    wf.update_state_machine(base, definition=says("new"))
    run = wf.start_execution(base + ":1", {}, name=unique("e"))
    e = finished(client, run.execution_arn)
    assert (e.status, e.json()) == ("SUCCEEDED", "old")
    assert e.state_machine_arn == base
    assert (e.state_machine_version_arn, e.state_machine_alias_arn) == (base + ":1", None)
    latest = finished(client, wf.start_execution(base, {}).execution_arn)
    assert latest.json() == "new" and latest.state_machine_version_arn is None
    by_version = wf.list_executions(base + ":1")
    assert [x.execution_arn for x in by_version] == [run.execution_arn]


def test_an_alias_to_one_version_runs_that_version_and_describe_names_both(
    client: Client,
) -> None:
    wf = client.workflows
    base = wf.create_state_machine(unique("ali"), says("stable"), publish=True).state_machine_arn
    wf.update_state_machine(base, definition=says("canary"), publish=True)
    alias = wf.create_state_machine_alias("PROD", [(base + ":1", 100)], description="live")
    assert alias.state_machine_alias_arn == base + ":PROD"
    assert alias.routing_configuration[0].weight == 100
    runs = [wf.start_execution(alias.state_machine_alias_arn, {}) for _ in range(3)]
    for run in runs:
        e = finished(client, run.execution_arn)
        assert (e.status, e.json()) == ("SUCCEEDED", "stable")
        assert e.state_machine_alias_arn == alias.state_machine_alias_arn
        assert e.state_machine_version_arn == base + ":1"
    history = wf.get_execution_history(runs[0].execution_arn)
    started = history[0]["executionStartedEventDetails"]
    assert started["stateMachineAliasArn"] == alias.state_machine_alias_arn
    # Move the alias: new executions run version 2.
    moved = wf.update_state_machine_alias(
        alias.state_machine_alias_arn, routing_configuration=[(base + ":2", 100)]
    )
    assert moved.description == "live" and moved.creation_date == alias.creation_date
    e = finished(client, wf.start_execution(alias.state_machine_alias_arn, {}).execution_arn)
    assert e.json() == "canary" and e.state_machine_version_arn == base + ":2"
    assert len(wf.list_executions(alias.state_machine_alias_arn)) == 4


def test_a_version_behind_an_alias_cannot_be_deleted_until_the_alias_goes(
    client: Client,
) -> None:
    wf = client.workflows
    base = wf.create_state_machine(unique("del"), says("x"), publish=True).state_machine_arn
    alias = wf.create_state_machine_alias("live", [(base + ":1", 100)]).state_machine_alias_arn
    assert [a.state_machine_alias_arn for a in wf.list_state_machine_aliases(base)] == [alias]
    assert len(wf.list_state_machine_aliases(base + ":1")) == 1
    with pytest.raises(ConflictException, match="live"):
        wf.delete_state_machine_version(base + ":1")
    wf.delete_state_machine_alias(alias)
    with pytest.raises(StatesResourceNotFound):
        wf.describe_state_machine_alias(alias)
    wf.delete_state_machine_version(base + ":1")
    assert wf.list_state_machine_versions(base) == []
    # The next version is 2: numbers are never reused.
    wf.update_state_machine(base, definition=says("y"))
    assert wf.publish_state_machine_version(base).state_machine_version_arn == base + ":2"


def test_bad_alias_requests_get_step_functions_errors_naming_the_field(client: Client) -> None:
    wf = client.workflows
    base = wf.create_state_machine(unique("bad"), says("x"), publish=True).state_machine_arn
    wf.update_state_machine(base, definition=says("y"), publish=True)
    with pytest.raises(ValidationException, match="routingConfiguration weights must sum"):
        wf.create_state_machine_alias("a", [(base + ":1", 50), (base + ":2", 40)])
    with pytest.raises(StatesResourceNotFound):
        wf.create_state_machine_alias("a", [(base + ":7", 100)])
    with pytest.raises(InvalidArn, match="routingConfiguration"):
        wf.create_state_machine_alias("a", [(base, 100)])
    with pytest.raises(StatesResourceNotFound):
        wf.start_execution(base + ":nope", {})


def test_versions_list_in_pages_newest_first(client: Client, wf_server: EventplaneProcess) -> None:
    wf = client.workflows
    base = wf.create_state_machine(unique("pg"), says("0"), publish=True).state_machine_arn
    for word in ("1", "2"):
        wf.update_state_machine(base, definition=says(word), publish=True)
    seen, token = [], ""
    with grpc.insecure_channel(wf_server.endpoint) as channel:
        stub = workflows_pb2_grpc.WorkflowsStub(channel)
        while True:
            r = stub.ListStateMachineVersions(
                pb.ListStateMachineVersionsRequest(
                    state_machine_arn=base, max_results=2, next_token=token
                ),
                timeout=30,
            )
            assert len(r.state_machine_versions) <= 2
            seen += [v.state_machine_version_arn for v in r.state_machine_versions]
            token = r.next_token
            if not token:
                break
    assert seen == [base + ":3", base + ":2", base + ":1"]


def test_a_sync_express_execution_of_an_alias_runs_its_version(client: Client) -> None:
    wf = client.workflows
    base = wf.create_state_machine(
        unique("exv"), says("first"), type="EXPRESS", publish=True
    ).state_machine_arn
    wf.update_state_machine(base, definition=says("second"))
    alias = wf.create_state_machine_alias("live", [(base + ":1", 100)]).state_machine_alias_arn
    e = wf.start_sync_execution(alias, {})
    assert (e.status, e.json()) == ("SUCCEEDED", "first")
    assert (e.state_machine_version_arn, e.state_machine_alias_arn) == (base + ":1", alias)


def test_versions_and_aliases_survive_a_restart(
    client: Client, wf_server: EventplaneProcess
) -> None:
    wf = client.workflows
    base = wf.create_state_machine(unique("dur"), says("kept"), publish=True).state_machine_arn
    alias = wf.create_state_machine_alias("PROD", [(base + ":1", 100)]).state_machine_alias_arn
    wf_server.stop()
    wf_server.restart()

    def still_there() -> Any:
        assert [v.state_machine_version_arn for v in wf.list_state_machine_versions(base)] == [
            base + ":1"
        ]
        return wf.describe_state_machine_alias(alias)

    assert eventually(still_there, timeout=30).routing_configuration[0].weight == 100
    e = finished(client, wf.start_execution(alias, {}).execution_arn)
    assert e.json() == "kept"
