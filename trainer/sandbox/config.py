"""Sandbox configuration from settings, and the checks /healthz and the runner share."""

from __future__ import annotations

import math
import os
import pwd
import shutil
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings

from trainer.engines import DEFAULT_ENGINE, Engine, facts, runtime_of
from trainer.sandbox.cgroups import CgroupError, cgroup_version

HARNESS_SOURCE = Path(__file__).resolve().parent.parent / "harness" / "harness.py"
# The R engine's shim beside it (trainer.engines: R), installed with it.
HARNESS_SOURCES = (HARNESS_SOURCE, HARNESS_SOURCE.with_name("harness.R"))


# Where the datasets' sources live (their test labels among them): hidden from learner code by empty tmpfs
# mounts. Globs, because the architecture triplet and the runtime's Python version vary.
HIDDEN_SOURCE_GLOBS = (
    "/usr/share/datasets",  # dataset-fashion-mnist
    "/usr/share/wordnet",  # wordnet-base
    "/usr/share/espeak-ng-data",
    "/usr/lib/*/espeak-ng-data",  # espeak-ng-data
    # scikit-learn's digits, wherever a Python under /usr has scikit-learn (the web image's, Debian's)
    "/usr/local/lib/python3*/site-packages/sklearn/datasets/data",
    "/usr/lib/python3/dist-packages/sklearn/datasets/data",
    # ggplot2's datasets (diamonds: trainer/datasets/diamonds.py); library(ggplot2) still loads without them
    "/usr/lib/R/site-library/ggplot2/data",
    "/usr/local/lib/R/site-library/ggplot2/data",
)
# scikit-learn's digits, in every engine's runtime (venv, venv-jax, venv-torch)
HIDDEN_RUNTIME_GLOBS = ("venv*/lib/python3*/site-packages/sklearn/datasets/data",)


def hidden_paths(runtime_dir: Path) -> list[Path]:
    """The existing folders a sandbox must not see, in a stable order."""
    found = [p for pattern in HIDDEN_SOURCE_GLOBS for p in Path("/").glob(pattern.lstrip("/"))]
    found += [p for pattern in HIDDEN_RUNTIME_GLOBS for p in runtime_dir.glob(pattern)]
    return sorted({p for p in found if p.is_dir() and not p.is_symlink()})


class SandboxUnavailable(Exception):
    """The sandbox cannot be set up here; runs fail with this message instead of running unsandboxed."""


@dataclass(frozen=True)
class SandboxConfig:
    isolated: bool
    runtime_dir: Path
    jobs_dir: Path
    sandbox_uid: int | None
    sandbox_gid: int
    cgroup_version: int
    warm_memory_bytes: int
    pids_max: int
    cpus: float  # the cgroup's CPU quota, in cores
    fsize_bytes: int
    job_disk_bytes: int
    nofile: int
    log_tail_bytes: int
    threads: int
    engines: tuple[str, ...] = (DEFAULT_ENGINE,)  # installed and offered (TRAINER_ENGINES)
    steps_per_execution: int = 1  # batches per TensorFlow call in fit() (TRAINER_STEPS_PER_EXECUTION; harness)

    @property
    def python(self) -> Path:
        """The TensorFlow runtime's interpreter (the default engine's)."""
        return self.python_for(DEFAULT_ENGINE)

    def python_for(self, engine: str) -> Path:
        return self.runtime_dir / runtime_of(engine).venv / "bin" / "python"

    @property
    def harness_path(self) -> Path:
        return self.runtime_dir / "harness" / "harness.py"

    def harness_command(self, engine: str) -> list[str]:
        """How a sandbox on `engine` starts its harness: Python's, or Rscript with the R shim for an R script."""
        if facts(engine).language == "r":
            shim = self.harness_path.with_name("harness.R")
            return ["/usr/bin/Rscript", "--vanilla", str(shim), str(self.harness_path.parent)]
        # -I ignores PYTHON* variables, so unbuffered output and no bytecode are asked for by flag.
        return [str(self.python_for(engine)), "-I", "-B", "-u", str(self.harness_path)]

    def sandbox_env(self, engine: str = DEFAULT_ENGINE) -> dict[str, str]:
        """The environment the harness starts with under either runner (the development one adds SKILLPROOF_JOB).

        The engine's variables (KERAS_BACKEND...) are there from the interpreter's first instruction, before
        anything can import Keras.
        """
        threads = str(self.threads)
        # reticulate drives the R engine's runtime; the harness imports R's Keras with it (trainer.engines).
        reticulate = {"RETICULATE_PYTHON": str(self.python_for(engine))} if facts(engine).language == "r" else {}
        return (
            facts(engine).sandbox_env()
            | reticulate
            | {
                "PATH": "/usr/bin:/bin",
                "HOME": "/job" if self.isolated else "/tmp",  # noqa: S108 - the sandbox's own tmpfs
                "LANG": "C.UTF-8",
                "COLUMNS": "120",  # Keras' model summary (rich) drops columns past the console width
                "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONUNBUFFERED": "1",
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "TF_NUM_INTEROP_THREADS": threads,
                "TF_NUM_INTRAOP_THREADS": threads,
                "OMP_NUM_THREADS": threads,
                "SKILLPROOF_STEPS_PER_EXECUTION": str(self.steps_per_execution),
                "MPLCONFIGDIR": "/tmp",  # noqa: S108 - the sandbox's own tmpfs
                "KERAS_HOME": "/tmp/keras",  # noqa: S108
            }
        )


def _sandbox_user(name: str) -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(name)
    except KeyError as error:
        raise SandboxUnavailable(f"The sandbox user {name!r} does not exist; run `manage.py sandbox_setup`.") from error
    if entry.pw_uid == 0:
        raise SandboxUnavailable("The sandbox user must not be root.")
    return entry.pw_uid, entry.pw_gid


