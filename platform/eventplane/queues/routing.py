"""Finding a partition's owner and forwarding requests to it.

Owners are read from the membership of the ``eventplane.queue-owners``
consumer group: each member's client id carries the gRPC address of its
replica. A request for a partition another replica owns is sent to that
replica's internal service ``eventplane.internal.QueueOwners`` (``owners.py``)
with the cluster's queue forward token; it serves from its own partitions only
(never forwarding again).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from eventplane._gen.v1 import queues_pb2
from eventplane.config import Settings
from eventplane.kafka import naming
from eventplane.kafka.clients import client_config
from eventplane.observability.logging import get_logger
from eventplane.queues.owner import queue_of
from eventplane.security import replicas
from eventplane.security.peers import Peers, message_types

_log = get_logger("eventplane.queues.routing")


def forward_token(secret: str) -> str:
    """The value that marks a request as forwarded by a replica of this cluster.

    Derived from the cluster's shared secret, so a client cannot claim to be a
    replica (a forwarded FIFO send skips validation, done by the first replica).
    """
    return replicas.forward_token(secret, replicas.QUEUES_SCOPE)


REFRESH_SECONDS = 1.0
# The internal service a partition's owner serves other replicas on, and what it offers:
# the public Queues methods that act on a partition's messages, in the same messages.
OWNER_SERVICE = "QueueOwners"
OWNER_METHODS = message_types(
    queues_pb2.DESCRIPTOR.services_by_name["Queues"],
    (
        "SendMessageBatch",
        "ReceiveMessage",
        "DeleteMessage",
        "DeleteMessageBatch",
        "ChangeMessageVisibility",
        "PurgeQueue",
        "GetQueueAttributes",
    ),
)


class OwnerDirectory:
    """Which replica (gRPC address) owns which queue partition, refreshed from Kafka."""

    def __init__(self, settings: Settings, self_address: str) -> None:
        self._admin = AdminClient(client_config(settings))
        self._self = self_address
        self._owners: dict[tuple[str, int], str] = {}
        self._fetched = 0.0
        self._lock = asyncio.Lock()

    async def _refresh(self, force: bool = False) -> None:
        async with self._lock:
            if not force and time.monotonic() - self._fetched < REFRESH_SECONDS:
                return
            try:
                owners = await asyncio.to_thread(self._describe)
            except (KafkaException, TimeoutError) as exc:
                _log.warning("cannot read queue owners", error=str(exc))
                return
            self._owners = owners
            self._fetched = time.monotonic()

    def _describe(self) -> dict[tuple[str, int], str]:
        futures = self._admin.describe_consumer_groups(
            [naming.QUEUE_OWNERS_GROUP], request_timeout=5
        )
        group = futures[naming.QUEUE_OWNERS_GROUP].result(timeout=5)
        owners: dict[tuple[str, int], str] = {}
        for member in group.members:
            parts = member.client_id.split("|")
            if len(parts) < 2 or parts[0] != "eventplane-owner" or member.assignment is None:
                continue
            for tp in member.assignment.topic_partitions:
                owners[(queue_of(tp.topic), tp.partition)] = parts[1]
        return owners

    async def remote_owners(self, queue: str, *, force: bool = False) -> dict[str, list[int]]:
        """address -> partitions of ``queue`` owned by other replicas."""
        await self._refresh(force)
        found: dict[str, list[int]] = defaultdict(list)
        for (q, p), address in self._owners.items():
            if q == queue and address != self._self:
                found[address].append(p)
        return dict(found)

    async def owner_of(self, queue: str, partition: int, *, force: bool = False) -> str | None:
        await self._refresh(force)
        return self._owners.get((queue, partition))


def forwarder(token: str, settings: Settings) -> Peers:
    """Stubs of the other replicas' ``QueueOwners`` service."""
    return Peers(token, settings, service=OWNER_SERVICE, types=OWNER_METHODS)
