"""Production smoke test: a clean virtualenv from `requirements.txt` alone (as the Docker image installs it)
runs gunicorn and a Celery worker on this run's database and broker (PostgreSQL and Redis in CI) through one
real training run over HTTP. A runtime dependency that only the test tools bring in fails here."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import PASSWORD, make_user
from tests.trainer.conftest import REFERENCE, _worker_env, data_dir, sandbox, tiny_task  # noqa: F401 - fixtures
from trainer.models import TaskSpec

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
REPO = Path(settings.BASE_DIR)


@pytest.fixture(scope="session")
def runtime_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """requirements.txt and nothing else (pip's cache makes this quick after the first time)."""
    venv = tmp_path_factory.mktemp("runtime-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(REPO / "requirements.txt")], check=True, timeout=900)
    return venv


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> dict:
    request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310 - a local URL
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def _multipart(fields: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "skillproof-smoke-boundary"
    body = b""
    for name, (filename, content) in fields.items():
        body += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def servers(
    runtime_venv: Path,
    tiny_task: TaskSpec,  # noqa: F811 - the imported fixture
    data_dir: Path,  # noqa: F811
    tmp_path: Path,
) -> Iterator[str]:
    port = _free_port()
    env = _worker_env(data_dir, {"SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0", "PYTHONPATH": ""})
    env["PATH"] = f"{runtime_venv / 'bin'}:{env['PATH']}"
    python = str(runtime_venv / "bin" / "python")
    log = (tmp_path / "servers.log").open("wb")
    commands = [
        [python, "-m", "gunicorn", "tracker.project.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        [python, "-m", "celery", "-A", "tracker.project", "worker", "--concurrency", "1", "--loglevel", "INFO",
         "--hostname", f"smoke-{os.getpid()}@%h"],
    ]  # fmt: skip
    processes = [
        subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        for cmd in commands
    ]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        log.close()
        print((tmp_path / "servers.log").read_text(errors="replace")[-3000:])


def test_a_requirements_only_install_serves_and_trains(
    servers: str,
    tiny_task: TaskSpec,  # noqa: F811 - the imported fixture
    sandbox: None,  # noqa: F811
    settings: Any,
) -> None:
    # The servers hash as production does (the suite's fast MD5 hasher is this process's only).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    make_user("smoke", "learner")
    deadline = time.monotonic() + 60
    while True:
        try:
            health = _http(f"{servers}/healthz")
            break
        except OSError:
            assert time.monotonic() < deadline, "gunicorn from the runtime virtualenv never answered"
            time.sleep(0.5)
    assert health["ok"] and health["database"]["vendor"] == connection.vendor
    token = _http(
        f"{servers}/api/auth/token/", json.dumps({"username": "smoke", "password": PASSWORD}).encode(),
        {"Content-Type": "application/json"},
    )["token"]  # fmt: skip
    body, content_type = _multipart({"file": ("model.py", REFERENCE)})
    auth = {"Authorization": f"Token {token}"}
    run = _http(f"{servers}/api/tasks/{tiny_task.slug}/runs/", body, {**auth, "Content-Type": content_type})
    deadline = time.monotonic() + 240
    while run["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, run
        time.sleep(1)
        run = _http(f"{servers}/api/runs/{run['id']}/", headers=auth)
    assert run["status"] == "succeeded" and run["passed"] is True, run
