"""Accounts for Step Functions on a real server: a state machine or activity belongs to
its creator's account, and so do the ARNs derived from it (executions, versions, history
events); a principal of another account neither lists nor reaches them (Step Functions
has no resource policies), on the gRPC door (tokens) and through boto3 (access keys).
Names are unique per account: A and B each have their own ``orders`` and run it.
A task of a machine of another account acts as that machine's role, so it reaches
another account's queue only through the queue's policy."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from eventplane.client import Client
from eventplane.config import Settings
from eventplane.errors import EventplaneError
from eventplane.kafka.clients import Producer
from eventplane.registry import Registry
from eventplane.security import sha256_hex
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

pytestmark = pytest.mark.integration

A, B = "111111111111", "222222222222"
ALICE_TOKEN = "ep-wfaccounts-alice-0123456789abcdef"  # account A, no policies
BOB_TOKEN = "ep-wfaccounts-bob-0123456789abcdef"  # account B, no policies
KEY_A = ("AKIDWFACCOUNTSA00001", "wf-accounts-a-secret")
KEY_B = ("AKIDWFACCOUNTSB00001", "wf-accounts-b-secret")
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}


def _tokens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tokens = tmp_path_factory.mktemp("wf-accounts") / "tokens.yaml"
    tokens.write_text(
        json.dumps(
            {
                "tokens": [
                    {"principal": "alice", "account": A, "sha256": sha256_hex(ALICE_TOKEN)},
                    {"principal": "bob", "account": B, "sha256": sha256_hex(BOB_TOKEN)},
                ]
            }
        )
    )
    return tokens


@pytest.fixture(scope="module")
def server(
    eventplane_kafka: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EventplaneProcess]:
    tokens = _tokens(tmp_path_factory)
    keys = f"{KEY_A[0]}:{KEY_A[1]}:{A}:alice,{KEY_B[0]}:{KEY_B[1]}:{B}:bob"
    proc = EventplaneProcess(
        eventplane_kafka,
        roles="api,queues,fanout,bus,workflows",
        cluster=unique_cluster(),
        env={
            "EVENTPLANE_AUTH_TOKENS_FILE": str(tokens),
            "EVENTPLANE_GATEWAY_CREDENTIALS": keys,
            # Tasks of another account's machines act as its role: role tokens in use.
            "EVENTPLANE_RECEIPT_SECRET": "a-cluster-secret-for-wf-accounts",
        },
    )
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def alice(server: EventplaneProcess) -> Iterator[Client]:
    with Client(server.endpoint, token=ALICE_TOKEN, timeout=30) as ep:
        yield ep


@pytest.fixture(scope="module")
def bob(server: EventplaneProcess) -> Iterator[Client]:
    with Client(server.endpoint, token=BOB_TOKEN, timeout=30) as ep:
        yield ep


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def _refused(call: Any, code: str = "AccessDeniedException") -> EventplaneError:
    with pytest.raises(EventplaneError) as info:
        call()
    assert info.value.code == code, info.value
    return info.value


def _hidden(call: Any, what: str, arn: str) -> None:
    """Granted nothing (Step Functions has no resource policies), bob is told the
    resource does not exist, in his own account: nothing of A's shows."""
    error = _refused(call, f"{what.replace(' ', '')}DoesNotExist")
    assert error.message == f"{what} Does Not Exist: '{arn.replace(A, B)}'"


