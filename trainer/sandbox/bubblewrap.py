"""The isolated runner: a job folder, a cgroup, and the harness started warm inside bubblewrap.

Layers, because no single one is enough: an unprivileged uid (setpriv; never root with --uid,
since root still reads root's 0600 files), a private mount view with only the interpreter, the
packages of the run's engine, the harness and the job folder (bubblewrap), no network and private PID/IPC/UTS
namespaces (--unshare-all), a new session, --die-with-parent, a cleared environment, cgroup memory
(swap included), pids and CPU limits, RLIMIT_FSIZE/NOFILE/CORE (not RLIMIT_AS: TensorFlow reserves
huge virtual memory), a wall-clock limit that kills the whole tree, a capped log, and nothing copied
out but regular files of capped size, checked before use (the last four in `trainer.sandbox.base`
and `trainer.sandbox.outputs`).
"""

from __future__ import annotations

import os
from pathlib import Path

from trainer.engines import DEFAULT_ENGINE, facts
from trainer.sandbox.base import SandboxRunner
from trainer.sandbox.cgroups import Cgroup
from trainer.sandbox.config import SandboxConfig, hidden_paths
from trainer.sandbox.runner import PlatformError


class BubblewrapRunner(SandboxRunner):
    """A sandbox process as the sandbox user, in its own cgroup and namespaces, waiting for one job."""

    def __init__(self, config: SandboxConfig, engine: str = DEFAULT_ENGINE) -> None:
        if not config.isolated or config.sandbox_uid is None:
            raise ValueError("BubblewrapRunner needs an isolated configuration with a sandbox user.")
        super().__init__(config, engine)
        self.uid, self.gid = config.sandbox_uid, config.sandbox_gid
        self.cgroup = Cgroup(self.id, config.cgroup_version)

    def launcher_env(self) -> dict[str, str]:
        # The launcher chain's only; bubblewrap clears it and sets the sandbox's own (--clearenv, --setenv).
        return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}

    def command(self) -> list[str]:
        enter = " && ".join(f"echo $$ > {p}" for p in self.cgroup.procs_files())
        limits = [
            "prlimit", f"--fsize={self.config.fsize_bytes}", f"--nofile={self.config.nofile}",
            "--core=0", "--",
        ]  # fmt: skip
        drop = [
            "setpriv", f"--reuid={self.uid}", f"--regid={self.gid}",
            "--clear-groups", "--inh-caps=-all", "--",
        ]  # fmt: skip
        return [
            "/bin/sh", "-c", f'{enter} && exec "$@"', "sandbox", *limits, *drop, *self.bwrap_args(),
            *self.harness_command(),
        ]  # fmt: skip

    def bwrap_args(self) -> list[str]:
        venv = self.config.python_for(self.engine).parent.parent
        args = [
            "bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
            "--ro-bind", "/usr", "/usr",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
            # Only this engine's runtime and the harness: another engine's libraries are not there to import.
            "--ro-bind", str(venv), str(venv),
            "--ro-bind", str(self.config.harness_path.parent), str(self.config.harness_path.parent),
            "--bind", str(self.job_dir), "/job",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",  # noqa: S108 - private tmpfs
            "--chdir", "/job",
        ]  # fmt: skip
        # R reads its configuration (R_HOME/etc is a link to /etc/R), and finds its BLAS and LAPACK through Debian's
        # alternatives (links only); its libraries are under /usr already.
        r_config = ("/etc/R", "/etc/alternatives") if facts(self.engine).language == "r" else ()
        for path in ("/etc/ld.so.cache", "/etc/localtime", "/etc/fonts", *r_config):
            if os.path.exists(path):
                args += ["--ro-bind", path, path]
        # The sources the datasets are built from hold the test labels: learner code must not read them.
        runtime = self.config.runtime_dir
        for hidden in hidden_paths(runtime):
            if hidden.is_relative_to(venv) or not hidden.is_relative_to(runtime):
                args += ["--tmpfs", str(hidden)]
        for name, value in self.config.sandbox_env(self.engine).items():
            args += ["--setenv", name, value]
        # Last: the root (a tmpfs bubblewrap made) becomes read-only; only /job and /tmp stay writable.
        return [*args, "--remount-ro", "/", "--"]

    def signal_number(self, code: int | None) -> int | None:
        # bubblewrap reports a child killed by signal N as status 128 + N; bubblewrap itself killed
        # (the whole tree, on timeout or cancel) shows as -N.
        if code is not None and 128 < code < 160:
            return code - 128
        return super().signal_number(code)

    def _give(self, path: Path) -> None:
        os.chown(path, self.uid, self.gid)

    def _confine(self) -> None:
        self.cgroup.create(
            memory_bytes=self.config.warm_memory_bytes, pids_max=self.config.pids_max, cpus=self.config.cpus
        )

    def _limit_memory(self, memory_bytes: int) -> None:
        self.cgroup.set_memory(memory_bytes)

    def _kill_rest(self) -> None:
        if not self.cgroup.kill_all():
            raise PlatformError(f"Sandbox {self.id} has processes that could not be killed.")

    def _memory_report(self) -> tuple[bool, int | None]:
        return self.cgroup.oom_killed(), self.cgroup.peak_memory_bytes()

    def _release(self) -> None:
        self.cgroup.remove()
