"""Per-hop stamps and the bench's quantiles from histogram buckets."""

from __future__ import annotations

import math

import pytest

from eventplane.bench import _stages
from eventplane.observability import stages
from eventplane.observability.metrics import STAGE_SECONDS


def test_a_stamp_is_read_back_from_record_headers() -> None:
    headers = [("other", b"x"), stages.stamp(stages.PRODUCED_AT, 1700000000.25)]
    assert stages.stamp_of(headers, stages.PRODUCED_AT) == pytest.approx(1700000000.25)
    assert stages.stamp_of(headers, stages.DISPATCHED_AT) is None
    assert stages.stamp_of([(stages.PRODUCED_AT, b"garbage")], stages.PRODUCED_AT) is None
    assert stages.stamp_of(None, stages.PRODUCED_AT) is None


def _count(stage: str) -> float:
    for metric in STAGE_SECONDS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count") and sample.labels["stage"] == stage:
                return sample.value
    return 0.0


def test_observe_skips_missing_stamps_and_clock_steps_back() -> None:
    stage = "produce_to_owner_adopt"
    before = _count(stage)
    stages.observe(stage, None)
    stages.observe(stage, 0.0)
    stages.observe(stage, 100.0, now=99.0)  # the sender's clock was ahead
    assert _count(stage) == before
    stages.observe(stage, 100.0, now=100.004)
    assert _count(stage) == before + 1


def test_every_stage_has_a_series_and_no_other_label() -> None:
    assert STAGE_SECONDS._labelnames == ("stage",)
    for stage in stages.STAGES:
        stages.observe(stage, 1.0, now=1.001)


def test_quantile_interpolates_inside_the_bucket() -> None:
    # 100 observations: 50 at or below 1 ms, 40 in (1, 2] ms, 10 in (2, 5] ms.
    buckets = {0.001: 50.0, 0.002: 90.0, 0.005: 100.0, math.inf: 100.0}
    assert _stages.quantile(buckets, 0.5) == pytest.approx(0.001)
    assert _stages.quantile(buckets, 0.7) == pytest.approx(0.0015)
    assert _stages.quantile(buckets, 0.99) == pytest.approx(0.0047)
    assert math.isnan(_stages.quantile({0.001: 0.0, math.inf: 0.0}, 0.5))


def test_quantile_beyond_the_last_bound_is_that_bound() -> None:
    assert _stages.quantile({0.001: 1.0, math.inf: 10.0}, 0.99) == pytest.approx(0.001)


def test_stage_figures_use_the_run_s_difference_only() -> None:
    before = {"a": {0.001: 10.0, math.inf: 10.0}}
    after = {"a": {0.001: 10.0, math.inf: 20.0}, "b": {0.001: 0.0, math.inf: 0.0}}
    figures = list(_stages.stage_figures("x", before, after))
    assert [f["name"] for f in figures] == ["x_stage_a_p50", "x_stage_a_p99"]
    assert figures[0]["count"] == 10
    assert figures[0]["value"] == pytest.approx(1.0)  # all ten beyond 1 ms: 1 ms is all we know


def test_cpu_span_measures_a_process_s_own_cpu() -> None:
    import os

    from eventplane.bench._cpu import CpuSpan, cpu_extras

    with CpuSpan(os.getpid()) as span:
        sum(i * i for i in range(300_000))
    assert span.seconds >= 0
    extras = cpu_extras(span, 1000, 10.0)
    assert extras["server_cpu_us_per_msg"] == pytest.approx(span.seconds * 1000, abs=0.1)
    with CpuSpan(None) as unknown:
        pass
    assert cpu_extras(unknown, 10, 10.0)["cpu_ratio"] is None
