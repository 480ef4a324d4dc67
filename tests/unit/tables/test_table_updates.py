"""UpdateTable's rules (streams, billing, throughput, deletion protection) and the
ClientRequestToken step of TransactWriteItems, on the pure parts."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from eventplane.errors import ValidationException
from eventplane.errors.tables import IdempotentParameterMismatchException
from eventplane.runtime import FixedClock
from eventplane.tables import idempotency as idem
from eventplane.tables import transactions as tx
from eventplane.tables.model import (
    AttributeDefinition,
    CreateTableInput,
    KeySchemaElement,
    ProvisionedThroughput,
    StreamSpecification,
    TableDef,
    new_table,
)
from eventplane.tables.table_updates import UpdateTableInput, update_table
from eventplane.tables.writer import Change, Staged

NOW_MS = 1_800_000_000_000


def table(view: str = "", **kw: Any) -> TableDef:
    return new_table(
        CreateTableInput(
            "orders",
            [KeySchemaElement("id", "HASH")],
            [AttributeDefinition("id", "S")],
            StreamSpecification(bool(view), view),
            2,
            **kw,
        ),
        NOW_MS,
    )


def update(t: TableDef, **kw: Any) -> TableDef:
    return update_table(t, UpdateTableInput(t.name, **kw), NOW_MS + 5000)


def test_an_update_must_change_something() -> None:
    with pytest.raises(ValidationException, match="At least one of ProvisionedThroughput"):
        update(table())


def test_streams_turn_on_and_off_and_each_enabling_is_a_new_stream() -> None:
    t = table("KEYS_ONLY")
    with pytest.raises(
        ValidationException, match="already has an enabled stream: TableName: orders"
    ):
        update(t, stream_specification=StreamSpecification(True, "NEW_IMAGE"))
    off = update(t, stream_specification=StreamSpecification(False))
    assert not off.stream.stream_enabled
    assert off.stream_arn == t.stream_arn  # LatestStreamArn stays, now DISABLED
    with pytest.raises(ValidationException, match="no stream to disable: TableName: orders"):
        update(off, stream_specification=StreamSpecification(False))
    with pytest.raises(ValidationException, match="UpdateViewType is required"):
        update(off, stream_specification=StreamSpecification(True))
    with pytest.raises(ValidationException, match=r"streamSpecification\.streamViewType"):
        update(off, stream_specification=StreamSpecification(True, "EVERYTHING"))
    with pytest.raises(ValidationException, match="UpdateViewType must not be specified"):
        update(t, stream_specification=StreamSpecification(False, "KEYS_ONLY"))
    on = update(off, stream_specification=StreamSpecification(True, "NEW_IMAGE"))
    assert on.stream == StreamSpecification(True, "NEW_IMAGE")
    assert on.stream_arn != t.stream_arn and on.stream_label > t.stream_label
    # Even within the same millisecond the new stream gets its own label.
    again = update_table(
        update(on, stream_specification=StreamSpecification(False)),
        UpdateTableInput("orders", stream_specification=StreamSpecification(True, "KEYS_ONLY")),
        NOW_MS + 5000,
    )
    assert again.stream_label > on.stream_label


def test_streams_switched_off_are_kept_for_their_retention() -> None:
    t = table("KEYS_ONLY")
    off = update(t, stream_specification=StreamSpecification(False))
    on = update(off, stream_specification=StreamSpecification(True, "NEW_IMAGE"))
    assert on.stream_of(t.stream_label) == ("KEYS_ONLY", False)
    assert on.stream_of(on.stream_label) == ("NEW_IMAGE", True)
    assert off.stream_of(t.stream_label) == ("KEYS_ONLY", False)  # latest, switched off
    assert on.stream_of("2001-01-01T00:00:00.000") is None
    assert TableDef.from_spec(on.name, on.to_spec()).past_streams == on.past_streams
    a_day_later = update_table(
        on,
        UpdateTableInput(on.name, stream_specification=StreamSpecification(False)),
        NOW_MS + 5000 + 24 * 3600 * 1000,
    )
    assert [p.label for p in a_day_later.past_streams] == [on.stream_label]


def test_billing_and_throughput_are_checked_and_kept() -> None:
    t = table()
    with pytest.raises(ValidationException, match="ProvisionedThroughput must be specified"):
        update(t, billing_mode="PROVISIONED")
    with pytest.raises(ValidationException, match="billingMode"):
        update(t, billing_mode="FREE")
    with pytest.raises(ValidationException, match="when BillingMode is PAY_PER_REQUEST"):
        update(t, provisioned_throughput=ProvisionedThroughput(5, 5))
    with pytest.raises(ValidationException, match=r"provisionedThroughput\.readCapacityUnits"):
        update(t, billing_mode="PROVISIONED", provisioned_throughput=ProvisionedThroughput(0, 5))
    p = update(t, billing_mode="PROVISIONED", provisioned_throughput=ProvisionedThroughput(5, 7))
    assert p.billing_mode == "PROVISIONED" and p.throughput == ProvisionedThroughput(5, 7)
    stored = TableDef.from_spec(p.name, p.to_spec())
    assert stored.throughput == p.throughput and stored.billing_mode == "PROVISIONED"
    with pytest.raises(ValidationException, match="will not change"):
        update(p, provisioned_throughput=ProvisionedThroughput(5, 7))
    assert update(p, provisioned_throughput=ProvisionedThroughput(10, 7)).throughput == (
        ProvisionedThroughput(10, 7)
    )
    back = update(p, billing_mode="PAY_PER_REQUEST")
    assert back.billing_mode == "PAY_PER_REQUEST" and back.throughput is None


def test_deletion_protection_is_kept_in_the_definition() -> None:
    t = table(deletion_protection_enabled=True)
    assert t.deletion_protection
    off = update(t, deletion_protection_enabled=False)
    assert not TableDef.from_spec(off.name, off.to_spec()).deletion_protection


# --- ClientRequestToken ----------------------------------------------------------------------


def actions(value: str) -> list[tx.TransactAction]:
    return [tx.TransactAction("Put", "orders", item={"id": {"S": "o1"}, "v": {"S": value}})]


def test_the_fingerprint_is_the_request() -> None:
    assert idem.fingerprint(actions("a")) == idem.fingerprint(actions("a"))
    assert idem.fingerprint(actions("a")) != idem.fingerprint(actions("b"))
    blob = [dataclasses.replace(actions("a")[0], item={"id": {"S": "o1"}, "b": {"B": b"\x00"}})]
    assert idem.fingerprint(blob) != idem.fingerprint(actions("a"))
    with pytest.raises(ValidationException, match="clientRequestToken"):
        idem.check_token("x" * 37)
    with pytest.raises(ValidationException, match="clientRequestToken"):
        idem.check_token("")


def _run(
    t: TableDef, token: str, acts: list[tx.TransactAction], records: dict[str, Any], now: int
) -> tuple[list[Change], bool]:
    """One idempotent step against token records held in ``records``."""
    applied = Change(t, 0, '["S:o1"]', {"id": {"S": "o1"}}, None, {"id": {"S": "o1"}})
    step = idem.idempotent_step(
        lambda staged: ([applied], None),  # type: ignore[arg-type,return-value]
        token,
        idem.fingerprint(acts),
        [(t, 0), (t, 1)],
        lambda key: None,
        FixedClock(now),
    )
    changes, replay = step(Staged(lambda table, p, key: records.get(key)))
    for c in changes:
        if c.is_token:
            records[c.key] = c.new
    return changes, replay


def test_a_token_replays_the_same_request_and_refuses_another() -> None:
    t = table()
    records: dict[str, Any] = {}
    changes, replay = _run(t, "tok-1", actions("a"), records, NOW_MS)
    assert not replay
    tokens = [c for c in changes if c.is_token]
    assert [(c.partition, c.key) for c in tokens] == [(0, "#token:tok-1"), (1, "#token:tok-1")]
    assert len(changes) == 3  # the item, then the token in both partitions
    changes, replay = _run(t, "tok-1", actions("a"), records, NOW_MS + 9 * 60_000)
    assert replay and changes == []
    with pytest.raises(IdempotentParameterMismatchException, match="ClientRequestToken"):
        _run(t, "tok-1", actions("b"), records, NOW_MS + 60_000)
    # Past 10 minutes the token is new again: applied and recorded anew.
    changes, replay = _run(t, "tok-1", actions("b"), records, NOW_MS + 10 * 60_000)
    assert not replay and len(changes) == 3
