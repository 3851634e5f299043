"""A learner earns a credential through real pages and a stranger verifies it.

The learner has two of the three claims of a competency approved already (made with services); the third is
written in the browser and approved by the mentor in the browser, which issues the credential. The learner
opens Credentials, makes it public, copies the link and downloads the JSON, which the app's offline verifier
(`manage.py verify_credential`) accepts with the issuer's DID document and status list saved as files, and the
baked PNG badge; a signed-out visitor opens the link and sees "Verified", then checks the badge on the verify page
("Verified") and a tampered JSON ("Not verified").
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from credentials.baking import credential_read
from credentials.keys import keyfile_create
from credentials.models import IssuedCredential
from evidence.services import EvidenceInput, evidence_create, review_record
from tests.conftest import make_competency, make_user
from tests.web.conftest import log_in, screenshot
from tracker.models import Competency
from tracker.services import mentor_assign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANSWER = "A widget is tested by its contract: inputs, outputs and the errors it raises, each with an example."


@pytest.fixture
def widgets(live_server: LiveServer, settings: Any, tmp_path: Path) -> Competency:
    """Widgets (three claims), the learner approved on the first two, the issuer's key in a private file."""
    settings.SITE_URL = live_server.url  # the credential's links and did:web point at the live server
    settings.CREDENTIALS_SIGNING_KEY = ""
    settings.CREDENTIALS_KEY_FILE = tmp_path / "credentials_keys"
    keyfile_create(settings.CREDENTIALS_KEY_FILE)
    widgets = make_competency("Widgets", claims=3)
    learner, mentor = make_user("learner", "learner"), make_user("mentor")
    mentor_assign(mentor=mentor, competencies=[widgets])
    for claim in widgets.active_claims().order_by("order")[:2]:
        data = EvidenceInput(kind="written", body=f"My answer to {claim.text}, in enough words to count.")
        evidence = evidence_create(learner=learner, claim=claim, data=data, submit=True)
        review_record(evidence=evidence, reviewer=mentor, decision="approve")
    return widgets


def _verify_offline(folder: Path, files: dict[str, bytes]) -> dict[str, Any]:
    for name, content in files.items():
        (folder / name).write_bytes(content)
    out = io.StringIO()
    call_command(
        "verify_credential", str(folder / "credential.json"),
        "--did-document", str(folder / "did.json"), "--status-list", str(folder / "status.json"), stdout=out,
    )  # fmt: skip
    return json.loads(out.getvalue())


