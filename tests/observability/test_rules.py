"""deploy/prometheus/eventplane-rules.yaml: promtool accepts it, its unit tests pass, every
alert has a firing and a quiet case, and it reads only metrics the server exports."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .support import (
    EXAMPLE_CONFIG,
    RULE_TESTS,
    RULES,
    alert_names,
    exported_metric_names,
    load_yaml,
    metric_names,
    rules,
)


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=60, check=False
    )


def test_promtool_check_rules(promtool: str) -> None:
    result = run(promtool, "check", "rules", RULES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_check_example_config(promtool: str) -> None:
    result = run(promtool, "check", "config", EXAMPLE_CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_test_rules(promtool: str) -> None:
    assert RULE_TESTS, "no rule unit tests in deploy/prometheus/tests/"
    result = run(promtool, "test", "rules", *RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", RULE_TESTS, ids=lambda p: p.name)
def test_unit_tests_load_the_rule_file(path: Path) -> None:
    assert load_yaml(path)["rule_files"] == ["../eventplane-rules.yaml"]


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        for test in load_yaml(path)["tests"]:
            for case in test.get("alert_rule_test", []):
                (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
    alerts = set(alert_names())
    assert len(alerts) == len(alert_names()), "an alert name is used twice"
    assert not alerts - firing, f"alerts never tested firing: {sorted(alerts - firing)}"
    assert not alerts - quiet, f"alerts never tested quiet: {sorted(alerts - quiet)}"
    assert not (firing | quiet) - alerts, f"tests of unknown alerts: {(firing | quiet) - alerts}"


def test_alerts_have_severity_summary_and_description() -> None:
    for rule in rules():
        if "alert" not in rule:
            continue
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert {"summary", "description"} <= set(rule["annotations"]), rule["alert"]


def test_rules_read_exported_metrics() -> None:
    exported = exported_metric_names()
    for rule in rules():
        unknown = metric_names(rule["expr"]) - exported
        assert not unknown, f"{rule.get('alert') or rule.get('record')}: {sorted(unknown)}"


def test_recording_rules_follow_the_naming_convention() -> None:
    # level:metric:operations, as Prometheus's rule naming practice has it.
    for rule in rules():
        if "record" in rule:
            level, metric, operations = rule["record"].split(":")
            assert level and metric.startswith("eventplane_") and operations, rule["record"]
