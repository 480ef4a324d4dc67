"""Wake-ups for stream readers in this process: a counter per shard (the stream topic and
partition), bumped when this replica commits a change to that shard's stream.

A stream event source mapping reads a shard until it is empty, then waits. It used to
sleep a fixed 250 ms; now it waits for the shard's counter to move past the value it
read before its last read, or for the same 250 ms when the writer is another replica
(whose commits this process does not see). The counter is read *before* the read, so a
commit that lands between the read and the wait is never slept through. Everything here
runs on the event loop (the writer applies committed changes there).
"""

from __future__ import annotations

import asyncio

Shard = tuple[str, int]  # (stream topic, partition)


class ShardSignals:
    def __init__(self) -> None:
        self._generation: dict[Shard, int] = {}
        self._waiters: dict[Shard, set[asyncio.Future[None]]] = {}

    def generation(self, shard: Shard) -> int:
        """How many commits to ``shard`` this process has seen; read before a read."""
        return self._generation.get(shard, 0)

    def notify(self, shard: Shard) -> None:
        """A change to ``shard``'s stream was committed: wake its waiters."""
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
