"""Reachability checks for /healthz: the database and the Celery broker."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection
from kombu import Connection


def check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "vendor": connection.vendor}
    except Exception as error:  # noqa: BLE001 - any failure means "unreachable"
        return {"ok": False, "vendor": connection.vendor, "error": type(error).__name__}


def check_broker() -> dict[str, Any]:
    url = settings.CELERY_BROKER_URL
    transport = url.split("://", 1)[0]
    try:
        # A fresh connection every time: a pooled one could hide that the broker went away.
        with Connection(
            url, transport=settings.CELERY_BROKER_TRANSPORT, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return {"ok": True, "transport": transport}
    except Exception as error:  # noqa: BLE001
        return {"ok": False, "transport": transport, "error": type(error).__name__}


def check_sandbox() -> dict[str, Any]:
    from trainer.sandbox.config import sandbox_status

    return sandbox_status()


def check_training() -> dict[str, Any]:
    from trainer.workers import queue_report

    try:
        return queue_report()
    except Exception as error:  # noqa: BLE001 - the database check already says why
        return {"error": type(error).__name__}


def check_all() -> dict[str, Any]:
    # The sandbox and the training queue are reported but do not fail the check: pages and reviews work without
    # them (a load balancer keeps the web server; a person sees `training.stuck`).
    checks = {"database": check_database(), "broker": check_broker()}
    return {
        "ok": all(c["ok"] for c in checks.values()), **checks,
        "training_sandbox": check_sandbox(), "training": check_training(),
    }  # fmt: skip
