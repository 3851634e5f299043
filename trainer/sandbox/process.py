"""One single-use sandbox: a job folder, a cgroup, and the harness started warm inside bubblewrap.

Layers, because no single one is enough: an unprivileged uid (setpriv; never root with --uid,
since root still reads root's 0600 files), a private mount view with only the interpreter, the
packages, the harness and the job folder (bubblewrap), no network and private PID/IPC/UTS
namespaces (--unshare-all), a new session, --die-with-parent, a cleared environment, cgroup memory
and pids limits, RLIMIT_FSIZE/NOFILE/CORE (not RLIMIT_AS: TensorFlow reserves huge virtual memory),
a wall-clock limit that kills the whole tree, a capped log, and nothing copied out but regular
files of capped size.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import shutil
import stat
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from trainer.sandbox.cgroups import Cgroup
from trainer.sandbox.config import SandboxConfig, hidden_paths

logger = logging.getLogger(__name__)

READY_LINE = b"skillproof-harness: ready"


class PlatformError(Exception):
    """The platform, not the learner, failed (sandbox would not start, disk full...): retried."""


@dataclass
class Outcome:
    """How a stage ended, as measured from outside the sandbox."""

    exit_code: int | None
    seconds: float
    timed_out: bool = False
    oom_killed: bool = False
    over_disk: bool = False
    cancelled: bool = False
    peak_memory_bytes: int | None = None
    log_tail: str = ""
    log_bytes: int = 0
    files: dict[str, Path] = field(default_factory=dict)


class LogTail:
    """Keeps the last `limit` bytes of a stream; a flood of output costs CPU, never memory or disk."""

    def __init__(self, limit: int) -> None:
        self.limit, self.total, self.ready = limit, 0, threading.Event()
        self._chunks: collections.deque[bytes] = collections.deque()
        self._size = 0
        self._lock = threading.Lock()

    def feed(self, chunk: bytes) -> None:
        with self._lock:
            self.total += len(chunk)
            self._chunks.append(chunk)
            self._size += len(chunk)
            while self._size - len(self._chunks[0]) >= self.limit:
                self._size -= len(self._chunks.popleft())
        if not self.ready.is_set() and READY_LINE in self.text(4096).encode():
            self.ready.set()

    def text(self, limit: int | None = None) -> str:
        with self._lock:
            data = b"".join(self._chunks)
        # NUL is valid output but not valid PostgreSQL text: shown as the replacement character.
        return data[-(limit or self.limit) :].decode("utf-8", "replace").replace("\x00", "\ufffd")

    def drain(self, stream: Iterable[bytes] | object) -> None:
        read = stream.read1 if hasattr(stream, "read1") else None  # type: ignore[attr-defined]
        assert read is not None
        while chunk := read(65536):
            self.feed(chunk)


class Sandbox:
    """A sandbox process waiting, TensorFlow imported, for exactly one job."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.id = uuid.uuid4().hex[:12]
        self.job_dir = config.jobs_dir / self.id
        self.cgroup = Cgroup(self.id, config.cgroup_version) if config.isolated else None
        self.log = LogTail(config.log_tail_bytes)
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.used = False

    # --- life cycle -----------------------------------------------------------------------------

    def spawn(self) -> Sandbox:
        self._make_job_dir()
        if self.cgroup:
            self.cgroup.create(memory_bytes=self.config.warm_memory_bytes, pids_max=self.config.pids_max)
        try:
            self.process = subprocess.Popen(
                self.command(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=self._launcher_env(),
                start_new_session=True,
                close_fds=True,
                cwd="/",  # not the worker's folder: /proc/1/environ inside would show it as PWD
            )
        except OSError as error:
            self.destroy()
            raise PlatformError(f"Could not start a sandbox: {error}") from error
        threading.Thread(target=self.log.drain, args=(self.process.stdout,), daemon=True).start()
        return self

    def _launcher_env(self) -> dict[str, str]:
        env = self.config.launcher_env()
        if not self.config.isolated:  # development mode: no /job mount, so say where the folder is
            env["SKILLPROOF_JOB"] = str(self.job_dir)
        return env

    def _make_job_dir(self) -> None:
        for sub in ("", "out", "data"):
            path = self.job_dir / sub
            path.mkdir(mode=0o700, parents=not sub)
            if self.config.sandbox_uid is not None:
                os.chown(path, self.config.sandbox_uid, self.config.sandbox_gid)

    def command(self) -> list[str]:
        # -I ignores PYTHON* variables, so unbuffered output and no bytecode are asked for by flag.
        harness = [str(self.config.python), "-I", "-B", "-u", str(self.config.harness_path)]
        if not self.config.isolated:
            return harness
        assert self.cgroup is not None
        enter = " && ".join(f"echo $$ > {p}" for p in self.cgroup.procs_files())
        limits = [
            "prlimit", f"--fsize={self.config.fsize_bytes}", f"--nofile={self.config.nofile}",
            "--core=0", "--",
        ]  # fmt: skip
        drop = [
            "setpriv", f"--reuid={self.config.sandbox_uid}", f"--regid={self.config.sandbox_gid}",
            "--clear-groups", "--inh-caps=-all", "--",
        ]  # fmt: skip
        return ["/bin/sh", "-c", f'{enter} && exec "$@"', "sandbox", *limits, *drop, *self.bwrap_args(), *harness]

    def bwrap_args(self) -> list[str]:
        args = [
            "bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
            "--ro-bind", "/usr", "/usr",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
            "--ro-bind", str(self.config.runtime_dir), str(self.config.runtime_dir),
            "--bind", str(self.job_dir), "/job",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",  # noqa: S108 - private tmpfs
            "--chdir", "/job",
        ]  # fmt: skip
        for path in ("/etc/ld.so.cache", "/etc/localtime", "/etc/fonts"):
            if os.path.exists(path):
                args += ["--ro-bind", path, path]
        # The sources the datasets are built from hold the test labels: learner code must not read them.
        for hidden in hidden_paths(self.config.runtime_dir):
            args += ["--tmpfs", str(hidden)]
        for name, value in self.config.sandbox_env().items():
            args += ["--setenv", name, value]
        # Last: the root (a tmpfs bubblewrap made) becomes read-only; only /job and /tmp stay writable.
        return [*args, "--remount-ro", "/", "--"]

    def wait_ready(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while not self.log.ready.wait(0.1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log.text(2000)
                self.destroy()
                raise PlatformError(f"The sandbox did not start (exit {self.process.returncode}): {tail}")

    def is_alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # --- one job --------------------------------------------------------------------------------

    def start(self, *, mode: str, inputs: dict[str, Path], spec: dict[str, object], memory_bytes: int) -> None:
        """Copy the job's inputs in, tighten the memory limit, and let the harness go."""
        assert self.process is not None and self.process.stdin is not None and not self.used
        self.used = True
        for name, source in inputs.items():
            self._copy_in(source, self.job_dir / name)
        self._write_in(self.job_dir / "spec.json", json.dumps(spec).encode())
        if self.cgroup:
            try:
                self.cgroup.set_memory(memory_bytes)
            except OSError as error:
                raise PlatformError(f"Could not set the memory limit: {error}") from error
        self.started_at = time.monotonic()
        self.process.stdin.write(json.dumps({"mode": mode}).encode() + b"\n")
        self.process.stdin.close()

    def _copy_in(self, source: Path, target: Path) -> None:
        shutil.copyfile(source, target)
        self._own(target)

    def _write_in(self, target: Path, data: bytes) -> None:
        target.write_bytes(data)
        self._own(target)

    def _own(self, path: Path) -> None:
        os.chmod(path, 0o600)
        if self.config.sandbox_uid is not None:
            os.chown(path, self.config.sandbox_uid, self.config.sandbox_gid)

    def wait(self, *, wall_seconds: float, poll: Callable[[], bool] | None = None) -> Outcome:
        """Wait for the harness to exit, killing the whole tree on timeout or when `poll` says cancel."""
        assert self.process is not None
        timed_out = cancelled = over_disk = False
        while self.process.poll() is None:
            if time.monotonic() - self.started_at > wall_seconds:
                timed_out = True
                break
            if poll is not None and poll():
                cancelled = True
                break
            if not _within_disk_budget(self.job_dir, self.config.job_disk_bytes):
                over_disk = True
                break
            time.sleep(0.25)
        seconds = time.monotonic() - self.started_at
        self.kill()
        oom = bool(self.cgroup and self.cgroup.oom_killed())
        peak = self.cgroup.peak_memory_bytes() if self.cgroup else None
        return Outcome(
            exit_code=self.process.returncode, seconds=round(seconds, 3), timed_out=timed_out, oom_killed=oom,
            over_disk=over_disk or not _within_disk_budget(self.job_dir, self.config.job_disk_bytes),
            cancelled=cancelled, peak_memory_bytes=peak, log_tail=self.log.text(), log_bytes=self.log.total,
        )  # fmt: skip

    def kill(self) -> None:
        """Kill every process of this sandbox: the launcher, and anything left in its cgroup."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, 9)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        if self.cgroup and not self.cgroup.kill_all():
            raise PlatformError(f"Sandbox {self.id} has processes that could not be killed.")

    def collect(self, names: dict[str, int], destination: Path) -> dict[str, Path]:
        """Copy out only regular files from out/, each under its size cap; never follow links."""
        destination.mkdir(parents=True, exist_ok=True)
        copied: dict[str, Path] = {}
        try:
            out_fd = os.open(self.job_dir / "out", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            return copied  # out/ replaced by a link or removed: nothing is trusted from it
        try:
            for name, cap in names.items():
                target = destination / name
                if _copy_regular_file(out_fd, name, target, cap):
                    copied[name] = target
        finally:
            os.close(out_fd)
        return copied

    def destroy(self) -> None:
        with contextlib.suppress(PlatformError):
            self.kill()
        if self.cgroup:
            self.cgroup.remove()
        shutil.rmtree(self.job_dir, ignore_errors=True)


MAX_JOB_ENTRIES = 10_000


def _within_disk_budget(folder: Path, limit: int) -> bool:
    """RLIMIT_FSIZE caps each file; this caps the job folder as a whole (bytes and entries)."""
    used = entries = 0
    stack = [folder]
    while stack:
        try:
            with os.scandir(stack.pop()) as listing:
                for entry in listing:
                    entries += 1
                    info = entry.stat(follow_symlinks=False)
                    used += info.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
                    if used > limit or entries > MAX_JOB_ENTRIES:
                        return False
        except OSError:
            continue
    return True


def _copy_regular_file(dir_fd: int, name: str, target: Path, cap: int) -> bool:
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError:
        return False  # missing, a symlink, or unreadable
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > cap:
            return False
        with os.fdopen(os.dup(fd), "rb") as source, target.open("wb") as sink:
            shutil.copyfileobj(source, sink, 1024 * 1024)
        return target.stat().st_size <= cap
    finally:
        os.close(fd)
