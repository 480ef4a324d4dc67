"""Batch entry ids as SQS and SNS both check them (SendMessageBatch, PublishBatch, ...).

Shared by queues and topics, like the attribute rules in :mod:`.attributes`; the error
classes are SQS's, which SNS's batch actions answer with too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from eventplane.errors.queues import (
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    TooManyEntriesInBatchRequest,
)

__all__ = ["MAX_BATCH_ENTRIES", "validate_batch_entry_ids"]

MAX_BATCH_ENTRIES = 10
_BATCH_ENTRY_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")


def validate_batch_entry_ids(ids: Sequence[str]) -> None:
    if not ids:
        raise EmptyBatchRequest("The request must contain at least one entry in parameter Entries.")
    if len(ids) > MAX_BATCH_ENTRIES:
        raise TooManyEntriesInBatchRequest(
            f"Parameter Entries has {len(ids)} entries; the maximum number of entries per "
            f"request is {MAX_BATCH_ENTRIES}."
        )
    seen: set[str] = set()
    for entry_id in ids:
        if _BATCH_ENTRY_ID.fullmatch(entry_id) is None:
            raise InvalidBatchEntryId(
                f"Value {entry_id} for parameter Id is invalid. Reason: A batch entry id can "
                "only contain alphanumeric characters, hyphens and underscores. It can be at "
                "most 80 letters long."
            )
        if entry_id in seen:
            raise BatchEntryIdsNotDistinct(
                f"Id {entry_id} repeated. Every entry's Id must be distinct within a request."
            )
        seen.add(entry_id)
