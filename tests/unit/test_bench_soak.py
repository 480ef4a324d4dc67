"""The pure parts of `bench soak`: the trend slope, the verdict, the tracker's counts."""

from __future__ import annotations

import os

import pytest

from eventplane.bench._soak_probe import process_sample, slope_per_minute
from eventplane.bench._soak_workload import Tracker
from eventplane.bench.soak import LAG_BOUND_MIN, RSS_BOUND_MB_PER_MIN, Sample, verdict


def test_slope_of_a_line_is_its_gradient() -> None:
    assert slope_per_minute([(m, 100 + 2.5 * m) for m in range(6)]) == pytest.approx(2.5)


def test_slope_of_flat_or_too_few_points_is_zero() -> None:
    assert slope_per_minute([(m, 7.0) for m in range(5)]) == 0.0
    assert slope_per_minute([(1.0, 3.0)]) == 0.0
    assert slope_per_minute([]) == 0.0


def test_slope_ignores_noise_around_a_flat_line() -> None:
    noisy = [(m, 100 + (3 if m % 2 else -3)) for m in range(10)]
    assert abs(slope_per_minute(noisy)) < RSS_BOUND_MB_PER_MIN


def _samples(minutes: int, rss_per_min: float, lag_per_min: float) -> list[Sample]:
    return [Sample(float(m), 120 + rss_per_min * m, int(lag_per_min * m)) for m in range(1, 11)][
        :minutes
    ]


def test_a_flat_ten_minutes_with_nothing_lost_is_ok() -> None:
    v = verdict(_samples(10, 0.0, 0.0), rate=10, lost=0, server_alive=True)
    assert v["ok"] is True and v["trend_checked"] is True and v["failures"] == []


def test_rss_growth_in_the_second_half_fails() -> None:
    v = verdict(_samples(10, 3.0, 0.0), rate=10, lost=0, server_alive=True)
    assert v["ok"] is False
    assert v["rss_slope_mb_per_min"] == pytest.approx(3.0)
    assert "RSS grew" in v["failures"][0]


def test_growth_only_in_the_first_half_is_warm_up() -> None:
    samples = [Sample(float(m), 100 + 10 * min(m, 5), 0) for m in range(1, 11)]
    assert verdict(samples, rate=10, lost=0, server_alive=True)["ok"] is True


def test_lag_growth_beyond_the_bound_fails() -> None:
    v = verdict(_samples(10, 0.0, 100.0), rate=10, lost=0, server_alive=True)
    assert v["ok"] is False and "lag grew" in v["failures"][0]
    assert verdict(_samples(10, 0.0, LAG_BOUND_MIN / 2), 1, 0, True)["ok"] is True


def test_lost_messages_or_a_dead_server_fail_even_a_short_run() -> None:
    short = _samples(3, 50.0, 500.0)
    assert verdict(short, rate=10, lost=0, server_alive=True)["trend_checked"] is False
    assert verdict(short, rate=10, lost=0, server_alive=True)["ok"] is True
    assert verdict(short, rate=10, lost=1, server_alive=True)["ok"] is False
    assert verdict(short, rate=10, lost=0, server_alive=False)["ok"] is False


def test_tracker_counts_lost_duplicates_and_ignores_warm_up() -> None:
    t = Tracker()
    warm = t.mark("queue", warm=True)
    a, b, c = t.mark("queue"), t.mark("topic"), t.mark("function")
    for mark in (a, b, c):
        t.acked.add(mark.split(":")[2])
    t.arrived(warm, 1e9)
    t.arrived(f"record {c} response {c}", 1e9)  # a destination record: once
    t.arrived(a, 1e9)
    t.arrived(a, 1e9)  # delivered twice
    assert t.warm_paths == {"queue"}
    assert t.duplicates == 1
    assert t.lost() == {b.split(":")[2]}
    counts = t.path_counts()
    assert counts["topic"] == {"sent": 1, "received": 0, "lost": 1, "p50_ms": None, "p99_ms": None}
    assert counts["queue"]["received"] == 1 and len(t.take_interval()) == 2
    assert t.take_interval() == []


def test_process_sample_reads_this_process() -> None:
    s = process_sample(os.getpid())
    assert s.rss_mb > 1 and s.cpu_s > 0 and s.fds >= 3
