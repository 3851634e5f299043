"""Accounts (User, ApiToken, RateLimitHit) and the competency catalogue: Competency, Claim, Resource."""

from __future__ import annotations

import hashlib
import uuid

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.text import slugify
from simple_history.models import HistoricalRecords

from tracker.formats.base import DEFAULT_EVIDENCE_KINDS, EVIDENCE_KINDS

LEARNER, MENTOR, ADMIN = "learner", "mentor", "admin"
# A claim is one statement; each evidence keeps a copy of the text it answered.
CLAIM_TEXT_MAX_CHARS = 1_000
# A mentor scores each criterion on the review form: a handful of short names keeps that form usable.
RUBRIC_MAX_CRITERIA = 10
RUBRIC_CRITERION_MAX_CHARS = 100
# The evidence kinds in words, as the evidence form names them (evidence.models.Kind; tracker cannot import it).
EVIDENCE_KIND_LABELS = {
    "written": "Written answer",
    "link": "Link",
    "file": "File",
    "notebook": "Jupyter notebook",
    "training": "Keras training task",
}


class User(AbstractUser):
    """A person. Roles are groups (`learner`, `mentor`, `admin`); see `tracker.roles`."""

    on_leaderboards = models.BooleanField(
        default=False, help_text="Show this person's best passing runs on the task leaderboards (opt-in)."
    )

    def in_group(self, name: str) -> bool:
        # Groups are prefetched on hot paths; a set lookup avoids one query per check.
        cached = getattr(self, "_group_names", None)
        if cached is None:
            cached = self._group_names = set(self.groups.values_list("name", flat=True))
        return name in cached

    @property
    def is_admin_role(self) -> bool:
        return self.is_superuser or self.in_group(ADMIN)

    @property
    def is_staff_member(self) -> bool:
        """Runs the site (Django staff or the admin role): sees what learners don't, such as test tasks."""
        return bool(getattr(self, "is_staff", False)) or self.is_admin_role

    @property
    def is_mentor(self) -> bool:
        return self.in_group(MENTOR)

    @property
    def is_learner(self) -> bool:
        return self.in_group(LEARNER)

    def mentors(self, competency: Competency) -> bool:
        return competency.mentors.filter(pk=self.pk).exists()

    def password_fingerprint(self) -> str:
        """Changes whenever the password does (a new hash has a new salt): API tokens made before a change die."""
        return hashlib.sha256(self.password.encode()).hexdigest()


