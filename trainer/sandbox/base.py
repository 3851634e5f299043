"""What both runners share: the job folder, the warm harness process, the watch from outside, the copy-out.

Subclasses say how the harness is launched and confined (command line, environment, who owns the job
folder, cgroups, how an exit status tells a signal); everything that reads what the sandbox wrote is
here, written once: a capped log, a disk budget, and nothing copied out but regular files of capped
size, opened without following links.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import shutil
import stat
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from trainer.engines import DEFAULT_ENGINE
from trainer.sandbox.config import SandboxConfig
from trainer.sandbox.runner import Outcome, PlatformError, Result

READY_LINE = b"skillproof-harness: ready"
MAX_JOB_ENTRIES = 10_000
MAX_PROGRESS_ROWS = 1000


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


class SandboxRunner:
    """A harness process waiting, TensorFlow imported, for exactly one job (see `trainer.sandbox.runner`)."""

    def __init__(self, config: SandboxConfig, engine: str = DEFAULT_ENGINE) -> None:
        self.config, self.engine = config, engine
        self.cold = False  # started for its job, not taken warm from the pool (trainer.sandbox.pool)
        self.id = uuid.uuid4().hex[:12]
        self.job_dir = config.jobs_dir / self.id
        self.log = LogTail(config.log_tail_bytes)
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.used = False
        self.stuck = False  # some process of it outlived kill(): nothing it wrote is copied out

    # --- what each implementation decides --------------------------------------------------------

    def command(self) -> list[str]:
        raise NotImplementedError

    def launcher_env(self) -> dict[str, str]:
        """The environment of the launched command: nothing of the worker's (no secrets)."""
        raise NotImplementedError

    def _give(self, path: Path) -> None:
        """Hand a path in the job folder to whoever the harness runs as."""

    def _confine(self) -> None:
        """Set up the limits the harness starts under (before it is launched)."""

    def _limit_memory(self, memory_bytes: int) -> None:
        """Tighten the memory limit for the job (from the warm-up's)."""

    def _kill_rest(self) -> None:
        """Kill what left the process group; PlatformError if something could not be killed."""

    def _memory_report(self) -> tuple[bool, int | None]:
        """(killed for going over the memory limit, peak memory in bytes), where measured."""
        return False, None

    def _release(self) -> None:
        """Free what `_confine` set up; every process is dead by now."""

    def signal_number(self, code: int | None) -> int | None:
        """The signal that killed the harness, from the launched command's exit status."""
        return -code if code is not None and code < 0 else None

    # --- life cycle -----------------------------------------------------------------------------

    def spawn(self) -> SandboxRunner:
        self._make_job_dir()
        self._confine()
        try:
            self.process = subprocess.Popen(
                self.command(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=self.launcher_env(),
                start_new_session=True,
                close_fds=True,
                cwd="/",  # not the worker's folder: /proc/1/environ inside would show it as PWD
            )
        except OSError as error:
            self.destroy()
            raise PlatformError(f"Could not start a sandbox: {error}") from error
        threading.Thread(target=self.log.drain, args=(self.process.stdout,), daemon=True).start()
        return self

    def _make_job_dir(self) -> None:
        for sub in ("", "out", "data"):
            path = self.job_dir / sub
            path.mkdir(mode=0o700, parents=not sub)
            self._give(path)

    def harness_command(self) -> list[str]:
        return self.config.harness_command(self.engine)

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

    def start(self, *, mode: str, inputs: dict[str, Path], spec: dict[str, Any], memory_bytes: int) -> None:
        """Copy the job's inputs in, tighten the memory limit, and let the harness go."""
        assert self.process is not None and self.process.stdin is not None and not self.used
        self.used = True
        for name, source in inputs.items():
            self._copy_in(source, self.job_dir / name)
        self._write_in(self.job_dir / "spec.json", json.dumps(spec).encode())
        try:
            self._limit_memory(memory_bytes)
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
        self._give(path)

    def wait(self, *, wall_seconds: float, poll: Callable[[], bool] | None = None) -> Outcome:
        """Wait for the harness to exit, killing the whole tree on timeout or when `poll` says cancel."""
        assert self.process is not None
        stopped: Result | None = None
        while self.process.poll() is None:
            if time.monotonic() - self.started_at > wall_seconds:
                stopped = Result.OVER_TIME
                break
            if poll is not None and poll():
                stopped = Result.CANCELLED
                break
            if not _within_disk_budget(self.job_dir, self.config.job_disk_bytes):
                stopped = Result.OVER_DISK
                break
            time.sleep(0.25)
        seconds = round(time.monotonic() - self.started_at, 3)
        try:
            self.kill()
        except PlatformError as error:
            self.stuck = True
            return self._outcome(Result.PLATFORM_FAULT, seconds, peak=None, detail=str(error))
        oom, peak = self._memory_report()
        over_disk = stopped is Result.OVER_DISK or not _within_disk_budget(self.job_dir, self.config.job_disk_bytes)
        return self._outcome(self._result(stopped, oom=oom, over_disk=over_disk), seconds, peak=peak)

    def _result(self, stopped: Result | None, *, oom: bool, over_disk: bool) -> Result:
        # What the platform measured outranks the exit status: a tree stopped for time or on cancel
        # exits by SIGKILL, and a harness may exit 0 after the kernel OOM-killed one of its processes.
        code = self.process.returncode if self.process else None
        if stopped in (Result.CANCELLED, Result.OVER_TIME):
            return stopped
        if oom:
            return Result.OVER_MEMORY
        if over_disk:
            return Result.OVER_DISK
        if code == 0:
            return Result.FINISHED
        return Result.CRASHED if code is None or self.signal_number(code) else Result.LEARNER_ERROR

    def _outcome(self, result: Result, seconds: float, *, peak: int | None, detail: str = "") -> Outcome:
        code = self.process.returncode if self.process else None
        return Outcome(
            result=result, seconds=seconds, exit_code=code, signal=self.signal_number(code), peak_memory_bytes=peak,
            log_tail=self.log.text(), log_bytes=self.log.total, detail=detail,
        )  # fmt: skip

    def kill(self) -> None:
        """Kill every process of this sandbox: the launcher, and anything that left its process group."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, 9)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        self._kill_rest()

    def progress(self, *, limit: int) -> list[dict[str, Any]]:
        """Parse out/progress.jsonl from outside: no link followed (neither out/ nor the file), size-capped."""
        data = _read_regular_file(self.job_dir / "out", "progress.jsonl", limit)
        rows = []
        for line in data.decode("utf-8", "replace").splitlines()[:MAX_PROGRESS_ROWS]:
            try:
                row = json.loads(line)
            except (ValueError, RecursionError):  # a line being written, or nesting deep enough to exhaust the parser
                continue
            if isinstance(row, dict):
                rows.append(row)
        return rows

    def log_text(self, limit: int | None = None) -> str:
        return self.log.text(limit)

    def collect(self, names: dict[str, int], destination: Path) -> dict[str, Path]:
        """Copy out only regular files from out/, each under its size cap; never follow links."""
        destination.mkdir(parents=True, exist_ok=True)
        copied: dict[str, Path] = {}
        if self.stuck:
            return copied  # its processes may still be writing: nothing is trusted from it
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
        self._release()
        shutil.rmtree(self.job_dir, ignore_errors=True)


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


def _read_regular_file(folder: Path, name: str, limit: int) -> bytes:
    """Up to `limit` bytes of folder/name, or nothing if either is a link or the file is not a regular file."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return b""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError:
        return b""
    finally:
        os.close(dir_fd)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return b""
        return handle.read(limit)


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