def test_another_accounts_state_machine(alice: Client, bob: Client) -> None:
    name = f"sm-{_tag()}"
    m = alice.workflows.create_state_machine(name, WAIT, publish=True)
    arn = f"arn:aws:states:local:{A}:stateMachine:{name}"
    assert (m.state_machine_arn, m.state_machine_version_arn) == (arn, f"{arn}:1")
    e = alice.workflows.start_execution(arn, {"n": 1}, name="run")
    execution = f"arn:aws:states:local:{A}:execution:{name}:run"
    assert (e.execution_arn, e.state_machine_arn) == (execution, arn)
    started = alice.workflows.get_execution_history(execution)[0]
    details = started["executionStartedEventDetails"]
    assert details["stateMachineArn"] == arn
    assert details["roleArn"] == f"arn:aws:iam::{A}:role/eventplane"
    assert [x.execution_arn for x in alice.workflows.list_executions(arn)] == [execution]

    mine = bob.workflows.create_state_machine(f"{name}-b", PASS)
    assert mine.state_machine_arn == f"arn:aws:states:local:{B}:stateMachine:{name}-b"
    listed_a = [s.name for s in alice.workflows.list_state_machines()]
    listed_b = [s.name for s in bob.workflows.list_state_machines()]
    assert name in listed_a and f"{name}-b" not in listed_a
    assert f"{name}-b" in listed_b and name not in listed_b

    machine, run = "State Machine", "Execution"
    _hidden(lambda: bob.workflows.describe_state_machine(arn), machine, arn)
    # An ARN naming bob's own account reaches nothing either: the check is on the owner's.
    theirs = arn.replace(A, B)
    _hidden(lambda: bob.workflows.start_execution(theirs, {}), machine, theirs)
    _hidden(lambda: bob.workflows.list_executions(arn), machine, arn)
    _hidden(lambda: bob.workflows.describe_execution(execution), run, execution)
    _hidden(lambda: bob.workflows.get_execution_history(execution), run, execution)
    _hidden(lambda: bob.workflows.stop_execution(execution), run, execution)
    _hidden(lambda: bob.workflows.update_state_machine(arn, definition=PASS), machine, arn)
    _hidden(lambda: bob.workflows.publish_state_machine_version(arn), machine, arn)
    _hidden(lambda: bob.workflows.list_state_machine_versions(arn), machine, arn)
    _hidden(lambda: bob.workflows.delete_state_machine(arn), machine, arn)
    # A machine acts as a role of its own account.
    _refused(
        lambda: bob.workflows.create_state_machine(
            f"{name}-r", PASS, role_arn=f"arn:aws:iam::{A}:role/admin"
        ),
        "InvalidArn",
    )
    assert alice.workflows.describe_execution(execution).status == "RUNNING"
    alice.workflows.stop_execution(execution)
    alice.workflows.delete_state_machine(arn)


def test_another_accounts_activity(alice: Client, bob: Client) -> None:
    name = f"act-{_tag()}"
    created = alice.workflows.create_activity(name)
    arn = f"arn:aws:states:local:{A}:activity:{name}"
    assert created.activity_arn == arn
    assert alice.workflows.create_activity(name).activity_arn == arn  # idempotent for its owner
    assert name in [a.name for a in alice.workflows.list_activities()]
    assert name not in [a.name for a in bob.workflows.list_activities()]
    _hidden(lambda: bob.workflows.describe_activity(arn), "Activity", arn)
    _hidden(lambda: bob.workflows.get_activity_task(arn, wait_seconds=0), "Activity", arn)
    _hidden(lambda: bob.workflows.delete_activity(arn), "Activity", arn)


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_a_machines_tasks_act_in_its_own_account(alice: Client, bob: Client) -> None:
    tag = _tag()
    url = alice.queues.create_queue(f"wf-inbox-{tag}")
    target = alice.workflows.create_state_machine(f"wf-target-{tag}", PASS)
    send = {
        "StartAt": "Send",
        "States": {
            "Send": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage",
                "Parameters": {"QueueUrl": url, "MessageBody": "from b's machine"},
                "End": True,
            }
        },
    }
    start = {
        "StartAt": "Start",
        "States": {
            "Start": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution",
                "Parameters": {"StateMachineArn": target.state_machine_arn},
                "End": True,
            }
        },
    }
    sender = bob.workflows.create_state_machine(f"wf-send-{tag}", send).state_machine_arn
    starter = bob.workflows.create_state_machine(f"wf-start-{tag}", start).state_machine_arn

    def ended(arn: str) -> Any:
        def check() -> Any:
            e = bob.workflows.describe_execution(arn)
            assert e.status != "RUNNING"
            return e

        return eventually(check, timeout=30)

    refused = ended(bob.workflows.start_execution(sender, {}).execution_arn)
    assert refused.status == "FAILED", refused
    # Another account's queue, which grants B nothing: as if it did not exist.
    assert "The specified queue does not exist" in (refused.cause or ""), refused.cause
    assert alice.queues.receive_message(url, wait_time_seconds=1) == []
    child = ended(bob.workflows.start_execution(starter, {}).execution_arn)
    assert (child.status, child.error) == ("FAILED", "StepFunctions.AccessDeniedException")
    assert alice.workflows.list_executions(target.state_machine_arn) == []

    # The queue's policy grants B: the machine's role (of B) may send now.
    grant = {"Effect": "Allow", "Principal": {"AWS": B}, "Action": "sqs:SendMessage"}
    alice.queues.set_queue_attributes(url, {"Policy": _policy(grant)})
    sent = ended(bob.workflows.start_execution(sender, {}).execution_arn)
    assert sent.status == "SUCCEEDED", sent.cause
    got = alice.queues.receive_message(url, wait_time_seconds=5)
    assert [m.body for m in got] == ["from b's machine"]


