"""Writes eventplane's config file: the chart's file plus librdkafka settings from Secrets.

Run by the pod's init container as
    python merge_config.py <chart config file> <secrets folder> <output file>
Each file in the secrets folder is named after a librdkafka property
(e.g. "sasl.password") and holds its value; Kubernetes mounts them there
from the Secrets named in the chart's values. The output lives on an
in-memory volume, so secret values never land in a ConfigMap or on disk.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def merge(base: Path, secrets: Path, out: Path) -> int:
    config = yaml.safe_load(base.read_text(encoding="utf-8")) or {}
    client = config.get("kafka_client_config") or {}
    # Secret volumes also hold "..data" and "..<timestamp>" bookkeeping entries.
    entries = sorted(p for p in secrets.iterdir() if not p.name.startswith("."))
    for path in entries:
        client[path.name] = path.read_text(encoding="utf-8").rstrip("\r\n")
    config["kafka_client_config"] = client
    out.touch(mode=0o600)
    out.write_text(yaml.safe_dump(config, default_flow_style=False), encoding="utf-8")
    return len(entries)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(
            "usage: merge_config.py <config file> <secrets folder> <output file>", file=sys.stderr
        )
        return 2
    count = merge(Path(argv[0]), Path(argv[1]), Path(argv[2]))
    print(f"merge_config: {count} setting(s) from Secrets written to {argv[2]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
