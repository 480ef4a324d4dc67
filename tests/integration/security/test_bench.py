"""`eventplane bench security` at a tiny scale: both servers run and every line is there."""

from __future__ import annotations

import json

import pytest

from eventplane.bench import run_benchmarks
from eventplane.config import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_security_bench_prints_both_variants_and_the_goal(eventplane_kafka: str) -> None:
    figures = list(
        run_benchmarks(Settings(kafka_bootstrap=eventplane_kafka), "security", scale=0.001)
    )
    assert [f["name"] for f in figures] == [
        "security_queue_cycle_p50",
        "security_queue_cycle_p99",
        "security_sync_invoke_p50",
        "security_sync_invoke_p99",
        "security_added_latency_p50_goal",
    ]
    for f in figures[:4]:
        assert f.keys() >= {"unit", "value", "baseline_name", "baseline_value", "added_pct"}
        assert f["unit"] == "ms"
        # Both variants ran: the secure server's samples and the plain server's baseline.
        assert f["value"] > 0 and f["baseline_value"] > 0
        # Three pairs of servers, ten samples of each figure on each server of a pair.
        assert f["count"] == f["plain_count"] == 30
        assert f["baseline_name"] == "plain_" + f["name"].removeprefix("security_")
        assert f["policy_statements"] == 50
        assert json.loads(json.dumps(f)) == f
    for f in figures[:4:2]:
        assert len(f["added_pct_p50_per_pair"]) == 3
    summary = figures[-1]
    assert summary["goal_pct"] == 10.0
    assert summary["value"] == max(f["added_pct"] for f in figures[:4:2])
    assert isinstance(summary["met"], bool)
