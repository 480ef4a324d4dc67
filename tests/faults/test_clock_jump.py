"""One replica's wall clock steps (20 s ahead, back, 20 s behind, back: an NTP step, a VM
resumed) while a queue workload runs through the other replica.

Visibility deadlines, deduplication windows and leases are wall-clock times, journaled so
that another replica can take them over, so a replica whose clock jumps sees them move:
jumping ahead makes the messages it has handed out visible again early (as many as were
in flight, one batch per queue), jumping back makes them wait longer (by the size of
the step: a message claimed for a receive that then failed comes back that much
later). Nothing acknowledged may be lost, FIFO order must hold, a retried FIFO send must
not be delivered twice, and the duplicates must stay within the calls that failed plus
the messages in flight at each jump ahead.

The jump is made in the replica's Python: a ``sitecustomize`` module on its PYTHONPATH
adds an offset, read from a file the test writes, to ``time.time``/``time.time_ns`` (the
clocks eventplane's engines read). C libraries' own clocks (librdkafka, gRPC, asyncio's
monotonic clock) do not move, as they would not under an NTP step either. libfaketime
would move them all, but with the monotonic clock left alone it breaks Python's
``time.sleep`` (EINVAL).
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from eventplane.testing import EventplaneProcess, unique_cluster

from .workload import QueueWorkload

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.slow]

JUMPS = [20.0, 0.0, -20.0, 0.0]  # seconds of offset, held for HOLD_S each
HOLD_S = 4.0
IN_FLIGHT_PER_JUMP = 2 * 10  # one received, undeleted batch per queue

SITECUSTOMIZE = textwrap.dedent(
    """
    import os
    import time

    _path = os.environ["EVENTPLANE_TEST_CLOCK_OFFSET_FILE"]
    _real_time, _real_ns, _monotonic = time.time, time.time_ns, time.monotonic
    _cache = [-1.0, 0.0]

    def _offset():
        now = _monotonic()
        if now - _cache[0] > 0.05:
            try:
                with open(_path) as fh:
                    _cache[1] = float(fh.read() or 0)
            except (OSError, ValueError):
                pass
            _cache[0] = now
        return _cache[1]

    time.time = lambda: _real_time() + _offset()
    time.time_ns = lambda: _real_ns() + int(_offset() * 1e9)
    """
)


@pytest.fixture
def jumping(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE)
    offset = tmp_path / "offset"
    offset.write_text("0")
    yield {"PYTHONPATH": str(tmp_path), "EVENTPLANE_TEST_CLOCK_OFFSET_FILE": str(offset)}, offset


@pytest.mark.long
def test_queue_workload_survives_a_replica_whose_clock_jumps(
    eventplane_kafka: str, jumping: tuple[dict[str, str], Path]
) -> None:
    env, offset = jumping
    cluster = unique_cluster()
    steady = EventplaneProcess(eventplane_kafka, roles="queues", cluster=cluster)
    jumper = EventplaneProcess(eventplane_kafka, roles="queues", cluster=cluster, env=env)
    with steady, jumper, steady.client(timeout=5.0) as client:
        # The jumper's clock really moves (its SentTimestamp shows it).
        offset.write_text(str(JUMPS[0]))
        with jumper.client(timeout=5.0) as probe:
            url = probe.queues.create_queue(f"clock-probe-{cluster}")
            probe.queues.send_message(url, "now?")
            (m,) = probe.queues.receive_message(
                url, wait_time_seconds=10, message_system_attribute_names=["SentTimestamp"]
            )
            assert int(m.attributes["SentTimestamp"]) / 1000 > time.time() + JUMPS[0] - 5
            probe.queues.delete_queue(url)
        offset.write_text("0")

        workload = QueueWorkload(client, 300, prefix="clock").start()
        time.sleep(2.0)
        for jump in JUMPS:
            offset.write_text(str(jump))
            time.sleep(HOLD_S)
        resumed = time.monotonic()
        recovery = workload.recovery_seconds(resumed, timeout=60)
        ahead = sum(
            1 for before, after in zip([0.0, *JUMPS[:-1]], JUMPS, strict=True) if after > before
        )
        workload.finish(
            faults=len(JUMPS),
            recovery=recovery,
            timeout=120,
            more_duplicates=ahead * IN_FLIGHT_PER_JUMP,
        )
        for server in (steady, jumper):
            assert server.proc is not None and server.proc.poll() is None, "a server died"