def test_learner_earns_downloads_and_shares_a_credential_that_a_visitor_sees_verified(
    page: Page, other_page: Page, live_server: LiveServer, widgets: Competency, tmp_path: Path
) -> None:
    base = live_server.url
    learner, mentor, visitor = page, other_page, other_page

    # 1. The learner proves the last claim with a written answer.
    log_in(learner, base, "learner")
    learner.get_by_role("link", name="Competencies", exact=True).click()
    learner.get_by_role("row").filter(has_text="Widgets").get_by_role("link", name="Widgets").click()
    last = learner.locator("li.claim").filter(has_text="Widgets claim 3")
    last.get_by_role("link", name="Add evidence").click()
    learner.get_by_role("radio", name="Written answer").check()
    learner.get_by_role("textbox", name="Your answer").fill(ANSWER)
    learner.get_by_role("button", name="Submit for review").click()
    expect(learner.get_by_role("heading", level=1)).to_contain_text("Awaiting review")
    learner.get_by_role("link", name="Credentials", exact=True).click()
    expect(learner.get_by_text("No credentials yet")).to_be_visible()

    # 2. The mentor approves it in the review queue: the learner is now proficient.
    log_in(mentor, base, "mentor")
    mentor.get_by_role("link", name="Review queue").click()
    mentor.get_by_role("row").filter(has_text="Widgets claim 3").get_by_role("link", name="Review").click()
    mentor.get_by_role("radio", name="Approve").check()
    mentor.get_by_role("button", name="Record decision").click()
    expect(mentor.get_by_role("heading", level=1)).to_contain_text("Approved")
    mentor.get_by_role("button", name="Log out").click()
    credential = IssuedCredential.objects.get(competency=widgets)

    # 3. The learner's Credentials page lists it, private until they share it; they copy the public link.
    learner.reload()
    row = learner.get_by_role("row").filter(has_text="Widgets")
    expect(row).to_contain_text("Valid")
    expect(row).to_contain_text("Private.")
    expect(row.get_by_role("link", name="Add to LinkedIn profile")).to_have_count(0)
    row.get_by_role("button", name="Make public").click()
    row = learner.get_by_role("row").filter(has_text="Widgets")
    link = row.get_by_role("textbox", name="Public link")
    expect(link).to_have_value(f"{base}/credentials/{credential.pk}/")
    linkedin = row.get_by_role("link", name="Add to LinkedIn profile")
    query = parse_qs(urlsplit(linkedin.get_attribute("href") or "").query)
    assert query["name"] == ["Widgets: proficient"] and query["organizationName"] == ["Skillproof"], query
    assert query["certUrl"] == [f"{base}/credentials/{credential.pk}/"] and query["certId"] == [str(credential.pk)]
    learner.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    row.get_by_role("button", name="Copy link").click()
    expect(row.get_by_role("button", name="Copied")).to_be_visible()
    public_url = learner.evaluate("() => navigator.clipboard.readText()")
    assert public_url == f"{base}/credentials/{credential.pk}/"

    # 4. They download the JSON; with the issuer's DID document and status list as files it verifies offline.
    with learner.expect_download() as download_info:
        row.get_by_role("link", name="Download JSON").click()
    download = download_info.value
    assert download.suggested_filename == f"credential-{credential.pk}.json"
    document = json.loads(Path(download.path()).read_bytes())
    assert document == credential.document
    assert document["credentialSubject"]["achievement"]["name"] == "Widgets"
    assert [e["name"] for e in document["evidence"]] == [f"Claim {n}: Written answer" for n in (1, 2, 3)]
    status_url = document["credentialStatus"]["statusListCredential"]
    result = _verify_offline(
        tmp_path,
        {
            "credential.json": Path(download.path()).read_bytes(),
            "did.json": visitor.request.get(f"{base}/.well-known/did.json").body(),
            "status.json": visitor.request.get(status_url).body(),
        },
    )
    assert result["valid"] is True and result["status"] == "active", result
    document["credentialSubject"]["achievement"]["name"] = "Widgetz"  # one character: the proof no longer holds
    tampered = _verify_offline_expecting_failure(tmp_path, document)
    assert tampered["valid"] is False and tampered["proof"] is False

    # The baked badge: a PNG image that carries the same credential (OB 3.0 baking, iTXt openbadgecredential).
    with learner.expect_download() as download_info:
        row.get_by_role("link", name="PNG image of Widgets").click()
    badge = download_info.value
    assert badge.suggested_filename == f"credential-{credential.pk}.png"
    badge_bytes = Path(badge.path()).read_bytes()
    assert badge_bytes.startswith(b"\x89PNG\r\n\x1a\n")
    assert credential_read(badge_bytes) == credential.document

    # 5. A signed-out visitor opens the link: the page checks the credential now and says so.
    visitor.goto(public_url)
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Widgets")
    verification = visitor.get_by_role("region", name="Verified")
    expect(verification).to_contain_text("Signature (eddsa-rdfc-2022): valid")
    expect(verification).to_contain_text("Status: not revoked")
    expect(visitor.get_by_role("heading", name="Evidence")).to_be_visible()
    expect(visitor.locator("main")).to_contain_text("Widgets claim 3")
    expect(visitor.locator("main")).not_to_contain_text("learner@example.com")
    expect(visitor.get_by_role("link", name="Log in")).to_be_visible()
    screenshot(visitor, "credential-public")

    # 6. The visitor checks the badge image they were sent on the verify page, then a tampered copy of the JSON.
    visitor.get_by_role("link", name="Verify a credential").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Verify a credential")
    upload = visitor.get_by_label("Credential (JSON file, or a baked badge: PNG or SVG)")
    upload.set_input_files(badge.path())
    visitor.get_by_role("button", name="Verify").click()
    expect(visitor.get_by_role("region", name="Verified")).to_contain_text("Signature (eddsa-rdfc-2022): valid")
    upload = visitor.get_by_label("Credential (JSON file, or a baked badge: PNG or SVG)")
    upload.set_input_files(str(tmp_path / "tampered.json"))
    visitor.get_by_role("button", name="Verify").click()
    refused = visitor.get_by_role("region", name="Not verified")
    expect(refused).to_contain_text("Signature (eddsa-rdfc-2022): invalid")


def _verify_offline_expecting_failure(folder: Path, document: dict[str, Any]) -> dict[str, Any]:
    (folder / "tampered.json").write_text(json.dumps(document))
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "verify_credential", str(folder / "tampered.json"),
            "--did-document", str(folder / "did.json"), "--status-list", str(folder / "status.json"), stdout=out,
        )  # fmt: skip
    assert exit_info.value.code == 1
    return json.loads(out.getvalue())
