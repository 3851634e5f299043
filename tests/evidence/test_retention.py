"""Withdrawn and rejected evidence loses its file after the retention period; the record stays."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from evidence.models import Evidence, Status
from evidence.services import EvidenceInput, evidence_create, evidence_files_prune
from tracker.models import Competency, User

pytestmark = pytest.mark.django_db


def _file_evidence(learner: User, keras: Competency, status: str) -> Evidence:
    claim = keras.claims.get(order=1)
    claim.evidence_kinds = ["file"]
    claim.save()
    data = EvidenceInput(kind="file", file=SimpleUploadedFile("notes.txt", b"my notes " * 10))
    evidence = evidence_create(learner=learner, claim=claim, data=data, submit=True)
    Evidence.objects.filter(pk=evidence.pk).update(status=status)
    evidence.refresh_from_db()
    return evidence


def test_old_withdrawn_or_rejected_files_are_deleted_and_the_page_says_so(
    client: Client, alice: User, bob: User, keras: Competency, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    rejected = _file_evidence(alice, keras, Status.REJECTED)
    kept = _file_evidence(bob, keras, Status.APPROVED)
    path = rejected.file.path
    old = timezone.now() - timedelta(days=settings.EVIDENCE_FILE_RETENTION_DAYS + 1)
    Evidence.objects.update(updated_at=old)
    assert evidence_files_prune() == 1 and evidence_files_prune() == 0
    rejected.refresh_from_db()
    assert rejected.file_pruned_at and not rejected.file and rejected.file_sha256 and rejected.updated_at == old
    assert not os.path.exists(path)
    kept.refresh_from_db()
    assert kept.file and kept.file_pruned_at is None
    client.force_login(alice)
    page = client.get(rejected.get_absolute_url()).content.decode()
    assert "was deleted on" in page and "notes.txt" in page
    assert client.get(f"/evidence/{rejected.pk}/file/").status_code == 404


def test_recent_ones_are_kept(alice: User, keras: Competency) -> None:
    _file_evidence(alice, keras, Status.WITHDRAWN)
    assert evidence_files_prune() == 0
