"""Celery tasks of evidence: thin wrappers around one service each."""

from __future__ import annotations

from celery import shared_task

from evidence import services


@shared_task
def prune_evidence_files() -> int:
    """Periodic: the files of long-withdrawn or rejected evidence are deleted (the records stay)."""
    return services.evidence_files_prune()
