"""`eventplane dev`: local Kafka + all roles, endpoints printed, Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from eventplane.config import load_settings
from eventplane.kafka.local import LocalKafka
from eventplane.testing import EventplaneProcess, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_dev_serves_and_ctrl_c_leaves_nothing_behind(tmp_path) -> None:  # type: ignore[no-untyped-def]
    kafka_port, grpc_port, metrics_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTPLANE_")}
    env.update(
        EVENTPLANE_KAFKA_PORT=str(kafka_port),
        EVENTPLANE_GRPC_PORT=str(grpc_port),
        EVENTPLANE_METRICS_PORT=str(metrics_port),
        # Not the default 4566: another test (or test worker) may run a dev server too.
        EVENTPLANE_GATEWAY_PORT=str(free_port()),
    )
    out = tmp_path / "dev.out"
    broker = LocalKafka.from_settings(load_settings({}), kafka_port)
    with open(out, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "eventplane.cli", "dev", "--fresh"],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    try:
        probe = EventplaneProcess(f"127.0.0.1:{kafka_port}", grpc_port=grpc_port)
        try:
            probe.wait_serving(timeout=120)
        except TimeoutError:
            raise AssertionError(f"dev never served:\n{out.read_text()}") from None
        printed = out.read_text()
        assert f"127.0.0.1:{grpc_port}" in printed
        assert f"http://127.0.0.1:{metrics_port}/metrics" in printed
        assert "open to anyone on this host only (loopback)" in printed
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            assert "eventplane_build_info" in r.read().decode()
        kafka_pid = broker.pid()
        assert kafka_pid is not None

        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
        assert broker.pid() is None
        # The broker process itself is gone, not just its pid file.
        deadline = time.monotonic() + 10
        while os.path.exists(f"/proc/{kafka_pid}") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not os.path.exists(f"/proc/{kafka_pid}") or _is_zombie(kafka_pid)
        assert "local Kafka stopped" in out.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        broker.stop()


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
