"""The embedded default must not fall over: a few minutes of concurrent attempts and beat ticks on SQLite and
the filesystem broker (tests/soak/embedded_soak.py, in a child pytest so it runs embedded whatever this run uses)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.slow


def test_the_embedded_stack_survives_a_soak() -> None:
    env = dict(os.environ, DATABASE_URL="", CELERY_BROKER_URL="")
    env.pop("VAR_DIR", None)  # a fresh folder for the child's SQLite file, media and broker
    child = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "tests/soak/embedded_soak.py"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    print(child.stdout[-2000:])
    assert child.returncode == 0, child.stdout[-5000:] + child.stderr[-2000:]
    assert "1 passed" in child.stdout
