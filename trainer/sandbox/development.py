"""The development runner (TRAINER_SANDBOX="none"): the harness as a plain child of the worker. NOT isolated.

For a laptop without bubblewrap, cgroups or root: no other user, no namespaces, no memory or pids
limits. What it keeps, from `trainer.sandbox.base`: a cleared environment (none of the worker's
secrets), a wall-clock limit that kills the process group, the disk budget, a capped log, and
nothing copied out but regular files of capped size. `sandbox_config` refuses it unless asked for.
"""

from __future__ import annotations

from trainer.engines import DEFAULT_ENGINE
from trainer.sandbox.base import SandboxRunner
from trainer.sandbox.config import SandboxConfig


class DevelopmentRunner(SandboxRunner):
    """A harness process of the worker's own user, working in its job folder, waiting for one job."""

    def __init__(self, config: SandboxConfig, engine: str = DEFAULT_ENGINE) -> None:
        if config.isolated:
            raise ValueError("The sandbox is configured isolated: use BubblewrapRunner.")
        super().__init__(config, engine)

    def command(self) -> list[str]:
        return self.harness_command()

    def launcher_env(self) -> dict[str, str]:
        # No /job mount here, so the harness is told where its folder is.
        return self.config.sandbox_env(self.engine) | {"SKILLPROOF_JOB": str(self.job_dir)}
