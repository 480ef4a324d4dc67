"""The retry runner: due-time tasks, backoff, and the verdict between retry and give up.

Bus target deliveries and asynchronous function invocations both run as tasks on a
Kafka topic (``kafka.tasks``): a task waits for its due time, makes one attempt, and
on failure is written back with a later due time, until its policy's maximum attempts
or maximum event age say to give up (then the caller's dead letter or destination).
What differs between them is the attempt and the names AWS gives the conditions; the
wiring, the backoff and the verdict are here.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

from eventplane.config import Settings
from eventplane.kafka.clients import Producer
from eventplane.kafka.outgoing import Outgoing
from eventplane.kafka.tasks import TaskConsumer, TaskTopic

T = TypeVar("T")


def backoff(step: int, *, base_s: float, max_s: float, time_scale: float = 1.0) -> float:
    """Seconds to wait before retry ``step`` (0-based): exponential, capped, jittered
    down by up to 20 % so retries of one burst spread out."""
    return min(max_s, base_s * 2**step) * random.uniform(0.8, 1.0) * time_scale


class GiveUp(Enum):
    ATTEMPTS = "attempts"  # the policy's maximum retry attempts are used up
    AGE = "age"  # the next attempt would come after the maximum event age


@dataclass(frozen=True)
class RetryPolicy:
    maximum_retry_attempts: int
    maximum_event_age_seconds: int

    def expires_ms(self, first_ms: int) -> int:
        return first_ms + self.maximum_event_age_seconds * 1000

    def next(self, failed_attempts: int, first_ms: int, due_ms: int) -> int | GiveUp:
        """After ``failed_attempts`` failures: the due time of the next attempt (asked
        for at ``due_ms``), or why there is none."""
        if failed_attempts > self.maximum_retry_attempts:
            return GiveUp.ATTEMPTS
        if due_ms > self.expires_ms(first_ms):
            return GiveUp.AGE
        return due_ms


class TaskRunner(Generic[T]):
    """Runs ``run(task)`` for each task when due; ``send`` writes follow-ups (retries,
    destinations, dead letters) at least once before the task counts as done."""

    def __init__(
        self,
        settings: Settings,
        producer: Producer,
        tasks: TaskTopic[T],
        *,
        instance_id: str,
        run: Callable[[T], Awaitable[None]],
    ) -> None:
        self._producer = producer
        self._consumer = TaskConsumer(settings, tasks, instance_id=instance_id, run=run)

    def start(self) -> None:
        self._consumer.start()

    def close(self, timeout: float = 15.0) -> None:
        self._consumer.close(timeout)

    async def send(self, out: Outgoing) -> None:
        await out.send(self._producer)
