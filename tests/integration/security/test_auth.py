"""Bearer-token authentication on a real server: refused without, served with, never logged."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from eventplane.client import AsyncClient, Client
from eventplane.errors import EventplaneError
from eventplane.security import scrypt_hash, sha256_hex
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

from ._replicas import send_through_a_receive_through_b

pytestmark = pytest.mark.integration

API_KEY = "ep-test-key-0123456789abcdef-sha"
HUMAN_KEY = "correct horse battery staple"
WRONG_KEY = "ep-test-key-not-configured-anywhere"


@pytest.fixture(scope="module")
def server(
    eventplane_kafka: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EventplaneProcess]:
    folder = tmp_path_factory.mktemp("auth")
    tokens = folder / "tokens.yaml"
    tokens.write_text(
        json.dumps(
            [
                {"principal": "ci", "account": "111111111111", "sha256": sha256_hex(API_KEY)},
                {"principal": "alice", "scrypt": scrypt_hash(HUMAN_KEY, n=2**10)},
            ]
        )
    )
    proc = EventplaneProcess(
        eventplane_kafka,
        roles="api",
        env={"EVENTPLANE_AUTH_TOKENS_FILE": str(tokens)},
        cluster=unique_cluster(),
    )
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def test_call_without_credentials_is_unauthenticated(server: EventplaneProcess) -> None:
    with Client(server.endpoint, timeout=5) as ep, pytest.raises(EventplaneError) as info:
        ep.platform.get_server_info()
    assert info.value.code == "MissingAuthenticationToken"
    with grpc.insecure_channel(server.endpoint) as ch:
        call = ch.unary_unary("/eventplane.v1.Platform/GetServerInfo")
        with pytest.raises(grpc.RpcError) as raw:
            call(b"", timeout=5)
    assert raw.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_wrong_token_is_unrecognized(server: EventplaneProcess) -> None:
    client = Client(server.endpoint, token=WRONG_KEY, timeout=5)
    with client as ep, pytest.raises(EventplaneError) as info:
        ep.platform.get_server_info()
    assert info.value.code == "UnrecognizedClientException"
    assert WRONG_KEY not in info.value.message


@pytest.mark.parametrize("token", [API_KEY, HUMAN_KEY], ids=["sha256", "scrypt"])
def test_valid_token_is_served(server: EventplaneProcess, token: str) -> None:
    with Client(server.endpoint, token=token, timeout=5) as ep:
        assert "api" in ep.platform.get_server_info().roles


def test_async_client_sends_the_token(server: EventplaneProcess) -> None:
    async def roles() -> list[str]:
        async with AsyncClient(server.endpoint, token=API_KEY, timeout=5) as ep:
            return list((await ep.platform.get_server_info()).roles)

    assert "api" in asyncio.run(roles())


def test_health_stays_open(server: EventplaneProcess) -> None:
    with grpc.insecure_channel(server.endpoint) as ch:
        resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert resp.status == health_pb2.HealthCheckResponse.SERVING


def test_cli_takes_token_from_flag_and_env(server: EventplaneProcess) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTPLANE_")}
    cmd = [sys.executable, "-m", "eventplane.cli", "info", "--endpoint", server.endpoint, "--json"]
    refused = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0
    assert "MissingAuthenticationToken" in refused.stderr
    by_flag = subprocess.run(
        [*cmd, "--token", API_KEY], env=env, capture_output=True, text=True, timeout=60
    )
    assert by_flag.returncode == 0, by_flag.stderr
    by_env = subprocess.run(
        cmd, env={**env, "EVENTPLANE_TOKEN": API_KEY}, capture_output=True, text=True, timeout=60
    )
    assert by_env.returncode == 0, by_env.stderr


def test_tokens_never_reach_logs_or_metrics(server: EventplaneProcess) -> None:
    for token in (API_KEY, HUMAN_KEY, WRONG_KEY):
        with Client(server.endpoint, token=token, timeout=5) as ep, suppress(EventplaneError):
            ep.platform.get_server_info()
    with urllib.request.urlopen(server.metrics_url, timeout=5) as resp:
        metrics = resp.read().decode()
    assert 'eventplane_auth_failures_total{code="UnrecognizedClientException"}' in metrics
    log = Path(server.log_path).read_text(errors="replace")
    assert "call not authenticated" in log  # the failures were logged, without their tokens
    for secret in (API_KEY, HUMAN_KEY, WRONG_KEY):
        assert secret not in log
        assert secret not in metrics


def test_replicas_forward_to_each_other_with_authentication_on(
    eventplane_kafka: str, tmp_path: Path
) -> None:
    # Receiving through B needs the partitions A owns: B forwards those receives to A,
    # which must accept B's forwarded calls although they carry no client's token.
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(json.dumps([{"principal": "ci", "sha256": sha256_hex(API_KEY)}]))
    env = {
        "EVENTPLANE_AUTH_TOKENS_FILE": str(tokens),
        "EVENTPLANE_RECEIPT_SECRET": "a-cluster-secret-for-this-test",
    }
    cluster = unique_cluster()
    a = EventplaneProcess(eventplane_kafka, roles="api,queues", env=env, cluster=cluster)
    b = EventplaneProcess(eventplane_kafka, roles="api,queues", env=env, cluster=cluster)
    a.start()
    b.start()
    try:
        with (
            Client(a.endpoint, token=API_KEY, timeout=15) as ca,
            Client(b.endpoint, token=API_KEY, timeout=15) as cb,
        ):
            send_through_a_receive_through_b(ca, cb)
        # Clients still need their own credentials: the forwarded-call token is not one.
        with Client(b.endpoint, timeout=5) as anonymous, pytest.raises(EventplaneError) as info:
            anonymous.queues.list_queues()
        assert info.value.code == "MissingAuthenticationToken"
    finally:
        b.stop()
        a.stop()


def test_health_command_needs_no_credentials(server: EventplaneProcess) -> None:
    # What the image's HEALTHCHECK and exec probes run on a server with authentication on.
    env = {k: v for k, v in os.environ.items() if k not in ("EVENTPLANE_TOKEN",)}
    ok = subprocess.run(
        [sys.executable, "-m", "eventplane.cli", "health", "--endpoint", server.endpoint],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert (ok.returncode, ok.stdout.strip()) == (0, "SERVING")
    down = subprocess.run(
        [
            sys.executable,
            "-m",
            "eventplane.cli",
            "health",
            "--endpoint",
            "127.0.0.1:9",
            "--timeout",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert down.returncode == 1
    assert down.stderr.startswith("eventplane: 127.0.0.1:9 is not healthy: ")


HANDLER = """
import json, os

