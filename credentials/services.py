"""Credential writes: issue when a learner becomes proficient, revoke, re-sign the status list, share publicly."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone

from credentials import openbadge
from credentials.bitstring import bitstring_encode
from credentials.did import issuer_did, verification_method_id
from credentials.keys import SigningKeyMissing, signing_key
from credentials.models import STATUS_LIST_LENGTH, IssuedCredential, IssuerProfile, StatusList
from credentials.proofs import proof_create
from evidence.models import Evidence, Status
from evidence.standing import standings_for_learners
from tracker.formats.case import export_case
from tracker.models import Competency, User
from tracker.services import competency_data
from trainer.models import Filing

logger = logging.getLogger(__name__)


def timestamp(moment: datetime) -> str:
    """An XML Schema dateTimeStamp in UTC, to the second, as VC 2.0's validFrom and validUntil take."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign(document: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    key = signing_key()
    assert key.secret_key is not None  # keys_parse guarantees the newest is a secret key
    return proof_create(
        document, key=key.secret_key, verification_method=verification_method_id(key), created=timestamp(now)
    )


def _status_entry() -> tuple[StatusList, int]:
    """A random free entry of the current list (a new list when it is full): neighbours say nothing of each other."""
    status_list = StatusList.objects.select_for_update().order_by("-pk").first() or StatusList.objects.create()
    used = set(status_list.credentials.values_list("status_index", flat=True))
    if len(used) >= status_list.length:
        status_list = StatusList.objects.create(length=STATUS_LIST_LENGTH)
        used = set()
    while (index := secrets.randbelow(status_list.length)) in used:
        pass
    return status_list, index


def _case_uris(competency: Competency) -> dict[str, str]:
    """Claim uuid → the URI of its CASE CFItem, exactly as the CASE export publishes it."""
    package = export_case(
        competency_data(competency=competency), uri_base=settings.SITE_URL, last_change=timezone.now()
    )
    return {item["identifier"]: item["uri"] for item in package["CFItems"]}


def _claims(competency: Competency) -> list[openbadge.ClaimItem]:
    uris = _case_uris(competency)
    return [
        openbadge.ClaimItem(
            text=claim.text, code=f"{competency.slug}-{claim.order:02d}", case_uri=uris[str(claim.uuid)]
        )
        for claim in competency.active_claims().order_by("order", "pk")
    ]


def _approved_evidence(learner: User, competency: Competency) -> list[Evidence]:
    return list(
        Evidence.objects.filter(learner=learner, competency=competency, status=Status.APPROVED, claim__is_active=True)
        .select_related("claim")
        .order_by("claim__order", "pk")
    )


def _filings(evidence: list[Evidence]) -> dict[int, Filing]:
    filings = Filing.objects.filter(evidence__in=evidence).select_related("run__task", "run__dataset", "companion")
    return {filing.evidence_id: filing for filing in filings}


def _evidence_item(evidence: Evidence, filing: Filing | None, page_url: str) -> openbadge.EvidenceItem:
    narrative = f"Evidence for claim {evidence.claim.order}: {evidence.claim.text}\nApproved by a mentor."
    if filing is not None:
        run = filing.run
        value = run.metric_value
        narrative += (
            f"\nTrained and scored by the platform on task {run.task.title}: {run.task.metric} "
            f"{value if value is not None else 'n/a'} (pass at {run.task.threshold:g}); dataset "
            f"{run.dataset.slug} {run.dataset.version} (SHA-256 {run.dataset.checksum}); code SHA-256 "
            f"{run.code_sha256}; engine {run.get_engine_display()}, measured: {run.environment_text()}."
        )
        second = filing.companion
        if second is not None:  # a claim about the backend: the same task on another one
            again = second.metric_value
            narrative += (
                f"\nAlso trained and scored on another backend: {run.task.metric} "
                f"{again if again is not None else 'n/a'}; code SHA-256 {second.code_sha256}; engine "
                f"{second.get_engine_display()}, measured: {second.environment_text()}."
            )
    return openbadge.EvidenceItem(
        url=f"{page_url}#evidence-{evidence.pk}",
        name=f"Claim {evidence.claim.order}: {evidence.get_kind_display()}",
        narrative=narrative,
        genre=evidence.get_kind_display(),
    )


def _results(filings: dict[int, Filing]) -> list[openbadge.TrainedResult]:
    results = []
    for filing in filings.values():
        run = filing.run
        if run.metric_value is not None:
            results.append(
                openbadge.TrainedResult(
                    key=str(filing.evidence_id), task=run.task.title, metric=run.task.metric,
                    value=run.metric_value, threshold=run.task.threshold,
                )
            )  # fmt: skip
    return results


def _issuer() -> openbadge.IssuerData:
    profile = IssuerProfile.load()
    return openbadge.IssuerData(
        did=issuer_did(),
        name=profile.name,
        url=profile.url or f"{settings.SITE_URL}/",
        email=profile.email,
        image=profile.image or f"{settings.SITE_URL}{static('img/favicon.svg')}",
    )


