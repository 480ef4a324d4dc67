from __future__ import annotations

import json
import math
import random

import pytest

from eventplane.bench._stats import figure, percentile

# --- percentile (nearest rank) -----------------------------------------------------------


def test_percentile_of_nothing_is_nan() -> None:
    assert math.isnan(percentile([], 50))


def test_percentile_of_one_value_is_that_value() -> None:
    for p in (0, 1, 50, 99, 100):
        assert percentile([7.5], p) == 7.5


def test_percentile_extremes_are_min_and_max() -> None:
    values = [3.0, 1.0, 2.0, 5.0, 4.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 5.0


def test_percentile_does_not_need_sorted_input_and_leaves_it_alone() -> None:
    values = list(range(1, 101))
    shuffled = values[:]
    random.Random(7).shuffle(shuffled)
    before = shuffled[:]
    assert percentile(shuffled, 50) == percentile(values, 50) == 50
    assert shuffled == before


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (50, 50),  # rank 50 of 100
        (98, 98),
        (100, 100),
        (0.5, 1),  # a fractional rank rounds up
        (50.1, 51),
        (99.5, 100),
    ],
)
def test_percentile_nearest_rank_of_1_to_100(p: float, expected: int) -> None:
    assert percentile(list(range(1, 101)), p) == expected


def test_percentile_of_five_values() -> None:
    values = [10.0, 20.0, 30.0, 40.0, 50.0]
    assert percentile(values, 50) == 30.0  # ceil(2.5) = 3rd
    assert percentile(values, 40) == 20.0  # exactly the 2nd
    assert percentile(values, 90) == 50.0


def test_percentile_is_always_one_of_the_values() -> None:
    rng = random.Random(3)
    values = [rng.random() for _ in range(37)]
    for p in (1, 10, 33.3, 50, 90, 99, 99.9):
        assert percentile(values, p) in values


def test_percentile_is_monotonic_in_p() -> None:
    rng = random.Random(11)
    values = [rng.expovariate(1.0) for _ in range(250)]
    results = [percentile(values, p) for p in range(0, 101)]
    assert results == sorted(results)


@pytest.mark.parametrize(("p", "expected"), [(99, 99), (25, 25), (1, 1), (75, 75)])
def test_percentile_exact_odd_rank(p: float, expected: int) -> None:
    assert percentile(list(range(1, 101)), p) == expected


# --- figure -------------------------------------------------------------------------------


def test_figure_without_baseline() -> None:
    result = figure("kafka_raw_produce", "msg/s", 1234.56789)
    assert result == {"name": "kafka_raw_produce", "unit": "msg/s", "value": 1234.568}
    assert "ratio" not in result
    assert "baseline_name" not in result


def test_figure_with_baseline_adds_name_value_and_ratio() -> None:
    result = figure("queues_cycle", "msg/s", 300.0, ("kafka_raw_cycle", 1000.0))
    assert result == {
        "name": "queues_cycle",
        "unit": "msg/s",
        "value": 300.0,
        "baseline_name": "kafka_raw_cycle",
        "baseline_value": 1000.0,
        "ratio": 0.3,
    }


def test_figure_ratio_is_value_over_baseline_rounded_to_four_places() -> None:
    result = figure("x", "msg/s", 1.0, ("base", 3.0))
    assert result["ratio"] == 0.3333
    result = figure("x", "msg/s", 2000.0, ("base", 1000.0))
    assert result["ratio"] == 2.0


def test_figure_ratio_uses_the_unrounded_numbers() -> None:
    # Both round to 0.0 at three places; the ratio still comes from the real values.
    result = figure("x", "ms", 0.0001, ("base", 0.0002))
    assert result["value"] == 0.0
    assert result["baseline_value"] == 0.0
    assert result["ratio"] == 0.5


def test_figure_ratio_against_a_zero_baseline_is_none() -> None:
    result = figure("x", "msg/s", 10.0, ("base", 0.0))
    assert result["baseline_value"] == 0.0
    assert result["ratio"] is None


def test_figure_rounds_value_and_baseline_to_three_places() -> None:
    result = figure("x", "ms", 1.23456, ("base", 9.87654))
    assert result["value"] == 1.235
    assert result["baseline_value"] == 9.877


def test_figure_keeps_extra_fields() -> None:
    result = figure("x", "msg/s", 5.0, ("base", 10.0), count=2000, complete=True)
    assert result["count"] == 2000
    assert result["complete"] is True
    assert result["ratio"] == 0.5


def test_figure_is_one_json_line() -> None:
    result = figure("x", "msg/s", 5.0, ("base", 10.0), count=3)
    line = json.dumps(result)
    assert "\n" not in line
    assert json.loads(line) == result
