"""Running `eventplane <command> ...` in-process against a fake server, for the CLI tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from eventplane.cli import main

Result = tuple[int, str, str]  # exit code, stdout, stderr
Runner = Callable[..., Result]


def cli_runner(command: str, endpoint: str, capsys: pytest.CaptureFixture[str]) -> Runner:
    """A function running `eventplane <command> <args> --endpoint <endpoint>`."""

    def go(*args: str) -> Result:
        code = main([command, *args, "--endpoint", endpoint])
        out, err = capsys.readouterr()
        return code, out, err

    return go


def usage_error(run: Any, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run a command argparse must refuse; returns its complaint."""
    with pytest.raises(SystemExit) as info:
        run(*args)
    assert info.value.code == 2
    return capsys.readouterr().err


def as_json(result: Result) -> Any:
    code, out, err = result
    assert (code, err) == (0, "")
    return json.loads(out)
