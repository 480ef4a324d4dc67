"""Fuzz-session bookkeeping: the count of requests tried per method, printed at the end."""

from __future__ import annotations

import pytest

from .strategies import TRIED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TRIED:
        return
    terminalreporter.section("fuzzed requests per method")
    for method, count in sorted(TRIED.items()):
        terminalreporter.write_line(f"{count:6d}  {method}")
    terminalreporter.write_line(f"{sum(TRIED.values()):6d}  total ({len(TRIED)} methods)")
