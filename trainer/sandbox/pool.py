"""Warm, single-use sandboxes: started ahead, TensorFlow already imported, each used for one job.

A used sandbox is destroyed, never reused; every sandbox starts with a fresh exec (forking from a
process that has run TensorFlow hangs). The pool lives in the worker process that runs jobs.
"""

from __future__ import annotations

import atexit
import logging
import threading

from trainer.sandbox.config import SandboxConfig, sandbox_config
from trainer.sandbox.process import Sandbox

logger = logging.getLogger(__name__)
READY_TIMEOUT = 120.0


class WarmPool:
    def __init__(self, config: SandboxConfig, size: int) -> None:
        self.config, self.size = config, max(size, 0)
        self._idle: list[Sandbox] = []
        self._lock = threading.Lock()

    def fill(self) -> None:
        """Start sandboxes until `size` are warming or warm; dead ones are replaced."""
        with self._lock:
            self._idle = [s for s in self._idle if s.is_alive()]
            while len(self._idle) < self.size:
                self._idle.append(Sandbox(self.config).spawn())

    def take(self) -> Sandbox:
        """A warm sandbox for one job (a cold one if the pool is empty).

        The pool is not refilled here: a sandbox warming up (importing TensorFlow) would take CPU
        from the job that is training. The service refills it once the run is over (`fill`).
        """
        with self._lock:
            sandbox = next((s for s in self._idle if s.is_alive()), None)
            if sandbox is not None:
                self._idle.remove(sandbox)
        if sandbox is None:
            sandbox = Sandbox(self.config).spawn()
        sandbox.wait_ready(READY_TIMEOUT)
        return sandbox

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for sandbox in idle:
            sandbox.destroy()


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
