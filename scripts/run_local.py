#!/usr/bin/env python
"""`make run`: prepare the embedded default and run the web server and a Celery worker together.

SQLite and kombu's filesystem broker live under VAR_DIR (default ./var). Ctrl-C stops both
processes; if either one dies, the other is stopped too and the exit status says so.
"""

from __future__ import annotations

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


def start(env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    bind = f"{env.get('HOST', '127.0.0.1')}:{env['PORT']}"
    web = [PYTHON, "-m", "gunicorn", "tracker.project.wsgi", "--bind", bind, "--workers", env.get("WEB_WORKERS", "2"),
           "--access-logfile", "-", "--graceful-timeout", "5"]  # fmt: skip
    worker = [PYTHON, "-m", "celery", "-A", "tracker.project", "worker", "--beat", "--loglevel", "INFO",
              "--concurrency", env.get("WORKER_CONCURRENCY", "1"),
              "--schedule", str(Path(env["VAR_DIR"]) / "celerybeat-schedule")]  # fmt: skip
    return [subprocess.Popen(cmd, cwd=ROOT, env=env) for cmd in (web, worker)]


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
    manage(env, "collectstatic", "--noinput", "-v", "0")
    manage(env, "setup_demo")
    prepare_sandbox(env)
    processes = start(env)
    print(f"\nSkillproof is running at {env['SITE_URL']}/  (Ctrl-C stops the web server and the worker)\n", flush=True)
    builder: subprocess.Popen[bytes] | None = build_datasets(env)
    stopping: list[int] = []
    # Ctrl-C reaches the whole process group; remember it before noticing the children exit.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda number, _frame: stopping.append(number))
    while not stopping and all(p.poll() is None for p in processes):
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
        stop(processes)
        return 0
    failed = next(p for p in processes if p.poll() is not None)
    print(f"A process exited with status {failed.returncode}; stopping the other.", file=sys.stderr)
    stop(processes)
    return failed.returncode or 1


if __name__ == "__main__":
    sys.exit(main())
