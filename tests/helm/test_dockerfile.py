"""deploy/Dockerfile (no Docker engine needed): its essentials, and the wheel it builds.

The image cannot be built here, so these tests read the Dockerfile, and build
the wheel from exactly the files the Docker build context would hold
(.dockerignore applied), as the builder stage does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from .support import CHART, REPO

DOCKERFILE = REPO / "deploy" / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages, with line continuations joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name] = default
        elif keyword == "FROM":
            parts = rest.split()
            image = re.sub(
                r"\$\{(\w+)\}|\$(\w+)", lambda m: args[m.group(1) or m.group(2)], parts[0]
            )
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(image, name))
        else:
            stages[-1].instructions.append((keyword, rest))
    return args, stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE.read_text())[1]


def test_multi_stage_build_from_a_pinned_slim_python(stages: list[Stage]) -> None:
    assert len(stages) >= 2
    assert stages[0].name == "builder"
    for stage in stages:
        repo, _, tag = stage.image.partition(":")
        assert repo == "python" and "@" not in repo
        # Python 3.11 (requires-python), a patch release, the slim variant, a Debian release.
        assert re.fullmatch(r"3\.11\.\d+-slim-[a-z]+", tag), stage.image
    runtime = stages[-1]
    assert any("--from=builder" in c for c in runtime.all("COPY"))
    assert not runtime.all("RUN pip") and not any("pip install" in r for r in runtime.all("RUN"))


def test_runtime_runs_eventplane_server_as_a_numeric_non_root_user(stages: list[Stage]) -> None:
    runtime = stages[-1]
    users = runtime.all("USER")
    assert users, "the runtime stage must set USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) > 0, "a numeric uid lets Kubernetes check runAsNonRoot"
    assert gid.isdigit() and int(gid) > 0
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["podSecurityContext"]["runAsUser"] == int(uid)
    assert values["podSecurityContext"]["runAsGroup"] == int(gid)
    (entrypoint,) = runtime.all("ENTRYPOINT")
    assert json.loads(entrypoint) == ["eventplane", "server"]
    for check in runtime.all("HEALTHCHECK"):  # optional, but then in exec form
        assert re.search(r"CMD \[", check), check


def test_exposes_the_default_grpc_metrics_and_gateway_ports(stages: list[Stage]) -> None:
    from eventplane.config import Settings

    exposed = {int(p.split("/")[0]) for e in stages[-1].all("EXPOSE") for p in e.split()}
    settings = Settings()
    values = yaml.safe_load((CHART / "values.yaml").read_text())["config"]
    assert exposed == {settings.grpc_port, settings.metrics_port, settings.gateway_port}
    assert exposed == {values["grpcPort"], values["metricsPort"], values["gatewayPort"]}


def test_no_remote_add_and_no_downloads(stages: list[Stage]) -> None:
    for stage in stages:
        assert not stage.all("ADD"), "use COPY; ADD fetches URLs and unpacks archives"
        for run in stage.all("RUN"):
            assert not re.search(r"\b(curl|wget)\b", run), run


# --- the build context and the wheel --------------------------------------------------------


def _pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex: * and ? stay within a folder, ** spans folders."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + "$")


def _ignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in DOCKERIGNORE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            rules.append((line.startswith("!"), _pattern(line.lstrip("!").strip("/"))))
    return rules


def _ignored(rel: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for negate, regex in rules:
        if any(regex.match(prefix) for prefix in prefixes):
            ignored = not negate
    return ignored


def build_context(target: Path) -> Path:
    """Copy what `docker build .` would send (symlinks kept, as COPY keeps them)."""
    rules = _ignore_rules()
    for folder, dirs, files in os.walk(REPO):
        base = Path(folder)
        dirs[:] = [d for d in dirs if d not in {".git", ".venv"}]
        for name in [*dirs, *files]:
            path = base / name
            rel = path.relative_to(REPO).as_posix()
            if _ignored(rel, rules):
                continue
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if path.is_symlink():
                dest.symlink_to(path.readlink())
            elif path.is_dir():
                dest.mkdir(exist_ok=True)
            else:
                shutil.copy2(path, dest)
    return target


def test_dockerignore_keeps_what_the_builder_copies(stages: list[Stage], tmp_path: Path) -> None:
    rules = _ignore_rules()
    sources = []
    for copy in stages[0].all("COPY"):
        sources += [s for s in copy.split()[:-1] if not s.startswith("--")]
    assert sources
    for source in sources:
        assert (REPO / source).exists(), source
        assert not _ignored(source.rstrip("/"), rules), f"{source} is excluded by .dockerignore"
    for unwanted in (".venv", ".git", "tests", "platform/eventplane/__pycache__", "build"):
        assert _ignored(unwanted, rules), f"{unwanted} would be sent to the Docker daemon"


@pytest.mark.timeout(300)
def test_the_wheel_builds_from_the_context_and_ships_the_schemas(tmp_path: Path) -> None:
    context = build_context(tmp_path / "context")
    wheels = tmp_path / "wheels"
    # The builder stage runs `pip wheel . --no-deps`; here the venv's setuptools
    # (the version pyproject.toml pins for the build) saves the download.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(context),
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(wheels),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = wheels.glob("eventplane-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    schemas = {p.name for p in (REPO / "schemas").glob("*.avsc")}
    shipped = {n.rsplit("/", 1)[-1] for n in names if n.startswith("eventplane/_schemas/")}
    # eventplane.kafka.codec.schemas_dir() looks for eventplane/_schemas next to the
    # package when there is no source checkout: without them no record can be encoded.
    assert shipped == schemas, (
        "the wheel lacks eventplane/_schemas/*.avsc: pyproject.toml's package-data must "
        f"ship schemas/ (missing {sorted(schemas - shipped)})"
    )
    assert "eventplane/_gen/v1/queues_pb2.py" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert re.search(r"^eventplane = eventplane\.cli:main$", text, flags=re.MULTILINE)
