import json
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest

# A worker restart stays in the banner this long: long enough for someone watching a run to see why.
RESTART_NOTICE_SECONDS = 15 * 60


def site(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "site_name": "Skillproof",
        "sandbox_off": getattr(settings, "TRAINER_SANDBOX", "") == "none",
        # Lazy: computed only if a template asks.
        "is_mentor": lambda: user.is_authenticated and user.mentored_competencies.exists(),
        "worker_notice": worker_notice,
    }


def worker_notice() -> str:
    """What `make run`'s supervisor (scripts/run_local.py) last did to the worker, while it is recent."""
    try:
        status = json.loads((Path(settings.VAR_DIR) / "supervisor.json").read_text())
        age = time.time() - float(status["at"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    if status.get("state") == "restarting":
        return f"The training worker stopped (exit status {status.get('last_exit')}) and is being restarted."
    if status.get("restarts", 0) >= 1 and age < RESTART_NOTICE_SECONDS:
        return (
            f"The training worker was restarted {int(age // 60)} min ago (restart {status['restarts']}); "
            "runs it held are re-queued and finish normally."
        )
    return ""
