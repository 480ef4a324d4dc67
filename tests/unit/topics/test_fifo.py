"""FIFO topic rules without Kafka: partitions, sequence numbers, the dedup window."""

from __future__ import annotations

import zlib

import pytest

from eventplane.kafka import codec
from eventplane.topics.fifo import (
    DEDUP_WINDOW_MS,
    DedupWindow,
    RecentPublishes,
    journal_key,
    journal_topic,
    parse_journal_key,
    partition_for,
    sequence_number,
)
from eventplane.topics.models import DedupEntry, Published, decode_dedup, encode, encode_dedup

MINUTE = 60_000
T0 = 1_700_000_000_000


# --- groups, partitions, sequence numbers ---------------------------------------------------


def test_a_group_always_maps_to_one_partition() -> None:
    for partitions in (1, 4, 7):
        seen = {partition_for(f"g-{i}", partitions) for i in range(200)}
        assert seen <= set(range(partitions))
        assert partition_for("customer-7", partitions) == partition_for("customer-7", partitions)
    assert partition_for("anything", 1) == 0
    # The rule the fan-out uses for FIFO queues too.
    assert partition_for("customer-7", 5) == zlib.crc32(b"customer-7") % 5


def test_sequence_numbers_are_20_digits_increasing_with_the_offset() -> None:
    assert sequence_number(3, 42) == "00000000000000420003"
    numbers = [sequence_number(2, offset) for offset in (0, 1, 9, 10, 99_999, 10**12)]
    assert all(len(n) == 20 and n.isdigit() for n in numbers)
    assert numbers == sorted(numbers)
    assert [int(n) for n in numbers] == sorted(int(n) for n in numbers)


def test_journal_names_and_keys() -> None:
    assert journal_topic("orders.fifo") == "eventplane.t.orders.fifo.dedup"
    assert parse_journal_key(journal_key("g-1", "d:1/x")) == ("g-1", "d:1/x")
    assert parse_journal_key(journal_key("", "d")) == ("", "d")


def test_dedup_entries_round_trip_through_avro() -> None:
    entry = DedupEntry("d-1", "m-1", sequence_number(0, 5), T0 + DEDUP_WINDOW_MS)
    value, headers = encode_dedup(entry)
    assert decode_dedup(value, headers) == entry
    other, other_headers = encode(Published("m", "body", None, None, {}, T0, "g", "d"))
    with pytest.raises(codec.CodecError, match="QueueDedup"):
        decode_dedup(other, other_headers)


# --- the dispatcher's window ------------------------------------------------------------------


def test_topic_scope_drops_a_dedup_id_seen_within_five_minutes_in_any_group() -> None:
    w = DedupWindow()
    assert w.offer("Topic", "g1", "d", T0)
    assert not w.offer("Topic", "g1", "d", T0 + 1)
    assert not w.offer("Topic", "g2", "d", T0 + 4 * MINUTE)
    assert not w.offer("Topic", "g1", "d", T0 + DEDUP_WINDOW_MS - 1)
    # The window counts from the accepted message; five minutes later the id is new again.
    assert w.offer("Topic", "g1", "d", T0 + DEDUP_WINDOW_MS)
    assert w.offer("Topic", "g1", "other", T0 + 1)


def test_duplicates_do_not_extend_the_window() -> None:
    # SQS/SNS: the interval starts at the message that was delivered, not at its retries.
    w = DedupWindow()
    assert w.offer("Topic", "g", "d", T0)
    for minute in (1, 2, 3, 4):
        assert not w.offer("Topic", "g", "d", T0 + minute * MINUTE)
    assert w.offer("Topic", "g", "d", T0 + 5 * MINUTE + 1)
    assert not w.offer("Topic", "g", "d", T0 + 9 * MINUTE)


def test_message_group_scope_deduplicates_within_each_group() -> None:
    w = DedupWindow()
    assert w.offer("MessageGroup", "g1", "d", T0)
    assert w.offer("MessageGroup", "g2", "d", T0 + 1)
    assert not w.offer("MessageGroup", "g1", "d", T0 + 2)
    assert not w.offer("MessageGroup", "g2", "d", T0 + 3)


def test_switching_from_topic_to_message_group_scope_keeps_the_window() -> None:
    w = DedupWindow()
    assert w.offer("Topic", "g1", "d", T0)
    assert not w.offer("MessageGroup", "g1", "d", T0 + 1)
    assert w.offer("MessageGroup", "g2", "d", T0 + 2)


def test_publish_time_not_arrival_order_decides() -> None:
    # A record read later but published earlier than the accepted one is still a duplicate.
    w = DedupWindow()
    assert w.offer("Topic", "g", "d", T0)
    assert not w.offer("Topic", "g", "d", T0 - 10_000)


