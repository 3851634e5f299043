"""Per-sandbox memory, pids and CPU limits with Linux cgroups, v1 or v2 (detected).

This machine has v1 (one hierarchy per controller under /sys/fs/cgroup/<controller>); most newer
hosts have v2 (one unified hierarchy). Each sandbox gets its own group, created by the worker
(root), entered by the sandbox's first process before it drops privileges, and removed after every
process in it has been killed. The CPU quota keeps one run from starving the web server on a shared
host; swap counts in the memory limit, so a run over its budget is stopped rather than slowed to a
crawl that takes the host's disk with it.
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
CPU_PERIOD_US = 100_000  # the scheduler's accounting period; the quota is cpus times this
V1_CONTROLLERS = ("memory", "pids", "cpu")


class CgroupError(Exception):
    """cgroups cannot be used here (not Linux, not root, controller missing)."""


def cgroup_version(root: Path = CGROUP_ROOT) -> int:
    if (root / "cgroup.controllers").exists():
        available = set((root / "cgroup.controllers").read_text().split())
        if {"memory", "pids", "cpu"} <= available:
            return 2
        raise CgroupError(f"cgroup v2 under {root} lacks the memory, pids or cpu controller: it has {available}.")
    usable = (root / "memory" / "memory.limit_in_bytes", root / "pids", root / "cpu" / "cpu.cfs_quota_us")
    if all(path.exists() for path in usable):
        return 1
    raise CgroupError(f"No usable cgroup memory, pids and cpu controllers under {root}.")


@dataclass
class Cgroup:
    """One sandbox's group: in v1 a folder per controller, in v2 a single folder."""

    name: str
    version: int
    root: Path = CGROUP_ROOT

    def folder(self, controller: str) -> Path:
        if self.version == 2:
            return self.root / GROUP_PREFIX / self.name
        return self.root / controller / GROUP_PREFIX / self.name

    @property
    def folders(self) -> list[Path]:
        # Where cpu and cpuacct are mounted together, /sys/fs/cgroup/cpu may be a link: one folder, once.
        return list(dict.fromkeys(self.folder(c) for c in (V1_CONTROLLERS if self.version == 1 else ("",))))

    @property
    def memory_folder(self) -> Path:
        return self.folder("memory")

    @property
    def pids_folder(self) -> Path:
        return self.folder("pids")

    @property
    def cpu_folder(self) -> Path:
        return self.folder("cpu")

    def create(self, *, memory_bytes: int, pids_max: int, cpus: float) -> None:
        try:
            for folder in self.folders:
                if self.version == 2:
                    _enable_v2_controllers(folder.parent)
                folder.mkdir(parents=True, exist_ok=True)
            self.set_memory(memory_bytes)
            (self.pids_folder / "pids.max").write_text(str(pids_max))
            self.set_cpus(cpus)
        except OSError as error:
            raise CgroupError(f"Cannot create cgroup {self.name}: {error}") from error

    def set_memory(self, memory_bytes: int) -> None:
        """Memory and swap together: a sandbox over its budget is stopped, not slowed to a crawl by swapping."""
        if self.version == 2:
            (self.memory_folder / "memory.max").write_text(str(memory_bytes))
            with contextlib.suppress(OSError):  # absent where the kernel keeps no swap accounts
                (self.memory_folder / "memory.swap.max").write_text("0")
            return
        memory = self.memory_folder / "memory.limit_in_bytes"
        swap = self.memory_folder / "memory.memsw.limit_in_bytes"  # memory + swap; absent without swapaccount
        if not swap.exists():
            memory.write_text(str(memory_bytes))
            return
        # The kernel refuses memory + swap below memory alone: raised first when the limit grows, last when it shrinks.
        grows = memory_bytes > int(memory.read_text())
        for path in (swap, memory) if grows else (memory, swap):
            path.write_text(str(memory_bytes))

    def set_cpus(self, cpus: float) -> None:
        """At most `cpus` cores' worth of CPU time per period, however many processes share it."""
        quota = max(1000, round(cpus * CPU_PERIOD_US))  # the kernel's minimum quota is 1 ms
        if self.version == 2:
            (self.cpu_folder / "cpu.max").write_text(f"{quota} {CPU_PERIOD_US}")
            return
        (self.cpu_folder / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
        (self.cpu_folder / "cpu.cfs_quota_us").write_text(str(quota))

    def cpu_quota(self) -> float | None:
        """The cores' worth of CPU the group may use, as the kernel holds it (None: unlimited or unreadable)."""
        with contextlib.suppress(OSError, ValueError):
            if self.version == 2:
                quota, period = (self.cpu_folder / "cpu.max").read_text().split()
            else:
                quota = (self.cpu_folder / "cpu.cfs_quota_us").read_text().strip()
                period = (self.cpu_folder / "cpu.cfs_period_us").read_text().strip()
            return int(quota) / int(period) if quota not in ("max", "-1") else None
        return None

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
        control.write_text("+memory +pids +cpu")
    with contextlib.suppress(OSError):
        (parent / "cgroup.subtree_control").write_text("+memory +pids +cpu")
