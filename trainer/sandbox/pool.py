"""Warm, single-use runners, per engine: started ahead, the engine already imported, each used for one job.

A used runner is destroyed, never reused; every runner starts with a fresh exec (forking from a
process that has run TensorFlow, JAX or PyTorch hangs or corrupts their thread pools), and its engine is
chosen by its interpreter and environment before it imports anything. The pool lives in the worker process
that runs jobs, keeps TRAINER_POOL_SIZES[engine] runners of each engine, and picks the implementation from
the configuration: bubblewrap, or (TRAINER_SANDBOX="none") none.
"""

from __future__ import annotations

import atexit
import logging
import threading

from trainer.engines import DEFAULT_ENGINE
from trainer.sandbox.base import SandboxRunner
from trainer.sandbox.bubblewrap import BubblewrapRunner
from trainer.sandbox.config import SandboxConfig, sandbox_config
from trainer.sandbox.development import DevelopmentRunner

logger = logging.getLogger(__name__)
READY_TIMEOUT = 120.0


def runner_for(config: SandboxConfig, engine: str = DEFAULT_ENGINE) -> SandboxRunner:
    """A new, not yet started runner of the kind `config` asks for, on `engine`."""
    return BubblewrapRunner(config, engine) if config.isolated else DevelopmentRunner(config, engine)


class WarmPool:
    def __init__(self, config: SandboxConfig, sizes: dict[str, int]) -> None:
        # Only engines this installation offers are kept warm; a size for another one is ignored.
        self.config = config
        self.sizes = {engine: max(sizes.get(engine, 0), 0) for engine in config.engines}
        self._idle: dict[str, list[SandboxRunner]] = {engine: [] for engine in self.sizes}
        self._lock = threading.Lock()

    def fill(self) -> None:
        """Start runners until each engine has its size warming or warm; dead ones are replaced."""
        with self._lock:
            for engine, size in self.sizes.items():
                idle = self._idle[engine] = [r for r in self._idle[engine] if r.is_alive()]
                while len(idle) < size:
                    idle.append(runner_for(self.config, engine).spawn())

    def take(self, engine: str = DEFAULT_ENGINE) -> SandboxRunner:
        """A warm runner of `engine` for one job (a cold one, marked so, if none is waiting).

        The pool is not refilled here: a runner warming up (importing its engine) would take CPU
        from the job that is training. The service refills it once the run is over (`fill`).
        """
        with self._lock:
            idle = self._idle.get(engine, [])
            runner = next((r for r in idle if r.is_alive()), None)
            if runner is not None:
                idle.remove(runner)
        if runner is None:
            runner = runner_for(self.config, engine).spawn()
            runner.cold = True
        runner.wait_ready(READY_TIMEOUT)
        return runner

    def close(self) -> None:
        with self._lock:
            idle = [runner for runners in self._idle.values() for runner in runners]
            self._idle = {engine: [] for engine in self.sizes}
        for runner in idle:
            runner.destroy()


_pool: WarmPool | None = None
_pool_lock = threading.Lock()


def get_pool() -> WarmPool:
    """The pool of this process (created on first use; SandboxUnavailable if it cannot be)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            from django.conf import settings

            _pool = WarmPool(sandbox_config(), settings.TRAINER_POOL_SIZES)
            atexit.register(_pool.close)
        return _pool


def close_pool() -> None:
    """Destroy this process's idle runners, if it has a pool (a worker shutting down)."""
    with _pool_lock:
        pool = _pool
    if pool is not None:
        pool.close()
