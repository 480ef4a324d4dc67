"""``show-execution --graph``'s file writing: the suffix picks the format, and a missing
``dot`` or another suffix is one line on stderr naming the fix, not a traceback."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from eventplane.cli.execution_graph import write_graph

DEFINITION = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}'
EVENTS = [{"id": 1, "type": "PassStateEntered", "stateEnteredEventDetails": {"name": "A"}}]


def test_another_suffix_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.pdf"
    assert not write_graph(str(out), DEFINITION, EVENTS, "arn", "RUNNING")
    assert not out.exists()
    assert "must end in .svg or .png" in capsys.readouterr().err


def test_without_dot_it_says_how_to_install_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not write_graph(str(tmp_path / "x.svg"), DEFINITION, EVENTS, "arn", "RUNNING")
    assert "apt-get install graphviz" in capsys.readouterr().err


@pytest.mark.skipif(
    shutil.which("dot") is None and os.environ.get("EVENTPLANE_REQUIRE_BROWSER") != "1",
    reason="Graphviz's dot is not installed (tools/install_viewer_deps.sh)",
)
@pytest.mark.parametrize("suffix", [".svg", ".PNG"])
def test_the_suffix_picks_the_format(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"x{suffix}"
    assert write_graph(str(out), DEFINITION, EVENTS, "arn", "RUNNING")
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG") if suffix == ".PNG" else b">A</text>" in data
