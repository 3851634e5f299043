"""Issuing: a learner who becomes proficient gets one signed OpenBadgeCredential, shaped as OB 3.0 asks."""

from __future__ import annotations

import json
from typing import Any

from credentials.did import issuer_did
from credentials.documents import OB_V3P0, VC_V2
from credentials.models import STATUS_LIST_LENGTH, IssuedCredential
from credentials.openbadge import identity_hash
from credentials.selectors import credential_verify_here
from credentials.services import credential_issue
from tests.credentials.helpers import SITE, approve_every_claim


def test_a_learner_is_issued_a_credential_when_the_last_claim_is_approved(issued: IssuedCredential) -> None:
    assert issued.competency_version == issued.competency.version
    assert issued.document["id"] == f"urn:uuid:{issued.pk}"
    assert not issued.public


def test_no_credential_before_every_required_claim_is_approved(issuer_key: Any, alice: Any, widgets: Any) -> None:
    assert credential_issue(learner=alice, competency=widgets) is None
    assert not IssuedCredential.objects.exists()


def test_the_issued_credential_verifies(issued: IssuedCredential) -> None:
    result = credential_verify_here(issued.document)
    assert result.valid, result.errors
    assert result.as_dict()["status"] == "active"


def test_the_document_is_an_open_badge_credential_to_the_letter(issued: IssuedCredential) -> None:
    doc = issued.document
    assert doc["@context"] == [VC_V2, OB_V3P0]
    assert doc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert doc["issuer"]["id"] == issuer_did() == "did:web:skillproof.example.com"
    assert doc["issuer"]["type"] == ["Profile"]
    assert doc["validFrom"].endswith("Z") and "validUntil" not in doc
    assert doc["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    subject = doc["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    achievement = subject["achievement"]
    assert achievement["achievementType"] == "Competency" and achievement["type"] == ["Achievement"]
    assert "1. Widgets claim 1" in achievement["criteria"]["narrative"]
    assert achievement["image"]["type"] == "Image"
    claims = list(issued.competency.active_claims().order_by("order"))
    assert [a["targetUrl"] for a in achievement["alignment"]] == [f"{SITE}/case/{c.uuid}" for c in claims]
    assert {a["targetType"] for a in achievement["alignment"]} == {"CFItem"}
    assert [e["genre"] for e in doc["evidence"]] == ["Written answer", "Written answer"]
    assert all(e["id"].startswith(f"{SITE}/credentials/{issued.pk}/#evidence-") for e in doc["evidence"])


def test_the_learner_is_identified_by_a_salted_hash_never_the_address(issued: IssuedCredential) -> None:
    [identity] = issued.document["credentialSubject"]["identifier"]
    assert identity["identityType"] == "emailAddress" and identity["hashed"] is True
    assert identity["identityHash"] == identity_hash("alice@example.com", identity["salt"])
    assert identity["identityHash"].startswith("sha256$")
    assert "alice@example.com" not in json.dumps(issued.document)


def test_the_claims_align_to_the_uris_the_case_export_publishes(issued: IssuedCredential) -> None:
    from tracker.exporters import export_case_json

    _name, _type, text = export_case_json([issued.competency])
    published = {item["uri"] for item in json.loads(text)["CFItems"]}
    aligned = {a["targetUrl"] for a in issued.document["credentialSubject"]["achievement"]["alignment"]}
    assert aligned == published


def test_the_status_entry_is_a_random_index_in_a_large_list(issued: IssuedCredential) -> None:
    entry = issued.document["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry" and entry["statusPurpose"] == "revocation"
    assert entry["statusListIndex"] == str(issued.status_index)
    assert entry["statusListCredential"] == f"{SITE}/credentials/status/{issued.status_list_id}"
    assert issued.status_list.length == STATUS_LIST_LENGTH >= 131_072


def test_issuing_again_returns_the_same_credential(issued: IssuedCredential, alice: Any, widgets: Any) -> None:
    assert credential_issue(learner=alice, competency=widgets) == issued
    assert IssuedCredential.objects.count() == 1


def test_a_new_competency_version_gets_a_new_credential_and_the_old_stays(
    issued: IssuedCredential, alice: Any, widgets: Any
) -> None:
    widgets.summary = "Now with sprockets."
    widgets.save()
    renewed = credential_issue(learner=alice, competency=widgets)
    assert renewed is not None and renewed.pk != issued.pk
    assert renewed.competency_version == issued.competency_version + 1
    assert credential_verify_here(issued.document).valid


def test_an_expiry_setting_sets_valid_until(
    settings: Any, issuer_key: Any, alice: Any, widgets: Any, mentor: Any
) -> None:
    settings.CREDENTIALS_VALID_DAYS = 365
    approve_every_claim(alice, widgets, mentor)
    credential = IssuedCredential.objects.get(learner=alice)
    assert credential.valid_until is not None and credential.document["validUntil"].endswith("Z")


def test_approval_still_counts_when_no_key_is_configured(settings: Any, alice: Any, widgets: Any, mentor: Any) -> None:
    settings.CREDENTIALS_SIGNING_KEY = ""
    settings.CREDENTIALS_KEY_FILE = "/nonexistent/credentials_keys"
    approve_every_claim(alice, widgets, mentor)
    assert alice.evidence.filter(status="approved").count() == 2
    assert not IssuedCredential.objects.exists()