def _sfn(server: EventplaneProcess, key: tuple[str, str]) -> Any:
    return boto3.client(
        "stepfunctions",
        endpoint_url=server.gateway_url,
        region_name="us-east-1",
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
        config=Config(retries={"max_attempts": 1}),
    )


def test_boto3_state_machines_of_two_accounts(server: EventplaneProcess, bob: Client) -> None:
    name = f"gw-sm-{_tag()}"
    sfn_a, sfn_b = _sfn(server, KEY_A), _sfn(server, KEY_B)
    role = f"arn:aws:iam::{A}:role/eventplane"
    arn = sfn_a.create_state_machine(name=name, definition=json.dumps(PASS), roleArn=role)[
        "stateMachineArn"
    ]
    assert arn == f"arn:aws:states:local:{A}:stateMachine:{name}"
    execution = sfn_a.start_execution(stateMachineArn=arn)["executionArn"]
    assert execution.startswith(f"arn:aws:states:local:{A}:execution:{name}:")
    found = sfn_a.describe_state_machine_for_execution(executionArn=execution)
    assert found["stateMachineArn"] == arn
    assert name in [m["name"] for m in sfn_a.list_state_machines()["stateMachines"]]
    assert name not in [m["name"] for m in sfn_b.list_state_machines()["stateMachines"]]
    for call, code in (
        (lambda: sfn_b.describe_state_machine(stateMachineArn=arn), "StateMachineDoesNotExist"),
        (lambda: sfn_b.start_execution(stateMachineArn=arn), "StateMachineDoesNotExist"),
        (lambda: sfn_b.describe_execution(executionArn=execution), "ExecutionDoesNotExist"),
        (lambda: sfn_b.list_executions(stateMachineArn=arn), "StateMachineDoesNotExist"),
    ):
        with pytest.raises(ClientError) as info:
            call()
        assert info.value.response["Error"]["Code"] == code
        assert f":{A}:" not in info.value.response["Error"]["Message"]
    # The gRPC door sees the same owner: bob (B's token) is told the same.
    _hidden(lambda: bob.workflows.describe_state_machine(arn), "State Machine", arn)


