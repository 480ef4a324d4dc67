"""Bad configuration and an unreachable broker: one line naming the problem, non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from eventplane.testing import free_port

pytestmark = pytest.mark.integration


def _server(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("EVENTPLANE_")}
    return subprocess.run(
        [sys.executable, "-m", "eventplane.cli", "server", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "args", "fragment"),
    [
        ({"EVENTPLANE_ROLES": "api,nosuchrole"}, (), "EVENTPLANE_ROLES: unknown role"),
        ({}, ("--roles", "bogus"), "EVENTPLANE_ROLES: unknown role 'bogus'"),
        ({"EVENTPLANE_GRPC_PORT": "70000"}, (), "EVENTPLANE_GRPC_PORT: must be between"),
        ({"EVENTPLANE_LOG_LEVEL": "LOUD"}, (), "EVENTPLANE_LOG_LEVEL"),
    ],
)
def test_bad_setting_is_one_line_and_exit_2(
    env: dict[str, str], args: tuple[str, ...], fragment: str
) -> None:
    proc = _server(env, *args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert fragment in lines[0]
    assert "Traceback" not in proc.stderr


def test_unreachable_broker_is_one_line_and_exit_1() -> None:
    dead = free_port()
    proc = _server(
        {
            "EVENTPLANE_KAFKA_BOOTSTRAP": f"127.0.0.1:{dead}",
            "EVENTPLANE_KAFKA_CONNECT_TIMEOUT": "2",
            "EVENTPLANE_GRPC_PORT": str(free_port()),
            "EVENTPLANE_METRICS_PORT": "0",
        }
    )
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.strip().splitlines() if line]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("eventplane: EVENTPLANE_KAFKA_BOOTSTRAP: no Kafka broker answered")
    assert f"127.0.0.1:{dead}" in lines[0]


@pytest.mark.parametrize("busy", ["EVENTPLANE_METRICS_PORT", "EVENTPLANE_GRPC_PORT"])
def test_port_in_use_names_the_setting(eventplane_kafka: str, busy: str) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ports = {
            "EVENTPLANE_METRICS_PORT": str(free_port()),
            "EVENTPLANE_GRPC_PORT": str(free_port()),
        }
        ports[busy] = str(port)
        proc = _server({"EVENTPLANE_KAFKA_BOOTSTRAP": eventplane_kafka, **ports})
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"eventplane: {busy}: cannot listen"), proc.stderr
