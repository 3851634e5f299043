"""Fault-injection campaign: a worker killed, Redis and PostgreSQL restarted, against real training.

The campaign itself (tests/campaigns/faults_campaign.py) runs in a child pytest on a PostgreSQL cluster and a
redis-server of its own, which it restarts: the shared servers other tests use are never touched. It prints its
figures (faults, runs, lost, stuck, seconds to recover from each fault) whether it passes or not.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest
from django.conf import settings

from tests.campaigns.servers import PrivatePostgres, free_port

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]


def test_no_run_is_lost_stuck_or_trained_twice_under_faults(capsys: Any) -> None:
    try:
        postgres = PrivatePostgres.create()
    except RuntimeError as error:
        pytest.fail(str(error))
    redis_port = free_port()
    env = dict(os.environ, **postgres.env(), FAULTS_REDIS_PORT=str(redis_port))
    env |= {"DATABASE_URL": postgres.url(), "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0"}
    env.pop("VAR_DIR", None)  # a fresh folder for the child's media
    try:
        postgres.start()
        child = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "tests/campaigns/faults_campaign.py"],
            cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    finally:
        postgres.remove()
    figures = re.search(r"^fault .*?^campaign: .*?$", child.stdout, re.DOTALL | re.MULTILINE)
    with capsys.disabled():
        print("\nFault-injection campaign:\n" + (figures.group() if figures else "(no figures: it did not finish)"))
    assert child.returncode == 0, child.stdout[-12000:] + child.stderr[-3000:]