def test_another_accounts_rule_cannot_start_a_machine(alice: Client, bob: Client) -> None:
    """B's rule targets A's machine: dead-lettered (AccessDenied); A's own rule starts it."""
    tag = _tag()
    target = alice.workflows.create_state_machine(f"wf-ruled-{tag}", PASS).state_machine_arn
    dlq = bob.queues.create_queue(f"wf-dlq-{tag}")
    dlq_arn = bob.queues.get_queue_attributes(dlq, ["QueueArn"])["QueueArn"]
    bob.events.put_rule(f"wf-b-{tag}", event_pattern={"source": [f"b-{tag}"]})
    retry = {"MaximumRetryAttempts": 0}
    to_dlq = {"Arn": dlq_arn}
    bob.events.put_targets(
        f"wf-b-{tag}",
        [{"Id": "m", "Arn": target, "RetryPolicy": retry, "DeadLetterConfig": to_dlq}],
    )
    bob.events.put_events([{"Source": f"b-{tag}", "DetailType": "t", "Detail": {}}])
    dead: list[Any] = []

    def dead_lettered() -> bool:
        dead.extend(bob.queues.receive_message(dlq, message_attribute_names=["All"]))
        return bool(dead)

    eventually(dead_lettered, timeout=60)
    assert dead[0].message_attributes["ERROR_CODE"].string_value == "AccessDenied"
    assert alice.workflows.list_executions(target) == []

    alice.events.put_rule(f"wf-a-{tag}", event_pattern={"source": [f"a-{tag}"]})
    alice.events.put_targets(f"wf-a-{tag}", [{"Id": "m", "Arn": target}])
    alice.events.put_events([{"Source": f"a-{tag}", "DetailType": "t", "Detail": {}}])
    started = eventually(lambda: alice.workflows.list_executions(target), timeout=60)
    assert [e.state_machine_arn for e in started] == [target]


@pytest.mark.parametrize("kind", ["STANDARD", "EXPRESS"])
def test_a_distributed_maps_children_act_in_its_account(
    alice: Client, bob: Client, kind: str
) -> None:
    """The children of B's Distributed Map run B's item processor: as B's role too."""
    tag = _tag()
    url = alice.queues.create_queue(f"wf-map-{tag}")
    send = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {"QueueUrl": url, "MessageBody.$": "States.Format('{}', $)"},
        "End": True,
    }
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": kind},
        "StartAt": "Send",
        "States": {"Send": send},
    }
    definition = {
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "ItemProcessor": processor, "End": True}},
    }
    arn = bob.workflows.create_state_machine(f"wf-map-{tag}", definition).state_machine_arn
    started = bob.workflows.start_execution(arn, [1, 2])
    assert started.execution_arn.startswith(f"arn:aws:states:local:{B}:execution:")

    def ended() -> Any:
        e = bob.workflows.describe_execution(started.execution_arn)
        assert e.status != "RUNNING"
        return e

    e = eventually(ended, timeout=60)
    assert e.status == "FAILED", e
    assert alice.queues.receive_message(url, wait_time_seconds=1) == []
    run = bob.workflows.list_map_runs(started.execution_arn)[0]
    assert f":{B}:mapRun:wf-map-{tag}/" in run["mapRunArn"]


def _pass(who: str) -> dict[str, Any]:
    """A machine whose output says whose it is."""
    return {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"who": who}, "End": True}}}


def _ended(ep: Client, arn: str) -> Any:
    def check() -> Any:
        e = ep.workflows.describe_execution(arn)
        assert e.status != "RUNNING"
        return e

    return eventually(check, timeout=30)


def _output(ep: Client, arn: str) -> Any:
    e = _ended(ep, arn)
    assert e.status == "SUCCEEDED", (e.error, e.cause)
    return json.loads(e.output or "null")


