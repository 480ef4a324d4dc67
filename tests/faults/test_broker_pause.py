"""The broker stops answering (SIGSTOP) for longer than the consumer groups' session
timeout, then comes back (SIGCONT), while a queue workload runs.

When the broker resumes, it finds every member's heartbeat stale and expires them: the
queue owner loses its partitions and takes them again, open transactions time out. The
workload's invariants (tests/faults/workload.py) must hold through it, and the server
must recover by itself. The broker is this module's own, so no other test sees it pause.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from eventplane.config import load_settings
from eventplane.kafka.local import LocalKafka
from eventplane.testing import EventplaneProcess, free_port, unique_cluster

from .workload import QueueWorkload

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.slow]

SESSION_TIMEOUT = 6.0  # session.timeout.ms of the server's consumer groups


@pytest.fixture(scope="module")
def broker() -> Iterator[LocalKafka]:
    kafka = LocalKafka.from_settings(load_settings({}), free_port())
    kafka.start(fresh=True)
    try:
        yield kafka
    finally:
        kafka.stop()


def _paused(broker: LocalKafka, seconds: float) -> None:
    pid = broker.pid()
    assert pid is not None, "the broker is not running"
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        os.kill(pid, signal.SIGCONT)


def _run(broker: LocalKafka, *, count: int, pauses: list[float]) -> None:
    with (
        EventplaneProcess(broker.bootstrap, roles="queues", cluster=unique_cluster()) as server,
        server.client(timeout=5.0) as client,
    ):
        workload = QueueWorkload(client, count, prefix="pause").start()
        resumed = time.monotonic()
        for seconds in pauses:  # a pause, then a healthy spell
            time.sleep(2.0)
            _paused(broker, seconds)
            resumed = time.monotonic()
        recovery = workload.recovery_seconds(resumed, timeout=120)
        workload.finish(faults=len(pauses), recovery=recovery, timeout=120)
        assert server.proc is not None and server.proc.poll() is None, "the server died"


# In make faults only: in the last fresh-clone CI run it outlasted pytest's 180 s timeout
# (locally it takes about 60 s); CI keeps the commit-confirmation fix's unit test.
@pytest.mark.long
def test_queue_workload_survives_broker_pauses_past_the_session_and_transaction_timeouts(
    broker: LocalKafka,
) -> None:
    # The second pause (25 s) outlasts the transaction timeout (10 s) too. Before the
    # owner waited for Kafka to confirm a commit before dropping the journal entries
    # below it, these two pauses brought dozens of deleted messages back.
    _run(broker, count=200, pauses=[SESSION_TIMEOUT + 4, 25.0])


@pytest.mark.long
def test_queue_workload_survives_repeated_broker_pauses(broker: LocalKafka) -> None:
    _run(broker, count=800, pauses=[3.0, SESSION_TIMEOUT + 4, 25.0, 1.0, 40.0])
