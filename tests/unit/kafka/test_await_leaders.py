"""await_leaders: ensure_topics returns only once every new partition's leader serves it."""

from __future__ import annotations

import concurrent.futures
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from eventplane.kafka.clients import await_leaders


class Admin:
    """Partitions answer ListOffsets only from their ``ready_after``-th question on."""

    def __init__(self, ready_after: dict[tuple[str, int], int]) -> None:
        self.ready_after = ready_after
        self.asked: list[list[tuple[str, int]]] = []
        self.metadata_refreshes = 0

    def list_offsets(self, asked: dict[TopicPartition, Any], request_timeout: float) -> Any:
        self.asked.append(sorted((tp.topic, tp.partition) for tp in asked))
        out = {}
        for tp in asked:
            fut: concurrent.futures.Future[Any] = concurrent.futures.Future()
            if len(self.asked) >= self.ready_after[(tp.topic, tp.partition)]:
                fut.set_result(object())
            else:
                fut.set_exception(
                    KafkaException(KafkaError(KafkaError.NOT_LEADER_FOR_PARTITION, "not yet"))
                )
            out[tp] = fut
        return out

    def list_topics(self, topic: str, timeout: float) -> None:
        self.metadata_refreshes += 1


def test_it_asks_again_for_the_partitions_not_served_yet_until_all_are() -> None:
    admin = Admin({("t", 0): 1, ("t", 1): 3, ("u", 0): 2})
    await_leaders(admin, {"t": 2, "u": 1}, timeout=5)  # type: ignore[arg-type]
    assert admin.asked == [[("t", 0), ("t", 1), ("u", 0)], [("t", 1), ("u", 0)], [("t", 1)]]
    assert admin.metadata_refreshes == 2


def test_a_partition_never_served_fails_the_creation_naming_it() -> None:
    admin = Admin({("t", 0): 1, ("t", 1): 10**9})
    with pytest.raises(KafkaException) as caught:
        await_leaders(admin, {"t": 2}, timeout=0.2)  # type: ignore[arg-type]
    assert caught.value.args[0].code() == KafkaError._TIMED_OUT
    assert "('t', 1)" in caught.value.args[0].str() and "not yet" in caught.value.args[0].str()
