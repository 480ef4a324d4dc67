"""`eventplane workflow` version, alias and redrive commands against a fake server: each
sends the request the Workflows API expects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cli_harness import as_json, cli_runner, usage_error
from fake_grpc import FakeService, serve

from eventplane._gen.v1 import workflows_pb2 as pb
from eventplane._gen.v1 import workflows_pb2_grpc
from eventplane.errors.workflows import ConflictException

SM = "arn:aws:states:local:000000000000:stateMachine:orders"
# A bare name sent as an ARN of no account: the caller's account's machine.
NAMED = "arn:aws:states:local::stateMachine:orders"
EXEC = "arn:aws:states:local:000000000000:execution:orders:e1"


@pytest.fixture
def fake() -> Iterator[tuple[FakeService, str]]:
    service = FakeService(pb, "Workflows")
    with serve(service, workflows_pb2_grpc.add_WorkflowsServicer_to_server) as target:
        yield service, target


@pytest.fixture
def run(fake: tuple[FakeService, str], capsys: pytest.CaptureFixture[str]) -> Any:
    return cli_runner("workflow", fake[1], capsys)


def test_publish_version_takes_a_name_and_prints_the_version_arn(
    fake: tuple[FakeService, str], run: Any
) -> None:
    service, _ = fake
    service.responses["PublishStateMachineVersion"] = pb.PublishStateMachineVersionResponse(
        state_machine_version_arn=SM + ":3", creation_date=1
    )
    code, out, _ = run("publish-version", "orders", "--description", "third")
    assert (code, out) == (0, SM + ":3\n")
    req = service.only("PublishStateMachineVersion")
    assert (req.state_machine_arn, req.description, req.revision_id) == (NAMED, "third", "")


def test_create_alias_sends_each_route_as_a_version_arn_and_weight(
    fake: tuple[FakeService, str], run: Any
) -> None:
    service, _ = fake
    service.responses["CreateStateMachineAlias"] = pb.CreateStateMachineAliasResponse(
        state_machine_alias_arn=SM + ":PROD"
    )
    service.responses["DescribeStateMachineAlias"] = pb.StateMachineAlias(
        state_machine_alias_arn=SM + ":PROD", name="PROD"
    )
    code, out, _ = run("create-alias", "PROD", "--route", "orders:1=90", "--route", SM + ":2=10")
    assert (code, out) == (0, SM + ":PROD\n")
    req = service.calls[0][1]
    routes = [(e.state_machine_version_arn, e.weight) for e in req.routing_configuration]
    assert routes == [(NAMED + ":1", 90), (SM + ":2", 10)]


def test_a_route_without_a_weight_is_a_usage_error(
    run: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    err = usage_error(run, capsys, "create-alias", "PROD", "--route", "orders:1")
    assert "VERSION=WEIGHT" in err


def test_list_versions_prints_json_for_scripts(fake: tuple[FakeService, str], run: Any) -> None:
    service, _ = fake
    service.responses["ListStateMachineVersions"] = pb.ListStateMachineVersionsResponse(
        state_machine_versions=[
            pb.StateMachineVersionListItem(state_machine_version_arn=SM + ":2", creation_date=2),
            pb.StateMachineVersionListItem(state_machine_version_arn=SM + ":1", creation_date=1),
        ]
    )
    listed = as_json(run("list-versions", "orders", "--json"))
    arns = [v["state_machine_version_arn"] for v in listed["stateMachineVersions"]]
    assert arns == [SM + ":2", SM + ":1"]


def test_delete_version_reports_the_conflict_and_exits_non_zero(
    fake: tuple[FakeService, str], run: Any
) -> None:
    service, _ = fake
    service.errors["DeleteStateMachineVersion"] = ConflictException("alias(es) PROD route to it")
    code, _, err = run("delete-version", "orders:1")
    assert code != 0 and "ConflictException" in err
    assert service.only("DeleteStateMachineVersion").state_machine_version_arn == NAMED + ":1"


def test_redrive_sends_the_execution_and_prints_the_redrive_date(
    fake: tuple[FakeService, str], run: Any
) -> None:
    service, _ = fake
    service.responses["RedriveExecution"] = pb.RedriveExecutionResponse(redrive_date=1000)
    service.responses["DescribeExecution"] = pb.Execution(execution_arn=EXEC, status="RUNNING")
    code, out, _ = run("redrive", EXEC)
    assert code == 0 and out.startswith("redriven at 1970-01-01T00:00:01")
    assert service.calls[0][1].execution_arn == EXEC


def test_create_with_publish_prints_the_published_version(
    fake: tuple[FakeService, str], run: Any
) -> None:
    service, _ = fake
    service.responses["CreateStateMachine"] = pb.CreateStateMachineResponse(
        state_machine_arn=SM, state_machine_version_arn=SM + ":1"
    )
    service.responses["DescribeStateMachine"] = pb.StateMachine(state_machine_arn=SM)
    definition = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}'
    code, out, _ = run("create", "orders", "--definition", definition, "--publish")
    assert (code, out) == (0, SM + ":1\n")
    assert service.calls[0][1].publish is True
