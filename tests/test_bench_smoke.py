"""The benchmarks' harnesses work, in their smoke modes: bench/pipeline (the tiny task bare and through the
platform), bench/load (a tiny cohort on SQLite, gunicorn, 6 signed-in personas for 5 seconds) and bench/queue
(4 real runs on one worker, then two). Timings are the benchmarks' business, not a test's: these assert that
every page answered without an error, every run finished exactly once, and the breakdown is printed."""

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


def test_bench_queue_smoke() -> None:
    """Real runs on one worker, then on two: each run finished exactly once (the script's exit status)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "VAR_DIR")}
    result = subprocess.run(
        [sys.executable, "bench/queue", "--smoke"], cwd=REPO, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "finished exactly once               True         True" in result.stdout, result.stdout[-2000:]


def test_bench_pipeline_smoke() -> None:
    """The tiny task bare and through the platform: both train, and the breakdown and first epoch are printed."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "VAR_DIR")}
    result = subprocess.run(
        [sys.executable, "bench/pipeline", "--smoke"], cwd=REPO, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["runs"] == 1 and summary["ratio"] > 0
    for part in (
        "engine: Keras 3 on TensorFlow",
        "import the engine + Keras",
        "waiting for a warm sandbox",
        "fit (sum of epochs",
        "predict stage",
        "first epoch",
    ):
        assert part in result.stdout, part


def test_bench_pipeline_smoke_on_r() -> None:
    """The R engine's side of the benchmark: Rscript bare (reticulate, the R runtime's Keras) and an .R attempt
    through the platform both train the R task's tiny variant and report R²."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "VAR_DIR")}
    result = subprocess.run(
        [sys.executable, "bench/pipeline", "--engine", "r", "--smoke"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["task"] == "diamond-prices-r-tiny r" and summary["ratio"] > 0
    assert summary["first_epoch_over_bare_s"] is None and summary["platform_first_epoch_s"] > 0
    assert "engine: R (Keras 3 on TensorFlow, through reticulate)" in result.stdout
    [row] = [line.split() for line in result.stdout.splitlines() if line.startswith("diamond-prices-r-tiny")]
    bare_r2, platform_r2 = float(row[4]), float(row[5])
    assert bare_r2 > 0.85 and platform_r2 > 0.85, row  # the tiny variant's threshold: both sides trained
