"""`make run`'s launcher, for real: embedded SQLite + filesystem broker, web and a supervised worker, Ctrl-C."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[str], seconds: float = 60) -> bytes:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the launcher exited early"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local URL
                return bytes(response.read())
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer in {seconds}s")


def _worker_pid(launcher: int) -> int:
    """The supervised worker: the launcher's child running celery (in its own session)."""
    children = subprocess.run(["pgrep", "-P", str(launcher), "-f", "celery"], capture_output=True, text=True)
    pids = [int(pid) for pid in children.stdout.split()]
    assert len(pids) == 1, pids
    return pids[0]


@pytest.mark.slow
def test_make_run_serves_pages_runs_a_worker_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY")}
    env |= {"VAR_DIR": str(tmp_path), "PORT": str(port), "DEMO_PASSWORD": "demo-pass-123", "STATIC_MANIFEST": "1"}
    log = tmp_path / "run.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "scripts/run_local.py"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
            text=True, start_new_session=True,
        )  # fmt: skip
    try:
        health = wait_for(f"http://127.0.0.1:{port}/healthz", process)
        assert b'"vendor": "sqlite"' in health and b'"transport": "filesystem"' in health
        assert b"Keras" in wait_for(f"http://127.0.0.1:{port}/competencies/", process)
        deadline = time.monotonic() + 60
        worker_ready = re.compile(r"celery@\S+ ready\.")  # not "Sandbox ready", printed earlier
        while not worker_ready.search(log.read_text()) and time.monotonic() < deadline:
            time.sleep(0.3)
        output = log.read_text()
        assert worker_ready.search(output), output[-3000:]
        assert "Demo logins: learner, mentor, admin — password: demo-pass-123" in output
        assert f"running at http://localhost:{port}/" in output

        # A malformed message in the embedded broker's folder is skipped; the worker stays up.
        (tmp_path / "broker" / "queue" / f"{int(time.time() * 1000)}_x.celery.msg").write_bytes(b"")
        time.sleep(2)
        assert "Skipped a malformed message" in log.read_text(), log.read_text()[-3000:]
        assert "exited with status" not in log.read_text()

        # The worker killed outright: the web server stays up, the worker (and nothing it left) is replaced.
        old = _worker_pid(process.pid)
        os.killpg(old, signal.SIGKILL)
        deadline = time.monotonic() + 90
        while len(worker_ready.findall(log.read_text())) < 2 and time.monotonic() < deadline:
            assert wait_for(f"http://127.0.0.1:{port}/healthz", process, 5)
            time.sleep(0.5)
        output = log.read_text()
        assert len(worker_ready.findall(output)) == 2 and "The worker exited with status -9" in output, output[-3000:]
        assert _worker_pid(process.pid) != old
        assert subprocess.run(["pgrep", "-g", str(old)], capture_output=True).stdout == b""  # no orphans
        page = wait_for(f"http://127.0.0.1:{port}/competencies/", process).decode()
        assert "The training worker was restarted 0 min ago (restart 1)" in page
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        returncode = process.wait(timeout=30)
    assert returncode == 0, log.read_text()[-2000:]
