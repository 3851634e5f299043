"""Evidence writes: the learner → mentor loop. Every state change goes through here."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone

from evidence import uploads
from evidence.models import (
    CLOSED_FOR_GOOD,
    DECISION_STATUS,
    OPEN,
    Evidence,
    EvidenceError,
    Kind,
    Notification,
    Review,
    Status,
)
from evidence.notebooks import NotebookError, notebook_parse
from evidence.signals import evidence_approved
from tracker.models import Claim, User

logger = logging.getLogger(__name__)

MAX_BODY_CHARS = 50_000
MIN_BODY_CHARS = 20


@dataclass
class EvidenceInput:
    """What a learner provides; which field counts depends on the kind."""

    kind: str
    body: str = ""
    url: str = ""
    file: UploadedFile | None = None


def _check_claim(claim: Claim, kind: str) -> None:
    if not claim.is_active or claim.competency.status != claim.competency.Status.PUBLISHED:
        raise EvidenceError("This claim no longer takes evidence.", status=400)
    if kind not in claim.evidence_kinds:
        allowed = ", ".join(Kind(k).label.lower() for k in claim.evidence_kinds if k in Kind.values)
        raise EvidenceError(f"This claim is proven with: {allowed}.", status=400)


def _check_content(data: EvidenceInput) -> None:
    if data.kind == Kind.WRITTEN:
        text = data.body.strip()
        if len(text) < MIN_BODY_CHARS:
            raise EvidenceError(f"Write at least {MIN_BODY_CHARS} characters.", status=400)
        if len(text) > MAX_BODY_CHARS:
            raise EvidenceError(
                f"The answer is {len(text):,} characters; the limit is {MAX_BODY_CHARS:,}. "
                "Link to or upload longer work instead.",
                status=400,
            )
    elif data.kind == Kind.LINK:
        if not data.url.lower().startswith(("http://", "https://")):
            raise EvidenceError("A link must start with http:// or https://.", status=400)
    elif data.kind in (Kind.FILE, Kind.NOTEBOOK, Kind.TRAINING):
        if data.file is None:
            raise EvidenceError("Choose a file to upload.", status=400)
    else:
        raise EvidenceError(f"Unknown kind of evidence: {data.kind!r}.", status=400)


@dataclass(frozen=True)
class _CheckedFile:
    """An upload that passed its checks, with what evidence records about it."""

    upload: UploadedFile
    name: str
    size: int
    sha256: str


def _check_file(kind: str, upload: UploadedFile) -> _CheckedFile:
    """Validate an upload (size, type, content) and hash it. Never inside a transaction (see evidence_create)."""
    name = uploads.safe_filename(upload.name or "upload")
    head = upload.read(1024)
    upload.seek(0)
    size = upload.size or 0
    try:
        if kind == Kind.NOTEBOOK:
            if not name.lower().endswith(".ipynb"):
                raise EvidenceError("A notebook must be an .ipynb file.", status=400)
            notebook_parse(_read_capped(upload, size))
        else:
            data = _read_capped(upload, size) if size <= uploads.MAX_FILE_BYTES else None
            uploads.file_validate(name=name, data=data, size=size, head=head)
    except (NotebookError, uploads.UploadError) as error:
        raise EvidenceError(error.message, status=400) from error
    return _CheckedFile(upload=upload, name=name, size=size, sha256=uploads.file_sha256(upload))


def _attach_file(evidence: Evidence, checked: _CheckedFile) -> None:
    evidence.file_sha256 = checked.sha256
    evidence.file_name, evidence.file_size = checked.name, checked.size
    evidence.file.save(checked.name, checked.upload, save=False)


def _read_capped(upload: UploadedFile, size: int) -> bytes:
    # Notebooks and text files are checked whole; their size limits are checked first.
    limit = max(uploads.MAX_FILE_BYTES, 10 * 1024 * 1024)
    if size > limit:
        raise EvidenceError(f"The file is {size / 1048576:.1f} MB; the limit is {limit // 1048576} MB.", status=400)
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def _check_no_open_evidence(learner: User, claim: Claim, exclude: Evidence | None = None) -> None:
    open_ = Evidence.objects.filter(learner=learner, claim=claim, status__in=OPEN)
    if exclude is not None:
        open_ = open_.exclude(pk=exclude.pk)
    existing = open_.first()
    if existing:
        what = "a draft" if existing.status == Status.DRAFT else "evidence awaiting review"
        raise EvidenceError(f"You already have {what} for this claim (#{existing.pk}); continue with that one.")


def evidence_create(
    *, learner: User, claim: Claim, data: EvidenceInput, submit: bool, previous: Evidence | None = None
) -> Evidence:
    """Create evidence (a draft, or submitted at once). Validates everything before saving anything.

    The content is checked before the transaction opens: checking a large notebook takes a moment, and on
    SQLite an open transaction holds the database's write lock, so every other write would wait for it.
    """
    checked = _check_input(claim, data)
    with transaction.atomic():
        return _insert(learner=learner, claim=claim, data=data, checked=checked, submit=submit, previous=previous)


def _check_input(claim: Claim, data: EvidenceInput) -> _CheckedFile | None:
    _check_claim(claim, data.kind)
    _check_content(data)
    if data.kind == Kind.TRAINING:
        # The trainer runs the code first and files the evidence itself (evidence_create_training).
        raise EvidenceError("Training evidence is submitted on the claim's Keras task page.", status=400)
    if data.file is not None and data.kind in (Kind.FILE, Kind.NOTEBOOK):
        return _check_file(data.kind, data.file)
    return None


def _insert(
    *,
    learner: User,
    claim: Claim,
    data: EvidenceInput,
    checked: _CheckedFile | None,
    submit: bool,
    previous: Evidence | None,
) -> Evidence:
    claim = Claim.objects.select_for_update().get(pk=claim.pk)  # serialises double submits
    _check_no_open_evidence(learner, claim)
    evidence = Evidence(
        learner=learner,
        claim=claim,
        competency_id=claim.competency_id,
        kind=data.kind,
        body=data.body.strip() if data.kind == Kind.WRITTEN else "",
        url=data.url.strip() if data.kind == Kind.LINK else "",
        previous=previous,
        version=previous.version + 1 if previous else 1,
    )
    if checked is not None:
        _attach_file(evidence, checked)
    evidence.save()
    if submit:
        evidence_submit(evidence=evidence, learner=learner)
    return evidence


@transaction.atomic
def evidence_create_training(
    *, learner: User, claim: Claim, code: File, file_name: str, note: str = "", previous: Evidence | None = None
) -> Evidence:
    """Training evidence, submitted for review at once: the trainer files it from a finished run.

    It keeps its own copy of the code, like any evidence keeps what it was submitted with, and the
    learner's note (what they want feedback on) as its text.
    """
    _check_claim(claim, Kind.TRAINING)
    note = note.strip()
    if len(note) > MAX_BODY_CHARS:
        raise EvidenceError(f"The note is longer than {MAX_BODY_CHARS:,} characters.", status=400)
    claim = Claim.objects.select_for_update().get(pk=claim.pk)  # serialises double filings
    _check_no_open_evidence(learner, claim)
    evidence = Evidence(
        learner=learner,
        claim=claim,
        competency_id=claim.competency_id,
        kind=Kind.TRAINING,
        status=Status.SUBMITTED,
        body=note,
        submitted_at=timezone.now(),
        claim_text=claim.text,
        claim_version=claim.version,
        previous=previous,
        version=previous.version + 1 if previous else 1,
        file_name=uploads.safe_filename(file_name or "submission"),
        file_size=code.size,
        file_sha256=uploads.file_sha256(code),
    )
    evidence.file.save(evidence.file_name, code, save=False)
    evidence.save()
    _notify_mentors(evidence)
    return evidence


@transaction.atomic
def evidence_training_finished(*, evidence: Evidence, scored: bool) -> None:
    """A run filed before it ran (evidence made before attempts existed) ended: scored evidence goes to the
    mentors with its metrics; a failed run goes back to the learner. Other evidence is left as it is."""
    locked = _lock(evidence)
    if locked.status != Status.TRAINING:
        return
    locked.status = Status.SUBMITTED if scored else Status.FAILED
    locked.save(update_fields=["status", "updated_at"])
    if scored:
        _notify_mentors(locked)
    else:
        message = f"Your training run for {locked.competency}, claim {locked.claim.order}, failed; see why."
        _notify([locked.learner], message, locked)


@transaction.atomic
def evidence_training_cancelled(*, evidence: Evidence) -> None:
    locked = _lock(evidence)
    if locked.status == Status.TRAINING:
        locked.status = Status.WITHDRAWN
        locked.save(update_fields=["status", "updated_at"])


def evidence_update_draft(*, evidence: Evidence, learner: User, data: EvidenceInput) -> Evidence:
    """Edit a draft; its new content is checked first, outside any transaction (see evidence_create)."""
    _require_owner(evidence, learner)
    if evidence.status != Status.DRAFT:
        raise EvidenceError("Only a draft can be edited; submitted evidence is kept as it was sent.")
    if data.kind != evidence.kind:
        raise EvidenceError("The kind of evidence cannot change; start new evidence instead.", status=400)
    keeps_file = data.kind in (Kind.FILE, Kind.NOTEBOOK) and data.file is None and bool(evidence.file)
    if not keeps_file:
        _check_content(data)
    checked = _check_file(evidence.kind, data.file) if data.file is not None else None
    evidence.body, evidence.url = data.body.strip(), data.url.strip()
    if checked is not None:
        _attach_file(evidence, checked)
    evidence.save()
    return evidence


def _require_owner(evidence: Evidence, learner: User) -> None:
    if evidence.learner_id != learner.pk:
        raise EvidenceError("Only the learner who owns this evidence can do that.", status=403)


def _lock(evidence: Evidence) -> Evidence:
    return Evidence.objects.select_for_update().select_related("claim", "competency").get(pk=evidence.pk)


@transaction.atomic
def evidence_submit(*, evidence: Evidence, learner: User) -> Evidence:
    """Send a draft to the competency's mentors, freezing the claim text it answers."""
    _require_owner(evidence, learner)
    locked = _lock(evidence)
    if locked.status != Status.DRAFT:
        raise EvidenceError(
            f"This evidence is already {locked.get_status_display().lower()}; it cannot be submitted again."
        )
    if not locked.claim.is_active:
        raise EvidenceError("This claim no longer takes evidence.", status=400)
    locked.status = Status.SUBMITTED
    locked.submitted_at = timezone.now()
    locked.claim_text, locked.claim_version = locked.claim.text, locked.claim.version
    locked.save()
    _notify_mentors(locked)
    _copy_state(evidence, locked)
    return evidence


