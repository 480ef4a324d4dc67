"""Returns the release named in release.txt beside it (the test writes one per package)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

RELEASE = (Path(__file__).parent / "release.txt").read_text().strip()


def handler(event: Any, context: Any) -> dict[str, str]:
    return {"release": RELEASE, "function_version": context.function_version}
