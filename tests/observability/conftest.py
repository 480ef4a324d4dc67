"""Fixtures for the Prometheus rule and Grafana dashboard tests: promtool and prometheus
(installed once per session by tools/install_prometheus.sh when missing), and a running
Prometheus scraping a running eventplane server.

Without root (or passwordless sudo) and apt-get the tests that need the binaries skip,
saying why.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .support import INSTALL_SCRIPT, PrometheusTools

# apt-get update + install took 16 s on a fresh Debian 12; leave room for slow mirrors.
INSTALL_TIMEOUT_S = 150


@pytest.fixture(scope="session")
def prometheus_tools() -> PrometheusTools:
    try:
        result = subprocess.run(
            [str(INSTALL_SCRIPT)],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"{INSTALL_SCRIPT.name} did not finish in {INSTALL_TIMEOUT_S} s")
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if result.returncode != 0 or prometheus is None or promtool is None:
        output = (result.stderr or result.stdout).strip().splitlines()[-3:]
        pytest.skip(
            f"prometheus/promtool not available: {INSTALL_SCRIPT.name} exited with "
            f"{result.returncode}: {' | '.join(output)}"
        )
    return PrometheusTools(prometheus=prometheus, promtool=promtool)


@pytest.fixture(scope="session")
def promtool(prometheus_tools: PrometheusTools) -> str:
    return prometheus_tools.promtool
