"""A real Celery worker that says which modules it has imported: on SIGUSR2, each of its processes (the main one,
and the pool's and beat's, which set the handler again once forked: billiard resets signals) writes sorted(sys.modules) to
$SKILLPROOF_MODULES_DIR/modules-<pid>.json. Started by tests/trainer/test_engines_end_to_end.py in place of
`python -m celery`, with the same arguments."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from types import FrameType


def dump(signum: int, frame: FrameType | None) -> None:
    target = Path(os.environ["SKILLPROOF_MODULES_DIR"]) / f"modules-{os.getpid()}.json"
    staging = target.with_suffix(".tmp")
    staging.write_text(json.dumps(sorted(sys.modules)))
    staging.replace(target)


def listen(**_: object) -> None:
    signal.signal(signal.SIGUSR2, dump)


if __name__ == "__main__":
    listen()
    from celery.__main__ import main
    from celery.signals import beat_init, worker_process_init

    worker_process_init.connect(listen, weak=False)
    beat_init.connect(listen, weak=False)

    sys.argv = ["celery", *sys.argv[1:]]
    sys.exit(main())
