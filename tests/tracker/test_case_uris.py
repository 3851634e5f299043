"""The CASE export's record URIs (`<site>/case/<uuid>`) resolve on the site: JSON for programs, a page for people."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.conftest import make_competency
from tracker.exporters import export_case_json
from tracker.models import Competency

SITE = "https://skillproof.example.com"


@pytest.fixture
def widgets(db: None, settings: Any) -> Competency:
    settings.SITE_URL = SITE
    return make_competency("Widgets", claims=3)


def _package(competency: Competency) -> dict[str, Any]:
    return json.loads(export_case_json([competency])[2])


def _path(uri: str) -> str:
    assert uri.startswith(f"{SITE}/case/")
    return uri.removeprefix(SITE)


def test_every_item_and_the_document_answer_their_exported_json(widgets: Competency) -> None:
    package = _package(widgets)
    for record in [package["CFDocument"], *package["CFItems"]]:
        for client_asks in ({"HTTP_ACCEPT": "application/json"}, {"data": {"format": "json"}}):
            response = Client().get(_path(record["uri"]), **client_asks)
            assert response.status_code == 200 and response["Content-Type"] == "application/json"
            assert response.json() == record
            assert "Accept" in response["Vary"]


def test_a_person_gets_a_page_with_the_statement(widgets: Competency) -> None:
    item = _package(widgets)["CFItems"][1]
    response = Client().get(_path(item["uri"]), HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    page = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "<h1>Claim 2</h1>" in page and "Widgets claim 2" in page and 'href="?format=json"' in page
    document = Client().get(_path(_package(widgets)["CFDocument"]["uri"])).content.decode()
    assert "<h1>Widgets</h1>" in document


def test_a_retired_claim_still_resolves_and_says_so(widgets: Competency) -> None:
    claim = widgets.active_claims().order_by("order").first()
    assert claim is not None
    uri = f"/case/{claim.uuid}"
    claim.is_active = False
    claim.save()
    assert Client().get(uri, {"format": "json"}).json()["fullStatement"] == claim.text
    assert "Retired" in Client().get(uri).content.decode()


def test_drafts_and_unknown_identifiers_are_404(widgets: Competency) -> None:
    claim_uri = f"/case/{widgets.claims.first().uuid}"  # type: ignore[union-attr]
    widgets.status = Competency.Status.DRAFT
    widgets.save()
    assert Client().get(f"/case/{widgets.uuid}").status_code == 404
    assert Client().get(claim_uri).status_code == 404
    assert Client().get("/case/00000000-0000-4000-8000-000000000000").status_code == 404
    assert Client().get("/case/not-a-uuid").status_code == 404