def double(event, context):
    return {"doubled": event["n"] * 2}

def record(event, context):
    with open(os.environ["OUT"], "a") as out:
        for r in event["Records"]:
            out.write(r["body"] + "\\n")
"""


def test_workflow_tasks_and_mappings_work_with_authentication_on(
    eventplane_kafka: str, tmp_path: Path
) -> None:
    # The server calls its own API for a workflow's Lambda task and an SQS event source
    # mapping; with authentication on, those internal calls must authenticate too.
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(json.dumps([{"principal": "ci", "sha256": sha256_hex(API_KEY)}]))
    code = tmp_path / "code"
    code.mkdir()
    (code / "fns.py").write_text(HANDLER)
    out = tmp_path / "records.txt"
    proc = EventplaneProcess(
        eventplane_kafka,
        roles="api,queues,runner,workflows",
        env={"EVENTPLANE_AUTH_TOKENS_FILE": str(tokens)},
        cluster=unique_cluster(),
    ).start()
    try:
        with Client(proc.endpoint, token=API_KEY, timeout=30) as ep:
            fn = ep.functions.create_function("doubler", "fns.double", directory=code)
            sm = ep.workflows.create_state_machine(
                "double-it",
                {
                    "StartAt": "D",
                    "States": {"D": {"Type": "Task", "Resource": fn.function_arn, "End": True}},
                },
            ).state_machine_arn
            arn = ep.workflows.start_execution(sm, {"n": 21}).execution_arn

            def finished() -> Any:
                e = ep.workflows.describe_execution(arn)
                assert e.status != "RUNNING", e
                return e

            e = eventually(finished, timeout=60)
            assert (e.status, e.json()) == ("SUCCEEDED", {"doubled": 42}), (e.error, e.cause)

            ep.functions.create_function(
                "recorder", "fns.record", directory=code, environment={"OUT": str(out)}
            )
            url = ep.queues.create_queue("mapped")
            queue_arn = ep.queues.get_queue_attributes(url, ["QueueArn"])["QueueArn"]
            ep.functions.create_event_source_mapping(queue_arn, "recorder", batch_size=10)
            ep.queues.send_message(url, "through the mapping")
            eventually(
                lambda: out.exists() and out.read_text().splitlines() == ["through the mapping"],
                timeout=60,
            )
    finally:
        proc.stop()
