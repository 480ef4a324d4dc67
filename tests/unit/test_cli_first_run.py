"""First run: `eventplane doctor` (a line per problem, with its fix), --version, Maven progress."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from eventplane.cli import main as run_cli
from eventplane.kafka.maven import follow


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def _only_python_on_path(tmp_path: Path) -> str:
    """A PATH with no java and no mvn (the interpreter is called by absolute path)."""
    empty = tmp_path / "bin"
    empty.mkdir()
    return str(empty)


def test_missing_java_is_one_line_with_its_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", _only_python_on_path(tmp_path))
    monkeypatch.setenv("EVENTPLANE_HOME", str(tmp_path / "home"))
    code = run_cli(["doctor", "--port", "0", "--metrics-port", "0"])
    lines = capsys.readouterr().out.splitlines()
    java = [line for line in lines if line.split()[1:2] == ["java:"]]
    assert len(java) == 1, lines
    assert java[0].startswith("FAIL") and "not found on PATH" in java[0]
    assert "fix: install a Java 17+" in java[0]
    maven = next(line for line in lines if " maven:" in line)
    assert maven.startswith("FAIL") and "fix: install Maven" in maven
    assert code == 1


def test_old_java_is_reported_with_its_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    java = bin_dir / "java"
    java.write_text("#!/bin/sh\necho 'openjdk version \"1.8.0_392\"' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/bin")
    run_cli(["doctor", "--port", "0", "--metrics-port", "0"])
    line = next(x for x in capsys.readouterr().out.splitlines() if " java:" in x)
    assert line.startswith("FAIL") and "Java 8" in line and "fix:" in line


def test_busy_port_is_one_line_with_its_fix(
    busy_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_cli(["doctor", "--port", str(busy_port), "--metrics-port", "0"])
    lines = [x for x in capsys.readouterr().out.splitlines() if f"port {busy_port}" in x]
    assert len(lines) == 1
    assert lines[0].startswith("FAIL") and "gRPC API" in lines[0]
    assert "fix:" in lines[0] and "--port N" in lines[0]
    assert code == 1


def test_free_port_is_ok(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run_cli(["doctor", "--port", str(port), "--metrics-port", "0"])
    line = next(x for x in capsys.readouterr().out.splitlines() if f"port {port}" in x)
    assert line.startswith("ok")


def test_maven_progress_counts_artifacts_and_bytes() -> None:
    output = [
        "[INFO] Scanning for projects...",
        "Downloading from central: https://repo.example/a/b/kafka_2.13-4.4.0.jar",
        "Downloaded from central: https://repo.example/a/b/kafka_2.13-4.4.0.jar (6.2 MB at 3 MB/s)",
        "Downloaded from central: https://repo.example/c/d/x.pom (2.5 kB at 10 kB/s)",
        "Downloaded from mirror: https://repo.example/e/f/y.jar (812 B at 1 kB/s)",
        "[INFO] BUILD SUCCESS",
    ]
    ticks = iter(range(100))
    reports: list[str] = []
    progress, tail = follow(
        output, lambda text, final: reports.append(text), every=1.0, clock=lambda: next(ticks)
    )
    assert progress.artifacts == 3
    assert progress.bytes == 6_200_000 + 2_500 + 812
    assert reports and reports[-1].startswith("3 artifacts, 6.2 MB")
    assert tail[-1] == "[INFO] BUILD SUCCESS"
    # Repository addresses are never part of what is shown.
    assert not any("repo.example" in r for r in reports)


def test_version_names_eventplane_and_kafka(capsys: pytest.CaptureFixture[str]) -> None:
    import eventplane
    from eventplane._packaged import kafka_version

    with pytest.raises(SystemExit) as done:
        run_cli(["--version"])
    assert done.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out == f"eventplane {eventplane.__version__} (Kafka {kafka_version()})"


def test_server_command_without_the_server_extra_names_the_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib

    real = importlib.import_module

    def without_confluent(name: str, package: str | None = None) -> object:
        if name == "eventplane.cli.server":
            raise ModuleNotFoundError("No module named 'confluent_kafka'", name="confluent_kafka")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", without_confluent)
    assert run_cli(["kafka", "status"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "eventplane: `eventplane kafka` needs the server extra (missing confluent_kafka): "
        'pip install "eventplane[server]"'
    ]
