"""Per-sandbox memory and pids limits with Linux cgroups, v1 or v2 (detected).

This machine has v1 (one hierarchy per controller under /sys/fs/cgroup/<controller>); most newer
hosts have v2 (one unified hierarchy). Each sandbox gets its own group, created by the worker
(root), entered by the sandbox's first process before it drops privileges, and removed after every
process in it has been killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
GROUP_PREFIX = "skillproof"


class CgroupError(Exception):
    """cgroups cannot be used here (not Linux, not root, controller missing)."""


def cgroup_version(root: Path = CGROUP_ROOT) -> int:
    if (root / "cgroup.controllers").exists():
        return 2
    if (root / "memory" / "memory.limit_in_bytes").exists() and (root / "pids").is_dir():
        return 1
    raise CgroupError(f"No usable cgroup memory and pids controllers under {root}.")


@dataclass
class Cgroup:
    """One sandbox's group: in v1 a folder per controller, in v2 a single folder."""

    name: str
    version: int
    root: Path = CGROUP_ROOT

    @property
    def folders(self) -> list[Path]:
        if self.version == 2:
            return [self.root / GROUP_PREFIX / self.name]
        return [self.root / "memory" / GROUP_PREFIX / self.name, self.root / "pids" / GROUP_PREFIX / self.name]

    @property
    def memory_folder(self) -> Path:
        return self.folders[0]

    @property
    def pids_folder(self) -> Path:
        return self.folders[-1]

    def create(self, *, memory_bytes: int, pids_max: int) -> None:
        try:
            for folder in self.folders:
                if self.version == 2:
                    _enable_v2_controllers(folder.parent)
                folder.mkdir(parents=True, exist_ok=True)
            self.set_memory(memory_bytes)
            (self.pids_folder / "pids.max").write_text(str(pids_max))
        except OSError as error:
            raise CgroupError(f"Cannot create cgroup {self.name}: {error}") from error

    def set_memory(self, memory_bytes: int) -> None:
        name = "memory.max" if self.version == 2 else "memory.limit_in_bytes"
        (self.memory_folder / name).write_text(str(memory_bytes))
        if self.version == 2:
            # No swap: a sandbox over its budget is stopped, not slowed to a crawl.
            with contextlib.suppress(OSError):
                (self.memory_folder / "memory.swap.max").write_text("0")

    def procs_files(self) -> list[Path]:
        return [folder / "cgroup.procs" for folder in self.folders]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for path in self.procs_files():
            with contextlib.suppress(OSError):
                found |= {int(line) for line in path.read_text().split()}
        return found

    def kill_all(self, timeout: float = 10.0) -> bool:
        """SIGKILL every process in the group, including ones that left the process group."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.version == 2 and (self.memory_folder / "cgroup.kill").exists():
                with contextlib.suppress(OSError):
                    (self.memory_folder / "cgroup.kill").write_text("1")
            pids = self.pids()
            if not pids:
                return True
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        return not self.pids()

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process here for exceeding the memory limit."""
        if self.version == 2:
            events = _read_keyed(self.memory_folder / "memory.events")
            return events.get("oom_kill", 0) > 0 or events.get("oom", 0) > 0
        return _read_keyed(self.memory_folder / "memory.oom_control").get("oom_kill", 0) > 0

    def peak_memory_bytes(self) -> int | None:
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        with contextlib.suppress(OSError, ValueError):
            return int((self.memory_folder / name).read_text())
        return None

    def remove(self) -> None:
        for folder in self.folders:
            with contextlib.suppress(OSError):
                folder.rmdir()


def _read_keyed(path: Path) -> dict[str, int]:
    values: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            with contextlib.suppress(ValueError):
                values[key] = int(value)
    return values


def _enable_v2_controllers(parent: Path) -> None:
    parent.mkdir(parents=True, exist_ok=True)
    control = parent.parent / "cgroup.subtree_control"
    with contextlib.suppress(OSError):
        control.write_text("+memory +pids")
    with contextlib.suppress(OSError):
        (parent / "cgroup.subtree_control").write_text("+memory +pids")
