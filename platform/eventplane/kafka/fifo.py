"""FIFO on Kafka partitions: which partition a message group lives in, and the sequence
numbers that follow from it.

One rule for every FIFO resource (queues, topics, and anything that writes into them):
a group always lives in one partition, so order within a group is the partition's order
and a group's sequence numbers grow with its offsets.
"""

from __future__ import annotations

import zlib


def partition_for(group_id: str, partitions: int) -> int:
    """The partition of message group ``group_id`` among ``partitions``."""
    return zlib.crc32(group_id.encode()) % partitions


def sequence_number(partition: int, offset: int) -> str:
    """20 digits that increase with the offset: SQS's and SNS's SequenceNumber."""
    return f"{offset:016d}{partition:04d}"
