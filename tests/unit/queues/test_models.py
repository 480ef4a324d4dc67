"""PartitionState: visibility, delays, FIFO groups and DLQ routing, with time passed in."""

from __future__ import annotations

import pytest

from eventplane.errors import InvalidParameterValue
from eventplane.errors.queues import MessageNotInflight, ReceiptHandleIsInvalid
from eventplane.queues.models import Lease, PartitionState, Record

T0 = 1_000_000


def rec(body: str, *, group: str | None = None, delay: int = 0, sent: int = T0) -> Record:
    return Record(
        message_id=f"id-{body}",
        body=body,
        attributes={},
        sent_ms=sent,
        delay_seconds=delay,
        group_id=group,
    )


def standard(*bodies: str) -> PartitionState:
    p = PartitionState(0, fifo=False)
    for i, b in enumerate(bodies):
        p.add(i, rec(b), None, T0)
    return p


def bodies(claim) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.record.body for m in claim.received]


def test_claims_oldest_first_and_hides_claimed_until_the_deadline() -> None:
    p = standard("a", "b", "c")
    assert bodies(p.claim(2, 30_000, T0)) == ["a", "b"]
    assert bodies(p.claim(10, 30_000, T0 + 1)) == ["c"]
    assert bodies(p.claim(10, 30_000, T0 + 29_999)) == []
    again = p.claim(10, 30_000, T0 + 30_000)
    assert bodies(again) == ["a", "b"]
    assert [m.receive_count for m in again.received] == [2, 2]
    assert [m.generation for m in again.received] == [2, 2]


def test_only_the_newest_receipt_generation_is_valid() -> None:
    p = standard("a")
    (m,) = p.claim(1, 1000, T0).received
    p.claim(1, 1000, T0 + 1000)  # expired and received again: generation 2
    with pytest.raises(ReceiptHandleIsInvalid, match="expired"):
        p.lookup(0, 1)
    assert p.lookup(0, 2) is m


def test_delete_is_idempotent_and_moves_the_low_watermark() -> None:
    p = standard("a", "b")
    a, b = p.claim(2, 1000, T0).received
    assert p.low_watermark() == 0
    p.remove(b)
    assert p.low_watermark() == 0  # a is still undeleted
    p.remove(a)
    assert p.low_watermark() == 2
    assert p.lookup(0, 1) is None  # already deleted: nothing to do, no error


def test_change_visibility_extends_shortens_and_releases() -> None:
    p = standard("a")
    (m,) = p.claim(1, 10_000, T0).received
    p.change_visibility(m, 60, T0 + 5_000)  # now + 60 s
    assert bodies(p.claim(1, 1000, T0 + 20_000)) == []
    p.change_visibility(m, 0, T0 + 21_000)
    assert bodies(p.claim(1, 1000, T0 + 21_000)) == ["a"]


def test_change_visibility_rules() -> None:
    p = standard("a")
    (m,) = p.claim(1, 1000, T0).received
    with pytest.raises(InvalidParameterValue, match="43200"):
        p.change_visibility(m, 43_200, T0 + 1)  # beyond 12 h from the receive
    with pytest.raises(MessageNotInflight):
        p.change_visibility(m, 10, T0 + 2000)  # its visibility already ran out


def test_delay_hides_a_message_until_due() -> None:
    p = PartitionState(0, fifo=False)
    p.add(0, rec("late", delay=5), None, T0)
    assert p.counts(T0).delayed == 1
    assert bodies(p.claim(1, 1000, T0 + 4_999)) == []
    assert bodies(p.claim(1, 1000, T0 + 5_000)) == ["late"]


def test_an_undelayed_message_is_visible_whatever_the_senders_clock_said() -> None:
    # Accepted by a replica whose clock runs 20 s ahead of this owner's: it used to stay
    # hidden for those 20 s. A delay still counts from the time the sender gave it.
    p = PartitionState(0, fifo=False)
    p.add(0, rec("ahead", sent=T0 + 20_000), None, T0)
    p.add(1, rec("delayed", sent=T0 + 20_000, delay=5), None, T0)
    assert bodies(p.claim(10, 30_000, T0)) == ["ahead"]
    assert bodies(p.claim(10, 30_000, T0 + 25_000)) == ["delayed"]


