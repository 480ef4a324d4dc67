"""Wake-ups for stream readers in this process: a counter per shard (the stream topic and
partition), bumped when this replica commits a change to that shard's stream.

A stream event source mapping reads a shard until it is empty, then waits. It used to
sleep a fixed 250 ms; now it waits for the shard's counter to move past the value it
read before its last read (the same 250 ms remain its fallback). A commit by another
replica or worker process bumps the counter too, once Kafka shows it (``stream_watch``).
The counter is read *before* the read, so a commit that lands between the read and the
wait is never slept through.

A commit is answered before Kafka has written its transaction markers, so for a few
milliseconds after the wake-up a read_committed reader does not see the records yet:
the last stable offset still stops before them. A read woken by the commit would find
nothing and wait for the next commit (or the 250 ms poll). So each commit also leaves
the offset after its last stream record (``committed_end``, from the writer's delivery
reports), and a read from below it waits for the records to become visible instead.
Everything here runs on the event loop (the writer applies committed changes there).
"""

from __future__ import annotations

import asyncio

Shard = tuple[str, int]  # (stream topic, partition)


class ShardSignals:
    def __init__(self) -> None:
        self._generation: dict[Shard, int] = {}
        self._waiters: dict[Shard, set[asyncio.Future[None]]] = {}
        # The latest commit's end per shard, with the epoch of the topic it was in.
        self._ends: dict[Shard, tuple[int, int]] = {}

    def generation(self, shard: Shard) -> int:
        """How many commits to ``shard`` this process has seen; read before a read."""
        return self._generation.get(shard, 0)

    def committed_end(self, shard: Shard, epoch: int) -> int | None:
        """The offset after the last stream record this process committed to ``shard``
        (None: not known). ``epoch`` names the topic's life (its table's creation time):
        a table deleted and created again starts its offsets over."""
        found = self._ends.get(shard)
        return found[1] if found is not None and found[0] == epoch else None

    def notify(self, shard: Shard, end: int | None = None, epoch: int = 0) -> None:
        """A change to ``shard``'s stream was committed: wake its waiters. ``end``: the
        offset after the commit's last record there, when known."""
        if end is not None:
            # The writer commits one transaction after another: the latest is the highest.
            self._ends[shard] = (epoch, end)
        self._generation[shard] = self._generation.get(shard, 0) + 1
        for waiter in self._waiters.pop(shard, ()):
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, shard: Shard, since: int, timeout: float) -> bool:
        """Until ``shard`` has seen a commit after generation ``since`` (True, at once if it
        already has) or ``timeout`` seconds passed (False)."""
        if self.generation(shard) != since:
            return True
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(shard, set()).add(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            waiting = self._waiters.get(shard)
            if waiting is not None:
                waiting.discard(waiter)
                if not waiting:
                    del self._waiters[shard]
