"""`eventplane bench soak`, short: the JSON lines it prints, zero lost, a summary, exit 0.

The long run (`eventplane bench soak --minutes 10`) judges the RSS and lag trends; this
one is too short for a trend (the summary says ``trend_checked: false``) and checks that
every path delivers everything it acknowledged, with the figures present and sane.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SOAK = [sys.executable, "-m", "eventplane.cli", "bench", "soak"]
INTERVAL_FIELDS = {
    "minute",
    "rss_mb",
    "cpu_s",
    "cpu_pct",
    "fds",
    "lag",
    "sent",
    "received",
    "p50_ms",
    "p99_ms",
}


def test_short_soak_prints_intervals_and_a_summary_with_nothing_lost(
    eventplane_kafka: str,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTPLANE_")}
    env["EVENTPLANE_KAFKA_BOOTSTRAP"] = eventplane_kafka
    done = subprocess.run(
        [*SOAK, "--minutes", "0.5", "--interval-seconds", "5", "--rate", "10"],
        env=env,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    intervals = [x for x in lines if x["name"] == "soak_interval"]
    summaries = [x for x in lines if x["name"] == "soak_summary"]
    assert len(summaries) == 1 and lines[-1] is summaries[0]
    assert len(intervals) >= 3
    for line in intervals:
        assert line.keys() >= INTERVAL_FIELDS
        assert line["rss_mb"] > 0 and line["fds"] > 0 and line["lag"] >= 0
    assert [x["minute"] for x in intervals] == sorted(x["minute"] for x in intervals)
    assert intervals[-1]["cpu_s"] > intervals[0]["cpu_s"]
    summary = summaries[0]
    assert summary["ok"] is True and summary["failures"] == []
    assert summary["lost"] == 0
    assert summary["sent"] > 100 and summary["received"] >= summary["sent"]
    for path, counts in summary["paths"].items():
        assert counts["sent"] > 0 and counts["lost"] == 0, path
    assert summary["trend_checked"] is False
