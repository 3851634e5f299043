"""Evidence a learner submits for a claim, the mentors' reviews of it, and notifications."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse

from tracker.errors import DomainError
from tracker.models import Claim, Competency


class EvidenceError(DomainError):
    """An evidence action that its state, or the person asking, does not allow."""


class Kind(models.TextChoices):
    WRITTEN = "written", "Written answer"
    LINK = "link", "Link"
    FILE = "file", "File"
    NOTEBOOK = "notebook", "Jupyter notebook"
    TRAINING = "training", "Keras training task"


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Awaiting review"
    TRAINING = "training", "Training"
    FAILED = "failed", "Training failed"
    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


# The state machine, in one place. Reviews move evidence between the reviewable states; a later
# review supersedes an earlier one, so a decided piece of evidence can be decided again.
PENDING = {Status.SUBMITTED, Status.TRAINING}
REVIEWABLE = {Status.SUBMITTED, Status.APPROVED, Status.CHANGES_REQUESTED, Status.REJECTED}
# Training evidence is withdrawn by cancelling its run (trainer.services.run_cancel).
WITHDRAWABLE = {Status.DRAFT, Status.SUBMITTED}
OPEN = {Status.DRAFT, *PENDING}
# Evidence nobody will review again: its file is deleted after the retention period.
CLOSED_FOR_GOOD = {Status.WITHDRAWN, Status.REJECTED}
# The learner already holds evidence for the claim in one of these: no new evidence is asked of them.
IN_HAND = {*OPEN, Status.APPROVED, Status.CHANGES_REQUESTED}


def evidence_upload_to(instance: Evidence, filename: str) -> str:
    # Random folder per upload: names never collide and are not guessable from the outside.
    return f"evidence/{instance.learner_id}/{uuid.uuid4().hex}/{filename}"


class Evidence(models.Model):
    Kind = Kind
    Status = Status

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="evidence")
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="evidence")
    # Denormalised from the claim so that queues filter and count without a join per row.
    competency = models.ForeignKey(Competency, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    body = models.TextField(blank=True, help_text="Markdown, for written answers.")
    url = models.URLField(max_length=2000, blank=True)
    file = models.FileField(upload_to=evidence_upload_to, max_length=300, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    file_pruned_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When the file of this withdrawn or rejected evidence was deleted (EVIDENCE_FILE_RETENTION_DAYS); "
        "its name, size and SHA-256 are kept.",
    )  # fmt: skip
    # What the learner was asked, as it read when they submitted: later claim edits don't change it.
    claim_text = models.TextField(blank=True)
    claim_version = models.PositiveIntegerField(default=0)
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "evidence"
        indexes = [
            models.Index(fields=["learner", "competency"]),
            models.Index(fields=["competency", "status"]),
            # The review queue: one status, oldest first, a page at a time.
            models.Index(fields=["status", "submitted_at", "id"]),
            # A learner's own evidence, newest first.
            models.Index(fields=["learner", "-updated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.learner} for claim {self.claim_id} (v{self.version})"

    def get_absolute_url(self) -> str:
        return reverse("evidence-detail", args=[self.pk])

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def can_be_withdrawn(self) -> bool:
        return self.status in WITHDRAWABLE

    def can_be_reviewed(self) -> bool:
        return self.status in REVIEWABLE and not hasattr(self, "next_version")

    def reviewer_refusal(self, user: Any) -> str | None:
        """Why `user` may not review this evidence (whatever its state), or None if they may."""
        if self.learner_id == user.pk:
            return "You cannot review your own evidence."
        if not user.mentors(self.competency):
            return "Only a mentor of this competency can review its evidence."
        return None

    def can_be_reviewed_by(self, user: Any) -> bool:
        """Whether `user` may record a decision on it now: a mentor of its competency, not its learner."""
        return self.reviewer_refusal(user) is None and self.can_be_reviewed()

    def can_be_resubmitted(self) -> bool:
        return self.status == Status.CHANGES_REQUESTED and not hasattr(self, "next_version")

    def visible_to(self, user: Any) -> bool:
        """Object-level read permission: the owner, the competency's mentors, admins."""
        if not user.is_authenticated:
            return False
        if self.learner_id == user.pk or user.is_admin_role:
            return True
        return self.status != Status.DRAFT and user.mentors(self.competency)


class Review(models.Model):
    """A mentor's decision. Append-only: never edited; a later review supersedes it."""

    class Decision(models.TextChoices):
        APPROVE = "approve", "Approve"
        REQUEST_CHANGES = "request_changes", "Request changes"
        REJECT = "reject", "Reject"

    evidence = models.ForeignKey(Evidence, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    comment = models.TextField(blank=True)
    rubric = models.JSONField(default=dict, blank=True, help_text="Score 1-5 per criterion of the claim.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} by {self.reviewer}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise EvidenceError("A review is never edited; record a new decision instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise EvidenceError("A review is never deleted; record a new decision instead.")


DECISION_STATUS = {
    Review.Decision.APPROVE: Status.APPROVED,
    Review.Decision.REQUEST_CHANGES: Status.CHANGES_REQUESTED,
    Review.Decision.REJECT: Status.REJECTED,
}


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    message = models.CharField(max_length=300)
    evidence = models.ForeignKey(Evidence, null=True, blank=True, on_delete=models.CASCADE)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.message

    def get_absolute_url(self) -> str:
        return self.evidence.get_absolute_url() if self.evidence is not None else reverse("notifications")
