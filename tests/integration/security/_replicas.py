"""What the replica tests check: all sent through A is received through B."""

from __future__ import annotations

import os

from eventplane.client import Client
from eventplane.testing import eventually


def send_through_a_receive_through_b(a: Client, b: Client, count: int = 40) -> None:
    """B owns only some of the queue's partitions: it must forward receives for A's."""
    name = f"fwd-{os.urandom(4).hex()}"
    url = a.queues.create_queue(name)

    # B knows the queue created through A at once (registry/store.py catch_up): the
    # first call through B is a receive.
    bodies = {f"m{i}" for i in range(count)}
    for body in sorted(bodies):
        a.queues.send_message(url, body)
    got: set[str] = set()

    def all_received_through_b() -> bool:
        for m in b.queues.receive_message(url, max_number_of_messages=10, wait_time_seconds=1):
            got.add(m.body)
            b.queues.delete_message(url, m.receipt_handle)
        assert got == bodies, f"{len(got)} of {len(bodies)} received through B"
        return True

    eventually(all_received_through_b, timeout=60)
