"""The wheel as a new user gets it: built once, installed in fresh virtual environments
in a temporary folder outside the checkout.

- with the server extra: `eventplane dev` on free ports (its own broker), one message
  sent and received with the CLI, Ctrl-C, and no process left behind;
- the plain (light) install: the SDK talks to that server, and none of the server-only
  distributions is installed; a server command names the install to run; `eventplane
  doctor` reports a missing Java and a busy port, each in one line with its fix.

pip reuses its cache, and the wheel is built once per session.
"""

from __future__ import annotations

import filecmp
import json
import os
import signal
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from eventplane._packaged import KAFKA_FILES
from eventplane.testing import EventplaneProcess, eventually, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
SERVER_ONLY = (
    "confluent-kafka",
    "fastavro",
    "prometheus-client",
    "structlog",
    "PyYAML",
    "grpcio-reflection",
)


def _run(cmd: list[str], *, timeout: float = 600, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, **kw)  # type: ignore[call-overload]


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without this checkout's venv or EVENTPLANE_* settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("EVENTPLANE_", "VIRTUAL_ENV", "PYTHON"))
    }
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("new-user")
    assert REPO not in folder.parents
    return folder


@pytest.fixture(scope="session")
def wheel(outside: Path) -> Path:
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(outside / "dist"), str(REPO)],
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    # Package metadata without build warnings (licence expression, no deprecations).
    noise = [
        line
        for line in (built.stdout + built.stderr).splitlines()
        if "warning" in line.lower() or "deprecat" in line.lower()
    ]
    assert noise == []
    (path,) = (outside / "dist").glob("eventplane-*.whl")
    return path