@cache
def sandbox_config() -> SandboxConfig:
    """Raises SandboxUnavailable with a clear reason when sandboxed runs are impossible here."""
    isolated = settings.TRAINER_SANDBOX != "none"
    runtime = Path(settings.TRAINER_RUNTIME_DIR)
    uid: int | None = None
    gid, version = 0, 0
    if isolated:
        _require_linux_tools()
        if os.geteuid() != 0:
            raise SandboxUnavailable(
                "The worker must start as root to drop each sandbox to an unprivileged user and set cgroup limits."
            )
        uid, gid = _sandbox_user(settings.TRAINER_SANDBOX_USER)
        try:
            version = cgroup_version()
        except CgroupError as error:
            raise SandboxUnavailable(str(error)) from error
    _require_private(Path(settings.TRAINER_ROOT))
    engines = _require_engines(runtime)
    harness_install(runtime)
    cpus = float(settings.TRAINER_CPUS)
    if not math.isfinite(cpus) or cpus <= 0:
        raise SandboxUnavailable(f"TRAINER_CPUS must be a positive number of cores, not {settings.TRAINER_CPUS!r}.")
    return SandboxConfig(
        isolated=isolated,
        runtime_dir=runtime,
        jobs_dir=Path(settings.TRAINER_ROOT) / "jobs",
        sandbox_uid=uid,
        sandbox_gid=gid,
        cgroup_version=version,
        warm_memory_bytes=settings.TRAINER_WARM_MEMORY_MB * 1024 * 1024,
        pids_max=settings.TRAINER_PIDS_MAX,
        cpus=cpus,
        fsize_bytes=settings.TRAINER_FSIZE_MB * 1024 * 1024,
        job_disk_bytes=settings.TRAINER_JOB_DISK_MB * 1024 * 1024,
        nofile=settings.TRAINER_NOFILE,
        log_tail_bytes=settings.TRAINER_LOG_TAIL_BYTES,
        # As many threads as the quota has cores: more would only queue for the same CPU time.
        threads=max(1, min(os.cpu_count() or 1, math.ceil(cpus))),
        engines=engines,
        steps_per_execution=settings.TRAINER_STEPS_PER_EXECUTION,
    )


def engine_installed(runtime: Path, engine: str) -> bool:
    """Whether the engine's runtime has its interpreter and its engine package (a cheap look, no import)."""
    venv = runtime / runtime_of(engine).venv
    package = facts(engine).package
    found = (venv / "bin" / "python").exists() and any(venv.glob(f"lib/python3*/site-packages/{package}/__init__.py"))
    if facts(engine).language == "r":  # and R with reticulate, from Debian
        found = found and Path("/usr/bin/Rscript").exists() and any(Path("/usr/lib/R").glob("*/reticulate/R"))
    return found


def _require_engines(runtime: Path) -> tuple[str, ...]:
    """TRAINER_ENGINES, each known and installed (a run on a missing engine would fail in the worker instead)."""
    wanted = list(settings.TRAINER_ENGINES)
    unknown = [name for name in wanted if name not in Engine.values]
    if unknown or not wanted:
        raise SandboxUnavailable(
            f"TRAINER_ENGINES: {', '.join(unknown) or 'empty'}; choose among {', '.join(Engine.values)}."
        )
    if not (runtime / "harness" / "harness.py").exists():
        raise SandboxUnavailable(f"The sandbox runtime is not installed in {runtime}; run `manage.py sandbox_setup`.")
    missing = [name for name in wanted if not engine_installed(runtime, name)]
    if missing:
        raise SandboxUnavailable(
            f"The runtime of {', '.join(missing)} is not installed in {runtime}; run `manage.py sandbox_setup`."
        )
    return tuple(wanted)


def harness_install(runtime: Path) -> None:
    """Keep the runtime's copy of the harness (and its R shim) identical to this checkout's (a deploy changes it)."""
    for path in HARNESS_SOURCES:
        target = runtime / "harness" / path.name
        source = path.read_bytes()
        if target.exists() and target.read_bytes() == source:
            continue
        target.parent.mkdir(mode=0o755, exist_ok=True)
        staging = target.with_name(f".{path.name}.tmp")
        staging.write_bytes(source)
        staging.chmod(0o644)
        staging.replace(target)


def _require_private(folder: Path) -> None:
    """The runtime and job folders must be ours alone: in a shared /var/tmp another user could
    otherwise plant the interpreter that the platform runs."""
    if not folder.exists():
        return
    info = folder.stat()
    if info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise SandboxUnavailable(f"{folder} must be owned by this user and writable by no one else.")


def _require_linux_tools() -> None:
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable("The training sandbox needs Linux (bubblewrap, cgroups).")
    missing = [tool for tool in ("bwrap", "setpriv", "prlimit") if not shutil.which(tool)]
    if missing:
        raise SandboxUnavailable(f"Missing {', '.join(missing)}: apt-get install bubblewrap util-linux.")


def sandbox_status() -> dict[str, object]:
    """For /healthz: whether training can run, and why not."""
    mode = "none (development only: NOT sandboxed)" if settings.TRAINER_SANDBOX == "none" else "bubblewrap"
    try:
        config = sandbox_config()
    except SandboxUnavailable as error:
        sandbox_config.cache_clear()  # the next check looks again (e.g. after sandbox_setup)
        return {"ok": False, "mode": mode, "error": str(error)}
    return {"ok": True, "mode": mode, "cgroup": f"v{config.cgroup_version}" if config.isolated else "none"}
