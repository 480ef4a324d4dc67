"""Helpers for the observability tests: the rule and dashboard files, the metric names the
server exports, Grafana's variables, and a Prometheus server run from a temporary
directory.
"""

from __future__ import annotations

import importlib
import json
import re
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import yaml

from eventplane.testing import free_port

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "eventplane-rules.yaml"
EXAMPLE_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.example.yml"
RULE_TESTS = sorted((ROOT / "deploy" / "prometheus" / "tests").glob("*.yaml"))
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
INSTALL_SCRIPT = ROOT / "tools" / "install_prometheus.sh"
HANDLERS = Path(__file__).parent / "handlers" / "observed"

# Every panel and every target reads the dashboard's Prometheus datasource variable.
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}

# What Grafana fills in itself. The live test scrapes every second, so a minute holds
# plenty of samples for rate() (Grafana's $__rate_interval is at least 4 scrapes).
GRAFANA_BUILTINS = {"__rate_interval": "1m", "__interval": "15s", "__range": "5m"}
_VARIABLE = re.compile(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+)|\[\[(\w+)(?::\w+)?\]\])")
# A metric name of eventplane's, not part of a recording rule's name (level:metric:ops).
_METRIC = re.compile(r"(?<![\w:])eventplane_\w+(?![\w:])")
# Every module that defines metrics (importing one registers its families).
_METRIC_MODULES = (
    *(f"eventplane.{area}.metrics" for area in ("observability", "queues", "topics", "bus")),
    *(f"eventplane.{area}.metrics" for area in ("functions", "workflows", "tables")),
    "eventplane.security.authorize",
)


# --- rules ---------------------------------------------------------------------------------
def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(RULES)["groups"] for rule in group["rules"]]


def alert_names() -> list[str]:
    return [r["alert"] for r in rules() if "alert" in r]


# --- dashboards ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    dashboard: dict[str, Any]
    panel: dict[str, Any]
    target: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.dashboard['uid']} / {self.panel['title']!r} / {self.target['refId']}"

    @property
    def expr(self) -> str:
        return str(self.target["expr"])


def load_dashboards() -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in DASHBOARDS]


def panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those inside collapsed rows too; rows themselves included."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def targets(dashboards: list[dict[str, Any]]) -> Iterator[Target]:
    for dashboard in dashboards:
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                yield Target(dashboard, panel, target)


def variables(dashboard: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in dashboard["templating"]["list"]}


def variable_names(expr: str) -> set[str]:
    return {next(g for g in m.groups() if g) for m in _VARIABLE.finditer(expr)}


def render(expr: str, dashboard: Mapping[str, Any], chosen: Mapping[str, str]) -> str:
    """``expr`` as Grafana sends it: a variable with an "All" value of its own takes it,
    others take ``chosen`` (the test's job), Grafana's built-ins take GRAFANA_BUILTINS."""
    values = dict(GRAFANA_BUILTINS)
    for name, variable in variables(dashboard).items():
        if variable.get("allValue"):
            values[name] = variable["allValue"]
    values.update(chosen)

    def value(m: re.Match[str]) -> str:
        name = next(g for g in m.groups() if g)
        if name not in values:
            raise KeyError(f"no value for ${name} in {expr!r}")
        return values[name]

    return _VARIABLE.sub(value, expr)


# --- metric names --------------------------------------------------------------------------
def exported_metric_names() -> set[str]:
    """Sample names the server can export, read from its metric definitions."""
    from prometheus_client import REGISTRY

    from eventplane.queues.metrics import DepthCollector
    from eventplane.tables.metrics import TableCollector
    from eventplane.workers import Supervisor, _Gathered

    for module in _METRIC_MODULES:
        importlib.import_module(module)
    suffixes = {
        "counter": ("_total",),
        "gauge": ("",),
        "histogram": ("_bucket", "_sum", "_count"),
        "info": ("_info",),
        "summary": ("_sum", "_count", ""),
    }
    families = list(REGISTRY.collect())
    # Collectors registered by a running engine (scrape-time gauges).
    families += DepthCollector(lambda: []).collect()
    families += TableCollector(lambda: []).collect()
    # The supervisor of `--processes N` adds its own families to the workers'.
    families += _Gathered(cast(Supervisor, SimpleNamespace(workers=[]))).collect()
    return {
        f.name + suffix
        for f in families
        if f.name.startswith("eventplane_")
        for suffix in suffixes[f.type]
    }


