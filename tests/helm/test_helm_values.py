"""values.yaml, values.schema.json and the files the chart ships."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from .conftest import RenderFn
from .support import CHART, REPO, HelmError, run_helm


@pytest.mark.parametrize(
    ("sets", "field", "problem"),
    [
        (["topics.replicationFactor=0"], "/topics/replicationFactor", "minimum"),
        (["topics.minInsyncReplicas=x"], "/topics/minInsyncReplicas", "want integer"),
        (["mode=both"], "/mode", "allInOne"),
        (["config.logLevel=TRACE"], "/config/logLevel", "INFO"),
        (["config.grpcPort=70000"], "/config/grpcPort", "maximum"),
        (["kafka.bootstrapServers=kafka"], "/kafka/bootstrapServers", "pattern"),
        (["workloads.queues.roles={queues,payments}"], "/workloads/queues/roles/1", "api"),
        (
            ["kafka.strimzi.nodePools.dual.roles={zookeeper}"],
            "/kafka/strimzi/nodePools/dual/roles/0",
            "broker",
        ),
        (
            ["kafka.clientConfig.sasl\\.password=secret"],
            "/kafka/clientConfig/sasl.password",
            "use kafka.sasl.passwordSecret",
        ),
        (["replica=3"], "replica", "additional properties"),
        (["cluster=Team_A"], "/cluster", "pattern"),
        (["tls.certManager.duration=90d"], "/tls/certManager/duration", "pattern"),
        (["auth.insecure=yes"], "/auth/insecure", "want boolean"),
        (["podDisruptionBudget.maxUnavailable=half"], "/podDisruptionBudget/maxUnavailable", ""),
    ],
)
def test_schema_rejects_a_bad_value_naming_the_field(
    render: RenderFn, sets: list[str], field: str, problem: str
) -> None:
    with pytest.raises(HelmError) as caught:
        render(sets=sets)
    message = str(caught.value)
    assert "values don't meet the specifications of the schema" in message
    assert field in message and problem in message, message


def test_helm_lint_reports_a_bad_value_by_its_path(helm: str) -> None:
    with pytest.raises(HelmError) as caught:
        run_helm(helm, "lint", str(CHART), "--set", "topics.minInsyncReplicas=0")
    assert "at '/topics/minInsyncReplicas': minimum: got 0, want 1" in str(caught.value)


@pytest.mark.parametrize(
    ("scenario", "sets", "message"),
    [
        (
            "default",
            ["topics.minInsyncReplicas=3", "topics.replicationFactor=2"],
            "topics.minInsyncReplicas (3) must not exceed topics.replicationFactor (2)",
        ),
        (
            "strimzi-single-node-values.yaml",
            ["topics.replicationFactor=3"],
            "topics.replicationFactor (3) exceeds the 1 broker(s) of kafka.strimzi.nodePools",
        ),
        ("default", ["kafka.bootstrapServers="], "kafka.bootstrapServers is required"),
        ("default", ["kafka.sasl.enabled=true"], "kafka.sasl.passwordSecret.name is required"),
        (
            "default",
            ["podDisruptionBudget.minAvailable=1"],
            "set minAvailable or maxUnavailable, not both",
        ),
        (
            "default",
            ["terminationGracePeriodSeconds=10"],
            "terminationGracePeriodSeconds (10) must exceed",
        ),
        (
            "default",
            [
                "mode=split",
                "workloads.api.enabled=false",
                "workloads.queues.enabled=false",
                "workloads.fanout.enabled=false",
                "workloads.bus.enabled=false",
                "workloads.runner.enabled=false",
            ],
            "mode split needs at least one workload",
        ),
    ],
)
def test_values_that_contradict_each_other_fail_with_a_message(
    render: RenderFn, scenario: str, sets: list[str], message: str
) -> None:
    with pytest.raises(HelmError) as caught:
        render(scenario, sets=sets)
    assert message in str(caught.value)


def test_every_key_in_values_yaml_is_commented() -> None:
    """STYLE.md 14: a comment line right above every key (keys inside list items excepted)."""
    key = re.compile(r"^(\s*)([A-Za-z0-9_.\-/\"]+):(\s|$)")
    uncommented = []
    list_item_indents: list[int] = []  # indents of enclosing "- " items
    previous = ""
    for number, line in enumerate((CHART / "values.yaml").read_text().splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            previous = ""
            continue
        indent = len(line) - len(line.lstrip())
        while list_item_indents and indent <= list_item_indents[-1]:
            list_item_indents.pop()
        if stripped.startswith("- "):
            list_item_indents.append(indent)
        elif (m := key.match(line)) and not list_item_indents and not previous.startswith("#"):
            uncommented.append(f"{number}: {m.group(2)}")
        previous = stripped
    assert not uncommented, f"keys without a comment above them: {uncommented}"


def test_schema_knows_every_default_value() -> None:
    """values.schema.json is strict (additionalProperties false); the defaults must pass it."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert schema["additionalProperties"] is False
    assert set(values) == set(schema["properties"])


def test_chart_app_version_is_the_package_version() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    # The version's one source is eventplane.__version__ (pyproject reads it dynamically).
    init = (REPO / "platform" / "eventplane" / "__init__.py").read_text()
    version = re.search(r'^__version__ = "([^"]+)"', init, flags=re.MULTILINE)
    assert version is not None
    assert chart["appVersion"] == version.group(1)
    assert chart["apiVersion"] == "v2"


def test_one_resource_kind_per_template() -> None:
    """STYLE.md 14: each template file renders objects of one kind."""
    for template in sorted((CHART / "templates").rglob("*.yaml")):
        found = set(re.findall(r"^kind: (\w+)", template.read_text(), flags=re.MULTILINE))
        assert len(found) == 1, f"{template.name} renders kinds {sorted(found)}"


def test_shipped_rules_match_deploy_prometheus() -> None:
    """The chart ships a copy of deploy/prometheus/eventplane-rules.yaml.

    Helm reads files only from inside the chart folder, so the chart keeps a copy.
    """
    source = REPO / "deploy" / "prometheus" / "eventplane-rules.yaml"
    if not source.exists():
        pytest.skip("deploy/prometheus/eventplane-rules.yaml not written yet")
    chart_copy = CHART / "files" / "prometheus" / "eventplane-rules.yaml"
    assert yaml.safe_load(chart_copy.read_text()) == yaml.safe_load(source.read_text()), (
        f"stale copy: cp {source.relative_to(REPO)} {chart_copy.relative_to(REPO)}"
    )


def test_shipped_dashboards_match_deploy_grafana() -> None:
    """The chart ships copies of deploy/grafana/dashboards/*.json."""
    source = REPO / "deploy" / "grafana" / "dashboards"
    if not any(source.glob("*.json")):
        pytest.skip("deploy/grafana/dashboards/ has no dashboards yet")
    shipped = CHART / "files" / "dashboards"
    want = {p.name: json.loads(p.read_text()) for p in source.glob("*.json")}
    have = {p.name: json.loads(p.read_text()) for p in shipped.glob("*.json")}
    assert have == want, (
        f"stale copies: rm {shipped.relative_to(REPO)}/*.json && "
        f"cp {source.relative_to(REPO)}/*.json {shipped.relative_to(REPO)}/"
    )


def test_dashboards_are_grafana_json_with_unique_uids() -> None:
    uids = []
    for path in sorted((CHART / "files" / "dashboards").glob("*.json")):
        dashboard = json.loads(path.read_text())
        assert dashboard["title"] and isinstance(dashboard["panels"], list), path.name
        uids.append(dashboard["uid"])
    assert uids and len(uids) == len(set(uids))
