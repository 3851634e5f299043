"""Each sandbox's cgroup holds a CPU quota, and swap counts in its memory limit (v1 and v2).

The fake hierarchies check which files are written; the last test asks the real kernel (root only),
which refuses a memory + swap limit below the memory limit: the order of the writes matters there.
tests/trainer/test_hostile.py measures a CPU hog in a real sandbox.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from trainer.sandbox.cgroups import CGROUP_ROOT, Cgroup, CgroupError, cgroup_version

MB = 1024 * 1024


def v1_root(tmp_path: Path, *, swap_accounting: bool = True) -> Path:
    (tmp_path / "memory").mkdir()
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712")
    (tmp_path / "pids").mkdir()
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1")
    if swap_accounting:  # a new group's files appear with the group: made here, as the kernel would
        group = tmp_path / "memory" / "skillproof" / "g1"
        group.mkdir(parents=True)
        (group / "memory.limit_in_bytes").write_text("9223372036854771712")
        (group / "memory.memsw.limit_in_bytes").write_text("9223372036854771712")
    return tmp_path


def test_v1_groups_get_a_cpu_quota_and_count_swap_in_the_memory_limit(tmp_path: Path) -> None:
    root = v1_root(tmp_path)
    assert cgroup_version(root) == 1
    group = Cgroup("g1", 1, root)

    group.create(memory_bytes=512 * MB, pids_max=64, cpus=1.5)

    cpu = root / "cpu" / "skillproof" / "g1"
    assert (cpu / "cpu.cfs_quota_us").read_text() == "150000" and (cpu / "cpu.cfs_period_us").read_text() == "100000"
    assert group.cpu_quota() == 1.5
    memory = root / "memory" / "skillproof" / "g1"
    assert (memory / "memory.limit_in_bytes").read_text() == str(512 * MB)
    assert (memory / "memory.memsw.limit_in_bytes").read_text() == str(512 * MB)
    assert (root / "pids" / "skillproof" / "g1" / "pids.max").read_text() == "64"
    assert cpu / "cgroup.procs" in group.procs_files()  # the sandbox enters its CPU group too
    group.set_memory(2048 * MB)
    assert (memory / "memory.memsw.limit_in_bytes").read_text() == str(2048 * MB)


def test_v1_without_swap_accounting_limits_memory_alone(tmp_path: Path) -> None:
    root = v1_root(tmp_path, swap_accounting=False)
    Cgroup("g2", 1, root).create(memory_bytes=256 * MB, pids_max=8, cpus=0.25)

    assert (root / "memory" / "skillproof" / "g2" / "memory.limit_in_bytes").read_text() == str(256 * MB)
    assert not (root / "memory" / "skillproof" / "g2" / "memory.memsw.limit_in_bytes").exists()
    assert (root / "cpu" / "skillproof" / "g2" / "cpu.cfs_quota_us").read_text() == "25000"


def test_v1_without_the_cpu_controller_is_unusable(tmp_path: Path) -> None:
    root = v1_root(tmp_path)
    (root / "cpu" / "cpu.cfs_quota_us").unlink()
    with pytest.raises(CgroupError, match="cpu"):
        cgroup_version(root)


def test_v2_groups_get_cpu_max_and_no_swap(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids")
    assert cgroup_version(tmp_path) == 2
    group = Cgroup("g3", 2, tmp_path)

    group.create(memory_bytes=128 * MB, pids_max=32, cpus=2)

    folder = tmp_path / "skillproof" / "g3"
    assert (folder / "cpu.max").read_text() == "200000 100000" and group.cpu_quota() == 2.0
    assert (folder / "memory.max").read_text() == str(128 * MB) and (folder / "memory.swap.max").read_text() == "0"
    assert "+cpu" in (tmp_path / "cgroup.subtree_control").read_text()


def test_v2_without_the_cpu_controller_is_unusable(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("memory pids")
    with pytest.raises(CgroupError, match="cpu"):
        cgroup_version(tmp_path)


@pytest.mark.skipif(os.geteuid() != 0, reason="real cgroups need root")
def test_the_kernel_takes_the_limits_growing_and_shrinking() -> None:
    try:
        version = cgroup_version()
    except CgroupError as error:
        pytest.skip(str(error))
    group = Cgroup(f"test-{secrets.token_hex(4)}", version, CGROUP_ROOT)
    try:
        group.create(memory_bytes=256 * MB, pids_max=16, cpus=0.5)
        group.set_memory(1024 * MB)  # grows: memory + swap first
        group.set_memory(128 * MB)  # shrinks: memory first
        assert group.cpu_quota() == 0.5
        name = "memory.max" if version == 2 else "memory.limit_in_bytes"
        assert int((group.memory_folder / name).read_text()) == 128 * MB
        swap = group.memory_folder / "memory.memsw.limit_in_bytes"
        if version == 1 and swap.exists():
            assert int(swap.read_text()) == 128 * MB
    finally:
        group.remove()
    assert not any(folder.exists() for folder in group.folders)
