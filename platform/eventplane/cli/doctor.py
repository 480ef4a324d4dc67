"""`eventplane doctor`: is this machine ready to run eventplane, and if not, what to do.

One line per finding, ``ok``, ``warn`` or ``FAIL``, each problem with its fix.
It reads the same EVENTPLANE_* variables as the server but imports none of the
server (so it runs on the light client install too): Java and Maven versions,
the ports `eventplane dev` would listen on, the broker's reachability, and the
free disk space under the cache where the jars and broker data live.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MIN_JAVA = 17
MIN_MAVEN = (3, 6)
# The jars (~120 MB) plus room for a broker's logs while developing.
MIN_FREE_BYTES = 1024**3


@dataclass(frozen=True)
class Finding:
    level: str  # "ok", "warn", "FAIL"
    what: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.level:<4}  {self.what}: {self.detail}"
        return f"{text}  -> fix: {self.fix}" if self.fix else text


@dataclass(frozen=True)
class Target:
    """Where `eventplane dev` would run, from flags or EVENTPLANE_* variables."""

    home: Path
    grpc_port: int
    metrics_port: int
    kafka_port: int
    kafka_bootstrap: str

    @staticmethod
    def from_args(args: argparse.Namespace) -> Target:
        env = os.environ
        cache = Path(env.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "eventplane"
        return Target(
            home=Path(env.get("EVENTPLANE_HOME") or cache),
            grpc_port=int(args.port or env.get("EVENTPLANE_GRPC_PORT") or 50051),
            metrics_port=int(args.metrics_port or env.get("EVENTPLANE_METRICS_PORT") or 9464),
            kafka_port=int(args.kafka_port or env.get("EVENTPLANE_KAFKA_PORT") or 9092),
            kafka_bootstrap=env.get("EVENTPLANE_KAFKA_BOOTSTRAP", ""),
        )


def _run(cmd: list[str]) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"error: {exc}"
    return proc.stdout + proc.stderr


def check_java() -> Finding:
    java = shutil.which("java")
    fix = f"install a Java {MIN_JAVA}+ runtime (e.g. openjdk-{MIN_JAVA}-jre-headless) on PATH"
    if java is None:
        return Finding("FAIL", "java", "not found on PATH (the local Kafka broker needs it)", fix)
    m = re.search(r'version "(\d+)(?:\.(\d+))?', _run([java, "-version"]))
    if m is None:
        return Finding("FAIL", "java", f"{java} did not report a version", fix)
    major = int(m.group(2)) if m.group(1) == "1" and m.group(2) else int(m.group(1))
    if major < MIN_JAVA:
        return Finding("FAIL", "java", f"{java} is Java {major}", fix)
    return Finding("ok", "java", f"Java {major} ({java})")


def check_maven(home: Path) -> Finding:
    mvn = shutil.which("mvn")
    cached = any(home.glob("kafka-*/libs/.complete"))
    fix = f"install Maven {MIN_MAVEN[0]}.{MIN_MAVEN[1]}+ on PATH (it fetches the Kafka jars once)"
    if mvn is None:
        if cached:
            return Finding("ok", "maven", "not on PATH, but the Kafka jars are already cached")
        return Finding("FAIL", "maven", "not found on PATH and no Kafka jars cached", fix)
    m = re.search(r"Apache Maven (\d+)\.(\d+)(?:\.(\d+))?", _run([mvn, "-v"]))
    if m is None:
        return Finding("warn", "maven", f"{mvn} did not report a version", fix)
    version = (int(m.group(1)), int(m.group(2)))
    if version < MIN_MAVEN:
        return Finding("FAIL", "maven", f"{mvn} is Maven {m.group(0).split()[-1]}", fix)
    jars = (
        "Kafka jars cached" if cached else "Kafka jars not fetched yet (`eventplane kafka fetch`)"
    )
    return Finding("ok", "maven", f"Maven {m.group(0).split()[-1]}; {jars}")


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def reachable(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def check_port(port: int, role: str, flag: str) -> Finding:
    if port == 0:
        return Finding("ok", f"port {role}", "off")
    if port_in_use(port):
        return Finding(
            "FAIL",
            f"port {port}",
            f"in use; `eventplane dev` needs it for the {role}",
            f"stop what listens there (`ss -ltnp 'sport = :{port}'`) or use {flag} N",
        )
    return Finding("ok", f"port {port}", f"free for the {role}")


def check_broker(target: Target) -> Finding:
    if target.kafka_bootstrap:
        host, _, port = target.kafka_bootstrap.split(",")[0].rpartition(":")
        if reachable(host or "127.0.0.1", int(port)):
            return Finding("ok", "kafka", f"{target.kafka_bootstrap} answers")
        return Finding(
            "FAIL",
            "kafka",
            f"EVENTPLANE_KAFKA_BOOTSTRAP={target.kafka_bootstrap} does not answer",
            "start that cluster, or unset EVENTPLANE_KAFKA_BOOTSTRAP to use a local broker",
        )
    if reachable("127.0.0.1", target.kafka_port):
        return Finding("ok", "kafka", f"a broker answers on 127.0.0.1:{target.kafka_port}")
    return Finding(
        "ok",
        "kafka",
        f"no broker on 127.0.0.1:{target.kafka_port}; `eventplane dev` starts one",
    )


def check_disk(home: Path) -> Finding:
    existing = home
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    if free < MIN_FREE_BYTES:
        return Finding(
            "FAIL",
            "disk",
            f"{free / 1e9:.1f} GB free under {home}",
            f"free at least {MIN_FREE_BYTES / 1e9:.0f} GB or set EVENTPLANE_HOME elsewhere",
        )
    return Finding("ok", "disk", f"{free / 1e9:.1f} GB free under {home}")


def check_server_extra() -> Finding:
    if importlib.util.find_spec("confluent_kafka") is None:
        return Finding(
            "warn",
            "install",
            "client-only: `dev`, `server` and `kafka` need the server extra",
            "pip install 'eventplane[server]'",
        )
    return Finding("ok", "install", "server extra present")


def findings(target: Target) -> Iterator[Finding]:
    yield check_server_extra()
    yield check_java()
    yield check_maven(target.home)
    # A broker already answering on the Kafka port is ours to use, not a conflict.
    if not target.kafka_bootstrap and not reachable("127.0.0.1", target.kafka_port):
        yield check_port(target.kafka_port, "Kafka broker", "--kafka-port")
    yield check_port(target.grpc_port, "gRPC API", "--port")
    yield check_port(target.metrics_port, "metrics endpoint", "--metrics-port")
    yield check_broker(target)
    yield check_disk(target.home)


def cmd_doctor(args: argparse.Namespace) -> int:
    failed = 0
    for finding in findings(Target.from_args(args)):
        print(finding.line(), flush=True)
        failed += finding.level == "FAIL"
    return 1 if failed else 0


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, help="gRPC port to check (default 50051)")
    parser.add_argument("--metrics-port", type=int, help="metrics port to check (default 9464)")
    parser.add_argument("--kafka-port", type=int, help="local broker port (default 9092)")
    parser.set_defaults(func=cmd_doctor)
