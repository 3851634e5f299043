#!/usr/bin/env python
"""`make screenshots`: regenerate the README's pictures in docs/screenshots/ from the browser journeys.

Each picture is taken by the journey that reaches the page (`tests/web/`, the `screenshot()` helper), so it shows
what the tests just checked, axe-core included. The helper writes only when SCREENSHOTS=1, which this script sets:
an ordinary test run leaves the repository's files alone. Desktop pictures are 1280 CSS pixels wide; the phone
picture (`phone-dashboard.png`) 375.

Usage: python scripts/screenshots.py [--no-training] [extra pytest arguments]
  --no-training  skip the journeys that train in the sandbox (run-*.png, task-attempts.png keep their old copies)
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "docs" / "screenshots"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk (the first, right after the 8-byte signature)."""
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


def main(argv: list[str]) -> int:
    markers = "browser and not sandbox" if "--no-training" in argv else "browser"
    extra = [arg for arg in argv if arg != "--no-training"]
    started = time.time()
    command = [sys.executable, "-m", "pytest", "tests/web", "-m", markers, "-q", "-p", "no:cacheprovider", *extra]
    status = subprocess.call(command, cwd=ROOT, env={**os.environ, "SCREENSHOTS": "1"})
    written = sorted(p for p in SCREENSHOTS.glob("*.png") if p.stat().st_mtime >= started)
    for path in written:
        width, height = png_size(path)
        print(f"{path.relative_to(ROOT)}: {width}x{height}")
    print(f"{len(written)} screenshots written" + ("" if status == 0 else f"; the tests failed (exit status {status})"))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
