#!/usr/bin/env python
"""`make run`: prepare the embedded default and run the web server and a Celery worker together.

SQLite and kombu's filesystem broker live under VAR_DIR (default ./var). Ctrl-C stops both. The
worker (with beat) is supervised: if it dies it is restarted with back-off (1 s, doubling to a
minute; reset once it has stayed up a minute), whatever it left behind in its process group is
killed, and `VAR_DIR/supervisor.json` says so, which the pages show in a banner. The web server never
stops because the worker did; if the web server itself dies, everything stops and the exit status
says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def prepare_environment() -> dict[str, str]:
    env = dict(os.environ)
    var = Path(env.setdefault("VAR_DIR", str(ROOT / "var")))
    var.mkdir(parents=True, exist_ok=True)
    env.setdefault("SECRET_KEY", _local_secret(var / "secret_key"))
    # Plain HTTP on this machine: no TLS redirect, cookies not marked Secure.
    env.setdefault("SECURE_SSL_REDIRECT", "0")
    env.setdefault("SECURE_COOKIES", "0")
    env.setdefault("SECURE_HSTS_SECONDS", "0")
    env.setdefault("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
    env.setdefault("PORT", "8000")
    env.setdefault("SITE_URL", f"http://localhost:{env['PORT']}")
    return env


def _local_secret(path: Path) -> str:
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def prepare_sandbox(env: dict[str, str]) -> None:
    """The sandbox runtime; without it the app still runs and training says why not."""
    if subprocess.run([PYTHON, "manage.py", "sandbox_setup"], cwd=ROOT, env=env, check=False).returncode != 0:
        print("Warning: `manage.py sandbox_setup` failed; Keras training will not be available.", flush=True)


def build_datasets(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Datasets build in the background while the site is already up: each task appears once its data is ready
    (about a minute for all of them the first time, a few seconds to check them later)."""
    print("Building the task datasets in the background; each task appears when its data is ready.", flush=True)
    return subprocess.Popen([PYTHON, "manage.py", "build_datasets"], cwd=ROOT, env=env)


def web_command(env: dict[str, str]) -> list[str]:
    bind = f"{env.get('HOST', '127.0.0.1')}:{env['PORT']}"
    return [PYTHON, "-m", "gunicorn", "tracker.project.wsgi", "--bind", bind, "--workers", env.get("WEB_WORKERS", "2"),
            "--access-logfile", "-", "--graceful-timeout", "5",
            "--config", "python:tracker.project.gunicorn_conf"]  # fmt: skip


def worker_command(env: dict[str, str]) -> list[str]:
    return [PYTHON, "-m", "celery", "-A", "tracker.project", "worker", "--beat", "--loglevel", "INFO",
            "--concurrency", env.get("WORKER_CONCURRENCY", "1"),
            "--schedule", str(Path(env["VAR_DIR"]) / "celerybeat-schedule")]  # fmt: skip


class Supervised:
    """A process restarted with back-off when it exits; what it left in its process group is killed."""

    MAX_BACKOFF = 60.0
    STABLE_AFTER = 60.0

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name, self.command, self.env = name, command, env
        self.status_file = Path(env["VAR_DIR"]) / "supervisor.json"
        self.process: subprocess.Popen[bytes] | None = None
        self.backoff, self.restarts, self.restart_at, self.started_at = 1.0, 0, 0.0, 0.0

    def start(self) -> None:
        # Its own session: its pool children can be found and killed with it, never left running.
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, start_new_session=True)
        self.started_at = time.monotonic()

    def check(self) -> None:
        """Call often: notices an exit, kills leftovers, and restarts when the back-off has passed."""
        now = time.monotonic()
        if self.process is not None and self.process.poll() is not None:
            code = self.process.returncode
            self._kill_group(self.process.pid)
            self.process = None
            if now - self.started_at > self.STABLE_AFTER:
                self.backoff = 1.0
            self.restart_at = now + self.backoff
            print(f"The {self.name} exited with status {code}; restarting it in {self.backoff:.0f} s.", flush=True)
            self._record("restarting", code)
            self.backoff = min(self.backoff * 2, self.MAX_BACKOFF)
        if self.process is None and now >= self.restart_at:
            self.restarts += 1
            self.start()
            self._record("running", None)

    def _kill_group(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)

    def _record(self, state: str, code: int | None) -> None:
        status = {"process": self.name, "state": state, "restarts": self.restarts, "last_exit": code, "at": time.time()}
        self.status_file.write_text(json.dumps(status))

    def stop(self) -> None:
        if self.process is not None:
            stop([self.process])
            self._kill_group(self.process.pid)
        self.status_file.unlink(missing_ok=True)


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> int:
    env = prepare_environment()
    manage(env, "migrate", "--noinput", "-v", "0")
    if not env.get("CREDENTIALS_SIGNING_KEY"):
        # The issuer's key file, like var/secret_key: made once, mode 0600, kept (README, Credentials).
        manage(env, "credentials_key", "create")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    manage(env, "setup_demo")
    prepare_sandbox(env)
    # The web processes share their Prometheus samples through a folder (tracker/project/metrics.py).
    web_env = env | {"PROMETHEUS_MULTIPROC_DIR": str(Path(env["VAR_DIR"]) / "metrics")}
    web = subprocess.Popen(web_command(env), cwd=ROOT, env=web_env)
    worker = Supervised("worker", worker_command(env), env)
    worker.status_file.unlink(missing_ok=True)
    worker.start()
    print(f"\nSkillproof is running at {env['SITE_URL']}/  (Ctrl-C stops the web server and the worker)\n", flush=True)
    builder: subprocess.Popen[bytes] | None = build_datasets(env)
    stopping: list[int] = []
    # Ctrl-C reaches the whole process group; remember it before noticing the children exit.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda number, _frame: stopping.append(number))
    while not stopping and web.poll() is None:
        worker.check()
        if builder is not None and builder.poll() is not None:
            if builder.returncode != 0:
                print(
                    "Warning: some datasets were not built (the messages above say why); their tasks are not offered.",
                    flush=True,
                )
            builder = None
        time.sleep(0.2)
    if builder is not None and builder.poll() is None:
        builder.terminate()  # a half-built dataset is never kept: it is built in a temporary folder
        builder.wait(timeout=30)
    if stopping:
        print("\nStopping the web server and the worker…", flush=True)
        stop([web])
        worker.stop()
        return 0
    print(f"The web server exited with status {web.returncode}; stopping the worker.", file=sys.stderr)
    worker.stop()
    return web.returncode or 1


if __name__ == "__main__":
    sys.exit(main())
