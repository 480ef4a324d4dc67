"""One eventplane server with the gateway on for this package (queues, topics, event
buses), and AWS clients against it: the ``sqs``, ``sns`` and ``events`` fixtures are
boto3 and then aiobotocore, so each test that takes them runs through both stacks."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from eventplane.testing import EventplaneProcess
from eventplane.testing.pytest_plugin import revive

from .aio import Loop
from .support import KEY, REGION, SECRET, gateway_process

# The AWS SDK for JavaScript v3 scripts and their package.json (see test_js_sdk.py).
JS = Path(__file__).resolve().parents[2] / "js"


@pytest.fixture(scope="session")
def gateway(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    server = gateway_process(eventplane_kafka, "api,queues,fanout,bus")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _gateway_alive(request: pytest.FixtureRequest) -> None:
    if "gateway" in request.fixturenames:
        revive(request.getfixturevalue("gateway"), request.node.nodeid)


@pytest.fixture(scope="session", params=["boto3", "aiobotocore"])
def stack(request: pytest.FixtureRequest) -> str:
    """The client stack the sqs/sns/events fixtures use: every test runs with both."""
    return str(request.param)


@pytest.fixture(scope="session")
def aio_loop() -> Iterator[Loop]:
    loop = Loop()
    yield loop
    loop.close()


def client(gateway: EventplaneProcess, service: str) -> Any:
    """A plain boto3 client of ``service`` on the gateway, no retries."""
    return boto3.client(service, **_settings(gateway))


def _settings(gateway: EventplaneProcess) -> dict[str, Any]:
    return {
        "endpoint_url": gateway.gateway_url,
        "region_name": REGION,
        "aws_access_key_id": KEY,
        "aws_secret_access_key": SECRET,
        "config": Config(retries={"max_attempts": 1}),
    }


def _stack_client(request: pytest.FixtureRequest, service: str) -> Any:
    gateway: EventplaneProcess = request.getfixturevalue("gateway")
    if request.getfixturevalue("stack") == "aiobotocore":
        loop: Loop = request.getfixturevalue("aio_loop")
        return loop.client(service, **_settings(gateway))
    return client(gateway, service)


@pytest.fixture(scope="session")
def sqs(request: pytest.FixtureRequest, stack: str) -> Any:
    return _stack_client(request, "sqs")


@pytest.fixture(scope="session")
def events(request: pytest.FixtureRequest, stack: str) -> Any:
    return _stack_client(request, "events")


@pytest.fixture(scope="session")
def sns(request: pytest.FixtureRequest, stack: str) -> Any:
    return _stack_client(request, "sns")


@pytest.fixture
def make_topic(sns: Any) -> Iterator[Callable[..., str]]:
    """make_topic(**attributes) -> topic ARN, deleted afterwards."""
    created: list[str] = []

    def make(**attributes: Any) -> str:
        name = f"gw-{uuid.uuid4().hex[:12]}"
        attrs = {k: str(v) for k, v in attributes.items()}
        arn: str = sns.create_topic(Name=name, Attributes=attrs)["TopicArn"]
        created.append(arn)
        return arn

    yield make
    for arn in created:
        with contextlib.suppress(Exception):
            sns.delete_topic(TopicArn=arn)


@pytest.fixture
def make_queue(sqs: Any) -> Iterator[Callable[..., str]]:
    """make_queue(fifo=False, **attributes) -> queue URL, deleted afterwards."""
    created: list[str] = []

    def make(*, fifo: bool = False, **attributes: Any) -> str:
        name = f"gw-{uuid.uuid4().hex[:12]}" + (".fifo" if fifo else "")
        attrs = {k: str(v) for k, v in attributes.items()}
        if fifo:
            attrs["FifoQueue"] = "true"
        url: str = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        created.append(url)
        return url

    yield make
    for url in created:
        with contextlib.suppress(Exception):
            sqs.delete_queue(QueueUrl=url)


@pytest.fixture(scope="session")
def node() -> str:
    """node, with the SDK packages of tests/js installed (npm, once); skipped without
    node and npm unless EVENTPLANE_REQUIRE_NODE=1 (CI)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("EVENTPLANE_REQUIRE_NODE") == "1":
            pytest.fail("node and npm are required (EVENTPLANE_REQUIRE_NODE=1)")
        pytest.skip("node and npm are not installed")
    with open(JS / ".install.lock", "w") as lock:  # one install across xdist workers
        fcntl.flock(lock, fcntl.LOCK_EX)
        wanted = json.loads((JS / "package.json").read_text())["dependencies"]
        if not all((JS / "node_modules" / package).is_dir() for package in wanted):
            subprocess.run([npm, "install"], cwd=JS, check=True, capture_output=True, timeout=600)
    return node


def js_session(
    node: str, script: str, gateway: EventplaneProcess, **extra: str
) -> tuple[str, dict[str, Any]]:
    """Run tests/js/``script`` against ``gateway`` with the test key and a fresh run id.

    Returns (run id, the JSON object the script printed last).
    """
    run = uuid.uuid4().hex[:8]
    done = subprocess.run(
        [node, script],
        cwd=JS,
        env={
            **os.environ,
            "EP_ENDPOINT": gateway.gateway_url,
            "EP_REGION": REGION,
            "EP_KEY": KEY,
            "EP_SECRET": SECRET,
            "EP_RUN": run,
            **extra,
        },
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return run, seen