class ApiToken(models.Model):
    """A named API token for `Authorization: Token <secret>`.

    Only the SHA-256 of the secret is kept (the secret is shown once, when it is made). A token is live until it
    expires, it is revoked, or its user's password changes (by any route: page, reset, admin, command).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=12, editable=False, help_text="The secret's first characters.")
    password_fingerprint = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def digest_of(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def outlived_password(self) -> bool:
        return not constant_time_compare(self.password_fingerprint, self.user.password_fingerprint())

    @property
    def is_live(self) -> bool:
        return self.user.is_active and not self.is_expired and not self.outlived_password

    @property
    def state(self) -> str:
        if self.outlived_password:
            return "ended by a password change"
        return "expired" if self.is_expired else "active"


class RateLimitHit(models.Model):
    """One sign-up or password-reset request, counted against its client address and its e-mail address.

    Counted in the database so that every web process shares one count (see `tracker.throttling`); the key is a
    SHA-256, so the table keeps no address in clear. Deleting rows lifts a limit.
    """

    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "created_at"])]
        verbose_name = "rate-limited request"

    def __str__(self) -> str:
        return f"{self.scope} at {self.created_at:%Y-%m-%d %H:%M}"


def evidence_kind_choices() -> list[tuple[str, str]]:
    return [(kind, EVIDENCE_KIND_LABELS[kind]) for kind in EVIDENCE_KINDS]


def default_evidence_kinds() -> list[str]:
    return list(DEFAULT_EVIDENCE_KINDS)


class Competency(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    category = models.CharField(max_length=200, blank=True)
    summary = models.CharField(max_length=300, blank=True, help_text="One line for lists.")
    description = models.TextField(blank=True, help_text="Markdown.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PUBLISHED)
    version = models.PositiveIntegerField(default=1, editable=False)
    mentors = models.ManyToManyField(
        User, blank=True, related_name="mentored_competencies", help_text="Who reviews its evidence."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(m2m_fields=[mentors])

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "competencies"

    def __str__(self) -> str:
        return self.title

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.slug:
            self.slug = slugify(self.title)[:200] or "competency"
        if self.pk:
            # From the stored version, not this object's: saving a claim bumps it in the database (Claim.save).
            stored = Competency.objects.filter(pk=self.pk).values_list("version", flat=True).first()
            self.version = (stored or self.version) + 1
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def get_absolute_url(self) -> str:
        return reverse("competency-detail", args=[self.slug])

    def active_claims(self) -> models.QuerySet[Claim]:
        return self.claims.filter(is_active=True)


class Claim(models.Model):
    """One 'How do you prove it?' statement of a competency."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    competency = models.ForeignKey(Competency, on_delete=models.CASCADE, related_name="claims")
    order = models.PositiveIntegerField(default=0)
    text = models.TextField()
    required = models.BooleanField(default=True)
    evidence_kinds = models.JSONField(
        default=default_evidence_kinds,
        help_text=f"Kinds of evidence that prove it, from: {', '.join(EVIDENCE_KINDS)}.",
    )
    rubric = models.JSONField(
        default=list,
        blank=True,
        help_text='Criteria a mentor may score from 1 to 5 when reviewing, e.g. ["Correctness", "Clarity"].',
    )
    # Retired claims keep the evidence that was submitted against them but take no new evidence.
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["competency", "order", "id"]

    def __str__(self) -> str:
        return f"{self.order}. {self.text[:80]}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk:
            self.version += 1
        super().save(*args, **kwargs)  # type: ignore[arg-type]
        # The claims are the competency's definition: a claim added, edited or retired is a new version of the
        # competency (what its credentials and its CASE document carry), not only of the claim.
        Competency.objects.filter(pk=self.competency_id).update(version=models.F("version") + 1)

    @property
    def takes_form_evidence(self) -> bool:
        """Whether a learner can prove it with the evidence form (training goes through a task page)."""
        return any(kind != "training" for kind in self.evidence_kinds)

    @property
    def form_evidence_label(self) -> str:
        """'written, link or notebook evidence': the kinds a mentor reviews, in words."""
        kinds = [str(kind) for kind in self.evidence_kinds if kind != "training"] or ["written"]
        words = kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} or {kinds[-1]}"
        return f"{words} evidence"

    def clean(self) -> None:
        if len(self.text or "") > CLAIM_TEXT_MAX_CHARS:
            raise ValidationError(
                {"text": f"Keep a claim to {CLAIM_TEXT_MAX_CHARS:,} characters (this one has {len(self.text):,})."}
            )
        kinds = self.evidence_kinds
        if not isinstance(kinds, list) or not kinds:
            raise ValidationError({"evidence_kinds": "List at least one kind of evidence."})
        unknown = sorted(set(map(str, kinds)) - set(EVIDENCE_KINDS))
        if unknown:
            raise ValidationError({"evidence_kinds": f"Unknown kinds: {', '.join(unknown)}."})
        rubric = self.rubric
        if not isinstance(rubric, list) or not all(isinstance(c, str) and c.strip() for c in rubric):
            raise ValidationError({"rubric": 'List the criteria as names, e.g. ["Correctness"].'})


