"""Prepare the training sandbox: its unprivileged user, one Python runtime per engine, its folders."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from trainer.engines import RUNTIMES, TF_KERAS_REQUIREMENTS, Engine, Runtime, facts, runtime_of
from trainer.sandbox.config import SandboxUnavailable, harness_install, sandbox_config

REPO = Path(settings.BASE_DIR)
# Run inside each engine's runtime once it is installed: what it imports is what a sandbox on it will import.
PROBE = """
import importlib, os, sys
legacy = os.environ.get("TF_USE_LEGACY_KERAS") == "1"
keras = importlib.import_module("tf_keras" if legacy else "keras")
backend = keras.backend.backend()
engine = importlib.import_module(backend)
extra = ""
if backend == "torch":
    extra = " (CUDA build!)" if engine.version.cuda else " (CPU build)"
print(f"{keras.__name__} {keras.__version__} on {backend} {engine.__version__}{extra}")
sys.exit(3 if extra.startswith(" (CUDA") else 0)
"""
# The R engine's, through R: reticulate drives the runtime's Python and imports Keras, as the R shim will.
R_PROBE = """
library(reticulate)
keras <- import("keras")
cat(sprintf("R %s.%s, reticulate %s: keras %s on %s", R.version$major, R.version$minor,
            packageVersion("reticulate"), keras$`__version__`, keras$backend$backend()))
"""


class Command(BaseCommand):
    help = (
        "Create the sandbox user, install the runtime of each engine in TRAINER_ENGINES (TensorFlow, JAX, PyTorch, "
        "tf.keras, R) and check a sandbox of each starts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Also start one sandbox per engine and wait until it is warm."
        )
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
        engines = self._engines()
        for name in sorted({runtime_of(engine).name for engine in engines}):
            self._ensure_runtime(runtime, RUNTIMES[name], engines)
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

    def _engines(self) -> list[str]:
        unknown = [name for name in settings.TRAINER_ENGINES if name not in Engine.values]
        if unknown or not settings.TRAINER_ENGINES:
            choices = ", ".join(Engine.values)
            raise CommandError(f"TRAINER_ENGINES: {', '.join(unknown) or 'empty'}; choose among {choices}.")
        if Engine.R in settings.TRAINER_ENGINES and not shutil.which("Rscript"):  # before its 1.6 GB runtime
            raise CommandError(
                "The r engine needs Debian's R: apt-get install r-base-core r-cran-reticulate r-cran-ggplot2, "
                "or leave r out of TRAINER_ENGINES."
            )
        return [str(name) for name in settings.TRAINER_ENGINES]

    def _ensure_runtime(self, root: Path, runtime: Runtime, engines: list[str]) -> None:
        """Install one runtime (a virtualenv) if its pinned requirements changed; say what was installed."""
        served = [engine for engine in engines if runtime_of(engine) == runtime]
        files = [REPO / name for name in runtime.requirements]
        no_deps = [REPO / TF_KERAS_REQUIREMENTS] if Engine.TF_KERAS in served else []
        digest = hashlib.sha256(b"".join(path.read_bytes() for path in [*files, *no_deps])).hexdigest()
        wanted = f"{digest} {' '.join(served)}"
        venv = root / runtime.venv
        stamp = root / f".requirements-{runtime.name}.sha256"
        python = venv / "bin" / "python"
        if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
            self.stdout.write(f"Runtime {runtime.name} ({', '.join(served)}): up to date in {venv}")
            return
        started = time.monotonic()
        self.stdout.write(f"Installing the {runtime.name} runtime into {venv} (a few minutes the first time)…")
        if not python.exists():
            subprocess.run([settings.TRAINER_PYTHON, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        for path in files:
            subprocess.run([*pip, "-r", str(path)], check=True)
        for path in no_deps:
            subprocess.run([*pip, "--no-deps", "-r", str(path)], check=True)
        for engine in served:
            self._probe(python, engine)
        stamp.write_text(wanted)
        size = sum(p.stat().st_size for p in venv.rglob("*") if p.is_file() and not p.is_symlink())
        self.stdout.write(
            f"Runtime {runtime.name} installed in {time.monotonic() - started:.0f}s ({size / 1e9:.2f} GB in {venv})"
        )

    def _probe(self, python: Path, engine: str) -> None:
        """Import the engine as a sandbox on it would, and say what it is (a CUDA PyTorch build is refused)."""
        env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "TF_CPP_MIN_LOG_LEVEL": "2", **facts(engine).sandbox_env()}  # noqa: S108
        command = [str(python), "-I", "-c", PROBE]
        if facts(engine).language == "r":
            env |= {"RETICULATE_PYTHON": str(python), "LANG": "C.UTF-8"}
            command = ["Rscript", "--vanilla", "-e", R_PROBE]
        probe = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if probe.returncode != 0:
            raise CommandError(
                f"The {engine} engine does not work in {python}: {(probe.stdout + probe.stderr)[-2000:]}"
            )
        self.stdout.write(f"  {engine}: {probe.stdout.strip().splitlines()[-1]}")

    def _check(self, config: Any) -> None:
        from trainer.sandbox.pool import runner_for
        from trainer.sandbox.runner import PlatformError

        for engine in config.engines:
            started = time.monotonic()
            runner = runner_for(config, engine).spawn()
            try:
                runner.wait_ready(120)
            except PlatformError as error:
                raise CommandError(f"{engine}: {error}") from error
            finally:
                runner.destroy()
            self.stdout.write(f"A {engine} sandbox started warm (engine imported) in {time.monotonic() - started:.1f}s")
