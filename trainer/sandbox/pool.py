"""Warm, single-use runners: started ahead, TensorFlow already imported, each used for one job.

A used runner is destroyed, never reused; every runner starts with a fresh exec (forking from a
process that has run TensorFlow hangs). The pool lives in the worker process that runs jobs, and
picks the implementation from the configuration: bubblewrap, or (TRAINER_SANDBOX="none") none.
"""

from __future__ import annotations

import atexit
import logging
import threading

from trainer.sandbox.base import SandboxRunner
from trainer.sandbox.bubblewrap import BubblewrapRunner
from trainer.sandbox.config import SandboxConfig, sandbox_config
from trainer.sandbox.development import DevelopmentRunner

logger = logging.getLogger(__name__)
READY_TIMEOUT = 120.0


def runner_for(config: SandboxConfig) -> SandboxRunner:
    """A new, not yet started runner of the kind `config` asks for."""
    return BubblewrapRunner(config) if config.isolated else DevelopmentRunner(config)


class WarmPool:
    def __init__(self, config: SandboxConfig, size: int) -> None:
        self.config, self.size = config, max(size, 0)
        self._idle: list[SandboxRunner] = []
        self._lock = threading.Lock()

    def fill(self) -> None:
        """Start runners until `size` are warming or warm; dead ones are replaced."""
        with self._lock:
            self._idle = [r for r in self._idle if r.is_alive()]
            while len(self._idle) < self.size:
                self._idle.append(runner_for(self.config).spawn())

    def take(self) -> SandboxRunner:
        """A warm runner for one job (a cold one if the pool is empty).

        The pool is not refilled here: a runner warming up (importing TensorFlow) would take CPU
        from the job that is training. The service refills it once the run is over (`fill`).
        """
        with self._lock:
            runner = next((r for r in self._idle if r.is_alive()), None)
            if runner is not None:
                self._idle.remove(runner)
        if runner is None:
            runner = runner_for(self.config).spawn()
        runner.wait_ready(READY_TIMEOUT)
        return runner

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
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

            _pool = WarmPool(sandbox_config(), settings.TRAINER_POOL_SIZE)
            atexit.register(_pool.close)
        return _pool


def close_pool() -> None:
    """Destroy this process's idle runners, if it has a pool (a worker shutting down)."""
    with _pool_lock:
        pool = _pool
    if pool is not None:
        pool.close()
