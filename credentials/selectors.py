"""Credential reads: a learner's credentials, and verification against this site's keys and status lists."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from credentials.baking import bake
from credentials.did import did_document
from credentials.models import IssuedCredential, StatusList
from credentials.services import status_list_document
from credentials.verification import VerificationResult, credential_verify
from tracker.models import User


def credentials_of(*, learner: User) -> QuerySet[IssuedCredential]:
    return IssuedCredential.objects.filter(learner=learner).select_related("competency")


def _our_status_list(url: str) -> dict[str, Any] | None:
    for status_list in StatusList.objects.all():  # a handful of lists of 131,072 credentials each
        if status_list.url == url:
            return status_list_document(status_list=status_list)
    return None


def credential_verify_here(document: Any) -> VerificationResult:
    """Verify with this site's DID document and status lists, as they are now (no network)."""
    return credential_verify(document, did_document=did_document(), status_lists=_our_status_list)


def evidence_summary(*, credential: IssuedCredential) -> list[dict[str, str]]:
    """The evidence as the credential states it (what was signed, and nothing private), with page anchors."""
    rows = []
    for item in credential.document.get("evidence", []):
        anchor = str(item.get("id", "")).rpartition("#")[2]
        rows.append({"anchor": anchor, **{k: str(item.get(k, "")) for k in ("name", "narrative", "genre")}})
    return rows


def credential_badge(*, credential: IssuedCredential, image_format: str) -> bytes:
    """The badge image (PNG or SVG) with the credential baked in, drawn with the names it signed."""
    document = credential.document
    return bake(
        document,
        image_format=image_format,
        name=str(document["credentialSubject"]["achievement"].get("name", credential.competency.title)),
        issuer=str(document["issuer"].get("name", "")),
    )
