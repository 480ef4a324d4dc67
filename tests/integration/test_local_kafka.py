"""`eventplane kafka start|stop|status`: a real broker process, data that survives a restart."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer

from eventplane.config import Settings, load_settings
from eventplane.kafka.clients import TopicSpec, ensure_topics
from eventplane.kafka.local import LocalKafka
from eventplane.testing import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _cli(*args: str, port: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTPLANE_")}
    return subprocess.run(
        [sys.executable, "-m", "eventplane.cli", "kafka", *args, "--port", str(port)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _java_processes_for(props: Path) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if str(props) in line and "kafka.Kafka" in line]


def _read_all(bootstrap: str, topic: str, expected: int) -> list[bytes]:
    c = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": uuid.uuid4().hex,
            "auto.offset.reset": "earliest",
        }
    )
    c.subscribe([topic])
    values: list[bytes] = []
    try:
        for _ in range(200):
            m = c.poll(0.2)
            value = m.value() if m is not None and not m.error() else None
            if value is not None:
                values.append(value)
            if len(values) >= expected:
                break
    finally:
        c.close()
    return values


def test_data_survives_stop_and_start_and_fresh_wipes_it() -> None:
    port = free_port()
    broker = LocalKafka.from_settings(load_settings({}), port)
    try:
        started = _cli("start", port=port)
        assert started.returncode == 0, started.stderr
        assert f"127.0.0.1:{port}" in started.stdout
        settings = Settings(kafka_bootstrap=broker.bootstrap)
        ensure_topics(settings, [TopicSpec("survivor", 1)])
        p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all"})
        p.produce("survivor", b"still here")
        assert p.flush(15) == 0

        status = _cli("status", port=port)
        assert status.returncode == 0
        assert "running" in status.stdout
        assert str(broker.log_file) in status.stdout
        assert broker.log_file.exists() and broker.log_file.stat().st_size > 0

        stopped = _cli("stop", port=port)
        assert stopped.returncode == 0 and "stopped" in stopped.stdout
        assert _java_processes_for(broker.properties) == []
        assert _cli("status", port=port).returncode == 3

        assert _cli("start", port=port).returncode == 0
        assert _read_all(broker.bootstrap, "survivor", 1) == [b"still here"]

        assert _cli("start", "--fresh", port=port).returncode == 0
        from confluent_kafka.admin import AdminClient

        topics = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10)
        assert "survivor" not in topics.topics
    finally:
        broker.stop()
        assert _java_processes_for(broker.properties) == []


def test_cluster_id_starting_with_a_dash_formats() -> None:
    # A random base64url cluster id starts with "-" one time in 64; the storage
    # tool must not read it as an option.
    import base64
    from unittest import mock

    raw = b"\xfb" + uuid.uuid4().bytes[1:]
    assert base64.urlsafe_b64encode(raw).decode().startswith("-")
    broker = LocalKafka.from_settings(load_settings({}), free_port())
    try:
        with mock.patch("uuid.uuid4", return_value=uuid.UUID(bytes=raw)):
            assert broker.start(fresh=True)
        assert broker.is_running()
    finally:
        broker.stop()
