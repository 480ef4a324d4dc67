"""``eventplane server --processes N``: N worker processes behind one set of ports.

One Python process runs Python on one core at a time, so a pod with more cores runs
several workers. Each worker is a full replica: it joins every consumer group with its
own share of partitions, exactly as a replica in another pod would, and shares the gRPC
and gateway ports with its siblings (``SO_REUSEPORT``: the kernel spreads connections
over them). A call that reaches a worker not owning the partition is forwarded as
between pods: worker ``i`` also listens on ``worker_ports + i`` and advertises that
address. Each worker serves its metrics on loopback port ``worker_ports + N + i``; the
public /metrics gathers them, every series labelled with its ``worker``.

The supervisor restarts a worker that dies (after 1 s, doubling to 30 s while it keeps
dying), and SIGTERM stops every worker gracefully (each drains and commits) before the
supervisor exits. A worker that fails to start (exits with an error the first time, within a minute:
a setting, a port in use, no Kafka) stops them all, with its exit code.
"""

from __future__ import annotations

import ctypes
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from eventplane.config import ConfigError, Settings
from eventplane.kafka.clients import wait_for_cluster
from eventplane.observability.logging import get_logger
from eventplane.observability.metrics_http import serve_metrics
from eventplane.security import metrics_tls_context

_log = get_logger("eventplane.workers")

FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
# A worker that ran this long before dying starts again after FIRST_BACKOFF_S.
STEADY_S = 60.0
SCRAPE_TIMEOUT_S = 5.0
_PR_SET_PDEATHSIG = 1


def usable_cores() -> int:
    """The cores this process may use: its CPU affinity, capped by a cgroup v2 quota."""
    cores = len(os.sched_getaffinity(0))
    try:
        with open("/sys/fs/cgroup/cpu.max", encoding="ascii") as fh:
            quota, period = fh.read().split()
        if quota != "max":
            cores = min(cores, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def process_count(settings: Settings) -> int:
    """How many workers ``eventplane server`` runs: the setting, or the usable cores."""
    return settings.processes or usable_cores()


@dataclass
class Worker:
    index: int
    forward_port: int
    metrics_port: int
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff_s: float = FIRST_BACKOFF_S
    due_at: float = 0.0  # when a dead worker starts again

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"


@dataclass
class Supervisor:
    settings: Settings
    count: int
    workers: list[Worker] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        s = self.settings
        base = s.worker_ports or s.grpc_port + 1
        if base + 2 * self.count - 1 > 65535:
            raise ConfigError(
                "EVENTPLANE_WORKER_PORTS",
                f"{self.count} workers need ports {base}-{base + 2 * self.count - 1}",
            )
        host = (s.advertise_address or s.grpc_target).rsplit(":", 1)[0]
        for i in range(self.count):
            forward, metrics = base + i, base + self.count + i
            env = {
                **os.environ,
                **_settings_env(s),
                "EVENTPLANE_PROCESSES": "1",
                "EVENTPLANE_REUSE_PORT": "true",
                "EVENTPLANE_FORWARD_PORT": str(forward),
                "EVENTPLANE_ADVERTISE_ADDRESS": f"{host}:{forward}",
                "EVENTPLANE_METRICS_PORT": str(metrics if s.metrics_port else 0),
                "EVENTPLANE_METRICS_HOST": "127.0.0.1",
                "EVENTPLANE_METRICS_TLS": "false",
            }
            self.workers.append(Worker(i, forward, metrics, env))

    # --- running -------------------------------------------------------------------------
    def preflight(self) -> None:
        """What would stop every worker, checked once: Kafka, and the ports.

        Raises KafkaUnavailable or OSError naming the setting, so a bad start is one line
        from the supervisor rather than one from each worker.
        """
        s = self.settings
        wait_for_cluster(s)
        ports = [("EVENTPLANE_GRPC_PORT", s.grpc_host, s.grpc_port)]
        if s.gateway_port and "api" in s.roles:
            ports.append(("EVENTPLANE_GATEWAY_PORT", s.grpc_host, s.gateway_port))
        for w in self.workers:
            ports.append(("EVENTPLANE_WORKER_PORTS", s.grpc_host, w.forward_port))
            if s.metrics_port:
                ports.append(("EVENTPLANE_WORKER_PORTS", "127.0.0.1", w.metrics_port))
        for setting, host, port in ports:
            _check_port(setting, host, port)

    def run(self) -> int:
        """Start the workers and keep them running until SIGTERM/SIGINT; the exit code."""
        self.preflight()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self._stop.set())
        metrics = self._serve_metrics()
        _log.info(
            "eventplane workers starting",
            processes=self.count,
            grpc=f"{self.settings.grpc_host}:{self.settings.grpc_port}",
            worker_ports=[w.forward_port for w in self.workers],
        )
        try:
            for w in self.workers:
                self._start(w)
            return self._watch()
        finally:
            self._stop_all()
            if metrics is not None:
                metrics.shutdown()
                metrics.server_close()

    def _start(self, w: Worker) -> None:
        w.proc = subprocess.Popen(
            [sys.executable, "-m", "eventplane.cli", "server"],
            env=w.env,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        w.started_at = time.monotonic()

    def _watch(self) -> int:
        while not self._stop.wait(0.2):
            now = time.monotonic()
            for w in self.workers:
                if w.proc is None:
                    if now >= w.due_at:
                        self._start(w)
                    continue
                code = w.proc.poll()
                if code is None:
                    continue
                ran = now - w.started_at
                if code > 0 and w.restarts == 0 and ran < STEADY_S:
                    # It failed to start (a setting, a port in use, no Kafka): so would
                    # every retry. It said why on the shared stderr.
                    _log.error("worker failed to start; stopping", worker=w.index, exit_code=code)
                    return code
                w.backoff_s = FIRST_BACKOFF_S if ran > STEADY_S else w.backoff_s
                w.proc, w.due_at = None, now + w.backoff_s
                w.restarts += 1
                _log.error(
                    "worker died; starting it again",
                    worker=w.index,
                    exit_code=code,
                    ran_s=round(ran, 1),
                    in_s=w.backoff_s,
                )
                w.backoff_s = min(w.backoff_s * 2, MAX_BACKOFF_S)
        return 0

    def _stop_all(self) -> None:
        running = [w.proc for w in self.workers if w.proc is not None and w.proc.poll() is None]
        for proc in running:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.settings.shutdown_grace + 30.0
        for proc in running:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        _log.info("eventplane workers stopped", processes=self.count)

    # --- /metrics --------------------------------------------------------------------------
    def _serve_metrics(self) -> Any:
        s = self.settings
        if not s.metrics_port:
            return None
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Gathered(self))
        try:
            return serve_metrics(
                s.metrics_port, s.metrics_host or s.grpc_host, metrics_tls_context(s), registry
            )
        except OSError as exc:
            raise OSError(
                f"EVENTPLANE_METRICS_PORT: cannot listen on {s.grpc_host}:{s.metrics_port}: "
                f"{exc.strerror}"
            ) from None


