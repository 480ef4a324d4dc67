"""``workflow show-execution --graph FILE``: the execution's path as an SVG or PNG file."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eventplane.stategraph import GraphvizMissing, render


def write_graph(
    file: str, definition: str, events: Sequence[Mapping[str, Any]], execution: str, status: str
) -> bool:
    """Writes the image (format from the suffix); False, with the reason on stderr, if not."""
    suffix = Path(file).suffix.lower().lstrip(".")
    if suffix not in ("svg", "png"):
        print(f"--graph: {file!r} must end in .svg or .png", file=sys.stderr)
        return False
    try:
        image = render(definition, events, suffix, title=f"{execution}\\n{status}")
    except GraphvizMissing as exc:
        print(f"--graph: {exc}", file=sys.stderr)
        return False
    Path(file).write_bytes(image)
    print(f"wrote {file}", file=sys.stderr)
    return True
