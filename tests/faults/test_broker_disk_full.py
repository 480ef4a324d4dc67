"""The broker's log directory fills up while a queue workload runs.

The broker's data lives on a small tmpfs of its own. A file fills it: the broker's next
append fails with "No space left on device", Kafka takes the log directory offline and,
with its only directory (the KRaft metadata log's too) gone, halts. The file is removed
and the broker started again, as an operator (or Kubernetes) would. What was
acknowledged before must survive, the sends that failed meanwhile must have failed
visibly (the workload retries them), and eventplane must recover by itself.

Mounting needs the privilege to mount a tmpfs (root in this workplace); without it the
test is skipped and says why.
"""

from __future__ import annotations

import errno
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from eventplane.config import load_settings
from eventplane.kafka.local import LocalKafka
from eventplane.testing import EventplaneProcess, eventually, free_port, unique_cluster

from .workload import QueueWorkload

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.slow]

DISK = "256m"  # the broker's whole log directory
CHUNK = 1 << 20


def _mount(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs for the broker's disk: {done.stderr.strip()}")


@pytest.fixture
def broker() -> Iterator[LocalKafka]:
    kafka = LocalKafka.from_settings(load_settings({}), free_port())
    kafka.stop()
    _mount(kafka.data_dir)
    try:
        kafka.start()
        yield kafka
    finally:
        kafka.stop()
        subprocess.run(["umount", "-l", str(kafka.data_dir)], check=False)


def _fill(folder: Path) -> Path:
    """Write a file into ``folder`` until the filesystem is full; the file."""
    filler = folder / "filler"
    chunk = b"\0" * CHUNK
    with open(filler, "wb", buffering=0) as fh:
        while True:
            try:
                fh.write(chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                return filler


@pytest.mark.long
def test_queue_workload_survives_the_brokers_disk_filling_up(broker: LocalKafka) -> None:
    with (
        EventplaneProcess(broker.bootstrap, roles="queues", cluster=unique_cluster()) as server,
        server.client(timeout=5.0) as client,
    ):
        workload = QueueWorkload(client, 300, prefix="diskfull").start()
        time.sleep(3.0)  # some acknowledged before the disk fills
        filler = _fill(broker.data_dir)
        # The next append fails: Kafka takes its only log directory offline and halts.
        eventually(lambda: not broker.is_running(), timeout=60, message="the broker kept running")
        time.sleep(2.0)  # the workload's calls fail meanwhile, visibly
        filler.unlink()
        broker.start()
        resumed = time.monotonic()
        recovery = workload.recovery_seconds(resumed, timeout=120)
        workload.finish(faults=1, recovery=recovery, timeout=120)
        assert server.proc is not None and server.proc.poll() is None, "the server died"
