"""/metrics: Prometheus text with request latency by view, quota refusals, and what the database says (runs,
queues, workers, sandbox start, credentials); for the monitoring system only (token, or allowed networks); and,
under gunicorn with several workers, one scrape adds up every worker's samples."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import make_user
from tests.trainer.conftest import REFERENCE, _worker_env, data_dir, submit, tiny_task  # noqa: F401 - fixtures
from trainer.models import TaskSpec, TrainingRun
from trainer.quotas import QuotaExceeded

pytestmark = pytest.mark.django_db


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_scrape_has_requests_runs_queues_and_refusals(client: Client, tiny_task: TaskSpec, settings: Any) -> None:  # noqa: F811
    learner = make_user("pat", "learner")
    client.force_login(learner)
    assert client.get("/dashboard/").status_code == 200
    settings.TRAINER_MAX_ACTIVE = 1
    submit(learner, tiny_task, REFERENCE)
    with pytest.raises(QuotaExceeded):
        submit(learner, tiny_task, REFERENCE)
    TrainingRun.objects.create(learner=learner, task=tiny_task, dataset=tiny_task.dataset, status="failed",
                               error_kind="timeout", timings={"sandbox_wait": 0.4}, started_at=TrainingRun.objects.get().created_at)  # fmt: skip
    response = client.get("/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    found = samples(response.content.decode())
    assert found[("skillproof_runs", (("error_kind", ""), ("status", "queued")))] == 1
    assert found[("skillproof_runs", (("error_kind", "timeout"), ("status", "failed")))] == 1
    assert found[("skillproof_queue_depth", (("queue", "celery"),))] == 1
    assert found[("skillproof_queue_depth", (("queue", "gpu"),))] == 0
    assert found[("skillproof_sandbox_start_seconds", (("quantile", "0.5"),))] == pytest.approx(0.4)
    assert found[("skillproof_attempts_refused_total", (("limit", "at_once"),))] >= 1
    assert found[("skillproof_credentials_issued", ())] == 0
    dashboard = ("skillproof_request_seconds_count", (("method", "GET"), ("status", "2xx"), ("view", "dashboard")))
    assert found[dashboard] >= 1


def test_only_the_monitoring_system_may_scrape(client: Client, settings: Any) -> None:
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403  # not a loopback address
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    settings.METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403  # a token, once set, is required
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret").status_code == 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_one_scrape_adds_up_every_gunicorn_worker(data_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    port, folder = _free_port(), tmp_path / "metrics"
    env = _worker_env(data_dir, {"PROMETHEUS_MULTIPROC_DIR": str(folder), "SECURE_SSL_REDIRECT": "0"})
    command = [sys.executable, "-m", "gunicorn", "tracker.project.wsgi", "--bind", f"127.0.0.1:{port}",
               "--workers", "3", "--config", "python:tracker.project.gunicorn_conf"]  # fmt: skip
    server = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn never answered"
                time.sleep(0.3)
        for _ in range(60):  # spread over the workers by the kernel's accept queue
            # Not /healthz: a readiness probe the client gave up on under load may still be answered and counted.
            urllib.request.urlopen(f"http://127.0.0.1:{port}/favicon.ico", timeout=30).read()
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    found = samples(text)
    favicon = [value for (name, labels), value in found.items()
               if name == "skillproof_request_seconds_count" and "favicon" in dict(labels).get("view", "")]  # fmt: skip
    assert favicon == [60]  # every request, whichever worker answered it
    assert len(list(folder.glob("*.db"))) >= 2  # more than one worker wrote samples
    assert ("skillproof_runs", ()) not in found and "skillproof_queue_depth" in text