def _badge_data(credential: IssuedCredential, status_list: StatusList) -> openbadge.BadgeData:
    competency, learner = credential.competency, credential.learner
    evidence = _approved_evidence(learner, competency)
    filings = _filings(evidence)
    page_url = credential.public_url
    return openbadge.BadgeData(
        credential_id=f"urn:uuid:{credential.pk}",
        issuer=_issuer(),
        valid_from=timestamp(credential.valid_from),
        valid_until=timestamp(credential.valid_until) if credential.valid_until else None,
        email=learner.email,
        salt=secrets.token_hex(16),
        achievement_id=f"{settings.SITE_URL}{competency.get_absolute_url()}",
        competency=competency.title,
        description=competency.summary or competency.description[:1000],
        version=competency.version,
        image=f"{settings.SITE_URL}{reverse('achievement-badge', args=[competency.uuid])}",
        claims=_claims(competency),
        status_list_url=status_list.url,
        status_index=credential.status_index,
        evidence=[_evidence_item(e, filings.get(e.pk), page_url) for e in evidence],
        results=_results(filings),
    )


def _is_proficient(learner: User, competency: Competency) -> bool:
    standing = standings_for_learners(learner_ids=[learner.pk], competencies=[competency])[(learner.pk, competency.pk)]
    return standing.is_proficient


@transaction.atomic
def credential_issue(*, learner: User, competency: Competency, now: datetime | None = None) -> IssuedCredential | None:
    """The learner's credential for the competency as it is now: issued if they are proficient and hold none.

    Idempotent: a live credential for this version of the competency is returned as it is. A new version of the
    competency (its definition changed) gets a new credential with a new id; the older one stays valid.

    Returns:
        The credential, or None when the learner is not proficient (or has no e-mail address to identify them).
    """
    if not learner.email or not _is_proficient(learner, competency):
        return None
    existing = IssuedCredential.objects.live().filter(
        learner=learner, competency=competency, competency_version=competency.version
    )
    if credential := existing.first():
        return credential
    now = now or timezone.now()
    status_list, index = _status_entry()
    days = settings.CREDENTIALS_VALID_DAYS
    credential = IssuedCredential(
        learner=learner, competency=competency, competency_version=competency.version, issued_at=now,
        valid_from=now, valid_until=now + timedelta(days=days) if days else None,
        status_list=status_list, status_index=index,
    )  # fmt: skip
    credential.document = sign(openbadge.open_badge(_badge_data(credential, status_list)), now=now)
    credential.save()
    return credential


def credential_issue_if_proficient(*, learner: User, competency: Competency) -> IssuedCredential | None:
    """Called when evidence is approved: issuing must never undo the approval, so a failure is logged only."""
    try:
        with transaction.atomic():
            return credential_issue(learner=learner, competency=competency)
    except SigningKeyMissing as error:
        logger.warning("No credential issued to %s for %s: %s", learner, competency, error)
        return None
    except Exception:
        logger.exception("Could not issue the credential of %s for %s", learner, competency)
        return None


@transaction.atomic
def credential_revoke(*, credential: IssuedCredential, reason: str, now: datetime | None = None) -> IssuedCredential:
    """Revoke: its status list bit is set and the list re-signed, so every verifier reads it revoked."""
    locked = IssuedCredential.objects.select_for_update().get(pk=credential.pk)
    if locked.revoked_at is None:
        locked.revoked_at = now or timezone.now()
        locked.revocation_reason = reason.strip()[:300]
        locked.save(update_fields=["revoked_at", "revocation_reason"])
        StatusList.objects.filter(pk=locked.status_list_id).update(stale=True)
        status_list_document(status_list=locked.status_list, now=now)
    credential.revoked_at, credential.revocation_reason = locked.revoked_at, locked.revocation_reason
    return locked


def credential_set_public(*, credential: IssuedCredential, learner: User, public: bool) -> IssuedCredential:
    if credential.learner_id != learner.pk:
        raise PermissionError("Only its learner chooses whether a credential is public.")
    credential.public = public
    credential.save(update_fields=["public"])
    return credential


@transaction.atomic
def status_list_document(*, status_list: StatusList, now: datetime | None = None) -> dict[str, Any]:
    """The signed BitstringStatusListCredential, re-signed only when a revocation has changed the list."""
    locked = StatusList.objects.select_for_update().get(pk=status_list.pk)
    if locked.document is not None and not locked.stale:
        return dict(locked.document)
    now = now or timezone.now()
    revoked = locked.credentials.filter(revoked_at__isnull=False).values_list("status_index", flat=True)
    document = openbadge.status_list_credential(
        url=locked.url, issuer_did=issuer_did(), valid_from=timestamp(now),
        encoded_list=bitstring_encode(revoked, locked.length),
    )  # fmt: skip
    locked.document, locked.signed_at, locked.stale = sign(document, now=now), now, False
    locked.save(update_fields=["document", "signed_at", "stale"])
    return dict(locked.document)