def test_the_same_machine_name_in_two_accounts(alice: Client, bob: Client) -> None:
    """A and B each create ``orders``: two machines, each seen, versioned, aliased, run
    and deleted by its own account only, under its own account's ARNs."""
    name = f"orders-{_tag()}"
    arn_a = f"arn:aws:states:local:{A}:stateMachine:{name}"
    arn_b = f"arn:aws:states:local:{B}:stateMachine:{name}"
    made_a = alice.workflows.create_state_machine(name, _pass("a"), publish=True)
    made_b = bob.workflows.create_state_machine(name, _pass("b"), publish=True)
    assert (made_a.state_machine_arn, made_a.state_machine_version_arn) == (arn_a, f"{arn_a}:1")
    assert (made_b.state_machine_arn, made_b.state_machine_version_arn) == (arn_b, f"{arn_b}:1")
    # Idempotent for its owner, per account.
    assert bob.workflows.create_state_machine(name, _pass("b")).state_machine_arn == arn_b
    for ep, arn, who in ((alice, arn_a, "a"), (bob, arn_b, "b")):
        described = ep.workflows.describe_state_machine(arn)
        assert (described.name, described.state_machine_arn) == (name, arn)
        assert json.loads(described.definition) == _pass(who)
        listed = [(m.name, m.state_machine_arn) for m in ep.workflows.list_state_machines()]
        assert [m for m in listed if m[0] == name] == [(name, arn)]
        versions = [
            v.state_machine_version_arn for v in ep.workflows.list_state_machine_versions(arn)
        ]
        assert versions == [f"{arn}:1"]
        assert ep.workflows.describe_state_machine(f"{arn}:1").name == name
        alias = ep.workflows.create_state_machine_alias("live", [(f"{arn}:1", 100)])
        assert alias.state_machine_alias_arn == f"{arn}:live"
        # The same execution name in both accounts: two executions, each its machine's.
        for target in (arn, f"{arn}:1", f"{arn}:live"):
            run = f"run-{target.rsplit(':', 1)[-1]}"
            e = ep.workflows.start_execution(target, {}, name=run)
            execution = arn.replace(":stateMachine:", ":execution:") + f":{run}"
            assert (e.execution_arn, e.state_machine_arn) == (execution, arn)
            assert _output(ep, execution) == {"who": who}
            started = ep.workflows.get_execution_history(execution)[0]
            assert started["executionStartedEventDetails"]["stateMachineArn"] in (
                arn,
                f"{arn}:1",
                f"{arn}:live",
            )
        runs = [x.execution_arn.rsplit(":", 1)[-1] for x in ep.workflows.list_executions(arn)]
        assert sorted(runs) == sorted(["run-live", "run-1", f"run-{name}"])
    # Each account's ARN is its own; the other's is "does not exist" in one's own account.
    machine = "State Machine"
    _hidden(lambda: bob.workflows.describe_state_machine(arn_a), machine, arn_a)
    _hidden(lambda: bob.workflows.start_execution(arn_a, {}), machine, arn_a)
    _hidden(lambda: bob.workflows.delete_state_machine(arn_a), machine, arn_a)
    _hidden(lambda: bob.workflows.describe_state_machine(f"{arn_a}:1"), machine, f"{arn_a}:1")
    # Deleting A's leaves B's as it was.
    alice.workflows.delete_state_machine(arn_a)
    _refused(lambda: alice.workflows.describe_state_machine(arn_a), "StateMachineDoesNotExist")
    e = bob.workflows.start_execution(f"{arn_b}:live", {})
    assert _output(bob, e.execution_arn) == {"who": "b"}
    bob.workflows.delete_state_machine(arn_b)


