"""The SDK and the CLI's client commands stand alone: no server module, no server-only library.

Each check runs in a fresh interpreter, so what another test imported cannot hide a
dependency, and reads ``sys.modules`` after the import.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Server-side packages of eventplane, and the libraries only the server extra installs.
SERVER_PACKAGES = (
    "eventplane.server",
    "eventplane.kafka",
    "eventplane.registry",
    "eventplane.runtime",
    "eventplane.config",
    "eventplane.queues",
    "eventplane.topics",
    "eventplane.bus",
    "eventplane.functions",
    "eventplane.workflows",
    "eventplane.tables",
    "eventplane.delivery",
    "eventplane.gateway",
    "eventplane.observability",
    "eventplane.security",
)
SERVER_LIBRARIES = ("confluent_kafka", "prometheus_client", "fastavro", "structlog", "yaml")


def loaded_after(statement: str) -> list[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return list(json.loads(out.strip().splitlines()[-1]))


def offenders(modules: list[str]) -> list[str]:
    return [
        m
        for m in modules
        if any(m == p or m.startswith(p + ".") for p in SERVER_PACKAGES + SERVER_LIBRARIES)
    ]


@pytest.mark.parametrize(
    "statement",
    [
        "import eventplane.client",
        "from eventplane.client import Client, AsyncClient",
        # Building the whole parser loads every client command's module.
        "from eventplane.cli import build_parser; build_parser()",
        "import eventplane.cli.doctor",
        "from eventplane.client.tables import TablesClient",
        "import eventplane.cli.tables",
    ],
)
def test_client_side_loads_nothing_of_the_server(statement: str) -> None:
    assert offenders(loaded_after(statement)) == []
