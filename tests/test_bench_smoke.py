"""The load benchmark's harness works (seed, gunicorn, signed-in personas, the report), in its smoke mode:
a tiny cohort on SQLite, 6 clients for 5 seconds. Timings are the benchmark's business, not a test's: this
asserts only that every persona's pages answered without an error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def test_bench_load_smoke(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "VAR_DIR")}
    result = subprocess.run(
        [sys.executable, "bench/load", "--smoke"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["requests"] > 20 and summary["errors"] == 0
    for page in ("review queue", "dashboard", "API evidence", "login page"):
        assert page in result.stdout, page