@transaction.atomic
def evidence_withdraw(*, evidence: Evidence, learner: User) -> Evidence:
    _require_owner(evidence, learner)
    locked = _lock(evidence)
    if not locked.can_be_withdrawn():
        raise EvidenceError(
            f"This evidence is {locked.get_status_display().lower()}; only unreviewed evidence can be withdrawn."
        )
    locked.status = Status.WITHDRAWN
    locked.save(update_fields=["status", "updated_at"])
    _copy_state(evidence, locked)
    return evidence


def evidence_resubmit(*, evidence: Evidence, learner: User, data: EvidenceInput, submit: bool = True) -> Evidence:
    """A new version after "changes requested", linked to the previous one (whose history stays).

    The new content is checked before the transaction opens, as in evidence_create.
    """
    _require_owner(evidence, learner)
    _check_resubmittable(evidence)  # answered before a long check; checked again under the lock
    checked = _check_input(evidence.claim, data)
    with transaction.atomic():
        locked = _lock(evidence)
        _check_resubmittable(locked)
        return _insert(learner=learner, claim=locked.claim, data=data, checked=checked, submit=submit, previous=locked)


def _check_resubmittable(evidence: Evidence) -> None:
    if not evidence.can_be_resubmitted():
        raise EvidenceError("Only evidence with changes requested can be resubmitted, once.")


