"""Prepare the training sandbox: its unprivileged user, its Python runtime, its folders."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from trainer.sandbox.config import SandboxUnavailable, harness_install, sandbox_config

REQUIREMENTS = Path(settings.BASE_DIR) / "requirements-sandbox.txt"


class Command(BaseCommand):
    help = "Create the sandbox user, install the sandbox runtime (TensorFlow, Keras) and check a sandbox starts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="Also start one sandbox and wait until it is warm.")
        parser.add_argument(
            "--install-only", action="store_true", help="Install the user and runtime; skip the checks (image builds)."
        )

    def handle(self, *args: Any, check: bool = False, install_only: bool = False, **options: Any) -> None:
        root, runtime = Path(settings.TRAINER_ROOT), Path(settings.TRAINER_RUNTIME_DIR)
        if root.exists() and (root.stat().st_uid != os.geteuid() or root.is_symlink()):
            raise CommandError(f"{root} belongs to someone else; refusing to install a runtime there.")
        for folder in (root, runtime, root / "jobs"):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o711 if folder.name == "jobs" else 0o755)
        if settings.TRAINER_SANDBOX != "none" and os.geteuid() == 0:
            self._ensure_user(settings.TRAINER_SANDBOX_USER)
        self._ensure_runtime(runtime)
        harness_install(runtime)
        if install_only:
            self.stdout.write(f"Sandbox runtime installed in {runtime} (checks skipped)")
            return
        try:
            config = sandbox_config()
        except SandboxUnavailable as error:
            raise CommandError(f"Training sandbox unavailable: {error}") from error
        mode = f"bubblewrap, cgroup v{config.cgroup_version}" if config.isolated else "NONE (development only)"
        self.stdout.write(f"Sandbox ready: {mode}; runtime {runtime}")
        if check:
            self._check(config)

    def _ensure_user(self, name: str) -> None:
        if subprocess.run(["id", "-u", name], capture_output=True).returncode == 0:
            return
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ],
            check=True,
        )
        self.stdout.write(f"Created the unprivileged sandbox user {name}")

    def _ensure_runtime(self, runtime: Path) -> None:
        wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
        stamp = runtime / ".requirements-sha256"
        python = runtime / "venv" / "bin" / "python"
        if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
            return
        started = time.monotonic()
        self.stdout.write(f"Installing the sandbox runtime into {runtime} (TensorFlow; a few minutes the first time)…")
        if not python.exists():
            subprocess.run([settings.TRAINER_PYTHON, "-m", "venv", str(runtime / "venv")], check=True)
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", str(REQUIREMENTS)]
        subprocess.run(pip, check=True)
        stamp.write_text(wanted)
        self.stdout.write(f"Sandbox runtime installed in {time.monotonic() - started:.0f}s")

    def _check(self, config: Any) -> None:
        from trainer.sandbox.pool import runner_for
        from trainer.sandbox.runner import PlatformError

        started = time.monotonic()
        runner = runner_for(config).spawn()
        try:
            runner.wait_ready(120)
        except PlatformError as error:
            raise CommandError(str(error)) from error
        finally:
            runner.destroy()
        self.stdout.write(f"A sandbox started warm (TensorFlow imported) in {time.monotonic() - started:.1f}s")