class Resource(models.Model):
    """One 'How do you improve it?' link of a competency."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    competency = models.ForeignKey(Competency, on_delete=models.CASCADE, related_name="resources")
    order = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=300)
    url = models.URLField(max_length=1000)
    history = HistoricalRecords()

    class Meta:
        ordering = ["competency", "order", "id"]

    def __str__(self) -> str:
        return self.title


class Framework(models.Model):
    """A competency framework as its source shaped it: a tree of grouping, competency and claim nodes.

    Competency and Claim stay what learners earn and prove (evidence, tasks and credentials point at them); the
    framework keeps what an exchange format needs to give the tree back: its order, its grouping nodes, the
    source's identifiers and the links between nodes. A competency written on this site is a framework of one
    competency whose claims are its claims.
    """

    class Source(models.TextChoices):
        SITE = "site", "Written on this site"
        MARKDOWN = "markdown", "Seed Markdown"
        MOODLE = "moodle", "Moodle competency CSV"
        CASE = "case", "CASE 1.1 package"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=200, help_text="Short name (Moodle) or CFDocument title (CASE).")
    idnumber = models.CharField(max_length=100, blank=True, help_text="Moodle's framework id number.")
    description = models.TextField(blank=True, help_text="Markdown.")
    source_format = models.CharField(max_length=20, choices=Source.choices, default=Source.SITE)
    source_identifier = models.CharField(
        max_length=100, blank=True, help_text="CASE: the CFDocument identifier (a UUID)."
    )
    # A URI as the publisher wrote it (CASE test servers use hosts such as "server" that URLField refuses).
    source_uri = models.CharField(max_length=1000, blank=True, help_text="CASE: the CFDocument URI.")
    source_version = models.CharField(max_length=100, blank=True, help_text="The version the source gives.")
    scale_values = models.CharField(max_length=1000, blank=True, help_text="Moodle: the scale's values, in order.")
    scale_configuration = models.TextField(blank=True, help_text="Moodle: the scale configuration, JSON as given.")
    taxonomies = models.CharField(max_length=1000, blank=True, help_text="Moodle: one taxonomy term per level.")
    # The role chosen per level at the last import ({"2": "competency"}), so a re-import keeps the admin's choice.
    levels = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["idnumber"], condition=~models.Q(idnumber=""), name="framework_idnumber_unique"
            ),
            models.UniqueConstraint(
                fields=["source_identifier"],
                condition=~models.Q(source_identifier=""),
                name="framework_source_identifier_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("framework-detail", args=[self.uuid])

    def roots(self) -> list[FrameworkNode]:
        """The top-level nodes with their whole subtree loaded (one query), children in order."""
        nodes = list(self.nodes.select_related("competency", "claim").order_by("order", "id"))
        children: dict[int | None, list[FrameworkNode]] = {}
        for node in nodes:
            children.setdefault(node.parent_id, []).append(node)
        for node in nodes:
            node.loaded_children = children.get(node.pk, [])
        return children.get(None, [])


class FrameworkNode(models.Model):
    """One node of a framework's tree; a competency node links its Competency, a claim node its Claim."""

    class Role(models.TextChoices):
        GROUP = "group", "Grouping"
        COMPETENCY = "competency", "Competency"
        CLAIM = "claim", "Claim"

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="nodes")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    order = models.PositiveIntegerField(default=0)
    role = models.CharField(max_length=20, choices=Role.choices)
    short_name = models.CharField(max_length=1000)
    description = models.TextField(blank=True, help_text="Markdown (HTML from the source is converted).")
    idnumber = models.CharField(max_length=100, blank=True, help_text="Moodle's id number.")
    case_identifier = models.UUIDField(null=True, blank=True, help_text="CASE: the CFItem identifier.")
    human_coding_scheme = models.CharField(max_length=100, blank=True, help_text="CASE: humanCodingScheme.")
    # Source columns with no meaning here but needed to give the node back (Moodle's rule and scale columns, its
    # exported id; CASE's item type and the isChildOf association's identifier), as the source wrote them.
    source_data = models.JSONField(default=dict, blank=True)
    competency = models.OneToOneField(
        Competency, null=True, blank=True, on_delete=models.SET_NULL, related_name="framework_node"
    )
    claim = models.OneToOneField(Claim, null=True, blank=True, on_delete=models.SET_NULL, related_name="framework_node")
    # Removed upstream: kept (evidence may point at its claim) but no longer part of the framework.
    retired_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()
    # Set by Framework.roots(): the children in order, loaded with the rest of the tree.
    loaded_children: list[FrameworkNode]

    class Meta:
        ordering = ["framework", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "idnumber"], condition=~models.Q(idnumber=""), name="node_idnumber_unique"
            ),
            models.UniqueConstraint(
                fields=["framework", "case_identifier"],
                condition=models.Q(case_identifier__isnull=False),
                name="node_case_identifier_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.short_name[:80]

    @property
    def is_root_competency(self) -> bool:
        """The node that stands for the framework row itself (a framework whose leaves hang off it directly)."""
        return bool(self.source_data.get("is_framework"))

    def source_ids(self) -> list[tuple[str, str]]:
        """The identifiers the source gave this node, as (label, value), for pages."""
        ids = [("Moodle id number", self.idnumber), ("CASE identifier", str(self.case_identifier or ""))]
        ids.append(("Human coding scheme", self.human_coding_scheme))
        return [(label, value) for label, value in ids if value]

    def links(self) -> list[NodeAssociation]:
        """The associations from or to this node other than the tree's own, both directions."""
        outgoing = list(self.associations_out.select_related("destination__competency", "destination__claim"))
        incoming = list(self.associations_in.select_related("origin__competency", "origin__claim"))
        return outgoing + incoming


class NodeAssociation(models.Model):
    """A link between two nodes (Moodle's cross references; CASE associations other than isChildOf), or from a
    node to something outside the framework (a URI)."""

    class Kind(models.TextChoices):
        IS_RELATED_TO = "isRelatedTo", "is related to"
        EXACT_MATCH_OF = "exactMatchOf", "is an exact match of"
        IS_PEER_OF = "isPeerOf", "is a peer of"
        IS_PART_OF = "isPartOf", "is part of"
        PRECEDES = "precedes", "precedes"
        REPLACED_BY = "replacedBy", "is replaced by"
        EXEMPLAR = "exemplar", "has the exemplar"
        HAS_SKILL_LEVEL = "hasSkillLevel", "has the skill level"

    origin = models.ForeignKey(FrameworkNode, on_delete=models.CASCADE, related_name="associations_out")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    destination = models.ForeignKey(
        FrameworkNode, null=True, blank=True, on_delete=models.CASCADE, related_name="associations_in"
    )
    destination_uri = models.CharField(max_length=1000, blank=True, help_text="A node outside the framework.")
    destination_title = models.CharField(max_length=1000, blank=True)
    destination_identifier = models.CharField(max_length=100, blank=True, help_text="CASE: its identifier.")
    case_identifier = models.UUIDField(null=True, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["origin", "order", "id"]

    def __str__(self) -> str:
        return f"{self.origin} {self.kind} {self.destination or self.destination_uri}"