class _Gathered:
    """The workers' metrics as one exposition, each sample labelled with its worker."""

    def __init__(self, supervisor: Supervisor) -> None:
        self._supervisor = supervisor
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="metrics-gather")

    def collect(self) -> Iterator[Metric]:
        workers = self._supervisor.workers
        texts = list(self._pool.map(_scrape, [w.metrics_url for w in workers]))
        families: dict[str, Metric] = {}
        for w, text in zip(workers, texts, strict=True):
            for family in text_string_to_metric_families(text):
                merged = families.get(family.name)
                if merged is None:
                    merged = families[family.name] = Metric(
                        family.name, family.documentation, family.type, family.unit
                    )
                merged.samples.extend(
                    Sample(
                        s.name,
                        {**s.labels, "worker": str(w.index)},
                        s.value,
                        s.timestamp,
                        s.exemplar,
                    )
                    for s in family.samples
                )
        yield from families.values()
        up = GaugeMetricFamily(
            "eventplane_worker_up",
            "1 when the worker process answered this scrape.",
            labels=["worker"],
        )
        restarts = CounterMetricFamily(
            "eventplane_worker_restarts",
            "Times the supervisor started the worker again after it died.",
            labels=["worker"],
        )
        for w, text in zip(workers, texts, strict=True):
            up.add_metric([str(w.index)], 1.0 if text else 0.0)
            restarts.add_metric([str(w.index)], float(w.restarts))
        yield up
        yield restarts


def _scrape(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=SCRAPE_TIMEOUT_S) as resp:
            return str(resp.read().decode("utf-8"))
    except OSError:
        return ""  # a worker starting again: eventplane_worker_up says so


def _check_port(setting: str, host: str, port: int) -> None:
    """Raise OSError naming ``setting`` when ``host:port`` cannot be listened on by the
    workers (sharing it with SO_REUSEPORT as they do)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise OSError(f"{setting}: cannot listen on {host}:{port}: {exc.strerror}") from None


def _settings_env(s: Settings) -> Mapping[str, str]:
    """The settings a command line may have given, for the workers' environment."""
    return {
        "EVENTPLANE_GRPC_HOST": s.grpc_host,
        "EVENTPLANE_GRPC_PORT": str(s.grpc_port),
        "EVENTPLANE_KAFKA_PORT": str(s.kafka_port),
        "EVENTPLANE_ROLES": ",".join(s.roles),
        "EVENTPLANE_LOG_FORMAT": s.log_format,
        "EVENTPLANE_INSECURE": "true" if s.insecure else "false",
    }


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the supervisor dies, even by SIGKILL."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