def test_fifo_group_blocks_while_in_flight_and_keeps_order() -> None:
    p = PartitionState(0, fifo=True)
    for i, (body, group) in enumerate([("a1", "a"), ("b1", "b"), ("a2", "a"), ("b2", "b")]):
        p.add(i, rec(body, group=group), None, T0)
    first = p.claim(1, 1000, T0)
    assert bodies(first) == ["a1"]
    # a1 in flight: only group b may deliver, and only its head first.
    assert bodies(p.claim(1, 1000, T0)) == ["b1"]
    assert bodies(p.claim(10, 1000, T0)) == []
    # a1 times out: it comes back before a2.
    assert bodies(p.claim(1, 1000, T0 + 1000))[0] in ("a1", "b1")
    p2 = PartitionState(0, fifo=True)
    for i, body in enumerate(["x1", "x2", "x3"]):
        p2.add(i, rec(body, group="x"), None, T0)
    assert bodies(p2.claim(2, 1000, T0)) == ["x1", "x2"]  # several of one group at once
    (x1, x2) = p2.msgs[0], p2.msgs[1]
    p2.remove(x1)
    assert bodies(p2.claim(10, 1000, T0)) == []  # x2 still in flight
    p2.remove(x2)
    assert bodies(p2.claim(10, 1000, T0)) == ["x3"]


def test_fifo_redelivers_the_same_head_after_expiry() -> None:
    p = PartitionState(0, fifo=True)
    for i, body in enumerate(["g1", "g2"]):
        p.add(i, rec(body, group="g"), None, T0)
    assert bodies(p.claim(1, 1000, T0)) == ["g1"]
    again = p.claim(1, 1000, T0 + 1000)
    assert bodies(again) == ["g1"]
    assert again.received[0].receive_count == 2


def test_messages_past_max_receive_count_go_to_the_dead_letter_list() -> None:
    p = standard("a")
    for n in range(2):
        assert bodies(p.claim(1, 1000, T0 + n * 1000)) == ["a"]
    claim = p.claim(1, 1000, T0 + 2000, max_receive_count=2)
    assert claim.received == [] and [m.record.body for m in claim.to_dead_letter] == ["a"]
    assert p.counts(T0 + 2000).not_visible == 1  # moving
    # If the move fails, the message is released and tried again later.
    p.release(claim.to_dead_letter[0], T0 + 2001)
    assert [m.record.body for m in p.claim(1, 1000, T0 + 2001, 2).to_dead_letter] == ["a"]


def test_rebuild_from_the_journal_restores_leases_and_deletions() -> None:
    p = PartitionState(0, fifo=False, start_offset=5)
    p.add(5, rec("deleted"), Lease(offset=5, deleted=True), T0)
    p.add(
        6,
        rec("held"),
        Lease(
            offset=6,
            receive_count=3,
            generation=3,
            visible_at_ms=T0 + 9000,
            received_at_ms=T0,
            first_receive_ms=T0 - 1,
        ),
        T0,
    )
    p.add(7, rec("free"), None, T0)
    assert p.counts(T0).visible == 1 and p.counts(T0).not_visible == 1
    assert p.low_watermark() == 6
    assert p.lookup(6, 3) is not None
    assert bodies(p.claim(10, 60_000, T0)) == ["free"]
    (held,) = p.claim(10, 1000, T0 + 9000).received
    assert held.record.body == "held" and held.receive_count == 4


def test_purge_and_retention() -> None:
    p = standard("a", "b", "c")
    p.claim(1, 1000, T0)
    assert [m.record.body for m in p.purge(2)] == ["a", "b"]
    assert p.low_watermark() == 2
    assert p.add(1, rec("late-read"), None, T0) is None  # below the purge mark
    old = PartitionState(0, fifo=False)
    old.add(0, rec("old", sent=T0 - 61_000), None, T0)
    old.add(1, rec("new"), None, T0)
    assert [m.record.body for m in old.expired(T0, 60_000)] == ["old"]
