"""Scheduled rules with two replicas: each tick fires once, on one replica (the coordinator's
leader), and the survivor carries on when the leader is killed.

This module starts its own two replicas; the module-scoped ``bus_server`` is not used, so
(when the bus tests run on their own) these two are the only candidates for leadership.
"""

from __future__ import annotations

import itertools
import re
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from eventplane.client import Client, Message
from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess, eventually

from .support import Resources, events, retrying, start_replicas, stop_all

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PERIOD = 2  # seconds: rate(2 seconds), ticks on even epoch seconds


@pytest.fixture
def replicas(eventplane_kafka: str) -> Iterator[tuple[EventplaneProcess, EventplaneProcess]]:
    a, b = start_replicas(eventplane_kafka)
    try:
        yield a, b
    finally:
        stop_all([a, b])


def _fires(server: EventplaneProcess, rule: str) -> float:
    """This replica's ``eventplane_bus_schedule_fires_total`` for the rule (0 if none)."""
    with urllib.request.urlopen(server.metrics_url, timeout=5) as response:
        text = response.read().decode()
    pattern = (
        rf'^eventplane_bus_schedule_fires_total\{{bus="default",rule="{re.escape(rule)}"\}} (\S+)$'
    )
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


class Ticks:
    """Receives the scheduled events from the queue, each queue message once."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.by_message: dict[str, dict[str, object]] = {}

    def receive(self, client: Client) -> list[int]:
        try:
            batch: list[Message] = client.queues.receive_message(
                self.url, max_number_of_messages=10, wait_time_seconds=1
            )
            for m in batch:
                client.queues.delete_message(self.url, m.receipt_handle)
        except EventplaneError as exc:  # a replica going away: partitions move
            if not exc.retriable:
                raise
            time.sleep(0.2)
            return self.seconds()
        # A queue redelivery has the message id of the first delivery: not a second tick.
        for m, event in zip(batch, events(batch), strict=True):
            self.by_message[m.message_id] = event
        return self.seconds()

    def seconds(self) -> list[int]:
        """The tick times (epoch seconds) received so far, in order, duplicates kept."""
        return sorted(_epoch(str(e["time"])) for e in self.by_message.values())


def _epoch(rfc3339: str) -> int:
    return int(datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


@pytest.mark.timeout(150)
def test_each_tick_fires_once_and_the_survivor_continues_after_the_leader_dies(
    replicas: tuple[EventplaneProcess, EventplaneProcess],
) -> None:
    a, b = replicas
    with a.client(timeout=10) as ca, b.client(timeout=10) as cb:
        res = Resources(ca)
        try:
            q = res.queue()
            rule = res.rule(None, [{"Id": "q", "Arn": q.arn}], schedule=f"rate({PERIOD} seconds)")
            assert rule.arn.endswith(f":rule/{rule.name}")  # the default bus
            ticks = Ticks(q.url)

            def three() -> list[int]:
                got = ticks.receive(ca)
                assert len(got) >= 3
                return got

            before = eventually(three, timeout=40)
            sample = next(iter(ticks.by_message.values()))
            assert sample["source"] == "aws.events"
            assert sample["detail-type"] == "Scheduled Event"
            assert sample["resources"] == [rule.arn]
            assert sample["detail"] == {}
            # Two replicas, one leader: no tick twice, none skipped, all on the period.
            assert before == list(range(before[0], before[-1] + PERIOD, PERIOD)), before
            assert before[0] % PERIOD == 0

            fires = {a: _fires(a, rule.name), b: _fires(b, rule.name)}
            assert sum(fires.values()) >= len(before), (
                f"neither replica fired the ticks ({fires}): another server on this broker "
                "leads the bus coordinator"
            )
            leader = max(fires, key=lambda s: fires[s])  # a or b, whichever fired the most
            survivor, survivor_client = (b, cb) if leader is a else (a, ca)
            res.client = survivor_client
            killed_at = time.time()
            leader.kill()

            # The survivor takes over (the dead member's session expires first, then its
            # transaction is fenced) and fires on: three ticks after the kill.
            def carried_on() -> list[int]:
                got = retrying(lambda: ticks.receive(survivor_client))
                assert len([t for t in got if t > killed_at]) >= 3
                return got

            every = eventually(carried_on, timeout=90, interval=0.2)
            assert len(every) == len(set(every)), f"a tick fired twice: {every}"
            assert all(t % PERIOD == 0 for t in every), every
            # From the survivor's first tick on, none is skipped. Across the failover one
            # gap is allowed: a schedule fires its latest missed tick once, not every one.
            gaps = [(x, y) for x, y in itertools.pairwise(every) if y - x != PERIOD]
            assert len(gaps) <= 1, every
            assert not gaps or gaps[0][0] <= killed_at + PERIOD, (gaps, killed_at)
            assert _fires(survivor, rule.name) > fires[survivor]
        finally:
            res.cleanup()