def test_rollback_undoes_an_aborted_batch_and_commit_keeps_it() -> None:
    w = DedupWindow()
    assert w.offer("Topic", "g", "kept", T0)
    w.commit()
    assert w.offer("Topic", "g", "aborted", T0 + 1)
    assert w.offer("Topic", "g", "kept", T0 + DEDUP_WINDOW_MS + 5)  # re-accepted after expiry
    w.rollback()
    # The aborted batch is processed again and decides exactly as the first time.
    assert not w.offer("Topic", "g", "kept", T0 + 2)
    assert w.offer("Topic", "g", "aborted", T0 + 1)
    assert w.offer("Topic", "g", "kept", T0 + DEDUP_WINDOW_MS + 5)
    w.commit()
    w.rollback()  # nothing left to undo
    assert not w.offer("Topic", "g", "aborted", T0 + 3)


def test_restored_entries_count_like_accepted_ones() -> None:
    w = DedupWindow()
    w.restore("g1", "d", T0 + DEDUP_WINDOW_MS)
    w.commit()
    assert not w.offer("Topic", "g2", "d", T0 + MINUTE)
    assert not w.offer("MessageGroup", "g1", "d", T0 + MINUTE)
    assert w.offer("MessageGroup", "g2", "d", T0 + MINUTE)


def test_commit_forgets_entries_long_expired() -> None:
    w = DedupWindow()
    for i in range(100):
        w.offer("Topic", "g", f"old-{i}", T0)
    w.commit()
    assert len(w) == 100
    w.offer("Topic", "g", "new", T0 + DEDUP_WINDOW_MS + 30_000)
    w.commit()
    assert len(w) == 101  # expired 30 s ago: kept a little for late publishers
    w.offer("Topic", "g", "newer", T0 + DEDUP_WINDOW_MS + 2 * MINUTE)
    w.commit()
    assert len(w) == 2


# --- what Publish answers ----------------------------------------------------------------------


def test_a_duplicate_publish_gets_the_original_ids() -> None:
    r = RecentPublishes()
    first = r.answer("t.fifo", "Topic", "g1", "d", T0, ("m-1", "s-1"))
    assert first == ("m-1", "s-1")
    assert r.answer("t.fifo", "Topic", "g2", "d", T0 + MINUTE, ("m-2", "s-2")) == ("m-1", "s-1")
    assert r.answer("u.fifo", "Topic", "g1", "d", T0 + MINUTE, ("m-3", "s-3")) == ("m-3", "s-3")
    after = T0 + DEDUP_WINDOW_MS
    assert r.answer("t.fifo", "Topic", "g1", "d", after, ("m-4", "s-4")) == ("m-4", "s-4")


def test_message_group_scope_answers_per_group() -> None:
    r = RecentPublishes()
    assert r.answer("t.fifo", "MessageGroup", "g1", "d", T0, ("m-1", "s-1")) == ("m-1", "s-1")
    assert r.answer("t.fifo", "MessageGroup", "g2", "d", T0, ("m-2", "s-2")) == ("m-2", "s-2")
    assert r.answer("t.fifo", "MessageGroup", "g1", "d", T0, ("m-3", "s-3")) == ("m-1", "s-1")


def test_recent_publishes_are_bounded() -> None:
    r = RecentPublishes(max_entries=10)
    for i in range(25):
        r.answer("t.fifo", "Topic", "g", f"d-{i}", T0 + i, (f"m-{i}", f"s-{i}"))
    assert len(r) == 10
    # Forgotten: a new answer (delivery is still decided by the dispatcher).
    assert r.answer("t.fifo", "Topic", "g", "d-0", T0 + 30, ("m-x", "s-x")) == ("m-x", "s-x")
    assert r.answer("t.fifo", "Topic", "g", "d-24", T0 + 31, ("m-y", "s-y")) == ("m-24", "s-24")
    # Expired entries go as time passes.
    r.answer("t.fifo", "Topic", "g", "late", T0 + DEDUP_WINDOW_MS + 100, ("m-l", "s-l"))
    assert len(r) == 1


def test_a_deleted_topic_is_forgotten() -> None:
    r = RecentPublishes()
    r.answer("t.fifo", "Topic", "g", "d", T0, ("m-1", "s-1"))
    r.answer("u.fifo", "Topic", "g", "d", T0, ("m-2", "s-2"))
    r.forget("t.fifo")
    assert r.answer("t.fifo", "Topic", "g", "d", T0 + 1, ("m-3", "s-3")) == ("m-3", "s-3")
    assert r.answer("u.fifo", "Topic", "g", "d", T0 + 1, ("m-4", "s-4")) == ("m-2", "s-2")