def metric_names(expr: str) -> set[str]:
    return set(_METRIC.findall(expr))


# --- a Prometheus server -------------------------------------------------------------------
@dataclass(frozen=True)
class PrometheusTools:
    """Paths of the binaries Debian's prometheus package installs."""

    prometheus: str
    promtool: str


class Prometheus:
    """The ``prometheus`` binary on a free port, with its config and TSDB in ``workdir``,
    scraping ``targets`` every second as job ``eventplane`` and evaluating ``rule_files``."""

    def __init__(
        self, binary: str, workdir: Path, targets: list[str], rule_files: list[Path]
    ) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "prometheus.log"
        self.config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(p) for p in rule_files],
            "scrape_configs": [
                {"job_name": "eventplane", "static_configs": [{"targets": targets}]}
            ],
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> Prometheus:
        config = self.workdir / "prometheus.yml"
        config.write_text(yaml.safe_dump(self.config))
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    self.binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={self.workdir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"prometheus not ready in {timeout:g}s:\n{self.log()}")
            time.sleep(0.1)

    def api(self, path: str, **params: str | list[str]) -> dict[str, Any]:
        """GET /api/v1/<path>; Prometheus answers errors (bad PromQL) as JSON too."""
        query = urllib.parse.urlencode(params, doseq=True)
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=10) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            with exc:
                body = exc.read()
        result: dict[str, Any] = json.loads(body)
        return result

    def query(self, expr: str) -> dict[str, Any]:
        return self.api("query", query=expr)

    def log(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# The panels that must show data once a server has served some load (the live test):
# (dashboard uid, panel title).
CORE_PANELS = (
    ("eventplane-overview", "Servers up"),
    ("eventplane-overview", "Queue messages"),
    ("eventplane-overview", "Queue depth"),
    ("eventplane-overview", "Function invocations by outcome"),
    ("eventplane-overview", "Function duration"),
    ("eventplane-queues", "Messages sent"),
    ("eventplane-queues", "Messages received"),
    ("eventplane-queues", "Visible messages"),
    ("eventplane-queues", "Visible messages by queue"),
    ("eventplane-functions", "Invocations"),
    ("eventplane-functions", "Invocations by function and outcome"),
    ("eventplane-functions", "Duration p50 / p90 / p99"),
    ("eventplane-functions", "Duration p99 by function"),
    ("eventplane-topics", "Messages published by topic"),
    ("eventplane-buses", "Events put by bus"),
    ("eventplane-workflows", "Executions started"),
    ("eventplane-workflows", "Execution failure ratio"),
    ("eventplane-workflows", "State transitions"),
    ("eventplane-workflows", "Executions by state machine and outcome"),
    ("eventplane-workflows", "Failed, timed out and aborted executions"),
    ("eventplane-workflows", "State transitions by state machine"),
    ("eventplane-workflows", "Transition latency p50 / p99"),
    ("eventplane-workflows", "Execution duration p50 / p99"),
    ("eventplane-tables", "Reads"),
    ("eventplane-tables", "Writes"),
    ("eventplane-tables", "Conditional check failures"),
    ("eventplane-tables", "Items"),
    ("eventplane-tables", "Reads by table"),
    ("eventplane-tables", "Writes by table"),
    ("eventplane-tables", "Conditional check failures by table"),
    ("eventplane-tables", "Transaction conflicts by table"),
    ("eventplane-tables", "Items by table"),
    ("eventplane-tables", "Size by table"),
    ("eventplane-tables", "Stream records read by table"),
)
# Panels of the workflows and tables dashboards the live load may leave without a series:
# none since a table's counters are created at zero with the table (runtime.series).
# (The iterator age has a series, but it is 0 once the mapping caught up, so it is not
# a core panel.)
SERIES_EXEMPT: tuple[tuple[str, str], ...] = ()
