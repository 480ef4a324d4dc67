"""The matcher bench runs without a broker and reports sane figures at a tiny scale."""

from __future__ import annotations

import json

from eventplane.bench import matcher
from eventplane.bus.ruleset import RuleSet
from eventplane.config import Settings


def test_matcher_bench_reports_every_figure_at_a_tiny_scale() -> None:
    figures = list(matcher.run(Settings(), 0.001))
    assert [f["name"] for f in figures] == [
        "events_matcher_naive_1000_rules",
        "events_matcher_1_rule",
        "events_matcher_100_rules",
        "events_matcher_1000_rules",
    ]
    for f in figures:
        assert f["unit"] == "events/s"
        assert f["value"] > 0
        assert f["count"] > 0
        assert json.loads(json.dumps(f)) == f
    indexed = figures[-1]
    assert indexed["rules"] == 1000
    assert indexed["baseline_name"] == "events_matcher_naive_1000_rules"
    assert indexed["baseline_value"] == figures[0]["value"]
    assert indexed["ratio"] > 0
    assert "baseline_name" not in figures[1]


def test_bench_events_match_a_few_percent_of_the_time() -> None:
    rules = matcher.rules(1000)
    ruleset = RuleSet(rules)
    pool = matcher.events(2000)
    matched = sum(len(ruleset.matching(event)) > 0 for event in pool)
    assert 0.01 * len(pool) < matched < 0.15 * len(pool)
    # The matches spread over many rules, not a handful.
    assert len({name for event in pool for name in ruleset.matching(event)}) > 50


def test_bench_inputs_are_the_same_on_every_run() -> None:
    assert matcher.events(50) == matcher.events(50)
    first = [p.source for _, p in matcher.rules(30)]
    assert first == [p.source for _, p in matcher.rules(30)]
