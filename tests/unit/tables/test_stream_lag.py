"""The per-shard stream lag gauge's bookkeeping (tables/stream_lag.py)."""

from __future__ import annotations

from eventplane.tables.stream_lag import STALE_MS, StreamLag


class Clock:
    def __init__(self) -> None:
        self.ms = 1_000_000

    def __call__(self) -> int:
        return self.ms


def test_a_reader_lags_by_what_it_has_not_finished_until_its_next_read() -> None:
    lag = StreamLag(Clock())
    lag.read("t", "s0", 0, 10, 25)  # read 0..10 of 25: 25 not finished yet
    assert lag.rows() == [("t", "s0", 25)]
    lag.read("t", "s0", 10, 25, 25)  # continued: 15 left when it read
    assert lag.rows() == [("t", "s0", 15)]
    lag.read("t", "s0", 25, 25, 25)  # caught up
    assert lag.rows() == [("t", "s0", 0)]


def test_a_failed_chunk_read_again_keeps_one_entry() -> None:
    lag = StreamLag(Clock())
    lag.read("t", "s0", 5, 8, 8)
    lag.read("t", "s0", 5, 8, 8)  # the checkpoint did not move: same chain
    assert lag.rows() == [("t", "s0", 3)]


def test_the_slowest_reader_of_a_shard_is_its_lag_and_shards_are_apart() -> None:
    lag = StreamLag(Clock())
    lag.read("t", "s0", 0, 50, 100)  # a mapping at the start
    lag.read("t", "s0", 80, 100, 100)  # another one nearly caught up
    lag.read("t", "s1", 7, 9, 9)
    assert sorted(lag.rows()) == [("t", "s0", 100), ("t", "s1", 2)]


def test_readers_that_stopped_reading_are_forgotten() -> None:
    clock = Clock()
    lag = StreamLag(clock)
    lag.read("t", "s0", 0, 4, 4)
    lag.read("u", "s0", 0, 4, 4)
    lag.forget("u")
    assert lag.rows() == [("t", "s0", 4)]
    clock.ms += STALE_MS + 1
    assert lag.rows() == []