def _copy_state(target: Evidence, source: Evidence) -> None:
    for field in ("status", "submitted_at", "claim_text", "claim_version"):
        setattr(target, field, getattr(source, field))


@transaction.atomic
def review_record(
    *, evidence: Evidence, reviewer: User, decision: str, comment: str = "", rubric: dict[str, Any] | None = None
) -> Review:
    """Record a mentor's decision; it supersedes any earlier one on this evidence."""
    locked = _lock(evidence)
    _check_reviewer(locked, reviewer)
    if decision not in DECISION_STATUS:
        raise EvidenceError("Choose approve, request changes or reject.", status=400)
    comment = comment.strip()
    if decision != Review.Decision.APPROVE and not comment:
        raise EvidenceError("Explain the decision in a comment: the learner needs to know what to change.", status=400)
    if len(comment) > MAX_BODY_CHARS:
        raise EvidenceError(f"The comment is longer than {MAX_BODY_CHARS:,} characters.", status=400)
    if not locked.can_be_reviewed():
        raise EvidenceError(f"This evidence is {locked.get_status_display().lower()}; it cannot be reviewed now.")
    review = Review.objects.create(
        evidence=locked, reviewer=reviewer, decision=decision, comment=comment, rubric=_clean_rubric(locked, rubric)
    )
    locked.status = DECISION_STATUS[Review.Decision(decision)]
    locked.save(update_fields=["status", "updated_at"])
    _copy_state(evidence, locked)
    _notify_learner(locked, review)
    if locked.status == Status.APPROVED:
        evidence_approved.send(sender=Evidence, evidence=locked)
    return review


