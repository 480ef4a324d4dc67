"""Finding a table partition's owner and forwarding requests to it.

Mirrors ``queues/routing.py`` for the ``eventplane.table-owners`` group (the
queue module is bound to the queue group and the Queues service): each
member's client id carries the gRPC address of its replica. A request for a
partition another replica owns is sent to that replica's internal service
``eventplane.internal.TableOwners`` with the cluster's table forward token;
it serves from its own partitions only (never forwarding again).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from eventplane._gen.v1 import table_transactions_pb2 as txpb
from eventplane._gen.v1 import tables_pb2
from eventplane.config import Settings
from eventplane.kafka import naming
from eventplane.kafka.clients import client_config
from eventplane.observability.logging import get_logger
from eventplane.security import replicas
from eventplane.security.peers import FORWARDED, Peers, message_types

if TYPE_CHECKING:
    from eventplane.tables.coordinator import Prepared
    from eventplane.tables.items import BatchWrite
    from eventplane.tables.reads import KeysAndAttributes, Page, QueryInput, ScanInput
    from eventplane.tables.transact_get import Snapshot, TransactGet
    from eventplane.tables.transactions import TransactAction

_log = get_logger("eventplane.tables.routing")

__all__ = ["FORWARDED", "OWNER_METHODS", "OWNER_SERVICE", "NotOwner", "forwarder"]

REFRESH_SECONDS = 1.0
# The internal service a partition's owner serves other replicas on, and what it offers:
# the public Tables methods that act on a partition's items (in the same messages, whose
# partition fields it alone reads), and the per-partition figures of DescribeTable.
OWNER_SERVICE = "TableOwners"
OWNER_METHODS = message_types(
    tables_pb2.DESCRIPTOR.services_by_name["Tables"],
    (
        "PutItem",
        "GetItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
        "PartitionStats",
    ),
) | {
    # A cross-replica TransactWriteItems' calls on its participants (coordinator.py).
    "TxPrepare": (txpb.TxPrepareRequest, txpb.TxPrepareResponse),
    "TxConfirm": (txpb.TxDecideRequest, txpb.TxDecideResponse),
    "TxCommit": (txpb.TxDecideRequest, txpb.TxDecideResponse),
    "TxAbort": (txpb.TxDecideRequest, txpb.TxDecideResponse),
}


class NotOwner(Exception):
    """The partition is owned by another replica (``address``): forward the request there."""

    def __init__(self, address: str) -> None:
        super().__init__(f"the partition is served by {address}")
        self.address = address


@dataclass(frozen=True)
class PartitionStat:
    """Item count and bytes of one partition, as its owner holds it."""

    partition: int
    item_count: int
    size_bytes: int
    # (items, bytes) of each secondary index among the partition's items
    indexes: dict[str, tuple[int, int]] = field(default_factory=dict)
    layout: int = 0  # the partition count its items follow (repartition.py); 0: unknown


class Remote(Protocol):
    """Calls to another replica's partitions (the service implements them over gRPC)."""

    async def scan(
        self, address: str, req: ScanInput, from_partition: int, bytes_used: int
    ) -> Page: ...

    async def batch_write(self, address: str, writes: dict[str, list[BatchWrite]]) -> None: ...

    async def partition_stats(self, address: str, table_name: str) -> list[PartitionStat]: ...

    async def batch_get(
        self, address: str, request_items: dict[str, KeysAndAttributes]
    ) -> dict[str, list[dict[str, Any]]]: ...

    async def transact_get(self, address: str, gets: list[TransactGet]) -> Snapshot: ...

    async def tx_prepare(
        self,
        address: str,
        transaction_id: str,
        actions: list[TransactAction],
        token: str,
        fingerprint: str,
    ) -> Prepared: ...

    async def tx_decide(self, address: str, decision: str, transaction_id: str) -> bool: ...

    async def index_query(
        self, address: str, req: QueryInput, partitions: list[int]
    ) -> list[dict[str, Any]]: ...

    async def close(self) -> None: ...


def forward_token(secret: str) -> str:
    """Marks a request as forwarded by a replica of this cluster (not by a client)."""
    return replicas.forward_token(secret, replicas.TABLES_SCOPE)


class OwnerDirectory:
    """Which replica (gRPC address) owns which table partition, refreshed from Kafka."""

    def __init__(self, settings: Settings, self_address: str) -> None:
        self._admin = AdminClient(client_config(settings))
        self.self_address = self_address
        self._owners: dict[tuple[str, int], str] = {}
        self._members: set[str] = set()
        self._fetched = 0.0
        self._lock = asyncio.Lock()

    async def owner_of(self, table: str, partition: int) -> str | None:
        await self._refresh()
        return self._owners.get((table, partition))

    async def members(self) -> set[str]:
        """The addresses of every replica in the group (with partitions or not)."""
        await self._refresh()
        return set(self._members)

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._fetched >= REFRESH_SECONDS:
                try:
                    self._owners, self._members = await asyncio.to_thread(self._describe)
                except (KafkaException, TimeoutError) as exc:
                    _log.warning("cannot read table owners", error=str(exc))
                self._fetched = time.monotonic()

    def _describe(self) -> tuple[dict[tuple[str, int], str], set[str]]:
        futures = self._admin.describe_consumer_groups(
            [naming.TABLE_OWNERS_GROUP], request_timeout=5
        )
        group = futures[naming.TABLE_OWNERS_GROUP].result(timeout=5)
        owners: dict[tuple[str, int], str] = {}
        members: set[str] = set()
        for member in group.members:
            parts = member.client_id.split("|")
            if len(parts) < 2 or parts[0] != "eventplane-table-owner":
                continue
            members.add(parts[1])
            for tp in member.assignment.topic_partitions if member.assignment else ():
                owners[(naming.table_of(tp.topic), tp.partition)] = parts[1]
        return owners, members


def forwarder(token: str, settings: Settings) -> Peers:
    """Stubs of the other replicas' ``TableOwners`` service."""
    return Peers(token, settings, service=OWNER_SERVICE, types=OWNER_METHODS)
