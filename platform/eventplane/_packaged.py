"""Files that ship inside the eventplane package, found with importlib.resources.

The local broker's Maven pom (which pins Kafka), its server.properties template
and log4j2 configuration live in the repository's ``deploy/kafka/``, the single
source; the package reaches them as ``eventplane/_kafka`` (a link in a checkout,
real files in a wheel), so an installed eventplane never looks for the source tree.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import eventplane

__all__ = ["KAFKA_FILES", "kafka_file", "kafka_version"]

# Everything under deploy/kafka that the launcher reads.
KAFKA_FILES = ("pom.xml", "server.properties", "log4j2.properties")


def kafka_file(name: str) -> Path:
    """The path of one packaged Kafka file (Maven and Java need a real file)."""
    if name not in KAFKA_FILES:
        raise ValueError(f"not a packaged Kafka file: {name!r}")
    # Installed from a wheel or a checkout, the package is a folder, never a zip.
    return Path(str(files(eventplane).joinpath("_kafka", name)))


def kafka_version() -> str:
    """The Kafka version the packaged pom pins (what `eventplane --version` prints)."""
    pom = kafka_file("pom.xml")
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom.read_text())
    if not match:
        raise ValueError(f"{pom} does not pin <kafka.version>")
    return match.group(1)
