"""The lease journal as a new owner reads it at take-over."""

from __future__ import annotations

from eventplane.queues import journal


def _apply(state: journal.JournalState, key: str, encoded: tuple[bytes, journal.Headers]) -> None:
    value, headers = encoded
    state.apply(key, value, headers)


def test_purges_keep_the_highest_mark_and_the_newest_time() -> None:
    state = journal.JournalState()
    assert (state.purged_below, state.purged_at_ms) == (-1, -1)
    _apply(state, journal.PURGE_KEY, journal.encode_purge(40, 1_000))
    _apply(state, journal.PURGE_KEY, journal.encode_purge(90, 61_000))
    # An older record read after a newer one (compaction keeps one, replays may show both).
    _apply(state, journal.PURGE_KEY, journal.encode_purge(40, 1_000))
    assert (state.purged_below, state.purged_at_ms) == (90, 61_000)
