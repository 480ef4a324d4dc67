"""Resolving the broker's jars with Maven, saying what it does while it does it.

The first `eventplane kafka fetch` (or `dev`) downloads about a hundred artifacts;
a silent minute looks like a hang. Maven in batch mode prints one line per
finished download; we count them and their sizes and show artifact count, bytes
and elapsed time (one rewritten line on a terminal, a line every few seconds
otherwise), then a summary. Repository addresses are not shown: they say nothing
the user needs and the count is what tells progress.
"""

from __future__ import annotations

import queue
import re
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

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

    ``report(text, final)`` is called at most every ``every`` seconds while Maven
    runs and once at the end (``final=True``).
    """
    cmd = [
        "mvn", "-B", "-f", str(pom), "dependency:copy-dependencies",
        "-DincludeScope=runtime", f"-DoutputDirectory={output_dir}",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    assert proc.stdout is not None
    progress, tail = follow(_with_ticks(proc.stdout, every), report, every=every, clock=clock)
    if proc.wait() != 0:
        raise MavenError("mvn could not resolve the Kafka jars:\n" + "\n".join(tail))
    jars = list(output_dir.glob("*.jar"))
    size = sum(j.stat().st_size for j in jars)
    report(
        f"{len(jars)} jars ({size / 1e6:.1f} MB) ready in {clock() - progress.started:.0f} s; "
        f"downloaded {progress.artifacts} artifacts ({progress.bytes / 1e6:.1f} MB), "
        "the rest came from Maven's local repository",
        True,
    )
    return progress


def _with_ticks(stream: IO[str], every: float) -> Iterator[str | None]:
    """The stream's lines, and None whenever ``every`` seconds pass without one."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, name="mvn-output", daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=every)
        except queue.Empty:
            yield None  # a tick: Maven is busy but silent (JVM start, local resolution)
            continue
        if line is None:
            return
        yield line


def follow(
    lines: Iterable[str | None],
    report: Callable[[str, bool], None],
    *,
    every: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[Progress, list[str]]:
    """Count downloads in Maven's output (None items are clock ticks); the progress and
    the last lines (for errors)."""
    progress = Progress(started=clock())
    tail: deque[str] = deque(maxlen=8)
    last = progress.started
    for raw in lines:
        if raw is not None:
            text = raw.rstrip()
            tail.append(text)
            progress.observe(text)
        # Any line is a heartbeat: resolving plugins from the local repository prints
        # no download, and a quiet terminal still needs to show the clock moving.
        if clock() - last >= every:
            last = clock()
            report(progress.line(last), False)
    return progress, [t for t in tail if t]