def test_the_same_activity_name_in_two_accounts(alice: Client, bob: Client) -> None:
    """A and B each have activity ``approve`` and a machine waiting on it: each worker
    gets its own account's task, and a task token works for its own account only."""
    tag = _tag()
    name = f"approve-{tag}"
    arns = {}
    for ep, account in ((alice, A), (bob, B)):
        made = ep.workflows.create_activity(name)
        arns[account] = f"arn:aws:states:local:{account}:activity:{name}"
        assert (made.name, made.activity_arn) == (name, arns[account])
        listed = [(a.name, a.activity_arn) for a in ep.workflows.list_activities()]
        assert [a for a in listed if a[0] == name] == [(name, arns[account])]
    executions = {}
    for ep, account in ((alice, A), (bob, B)):
        task = {"Type": "Task", "Resource": arns[account], "End": True}
        machine = {"StartAt": "T", "States": {"T": task}}
        sm = ep.workflows.create_state_machine(f"waits-{tag}", machine).state_machine_arn
        executions[account] = ep.workflows.start_execution(sm, {"from": account}).execution_arn
    got_b = bob.workflows.get_activity_task(arns[B], worker_name="b", wait_seconds=30)
    assert json.loads(got_b.input) == {"from": B}
    # B's token is B's: in A's hands it names no task.
    _refused(lambda: alice.workflows.send_task_success(got_b.task_token, {}), "TaskDoesNotExist")
    bob.workflows.send_task_success(got_b.task_token, {"done": "b"})
    assert _output(bob, executions[B]) == {"done": "b"}
    got_a = alice.workflows.get_activity_task(arns[A], worker_name="a", wait_seconds=30)
    assert json.loads(got_a.input) == {"from": A}
    alice.workflows.send_task_success(got_a.task_token, {"done": "a"})
    assert _output(alice, executions[A]) == {"done": "a"}
    _hidden(lambda: bob.workflows.describe_activity(arns[A]), "Activity", arns[A])
    alice.workflows.delete_activity(arns[A])
    assert bob.workflows.describe_activity(arns[B]).name == name


def test_a_nested_execution_starts_its_own_accounts_machine(alice: Client, bob: Client) -> None:
    """B's parent starts ``child`` by B's ARN: B's child runs, not A's of that name."""
    tag = _tag()
    child = f"child-{tag}"
    alice.workflows.create_state_machine(child, _pass("a"))
    child_b = bob.workflows.create_state_machine(child, _pass("b")).state_machine_arn
    start = {
        "Type": "Task",
        "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": child_b, "Input": {}},
        "OutputPath": "$.Output",
        "End": True,
    }
    parent = {"StartAt": "Start", "States": {"Start": start}}
    parent_b = bob.workflows.create_state_machine(f"parent-{tag}", parent).state_machine_arn
    e = bob.workflows.start_execution(parent_b, {})
    assert _output(bob, e.execution_arn) == {"who": "b"}
    assert len(bob.workflows.list_executions(child_b)) == 1
    child_a = f"arn:aws:states:local:{A}:stateMachine:{child}"
    assert alice.workflows.list_executions(child_a) == []


def test_rules_start_their_own_accounts_machine_of_a_shared_name(
    alice: Client, bob: Client
) -> None:
    tag = _tag()
    name = f"ruled-{tag}"
    target_a = alice.workflows.create_state_machine(name, PASS).state_machine_arn
    target_b = bob.workflows.create_state_machine(name, PASS).state_machine_arn
    bob.events.put_rule(f"wf-same-{tag}", event_pattern={"source": [f"same-{tag}"]})
    bob.events.put_targets(f"wf-same-{tag}", [{"Id": "m", "Arn": target_b}])
    bob.events.put_events([{"Source": f"same-{tag}", "DetailType": "t", "Detail": {}}])
    started = eventually(lambda: bob.workflows.list_executions(target_b), timeout=60)
    assert [e.state_machine_arn for e in started] == [target_b]
    assert started[0].execution_arn.startswith(f"arn:aws:states:local:{B}:execution:{name}:")
    assert alice.workflows.list_executions(target_a) == []


