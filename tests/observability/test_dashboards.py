"""deploy/grafana/dashboards/*.json: structure, datasource, variables and units of every
panel; every expression parses (promtool) and reads metrics the server exports."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from .support import (
    CORE_PANELS,
    DASHBOARDS,
    DATASOURCE,
    GRAFANA_BUILTINS,
    exported_metric_names,
    load_dashboards,
    metric_names,
    panels,
    render,
    targets,
    variable_names,
    variables,
)

# Per-second rates, plain numbers, seconds, ratios, sizes.
RATE_UNITS = {"reqps", "cps"}
UNITS = RATE_UNITS | {"short", "none", "s", "percentunit", "bytes"}
_SELECTOR = re.compile(r"(?<![\w:])(eventplane_\w+)(\{[^}]*\})?")

DASHBOARD_DOCS = load_dashboards()


def by_uid(uid: str) -> dict[str, Any]:
    return next(d for d in DASHBOARD_DOCS if d["uid"] == uid)


def queries(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in panels(dashboard) if p["type"] != "row"]


@pytest.fixture(params=DASHBOARD_DOCS, ids=lambda d: d["uid"])
def dashboard(request: pytest.FixtureRequest) -> dict[str, Any]:
    return dict(request.param)


def test_the_seven_dashboards() -> None:
    assert sorted(d["uid"] for d in DASHBOARD_DOCS) == [
        "eventplane-buses",
        "eventplane-functions",
        "eventplane-overview",
        "eventplane-queues",
        "eventplane-tables",
        "eventplane-topics",
        "eventplane-workflows",
    ]
    assert [p.stem for p in DASHBOARDS] == sorted(d["uid"] for d in DASHBOARD_DOCS)


def test_dashboard_metadata(dashboard: dict[str, Any]) -> None:
    assert dashboard["title"].startswith("eventplane / ")
    assert "eventplane" in dashboard["tags"]
    assert dashboard["schemaVersion"] >= 36
    assert "id" not in dashboard or dashboard["id"] is None  # portable: Grafana assigns it


def test_datasource_variable(dashboard: dict[str, Any]) -> None:
    ds = variables(dashboard)["datasource"]
    assert (ds["type"], ds["query"]) == ("datasource", "prometheus")


def test_every_panel_reads_the_datasource_variable(dashboard: dict[str, Any]) -> None:
    for panel in queries(dashboard):
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, panel["title"]
            assert target["expr"].strip(), panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(set(ref_ids)) == len(ref_ids), panel["title"]


def test_panel_ids_and_titles_are_unique(dashboard: dict[str, Any]) -> None:
    all_panels = list(panels(dashboard))
    assert len({p["id"] for p in all_panels}) == len(all_panels)
    titles = Counter(p["title"] for p in queries(dashboard))
    assert not [t for t, n in titles.items() if n > 1]


def test_panels_fit_the_grid_without_overlapping(dashboard: dict[str, Any]) -> None:
    cells: dict[tuple[int, int], str] = {}
    for panel in panels(dashboard):
        g = panel["gridPos"]
        assert g["x"] >= 0 and g["w"] > 0 and g["x"] + g["w"] <= 24, panel["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{panel['title']!r} overlaps {cells[(x, y)]!r}"
                cells[(x, y)] = panel["title"]


def test_units(dashboard: dict[str, Any]) -> None:
    for panel in queries(dashboard):
        if panel["type"] == "table":
            continue
        unit = panel["fieldConfig"]["defaults"].get("unit")
        exprs = " ".join(t["expr"] for t in panel["targets"])
        assert unit in UNITS, f"{panel['title']}: unit {unit!r}"
        if "histogram_quantile" in exprs or "_seconds_sum" in exprs:
            assert unit == "s", f"{panel['title']}: durations are in seconds, not {unit}"
        elif "rate(" in exprs and " / " not in exprs:
            assert unit in RATE_UNITS, f"{panel['title']}: a rate, not {unit}"
        elif " / " in exprs:
            assert unit == "percentunit", f"{panel['title']}: a ratio, not {unit}"


def test_variables_are_defined(dashboard: dict[str, Any]) -> None:
    defined = set(variables(dashboard)) | set(GRAFANA_BUILTINS)
    for variable in variables(dashboard).values():
        if variable["type"] == "query":
            assert variable["datasource"] == DATASOURCE, variable["name"]
            assert variable_names(variable["query"]) <= defined, variable["name"]
    for panel in queries(dashboard):
        for target in panel["targets"]:
            unknown = variable_names(target["expr"]) - defined
            assert not unknown, f"{panel['title']}: undefined {sorted(unknown)}"


def test_resource_variables_select_everything_by_default(dashboard: dict[str, Any]) -> None:
    for name, variable in variables(dashboard).items():
        if name in ("datasource", "job"):
            continue
        assert variable["multi"] and variable["includeAll"], name
        assert variable["allValue"] == ".*", name  # new resources show up without a reload


def test_every_eventplane_selector_filters_by_job(dashboard: dict[str, Any]) -> None:
    for panel in queries(dashboard):
        for target in panel["targets"]:
            for metric, matchers in _SELECTOR.findall(target["expr"]):
                assert 'job=~"$job"' in matchers, f"{panel['title']}: {metric} {matchers}"


def test_dashboards_read_exported_metrics() -> None:
    exported = exported_metric_names()
    for t in targets(DASHBOARD_DOCS):
        assert not metric_names(t.expr) - exported, t.where
    for dashboard in DASHBOARD_DOCS:
        for variable in variables(dashboard).values():
            if variable["type"] == "query":
                assert not metric_names(variable["query"]) - exported, variable["name"]


def test_core_panels_exist() -> None:
    for uid, title in CORE_PANELS:
        assert title in {p["title"] for p in queries(by_uid(uid))}, (uid, title)


def test_every_expression_parses(promtool: str, tmp_path: Path) -> None:
    """promtool parses PromQL offline when it checks rules: each expression, with
    Grafana's variables filled in, becomes a recording rule."""
    groups = []
    names: dict[str, str] = {}
    for dashboard in DASHBOARD_DOCS:
        rules = []
        for t in targets([dashboard]):
            record = f"dashboard_{len(names)}"
            names[record] = t.where
            rules.append({"record": record, "expr": render(t.expr, dashboard, {"job": "x"})})
        groups.append({"name": dashboard["uid"], "rules": rules})
    path = tmp_path / "dashboards.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": groups}))
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    output = result.stdout + result.stderr
    for record, where in names.items():
        output = re.sub(rf"\b{record}\b", where, output)
    assert result.returncode == 0, output
