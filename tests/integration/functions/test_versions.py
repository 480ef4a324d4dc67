"""Versions freeze code, aliases point at versions, and server-side folders (local
development) run in place."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from eventplane.client import Client

from .support import VERSIONED, Resources, function_arn

pytestmark = pytest.mark.integration


def _release(tmp_path: Path, release: str) -> Path:
    """A copy of the versioned handler package whose handler answers ``release``."""
    folder = tmp_path / release
    shutil.copytree(VERSIONED, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "release.txt").write_text(release)
    return folder


def test_an_alias_keeps_running_the_published_code(
    client: Client, res: Resources, tmp_path: Path
) -> None:
    fns = client.functions
    name = res.function("versioned.handler", package=_release(tmp_path, "one"))
    v1 = fns.publish_version(name)
    assert v1.version == "1"
    assert v1.function_arn == function_arn(name) + ":1"
    fns.create_alias(name, "stable", "1")

    updated = fns.update_function_code(name, zip_directory=_release(tmp_path, "two"))
    assert updated.code_sha256 != v1.code_sha256

    latest = fns.invoke(name, {})
    assert latest.json() == {"release": "two", "function_version": "$LATEST"}
    assert latest.executed_version == "$LATEST"
    stable = fns.invoke(name, {}, qualifier="stable")
    assert stable.json() == {"release": "one", "function_version": "1"}
    assert stable.executed_version == "1"
    assert fns.invoke(name, {}, qualifier="1").json()["release"] == "one"
    assert fns.invoke(f"{function_arn(name)}:stable", {}).json()["release"] == "one"

    v2 = fns.publish_version(name)
    assert v2.version == "2"
    fns.update_alias(name, "stable", function_version="2")
    assert fns.invoke(name, {}, qualifier="stable").json() == {
        "release": "two",
        "function_version": "2",
    }
    assert fns.invoke(name, {}, qualifier="1").json()["release"] == "one"
    assert [v.version for v in fns.list_versions_by_function(name)] == ["$LATEST", "1", "2"]


def test_a_server_side_folder_runs_in_place(client: Client, res: Resources, tmp_path: Path) -> None:
    folder = _release(tmp_path, "draft")
    name = res.function("versioned.handler", package=None, directory=folder)
    config = client.functions.get_function(name).configuration
    assert config.package_type == "Directory"
    assert client.functions.invoke(name, {}).json()["release"] == "draft"

    (folder / "release.txt").write_text("edited")
    client.functions.update_function_code(name, directory=str(folder))
    assert client.functions.invoke(name, {}).json()["release"] == "edited"
