"""What the chart tests share: paths, scenarios, running Helm, reading its output."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "eventplane"
INSTALLER = REPO / "tools" / "install_helm.sh"
SCENARIOS = sorted(p.name for p in (CHART / "ci").glob("*.yaml"))
# The default values, then every scenario under ci/.
ALL_SCENARIOS = ["default", *SCENARIOS]
RELEASE = "eventplane"
NAMESPACE = "events"


class HelmError(Exception):
    """helm lint/template failed; the message is Helm's stderr."""


@dataclass(frozen=True)
class Rendered:
    """The manifests of one `helm template` run."""

    docs: tuple[dict[str, Any], ...]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d["kind"] == kind]

    def one(self, kind: str, name: str | None = None) -> dict[str, Any]:
        found = [d for d in self.of_kind(kind) if name is None or d["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name or ''}, got {len(found)}"
        return found[0]

    def kinds(self) -> set[str]:
        return {d["kind"] for d in self.docs}


def scenario_args(scenario: str) -> list[str]:
    return [] if scenario == "default" else ["-f", str(CHART / "ci" / scenario)]


def run_helm(helm: str, *args: str) -> str:
    done = subprocess.run([helm, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        # lint reports its findings on stdout and only the verdict on stderr
        raise HelmError("\n".join(t.strip() for t in (done.stderr, done.stdout) if t.strip()))
    return done.stdout


def containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod_spec.get("initContainers", []), *pod_spec["containers"]]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    """name -> value (a string) or valueFrom (a dict)."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}
