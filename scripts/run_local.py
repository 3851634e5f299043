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


def prepare_training(env: dict[str, str]) -> None:
    """The sandbox runtime and the datasets; without them the app still runs, training says why not."""
    warnings = {
        "sandbox_setup": "Keras training will not be available",
        "build_datasets": "the tasks whose dataset is not built are not offered (the messages above say why)",
    }
    for command, consequence in warnings.items():
        result = subprocess.run([PYTHON, "manage.py", command], cwd=ROOT, env=env, check=False)
        if result.returncode != 0:
            print(f"Warning: `manage.py {command}` failed; {consequence}.", flush=True)


def start(env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    bind = f"{env.get('HOST', '127.0.0.1')}:{env['PORT']}"
    web = [PYTHON, "-m", "gunicorn", "tracker.wsgi", "--bind", bind, "--workers", env.get("WEB_WORKERS", "2"),
           "--access-logfile", "-", "--graceful-timeout", "5"]  # fmt: skip
    worker = [PYTHON, "-m", "celery", "-A", "tracker", "worker", "--beat", "--loglevel", "INFO",
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
    prepare_training(env)
    processes = start(env)
    print(f"\nSkillproof is running at {env['SITE_URL']}/  (Ctrl-C stops the web server and the worker)\n", flush=True)
    stopping: list[int] = []
    # Ctrl-C reaches the whole process group; remember it before noticing the children exit.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda number, _frame: stopping.append(number))
    while not stopping and all(p.poll() is None for p in processes):
        time.sleep(0.2)
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
