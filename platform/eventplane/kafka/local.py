"""The local Kafka broker: jars resolved by Maven, one KRaft broker+controller process.

Layout under ``Settings.home`` (default ~/.cache/eventplane):

    kafka-<version>/libs/         jars from the packaged pom (shared by every port)
    kafka-data/<port>/            one broker per port: so `make test` and `make dev` never meet
        server.properties         rendered from the packaged server.properties
        data/                     KRaft metadata + topic logs (survives stop/start)
        broker.log                the broker's own log (named by `status`)
        broker.pid

The pom, the server.properties template and the log4j2 configuration ship in
the package (``eventplane._packaged``; the source is the repository's
deploy/kafka/), so an installed eventplane runs a broker anywhere.

Stopping sends SIGTERM (a clean controlled shutdown) and waits; only a broker
that does not exit in time is killed. A pid file whose process is not our
broker is ignored, so a recycled pid is never signalled.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from eventplane._packaged import kafka_file
from eventplane._packaged import kafka_version as _packaged_kafka_version
from eventplane.config import Settings
from eventplane.kafka import maven
from eventplane.kafka.clients import KafkaUnavailable, wait_for_cluster

# Brokers this process started, by pid: kept so they can be waited for (no
# zombies) and so Python does not warn about a still-running child on exit.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class LocalKafkaError(RuntimeError):
    """The local broker could not be fetched, formatted, started or stopped."""


def kafka_version() -> str:
    """The Kafka version the packaged pom pins."""
    try:
        return _packaged_kafka_version()
    except ValueError as exc:
        raise LocalKafkaError(str(exc)) from None


def _show_progress(text: str, final: bool) -> None:
    # One rewritten line on a terminal; whole lines in logs and CI.
    if sys.stderr.isatty():
        print(f"\r  {text}" + ("\n" if final else ""), end="", file=sys.stderr, flush=True)
    else:
        print(f"  {text}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Listener:
    """A listener the broker opens beside its plaintext one (tests: TLS, a proxied path).

    ``advertised`` is the address clients that connect to it are told to use: a TCP
    proxy's, to put every connection of those clients through the proxy. ``config`` is
    given without the ``listener.name.<name>.`` prefix (``ssl.keystore.location``...).
    """

    name: str
    port: int
    advertised: str = ""
    protocol: str = "PLAINTEXT"
    config: Mapping[str, str] = field(default_factory=dict)

    def properties(self) -> dict[str, str]:
        prefix = f"listener.name.{self.name.lower()}."
        return {prefix + k: v for k, v in self.config.items()}


@dataclass(frozen=True)
class LocalKafka:
    """One local broker, identified by its port."""

    home: Path
    port: int
    listeners: tuple[Listener, ...] = ()

    @staticmethod
    def from_settings(settings: Settings, port: int | None = None) -> LocalKafka:
        return LocalKafka(home=Path(settings.home), port=port or settings.kafka_port)

    # --- paths ---------------------------------------------------------------------
    @property
    def libs(self) -> Path:
        return self.home / f"kafka-{kafka_version()}" / "libs"

    @property
    def base(self) -> Path:
        return self.home / "kafka-data" / str(self.port)

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    @property
    def log_file(self) -> Path:
        return self.base / "broker.log"

    @property
    def pid_file(self) -> Path:
        return self.base / "broker.pid"

    @property
    def properties(self) -> Path:
        return self.base / "server.properties"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def controller_port(self) -> int:
        # The controller listens beside the broker; ports above 55535 wrap downwards.
        return self.port + 10000 if self.port <= 55535 else self.port - 10000

    # --- jars ------------------------------------------------------------------------
    def fetch(self) -> Path:
        """Resolve the broker's jars with Maven into the cache (a no-op when present)."""
        marker = self.libs / ".complete"
        if marker.exists():
            return self.libs
        if shutil.which("mvn") is None:
            raise LocalKafkaError("Maven (mvn) is not on PATH; it resolves the Kafka jars")
        self.libs.mkdir(parents=True, exist_ok=True)
        print(
            f"fetching the Kafka {kafka_version()} jars with Maven into {self.libs} "
            "(once; later starts reuse them)",
            file=sys.stderr,
            flush=True,
        )
        try:
            # A rewritten line can tick often; whole lines in a log should not flood it.
            every = 1.0 if sys.stderr.isatty() else 10.0
            maven.resolve(kafka_file("pom.xml"), self.libs, _show_progress, every=every)
        except maven.MavenError as exc:
            raise LocalKafkaError(str(exc)) from None
        marker.touch()
        return self.libs

    # --- process ---------------------------------------------------------------------
    def pid(self) -> int | None:
        """The broker's pid if our broker is running on this port."""
        try:
            pid = int(self.pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return None
        if b"kafka.Kafka" in cmdline and str(self.properties).encode() in cmdline:
            # A zombie (exited, not yet reaped) is not running.
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                return None
            return None if state == "Z" else pid
        return None

    def is_running(self) -> bool:
        return self.pid() is not None

    def _java(self) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise LocalKafkaError("java is not on PATH; the local broker needs Java 17+")
        return [
            java,
            "-Xms256m", "-Xmx768m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={kafka_file('log4j2.properties')}",
            f"-Dkafka.log.file={self.log_file}",
            f"-Dkafka.logs.dir={self.base}",
            "-cp", f"{self.libs}/*",
        ]  # fmt: skip

    def _render_properties(self) -> None:
        template = kafka_file("server.properties").read_text()
        values = {
            "port": str(self.port),
            "controller_port": str(self.controller_port),
            "log_dirs": str(self.data_dir),
        }
        rendered = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], template)
        for extra in self.listeners:
            rendered = _add_listener(rendered, extra)
        self.properties.write_text(rendered)

    def _format(self) -> None:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        cmd = [
            *self._java(), "kafka.tools.StorageTool", "format", "--standalone",
            # "=" form: a base64url id may start with "-", which would read as an option.
            f"--cluster-id={cluster_id}", "--config", str(self.properties),
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise LocalKafkaError(f"formatting KRaft storage failed: {proc.stdout}{proc.stderr}")

    def start(self, *, fresh: bool = False, timeout: float = 60.0) -> bool:
        """Start the broker (formatting its storage the first time).

        Returns False when it was already running. ``fresh`` wipes its data first.
        """
        self.fetch()
        if fresh:
            self.stop()
            shutil.rmtree(self.data_dir, ignore_errors=True)
        elif self.is_running():
            return False
        self.base.mkdir(parents=True, exist_ok=True)
        self._render_properties()
        if not (self.data_dir / "meta.properties").exists():
            self._format()
        with open(self.base / "broker.stdout", "ab") as out:
            proc = subprocess.Popen(
                [*self._java(), "kafka.Kafka", str(self.properties)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C in a terminal goes to us, not the broker
            )
        _CHILDREN[proc.pid] = proc
        self.pid_file.write_text(str(proc.pid))
        deadline = time.monotonic() + timeout
        settings = Settings(kafka_bootstrap=self.bootstrap)
        while True:
            if proc.poll() is not None:
                raise LocalKafkaError(
                    f"the broker exited with code {proc.returncode} while starting; "
                    f"see {self.log_file}"
                )
            try:
                wait_for_cluster(settings, timeout=min(2.0, max(0.1, deadline - time.monotonic())))
                return True
            except KafkaUnavailable:
                if time.monotonic() > deadline:
                    self.stop()
                    raise LocalKafkaError(
                        f"the broker did not answer within {timeout:g}s; see {self.log_file}"
                    ) from None

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the broker cleanly; returns False when it was not running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.pid() is not None and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.1)
        if self.pid() is not None:
            os.kill(pid, signal.SIGKILL)
            while self.pid() is not None:
                _reap(pid)
                time.sleep(0.05)
        _reap(pid)
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> None:
        """SIGKILL the broker (for crash tests)."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            while self.pid() is not None:
                _reap(pid)
                time.sleep(0.05)


def _reap(pid: int) -> None:
    # When this process started the broker, collect its exit status so it does
    # not linger as a zombie.
    proc = _CHILDREN.get(pid)
    if proc is not None:
        if proc.poll() is not None:
            del _CHILDREN[pid]
        return
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _add_listener(properties: str, listener: Listener) -> str:
    """``properties`` with ``listener`` added to the listener lists, and its settings."""
    name = listener.name.upper()
    advertised = listener.advertised or f"127.0.0.1:{listener.port}"
    additions = {
        "listeners": f"{name}://127.0.0.1:{listener.port}",
        "advertised.listeners": f"{name}://{advertised}",
        "listener.security.protocol.map": f"{name}:{listener.protocol}",
    }
    lines = []
    for line in properties.splitlines():
        key, sep, value = line.partition("=")
        if sep and key in additions:
            line = f"{key}={value},{additions[key]}"
        lines.append(line)
    lines.extend(f"{k}={v}" for k, v in listener.properties().items())
    return "\n".join(lines) + "\n"
