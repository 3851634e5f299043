"""The one interface untrusted code runs behind, and how a job in it ended.

A runner is a single-use sandbox, started warm (TensorFlow imported) and waiting for exactly one
job. The pipeline starts the job, watches it, copies its outputs out and destroys it; it never sees
the job folder, the process or the cgroup, so an implementation can change how code is confined
without the pipeline knowing. Two exist, chosen from TRAINER_SANDBOX by `trainer.sandbox.pool`:
`BubblewrapRunner` (isolated; what production and the hostile tests run) and `DevelopmentRunner`
(TRAINER_SANDBOX="none": NOT isolated, for a laptop without bubblewrap or root).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


class PlatformError(Exception):
    """The platform, not the learner, failed (sandbox would not start, disk full...): retried."""


class Result(enum.Enum):
    """How a job ended, as measured from outside the sandbox: never on the harness's word."""

    FINISHED = "finished"  # the harness exited with status 0
    LEARNER_ERROR = "learner_error"  # it exited with another status; out/result.json may say why
    OVER_MEMORY = "over_memory"  # the kernel killed a process for going over the memory limit
    OVER_TIME = "over_time"  # still running at the wall-clock limit, so it was killed
    OVER_DISK = "over_disk"  # the job folder went over its disk budget (bytes or entries)
    CANCELLED = "cancelled"  # the poll asked for it to stop
    CRASHED = "crashed"  # killed by a signal, or ended without an exit status
    PLATFORM_FAULT = "platform_fault"  # its processes could not be killed: nothing is collected


@dataclass
class Outcome:
    """A finished job: its result, and what was measured while it ran."""

    result: Result
    seconds: float
    exit_code: int | None = None
    signal: int | None = None  # the signal that killed the harness, however the runner learnt of it
    peak_memory_bytes: int | None = None
    log_tail: str = ""
    log_bytes: int = 0
    detail: str = ""  # why, for a platform fault
    files: dict[str, Path] = field(default_factory=dict)


class Runner(Protocol):
    """One job in one sandbox: start, wait, read progress meanwhile, collect, destroy."""

    engine: str  # the engine it started on (trainer.engines): its interpreter and KERAS_BACKEND
    cold: bool  # started for this job (no warm one of its engine was waiting)

    def start(self, *, mode: str, inputs: dict[str, Path], spec: dict[str, Any], memory_bytes: int) -> None:
        """Copy `inputs` (job-relative name -> host file) and the spec in, set the memory limit, let it go.

        Raises:
            PlatformError: the limit could not be set.
        """
        ...

    def wait(self, *, wall_seconds: float, poll: Callable[[], bool] | None = None) -> Outcome:
        """Until the job ends, runs past `wall_seconds` or `poll()` says cancel; every process is then killed."""
        ...

    def progress(self, *, limit: int) -> list[dict[str, Any]]:
        """The epoch rows written so far (out/progress.jsonl, at most `limit` bytes): untrusted JSON objects."""
        ...

    def log_text(self, limit: int | None = None) -> str:
        """The last `limit` characters of what the job printed (stdout and stderr)."""
        ...

    def collect(self, names: dict[str, int], destination: Path) -> dict[str, Path]:
        """Copy out the regular files named (name -> size cap) from out/; returns those copied."""
        ...

    def destroy(self) -> None:
        """Kill whatever is left and remove the job's folder; a runner is never used twice."""
        ...


def get_runner(engine: str) -> Runner:
    """A warm runner of `engine` for one job from this process's pool (a cold one if none is waiting).

    Raises:
        SandboxUnavailable: sandboxed runs are impossible here (the reason says why).
        PlatformError: the sandbox would not start.
    """
    from trainer.sandbox.pool import get_pool

    return get_pool().take(engine)
