"""gunicorn settings shared by `make run`, the Docker image and the compose file (`--config
python:tracker.project.gunicorn_conf`): Prometheus' multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set."""

from __future__ import annotations

import os
import shutil
from typing import Any


def on_starting(server: Any) -> None:
    # Samples of a previous start would be added to this one's: the folder starts empty.
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
