"""Celery tasks of the tracker: thin wrappers around one function each."""

from __future__ import annotations

from celery import shared_task

from tracker import throttling


@shared_task
def prune_login_records() -> dict[str, int]:
    """Periodic: login failures and lockouts no longer needed are deleted (tracker.throttling)."""
    return throttling.login_records_prune()
