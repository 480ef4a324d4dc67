"""ClientRequestToken on TransactWriteItems: a retried transaction is applied once.

A successful transaction with a token writes a token record (the request's
fingerprint and the time) into the changelog of every partition it touched, in
the SAME Kafka transaction as its items: the record exists exactly when the
changes do, and a new owner restores it with the partition. For 10 minutes
after it, the same token with the same request answers success without writing;
with a different request it is IdempotentParameterMismatchException. Past the
window the token is new again (DynamoDB's rule), and the TTL sweep drops the
record with a tombstone so the compacted changelog does not keep it.

The check looks at every partition this replica owns (any table), so a
different request under the same token is recognised even when it touches
other items, as long as the original's partitions are owned here too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from eventplane.errors import ValidationException
from eventplane.errors.tables import IdempotentParameterMismatchException
from eventplane.runtime import Clock
from eventplane.tables.model import TableDef
from eventplane.tables.ttl import TOKEN_WINDOW_MS
from eventplane.tables.writer import TOKEN_PREFIX, Change, Staged

WINDOW_MS = TOKEN_WINDOW_MS
MAX_TOKEN_LENGTH = 36
Token = dict[str, Any]  # {"fingerprint": str, "written_ms": int}


def token_key(token: str) -> str:
    return TOKEN_PREFIX + token


def check_token(token: str) -> str:
    if not 1 <= len(token) <= MAX_TOKEN_LENGTH:
        raise ValidationException(
            f"1 validation error detected: Value '{token}' at 'clientRequestToken' failed to "
            f"satisfy constraint: Member must have length less than or equal to {MAX_TOKEN_LENGTH}"
        )
    return token


def fingerprint(actions: Sequence[Any]) -> str:
    """The request's identity: its actions (dataclasses) in canonical JSON, hashed."""

    def plain(value: Any) -> Any:
        if isinstance(value, bytes):
            return {"$b": value.hex()}
        if isinstance(value, (set, frozenset)):
            return sorted((plain(v) for v in value), key=repr)
        return str(value)

    text = json.dumps(
        [dataclasses.asdict(a) for a in actions], sort_keys=True, default=plain, ensure_ascii=False
    )
    return hashlib.sha256(text.encode()).hexdigest()


def live(record: Token | None, now_ms: int) -> bool:
    return record is not None and now_ms - int(record["written_ms"]) < WINDOW_MS


def idempotent_step(
    step: Callable[[Staged], tuple[list[Change], Any]],
    token: str,
    print_: str,
    partitions: Sequence[tuple[TableDef, int]],
    elsewhere: Callable[[str], Token | None],
    clock: Clock,
) -> Callable[[Staged], tuple[list[Change], bool]]:
    """Wrap a transaction step: answer a live token from its record, else run the step and
    record the token beside its changes. The result says whether it was a replay."""
    key = token_key(token)

    def wrapped(staged: Staged) -> tuple[list[Change], bool]:
        now = clock()
        record: Token | None = None
        for table, p in partitions:  # staged first: a twin in the same write group
            record = staged.get(table.name, p, key)
            if record is not None:
                break
        if record is None:
            record = elsewhere(key)
        if live(record, now):
            assert record is not None
            if record["fingerprint"] != print_:
                raise IdempotentParameterMismatchException(
                    "The request uses the same ClientRequestToken as a previous, but "
                    "non-identical request."
                )
            return [], True
        changes, _ = step(staged)
        new = {"fingerprint": print_, "written_ms": now}
        changes = list(changes) + [Change(t, p, key, {}, None, new) for t, p in partitions]
        return changes, False

    return wrapped