def _venv(outside: Path, name: str, requirement: str) -> Path:
    venv = outside / name
    made = _run([sys.executable, "-m", "venv", str(venv)])
    assert made.returncode == 0, made.stderr
    done = _run(
        [str(venv / "bin" / "pip"), "install", "--disable-pip-version-check", "-q", requirement],
        env=_clean_env(),
        cwd=outside,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return venv


@pytest.fixture(scope="session")
def server_venv(outside: Path, wheel: Path) -> Path:
    return _venv(outside, "server-venv", f"{wheel}[server]")


@pytest.fixture(scope="session")
def light_venv(outside: Path, wheel: Path) -> Path:
    return _venv(outside, "light-venv", str(wheel))


def test_the_wheel_ships_deploy_kafka_unchanged(wheel: Path, outside: Path) -> None:
    unpacked = outside / "unpacked"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(unpacked)
    for name in KAFKA_FILES:
        shipped = unpacked / "eventplane" / "_kafka" / name
        assert shipped.is_file(), f"the wheel lacks eventplane/_kafka/{name}"
        assert filecmp.cmp(shipped, REPO / "deploy" / "kafka" / name, shallow=False), name


def _our_processes(marks: tuple[str, ...]) -> list[str]:
    """Command lines of live processes that mention one of ``marks``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and any(m in cmdline for m in marks):
            found.append(f"{proc.name}: {cmdline[:200]}")
    return found


@pytest.fixture(scope="session")
def dev_server(server_venv: Path, outside: Path) -> Iterator[tuple[str, Path]]:
    """`eventplane dev` from the server install, in the outside folder, on free ports."""
    kafka_port, grpc_port, metrics_port = free_port(), free_port(), free_port()
    env = _clean_env(PATH=f"{server_venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
    # Not the default 4566: another test (or test worker) may run a dev server too.
    env["EVENTPLANE_GATEWAY_PORT"] = str(free_port())
    log = outside / "dev.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(server_venv / "bin" / "eventplane"), "dev", "--fresh",
             "--port", str(grpc_port), "--metrics-port", str(metrics_port),
             "--kafka-port", str(kafka_port)],
            cwd=outside, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    marks = (str(outside), f"kafka-data/{kafka_port}/")
    try:
        try:
            EventplaneProcess(f"127.0.0.1:{kafka_port}", grpc_port=grpc_port).wait_serving(180)
        except (TimeoutError, RuntimeError):
            raise AssertionError(f"dev never served:\n{log.read_text()[-3000:]}") from None
        yield f"127.0.0.1:{grpc_port}", log
        proc.send_signal(signal.SIGINT)
        assert proc.wait(90) == 0, log.read_text()[-3000:]
        assert "local Kafka stopped" in log.read_text()
        # Nothing started from the new install outlives it: no server, no broker.
        assert eventually(lambda: _our_processes(marks) == [], timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)


def test_server_install_runs_dev_and_the_cli_sends_and_receives(
    server_venv: Path, dev_server: tuple[str, Path], outside: Path
) -> None:
    endpoint, _ = dev_server
    cli = [str(server_venv / "bin" / "eventplane")]
    env = _clean_env(EVENTPLANE_ENDPOINT=endpoint)
    version = _run([*cli, "--version"], env=env)
    assert version.returncode == 0 and version.stdout.startswith("eventplane ")
    assert "(Kafka 4." in version.stdout
    for args in (["create", "first-run"], ["send", "first-run", "--body", "hello from a wheel"]):
        done = _run([*cli, "queue", *args], env=env, cwd=outside)
        assert done.returncode == 0, done.stderr
    got = _run(
        [*cli, "queue", "receive", "first-run", "--wait", "5", "--delete", "--json"],
        env=env,
        cwd=outside,
    )
    assert got.returncode == 0, got.stderr
    assert [m["body"] for m in json.loads(got.stdout)] == ["hello from a wheel"]


LIGHT_CLIENT = textwrap.dedent(
    """
    import importlib.metadata, json, sys
    from eventplane.client import Client

    with Client(sys.argv[1], timeout=30) as ep:
        info = ep.platform.get_server_info()
        url = ep.queues.create_queue("light-install")
        ep.queues.send_message(url, "from the light install")
        got = ep.queues.receive_message(url, wait_time_seconds=5)
        ep.queues.delete_message(url, got[0].receipt_handle)
    installed = []
    for dist in sys.argv[2:]:
        try:
            importlib.metadata.distribution(dist)
            installed.append(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    server_modules = sorted(
        m for m in sys.modules
        if m.split(".")[0] in ("confluent_kafka", "fastavro", "prometheus_client")
        or m.startswith(("eventplane.server", "eventplane.kafka", "eventplane.runtime"))
    )
    print(json.dumps({"version": info.version, "bodies": [m.body for m in got],
                      "installed": installed, "server_modules": server_modules}))
    """
)


def test_light_install_talks_to_the_server_without_server_distributions(
    light_venv: Path, dev_server: tuple[str, Path], outside: Path
) -> None:
    endpoint, _ = dev_server
    python = str(light_venv / "bin" / "python")
    done = _run([python, "-c", LIGHT_CLIENT, endpoint, *SERVER_ONLY], env=_clean_env(), cwd=outside)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["bodies"] == ["from the light install"]
    assert result["installed"] == []
    assert result["server_modules"] == []
    assert result["version"]


def test_light_install_server_command_names_the_install(light_venv: Path, outside: Path) -> None:
    done = _run([str(light_venv / "bin" / "eventplane"), "kafka", "status"], env=_clean_env())
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert 'pip install "eventplane[server]"' in lines[0]


def test_doctor_reports_missing_java_and_a_busy_port(
    light_venv: Path, dev_server: tuple[str, Path], outside: Path
) -> None:
    endpoint, _ = dev_server
    busy = endpoint.rsplit(":", 1)[1]
    # Only the venv's own bin on PATH: no java, no mvn.
    env = _clean_env(PATH=str(light_venv / "bin"), EVENTPLANE_HOME=str(outside / "empty-home"))
    done = _run(
        [str(light_venv / "bin" / "eventplane"), "doctor", "--port", busy, "--metrics-port", "0"],
        env=env,
        cwd=outside,
    )
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    java = [x for x in lines if " java:" in x]
    port = [x for x in lines if f"port {busy}:" in x]
    assert len(java) == 1 and java[0].startswith("FAIL") and "fix: install a Java" in java[0]
    assert len(port) == 1 and port[0].startswith("FAIL") and "fix:" in port[0]
