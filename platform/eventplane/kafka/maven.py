"""Resolving the broker's jars with Maven, saying what it does while it does it.

The first `eventplane kafka fetch` (or `dev`) downloads about a hundred artifacts;
a silent minute looks like a hang. Maven in batch mode prints one line per
finished download; we count them and their sizes and show artifact count, bytes
and elapsed time (one rewritten line on a terminal, a line every few seconds
otherwise), then a summary. Repository addresses are not shown: they say nothing
the user needs and the count is what tells progress.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

# "Downloaded from <repo>: <url> (1.2 MB at 3.4 MB/s)"
_DOWNLOADED = re.compile(r"Downloaded from [^:]+: \S+ \(([\d.,]+) (B|kB|KB|MB|GB)")
_UNITS = {"B": 1, "kB": 1000, "KB": 1000, "MB": 1000**2, "GB": 1000**3}


@dataclass
class Progress:
    """What Maven fetched so far."""

    artifacts: int = 0
    bytes: int = 0
    started: float = 0.0

    def line(self, now: float) -> str:
        return (
            f"{self.artifacts} artifacts, {self.bytes / 1e6:.1f} MB, "
            f"{now - self.started:.0f} s elapsed"
        )

    def observe(self, text: str) -> bool:
        """Count one Maven output line; True when it was a finished download."""
        m = _DOWNLOADED.search(text)
        if m is None:
            return False
        self.artifacts += 1
        self.bytes += int(float(m.group(1).replace(",", "")) * _UNITS[m.group(2)])
        return True


class MavenError(RuntimeError):
    """Maven failed; the message holds the tail of its output."""


def resolve(
    pom: Path,
    output_dir: Path,
    report: Callable[[str, bool], None],
    *,
    every: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
) -> Progress:
    """Copy the pom's runtime dependencies into ``output_dir``, reporting progress.

    ``report(text, final)`` is called at most every ``every`` seconds while
    downloads happen and once at the end (``final=True``).
    """
    cmd = [
        "mvn", "-B", "-f", str(pom), "dependency:copy-dependencies",
        "-DincludeScope=runtime", f"-DoutputDirectory={output_dir}",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    assert proc.stdout is not None
    progress, tail = follow(proc.stdout, report, every=every, clock=clock)
    if proc.wait() != 0:
        raise MavenError("mvn could not resolve the Kafka jars:\n" + "\n".join(tail))
    report(f"resolved {progress.line(clock())}", True)
    return progress


def follow(
    lines: Iterable[str],
    report: Callable[[str, bool], None],
    *,
    every: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[Progress, list[str]]:
    """Count downloads in Maven's output; the progress and the last lines (for errors)."""
    progress = Progress(started=clock())
    tail: deque[str] = deque(maxlen=8)
    last = progress.started
    for raw in lines:
        text = raw.rstrip()
        tail.append(text)
        if progress.observe(text) and clock() - last >= every:
            last = clock()
            report(progress.line(last), False)
    return progress, [t for t in tail if t]