def _check_reviewer(evidence: Evidence, reviewer: User) -> None:
    refusal = evidence.reviewer_refusal(reviewer)
    if refusal:
        raise EvidenceError(refusal, status=403)


def _clean_rubric(evidence: Evidence, rubric: dict[str, Any] | None) -> dict[str, int]:
    criteria = list(evidence.claim.rubric)
    scores: dict[str, int] = {}
    for name, value in (rubric or {}).items():
        if name not in criteria:
            raise EvidenceError(
                f"{name!r} is not a criterion of this claim ({', '.join(criteria) or 'none'}).", status=400
            )
        if value in (None, ""):
            continue
        try:
            score = int(value)
        except (TypeError, ValueError):
            score = 0
        if not 1 <= score <= 5 or str(value).strip() != str(score):
            raise EvidenceError(f"Score {name!r} with a whole number from 1 to 5.", status=400)
        scores[name] = score
    return scores


def _notify_mentors(evidence: Evidence) -> None:
    mentors = list(evidence.competency.mentors.exclude(pk=evidence.learner_id))
    what = evidence.get_kind_display().lower()
    message = f"{evidence.learner} submitted {what} for {evidence.competency}, claim {evidence.claim.order}."
    _notify(mentors, message, evidence)


DECISION_WORDS = {"approve": "approved", "request_changes": "requested changes to", "reject": "rejected"}


def _notify_learner(evidence: Evidence, review: Review) -> None:
    verb = DECISION_WORDS[review.decision]
    message = f"{review.reviewer} {verb} your evidence for {evidence.competency}, claim {evidence.claim.order}."
    _notify([evidence.learner], message, evidence)
    # The "submitted" notice has been dealt with: it no longer counts in the reviewer's bell.
    Notification.objects.filter(recipient=review.reviewer, evidence=evidence, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def _notify(recipients: list[User], message: str, evidence: Evidence) -> None:
    """In-app notification now; one e-mail per person once the transaction has committed."""
    Notification.objects.bulk_create(Notification(recipient=r, message=message, evidence=evidence) for r in recipients)
    link = f"{settings.SITE_URL}{evidence.get_absolute_url()}"
    mails = [
        (f"[Skillproof] {message}"[:150], f"{message}\n\nOpen it: {link}\n", None, [r.email])
        for r in recipients
        if r.email
    ]
    if mails:
        transaction.on_commit(lambda: _send(mails))


def _send(mails: list[tuple[str, str, None, list[str]]]) -> None:
    # Mail is a courtesy on top of the in-app notification: a mail outage must not fail the action.
    try:
        send_mass_mail(tuple(mails), fail_silently=False)
    except Exception:
        logger.exception("Could not send %d notification e-mail(s)", len(mails))


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


def evidence_files_prune(*, now: datetime | None = None) -> int:
    """Beat task: delete the files of withdrawn or rejected evidence untouched for the retention period.

    The record stays (name, size, SHA-256, reviews); the evidence page says the file was deleted.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.EVIDENCE_FILE_RETENTION_DAYS)
    old = Evidence.objects.filter(status__in=CLOSED_FOR_GOOD, updated_at__lt=cutoff, file_pruned_at=None).exclude(
        file=""
    )
    pruned = 0
    for evidence in old.only("pk", "file"):
        evidence.file.delete(save=False)
        # update(), not save(): updated_at must keep saying when the evidence itself last changed.
        pruned += Evidence.objects.filter(pk=evidence.pk, file_pruned_at=None).update(file="", file_pruned_at=now)
    return pruned