def test_boto3_the_same_names_in_two_accounts(server: EventplaneProcess) -> None:
    name = f"gw-same-{_tag()}"
    clients = {A: _sfn(server, KEY_A), B: _sfn(server, KEY_B)}
    arns = {}
    for account, sfn in clients.items():
        arns[account] = sfn.create_state_machine(
            name=name,
            definition=json.dumps(_pass(account)),
            roleArn=f"arn:aws:iam::{account}:role/eventplane",
        )["stateMachineArn"]
        assert arns[account] == f"arn:aws:states:local:{account}:stateMachine:{name}"
        sfn.create_activity(name=name)
    for account, sfn in clients.items():
        listed = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]]
        assert arns[account] in listed and len([m for m in listed if m.endswith(f":{name}")]) == 1
        activities = [a["activityArn"] for a in sfn.list_activities()["activities"]]
        assert f"arn:aws:states:local:{account}:activity:{name}" in activities
        execution = sfn.start_execution(stateMachineArn=arns[account], name="same")["executionArn"]
        assert execution == f"arn:aws:states:local:{account}:execution:{name}:same"

        def done(arn: str = execution, client: Any = sfn) -> Any:
            found = client.describe_execution(executionArn=arn)
            assert found["status"] == "SUCCEEDED"
            return found

        assert json.loads(eventually(done, timeout=30)["output"]) == {"who": account}
        described = sfn.describe_state_machine(stateMachineArn=arns[account])
        assert (described["name"], described["stateMachineArn"]) == (name, arns[account])
        found = sfn.describe_state_machine_for_execution(executionArn=execution)
        assert (found["name"], found["stateMachineArn"]) == (name, arns[account])
        # The execution page: its account's key reads it, the other's finds none.
        mine, other = (KEY_A, KEY_B) if account == A else (KEY_B, KEY_A)
        status, body = _page(server, mine, execution)
        assert status == 200 and execution in body, body
        assert _page(server, other, execution)[0] == 404
    with pytest.raises(ClientError) as info:
        clients[B].describe_state_machine(stateMachineArn=arns[A])
    assert info.value.response["Error"]["Code"] == "StateMachineDoesNotExist"
    assert f":{A}:" not in info.value.response["Error"]["Message"]


def _page(server: EventplaneProcess, key: tuple[str, str], execution: str) -> tuple[int, str]:
    """The execution page, presigned with ``key`` as a browser would open it."""
    url = f"{server.gateway_url}/ui/executions/{quote(execution, safe='')}"
    request = AWSRequest(method="GET", url=url)
    SigV4QueryAuth(Credentials(*key), "states", "us-east-1", expires=600).add_auth(request)
    try:
        with urllib.request.urlopen(str(request.prepare().url), timeout=30) as reply:
            return int(reply.status), reply.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_distributed_maps_of_the_same_name_run_their_own_children(
    alice: Client, bob: Client
) -> None:
    """A's and B's ``mapper`` each run their own item processor: their own outputs and
    Map Runs, in their own account."""
    name = f"mapper-{_tag()}"
    for ep, account in ((alice, A), (bob, B)):
        processor = {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "Result": account, "End": True}},
        }
        map_state = {"Type": "Map", "ItemProcessor": processor, "End": True}
        definition = {"StartAt": "M", "States": {"M": map_state}}
        ep.workflows.create_state_machine(name, definition)
    for ep, account in ((alice, A), (bob, B)):
        arn = f"arn:aws:states:local:{account}:stateMachine:{name}"
        started = ep.workflows.start_execution(arn, [1, 2])
        assert _output(ep, started.execution_arn) == [account, account]
        run = ep.workflows.list_map_runs(started.execution_arn)[0]["mapRunArn"]
        assert run.startswith(f"arn:aws:states:local:{account}:mapRun:{name}/")
        children = ep.workflows.list_executions(map_run_arn=run)
        assert len(children) == 2
        assert {c.execution_arn.split(":")[4] for c in children} == {account}
        assert all(f":execution:{name}/" in c.execution_arn for c in children)


