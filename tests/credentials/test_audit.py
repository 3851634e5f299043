"""Issue 12, checked against the code: re-issue after a definition change through the review flow, JSON-LD for
clients that ask for it, and the issuer profile an admin edits going into new credentials."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client
from rest_framework.test import APIClient

from credentials.models import IssuedCredential
from credentials.selectors import credential_verify_here
from evidence.services import EvidenceInput, evidence_create, review_record
from tests.credentials.helpers import approve_every_claim
from tracker.models import Claim


def test_a_claim_added_and_approved_re_issues_with_a_new_id(
    issued: IssuedCredential, alice: Any, widgets: Any, mentor: Any
) -> None:
    # Before: a claim added to the competency left its version alone, so the re-qualified learner got the old
    # credential back, whose criteria do not name the new claim.
    claim = Claim.objects.create(competency=widgets, order=3, text="Widgets claim 3")
    widgets.refresh_from_db()
    assert widgets.version > issued.competency_version
    evidence = evidence_create(
        learner=alice, claim=claim, data=EvidenceInput(kind="written", body="My answer, in enough words."), submit=True
    )
    review_record(evidence=evidence, reviewer=mentor, decision="approve")
    renewed = IssuedCredential.objects.exclude(pk=issued.pk).get(learner=alice, competency=widgets)
    assert renewed.competency_version == widgets.version
    assert "3. Widgets claim 3" in renewed.document["credentialSubject"]["achievement"]["criteria"]["narrative"]
    assert credential_verify_here(issued.document).valid  # the old one stays valid for what it said
    assert credential_verify_here(renewed.document).valid


def test_an_edited_claim_is_a_new_competency_version(widgets: Any) -> None:
    widgets.refresh_from_db()
    before = widgets.version
    claim = widgets.claims.first()
    claim.text = "Widgets claim 1, reworded"
    claim.save()
    widgets.refresh_from_db()
    assert widgets.version == before + 1


def test_the_api_answers_clients_that_ask_for_json_ld(issued: IssuedCredential, alice: Any) -> None:
    # Before: DRF had no renderer for application/ld+json, so a JSON-LD client got 406 Not Acceptable.
    api = APIClient()
    api.force_authenticate(alice)
    response = api.get(f"/api/credentials/{issued.pk}/", HTTP_ACCEPT="application/ld+json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/ld+json")
    assert json.loads(response.content) == issued.document


def test_the_issuer_profile_the_admin_edits_goes_into_new_credentials(
    admin_user: Any, issuer_key: Any, alice: Any, widgets: Any, mentor: Any
) -> None:
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client = Client()
    client.force_login(admin_user)
    fields = {"name": "Widget Academy", "url": "https://academy.example.org/", "email": "badges@academy.example.org",
              "image": "https://academy.example.org/logo.png"}  # fmt: skip
    assert client.post("/admin/credentials/issuerprofile/add/", fields).status_code == 302
    approve_every_claim(alice, widgets, mentor)
    issuer = IssuedCredential.objects.get(learner=alice).document["issuer"]
    assert issuer["name"] == "Widget Academy" and issuer["url"] == fields["url"]
    assert issuer["email"] == fields["email"] and issuer["image"] == {"id": fields["image"], "type": "Image"}
