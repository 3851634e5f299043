"""Issued Open Badges 3.0 credentials, the revocation status list they point into, and the issuer's profile."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from tracker.models import Competency

# Bitstring Status List v1.0 asks for at least 131,072 entries (16 KB), so that one entry says little about
# which credential it is: the herd a revoked credential hides in.
STATUS_LIST_LENGTH = 131_072


class IssuerProfile(models.Model):
    """The issuer's public profile, written into every credential (`issuer`). One row, edited in the admin."""

    name = models.CharField(max_length=200, default="Skillproof")
    url = models.URLField(blank=True, help_text="The issuer's home page; empty: SITE_URL.")
    email = models.EmailField(blank=True, help_text="Contact address shown in credentials.")
    image = models.URLField(blank=True, help_text="An image (logo) URL; empty: the site's icon.")

    class Meta:
        verbose_name = "issuer profile"

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1  # a singleton: the admin edits the one row
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> IssuerProfile:
        profile, _created = cls.objects.get_or_create(pk=1)
        return profile


class StatusList(models.Model):
    """A revocation list (Bitstring Status List v1.0); its signed credential is kept and re-signed on change."""

    length = models.PositiveIntegerField(default=STATUS_LIST_LENGTH)
    document = models.JSONField(null=True, blank=True, help_text="The signed BitstringStatusListCredential.")
    signed_at = models.DateTimeField(null=True, blank=True)
    # Set by a revocation: the kept document no longer says what the list holds.
    stale = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"status list {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("credential-status-list", args=[self.pk])

    @property
    def url(self) -> str:
        return f"{settings.SITE_URL}{self.get_absolute_url()}"


class IssuedCredentialQuerySet(models.QuerySet["IssuedCredential"]):
    def live(self) -> IssuedCredentialQuerySet:
        return self.filter(revoked_at__isnull=True)


class IssuedCredential(models.Model):
    """One OpenBadgeCredential as it was signed: the document is the credential, the columns index it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credentials")
    competency = models.ForeignKey(Competency, on_delete=models.PROTECT, related_name="credentials")
    competency_version = models.PositiveIntegerField()
    document = models.JSONField(help_text="The signed credential, exactly as issued.")
    issued_at = models.DateTimeField(default=timezone.now)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    status_list = models.ForeignKey(StatusList, on_delete=models.PROTECT, related_name="credentials")
    status_index = models.PositiveIntegerField(help_text="Its entry in the status list, chosen at random.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=300, blank=True)
    public = models.BooleanField(default=False, help_text="Anyone with the link may see its page (learner's choice).")

    objects = IssuedCredentialQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(fields=["status_list", "status_index"], name="credential_status_entry_unique"),
            # One live credential per competency version: a revoked one may be followed by a new one.
            models.UniqueConstraint(
                fields=["learner", "competency", "competency_version"],
                condition=models.Q(revoked_at__isnull=True),
                name="credential_one_live_per_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.competency} for {self.learner} (v{self.competency_version})"

    def get_absolute_url(self) -> str:
        return reverse("credential-public", args=[self.pk])

    @property
    def public_url(self) -> str:
        return f"{settings.SITE_URL}{self.get_absolute_url()}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def visible_to(self, user: Any) -> bool:
        """Its page and document: anyone when public, else its learner and admins."""
        if self.public:
            return True
        return bool(user.is_authenticated and (user.pk == self.learner_id or user.is_admin_role))

    @property
    def name(self) -> str:
        return str(self.document.get("name", self.competency.title))