def test_the_cli_names_the_callers_accounts_machine(
    server: EventplaneProcess, alice: Client, bob: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    """``eventplane workflow start NAME`` runs the caller's account's NAME."""
    from eventplane.cli import main

    name = f"cli-{_tag()}"
    alice.workflows.create_state_machine(name, _pass("a"), publish=True)
    bob.workflows.create_state_machine(name, _pass("b"), publish=True)
    for token, account, who in ((ALICE_TOKEN, A, "a"), (BOB_TOKEN, B, "b")):
        ep = ["--endpoint", server.endpoint, "--token", token]
        capsys.readouterr()
        assert main(["workflow", "describe", name, "--json", *ep]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert shown["state_machine_arn"] == f"arn:aws:states:local:{account}:stateMachine:{name}"
        assert main(["workflow", "start", f"{name}:1", "--input", "{}", "--wait", *ep]) == 0
        execution = capsys.readouterr().out.split()[0]
        assert execution.startswith(f"arn:aws:states:local:{account}:execution:{name}:")
        client = alice if account == A else bob
        assert _output(client, execution) == {"who": who}


def test_machines_and_activities_made_before_names_were_per_account(
    eventplane_kafka: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """B's machine and activity written under their plain names (as before names were per
    account) keep working by B's ARNs; A may now make its own of the same name. The
    records go to the default cluster's registry, so this test has a server there."""
    tag = _tag()
    machine, activity = f"old-{tag}", f"old-act-{tag}"
    settings = Settings(kafka_bootstrap=eventplane_kafka)
    producer = Producer(settings)
    writer = Registry(settings, producer)
    writer.start()
    proc = EventplaneProcess(
        eventplane_kafka,
        roles="api,workflows",
        env={"EVENTPLANE_AUTH_TOKENS_FILE": str(_tokens(tmp_path_factory))},
    )
    try:
        task = {"Type": "Task", "Resource": f"arn:aws:states:local:{B}:activity:{activity}"}
        definition = {"StartAt": "T", "States": {"T": {**task, "End": True}}}
        writer.put("activity", activity, {"tags": {}, "account": B})
        spec = {"definition": json.dumps(definition), "type": "STANDARD", "account": B}
        writer.put("statemachine", machine, spec)
        proc.start()
        with (
            Client(proc.endpoint, token=ALICE_TOKEN, timeout=30) as alice,
            Client(proc.endpoint, token=BOB_TOKEN, timeout=30) as bob,
        ):
            arn = f"arn:aws:states:local:{B}:stateMachine:{machine}"
            assert bob.workflows.describe_state_machine(arn).name == machine
            assert machine in [m.name for m in bob.workflows.list_state_machines()]
            # Creating it again (as it is) finds it: idempotent for its owner.
            again = bob.workflows.create_state_machine(machine, definition)
            assert again.state_machine_arn == arn
            version = bob.workflows.publish_state_machine_version(arn)
            assert version.state_machine_version_arn == f"{arn}:1"
            e = bob.workflows.start_execution(f"{arn}:1", {"n": 1})
            assert e.execution_arn.startswith(f"arn:aws:states:local:{B}:execution:{machine}:")
            activity_arn = f"arn:aws:states:local:{B}:activity:{activity}"
            got = bob.workflows.get_activity_task(activity_arn, wait_seconds=30)
            assert json.loads(got.input) == {"n": 1}
            bob.workflows.send_task_success(got.task_token, {"old": True})
            assert _output(bob, e.execution_arn) == {"old": True}
            hidden = _refused(
                lambda: alice.workflows.describe_state_machine(arn), "StateMachineDoesNotExist"
            )
            assert hidden.message == f"State Machine Does Not Exist: '{arn.replace(B, A)}'"
            # A's own of that name is another machine.
            mine = alice.workflows.create_state_machine(machine, _pass("a")).state_machine_arn
            assert mine == f"arn:aws:states:local:{A}:stateMachine:{machine}"
            assert alice.workflows.create_activity(activity).activity_arn == (
                f"arn:aws:states:local:{A}:activity:{activity}"
            )
            bob.workflows.delete_state_machine(arn)
            bob.workflows.delete_activity(activity_arn)
            alice.workflows.delete_state_machine(mine)
    finally:
        proc.stop()
        writer.close()
        producer.close()
