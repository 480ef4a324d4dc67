"""Chart tests: render helm/eventplane with a real Helm and check what comes out.

Helm is a Go program; tools/install_helm.sh builds the pinned version with
`go install` (about 3 minutes the first time, then cached). It runs once,
after collection and before the first test, so the build never counts
against a test's timeout. When it cannot run (no Go), the tests that need
Helm skip with the reason; EVENTPLANE_REQUIRE_HELM=1 (CI) makes that a
failure instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from .support import CHART, INSTALLER, NAMESPACE, RELEASE, REPO, Rendered, run_helm, scenario_args

_install: dict[str, str] = {}


def pytest_collection_finish(session: pytest.Session) -> None:
    if not any("helm" in getattr(item, "fixturenames", ()) for item in session.items):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"tests/helm: {INSTALLER.relative_to(REPO)} (go install, first run ~3 min)"
        )
    try:
        done = subprocess.run(
            [str(INSTALLER)], capture_output=True, text=True, timeout=1800, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        _install["error"] = f"{INSTALLER.name} did not finish: {exc}"
        return
    if done.returncode == 0:
        _install["path"] = done.stdout.strip().splitlines()[-1]
    else:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        _install["error"] = f"{INSTALLER.name} failed (exit {done.returncode}): {tail}"


@pytest.fixture(scope="session")
def helm() -> str:
    """Path of the pinned helm binary."""
    if "path" not in _install and "error" not in _install:  # hook skipped (e.g. plugin use)
        pytest.skip("helm was not installed for this session")
    if "error" in _install:
        if os.environ.get("EVENTPLANE_REQUIRE_HELM") == "1":
            pytest.fail(_install["error"])
        pytest.skip(_install["error"])
    return _install["path"]


RenderFn = Callable[..., Rendered]


@pytest.fixture(scope="session")
def render(helm: str) -> RenderFn:
    """render(scenario="default", *, sets=["k=v"], values={...}, release=..., chart=...)."""
    cache: dict[tuple[Any, ...], Rendered] = {}

    def _render(
        scenario: str = "default",
        *,
        sets: Sequence[str] = (),
        values: dict[str, Any] | None = None,
        release: str = RELEASE,
        chart: Path = CHART,
        tmp: Path | None = None,
    ) -> Rendered:
        key = (scenario, tuple(sets), yaml.safe_dump(values), release, str(chart))
        if key in cache:
            return cache[key]
        args = ["template", release, str(chart), "--namespace", NAMESPACE]
        args += scenario_args(scenario)
        if values is not None:
            assert tmp is not None, "values= needs tmp= (a folder for the values file)"
            path = tmp / f"values-{len(cache)}.yaml"
            path.write_text(yaml.safe_dump(values), encoding="utf-8")
            args += ["-f", str(path)]
        for item in sets:
            args += ["--set", item]
        docs = tuple(d for d in yaml.safe_load_all(run_helm(helm, *args)) if d)
        cache[key] = Rendered(docs)
        return cache[key]

    return _render


@pytest.fixture
def chart_copy(tmp_path: Path) -> Iterator[Path]:
    """A copy of the chart that a test may edit (e.g. Chart.yaml's version)."""
    target = tmp_path / "eventplane"
    shutil.copytree(CHART, target)
    yield target
