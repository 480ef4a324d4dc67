"""Reading a change stream from inside the server: the port stream event source mappings
read through.

Functions' stream mappings read DynamoDB-style change streams; they must not import the
tables capability. So the tables component offers this port in ``ServerContext.extras``
under :data:`STREAM_SOURCE` when its role runs in the process (implemented over the
stream topics, one shard per partition), and the mappings look it up by that key, as
queue mappings find :mod:`eventplane.messaging.sources`.

A position is a shard's sequence number as an integer: records of a shard have strictly
increasing positions, and reading from a position returns the records at or after it.
The reader keeps no state; whoever reads keeps (and checkpoints) its own position.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

__all__ = ["STREAM_SOURCE", "StreamBatch", "StreamRecord", "StreamSource", "stream_source"]

STREAM_SOURCE: Final = "ports.stream_source"
"""The ``ServerContext.extras`` key the tables component registers its source under."""


@dataclass(frozen=True)
class StreamRecord:
    """One change, exactly as the stream's GetRecords shapes it."""

    position: int
    record: Mapping[str, Any]
    # The item's key as stable text: records of one item share it (order is per item).
    item_key: str
    created_ms: int
    # Wall clock when the source read it (0.0: unknown): the per-hop latency stages.
    read_at: float = 0.0


@dataclass(frozen=True)
class StreamBatch:
    records: list[StreamRecord]
    # Where to read next: after the last record returned, or past records skipped.
    next_position: int


class StreamSource(Protocol):
    """Shards and reads of a stream, by the stream's ARN."""

    def shards(self, stream_arn: str) -> list[str]:
        """The stream's shard ids, in order; raises ResourceNotFound when the stream
        does not exist (or is no longer readable)."""
        ...

    def lineage(self, stream_arn: str, shard: str) -> tuple[str, int | None]:
        """(parent shard id or "", the shard's end): a shard split from a parent (a
        repartitioned table) carries on its keys once the parent is read to its end; a
        closed shard ends before position ``end`` (None while it is open)."""
        ...

    async def bounds(self, stream_arn: str, shard: str) -> tuple[int, int]:
        """(trim horizon, latest): the first position still kept, and the position the
        next change will take."""
        ...

    async def position_at(self, stream_arn: str, shard: str, timestamp_ms: int) -> int:
        """The first position of a change made at or after ``timestamp_ms`` (the latest
        position when there is none yet)."""
        ...

    async def read(self, stream_arn: str, shard: str, position: int, limit: int) -> StreamBatch:
        """Up to ``limit`` records from ``position`` as far as the shard's current end
        (an empty batch at the end). A position below the trim horizon reads from it."""
        ...

    def generation(self, stream_arn: str, shard: str) -> int:
        """A counter of the changes to the shard this process has committed; read it
        before a read and pass it to :meth:`wait`."""
        ...

    async def wait(
        self,
        stream_arn: str,
        shard: str,
        since: int,
        timeout: float,
        position: int | None = None,
    ) -> bool:
        """Until this process commits a change to the shard after ``generation`` was
        ``since``, or (given the reader's ``position``) a change another replica committed
        is visible at or after it (True), or ``timeout`` seconds passed (False: a source
        that cannot see others' commits leaves them to the reader's next poll)."""
        ...


def stream_source(extras: Mapping[str, Any]) -> StreamSource | None:
    """The stream source the tables component registered, or None when its role does not
    run in this process."""
    found: StreamSource | None = extras.get(STREAM_SOURCE)
    return found
