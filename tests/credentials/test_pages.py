"""Credential pages and API: who sees what, sharing, downloading, verifying uploads (never a 500)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from credentials.models import IssuedCredential
from credentials.services import credential_revoke


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_learner_lists_their_credentials_with_linkedin_and_copy(issued: IssuedCredential, alice: Any) -> None:
    issued.public = True
    issued.save()
    page = login(alice).get("/credentials/").content.decode()
    assert "Widgets" in page and "Download JSON" in page and "Copy link" in page
    assert "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME" in page
    assert f"certId={issued.pk}" in page and "organizationName=Skillproof" in page


def test_a_private_credential_is_404_to_others_and_visible_to_its_learner(
    issued: IssuedCredential, alice: Any, bob: Any
) -> None:
    url = f"/credentials/{issued.pk}/"
    assert Client().get(url).status_code == 404
    assert login(bob).get(url).status_code == 404
    assert login(bob).get(f"{url}credential.json").status_code == 404
    assert login(alice).get(url).status_code == 200


def test_the_learner_makes_it_public_and_anyone_sees_verified(issued: IssuedCredential, alice: Any) -> None:
    response = login(alice).post(f"/credentials/{issued.pk}/share/", {"public": "1"})
    assert response.status_code == 302
    page = Client().get(f"/credentials/{issued.pk}/").content.decode()
    assert ">Verified<" in page and "Widgets claim 1" in page and 'id="evidence-' in page
    assert "alice@example.com" not in page


def test_only_its_learner_can_share_it(issued: IssuedCredential, bob: Any) -> None:
    assert login(bob).post(f"/credentials/{issued.pk}/share/", {"public": "1"}).status_code == 404
    issued.refresh_from_db()
    assert not issued.public


def test_sharing_needs_a_csrf_token(issued: IssuedCredential, alice: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(f"/credentials/{issued.pk}/share/", {"public": "1"}).status_code == 403


def test_a_revoked_public_credential_shows_not_verified(issued: IssuedCredential) -> None:
    issued.public = True
    issued.save()
    credential_revoke(credential=issued, reason="Plagiarised.")
    page = Client().get(f"/credentials/{issued.pk}/").content.decode()
    assert "Not verified" in page and "revoked" in page and "Plagiarised." in page


def test_the_download_is_the_signed_document(issued: IssuedCredential, alice: Any) -> None:
    response = login(alice).get(f"/credentials/{issued.pk}/credential.json")
    assert response["Content-Type"] == "application/ld+json"
    assert json.loads(response.content) == issued.document


def test_the_status_list_is_public_and_signed(issued: IssuedCredential) -> None:
    response = Client().get(f"/credentials/status/{issued.status_list_id}")
    document = json.loads(response.content)
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert response["Access-Control-Allow-Origin"] == "*"


def _upload(content: bytes, name: str = "credential.json") -> dict[str, Any]:
    return {"file": SimpleUploadedFile(name, content, content_type="application/json")}


def test_the_verify_page_says_valid(issued: IssuedCredential) -> None:
    response = Client().post("/credentials/verify/", _upload(json.dumps(issued.document).encode()))
    assert response.status_code == 200 and ">Verified<" in response.content.decode()


def test_the_verify_page_says_exactly_why_not(issued: IssuedCredential) -> None:
    document = copy.deepcopy(issued.document)
    document["name"] = "Widgets: expert"
    page = Client().post("/credentials/verify/", _upload(json.dumps(document).encode())).content.decode()
    assert "Not verified" in page and "the signature does not match the document" in page


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not a credential"),
        (b" " * 300_000, "larger than"),
        (b"[" * 5_000 + b"]" * 5_000, "not valid JSON"),
    ],
)
def test_the_verify_page_refuses_bad_files_with_a_sentence(db: None, content: bytes, message: str) -> None:
    response = Client().post("/credentials/verify/", _upload(content))
    assert response.status_code == 400 and message in response.content.decode()


def test_the_api_lists_only_the_callers_credentials(issued: IssuedCredential, alice: Any, bob: Any) -> None:
    api = APIClient()
    api.force_authenticate(alice)
    [row] = api.get("/api/credentials/").json()
    assert row["id"] == str(issued.pk) and row["competency"] == "widgets" and row["revoked"] is False
    api.force_authenticate(bob)
    assert api.get("/api/credentials/").json() == []


def test_the_api_gives_the_document_as_json_ld_to_its_learner_only(
    issued: IssuedCredential, alice: Any, bob: Any
) -> None:
    api = APIClient()
    api.force_authenticate(alice)
    response = api.get(f"/api/credentials/{issued.pk}/")
    assert response["Content-Type"].startswith("application/ld+json")
    assert json.loads(response.content) == issued.document
    api.force_authenticate(bob)
    assert api.get(f"/api/credentials/{issued.pk}/").status_code == 404


def test_the_api_verifies_a_posted_credential(issued: IssuedCredential, bob: Any) -> None:
    api = APIClient()
    api.force_authenticate(bob)
    assert api.post("/api/credentials/verify/", issued.document, format="json").json()["valid"] is True
    credential_revoke(credential=issued, reason="Plagiarised.")
    result = api.post("/api/credentials/verify/", issued.document, format="json").json()
    assert result["valid"] is False and result["status"] == "revoked"
    assert api.post("/api/credentials/verify/", [1], format="json").status_code == 400


def test_the_admin_revokes_with_a_reason(issued: IssuedCredential, admin_user: Any) -> None:
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client = login(admin_user)
    url = f"/admin/credentials/issuedcredential/{issued.pk}/change/"
    assert client.get(url).status_code == 200
    refused = client.post(url, {"revoke": "on", "revocation_reason": ""})
    assert refused.status_code == 200 and "Say why" in refused.content.decode()
    client.post(url, {"revoke": "on", "revocation_reason": "Plagiarised notebook."})
    issued.refresh_from_db()
    assert issued.is_revoked and issued.revocation_reason == "Plagiarised notebook."


def test_the_admin_edits_the_issuer_profile(db: None, admin_user: Any) -> None:
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    response = login(admin_user).get("/admin/credentials/issuerprofile/")
    assert response.status_code == 200
