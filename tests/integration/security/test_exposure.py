"""Safe defaults: a server reachable from other hosts without authentication refuses to start."""

from __future__ import annotations

import subprocess
import sys

import pytest

from eventplane.testing import EventplaneProcess

pytestmark = pytest.mark.integration


def test_open_non_loopback_server_refuses_to_start(eventplane_kafka: str) -> None:
    proc = EventplaneProcess(eventplane_kafka, roles="api", env={"EVENTPLANE_GRPC_HOST": "0.0.0.0"})
    done = subprocess.run(
        [sys.executable, "-m", "eventplane.cli", "server"],
        env=proc.environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for setting in ("EVENTPLANE_AUTH_TOKENS_FILE", "EVENTPLANE_TLS_CLIENT_CA_FILE", "--insecure"):
        assert setting in lines[0]


def test_insecure_flag_lets_it_start(eventplane_kafka: str) -> None:
    env = {"EVENTPLANE_GRPC_HOST": "0.0.0.0", "EVENTPLANE_INSECURE": "1"}
    with EventplaneProcess(eventplane_kafka, roles="api", env=env) as proc, proc.client() as ep:
        assert "api" in ep.platform.get_server_info().roles
