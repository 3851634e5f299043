"""Every alignment of an issued credential points at a CASE CFItem the site answers for (200, the item's JSON)."""

from __future__ import annotations

from django.test import Client

from credentials.models import IssuedCredential
from tests.credentials.helpers import SITE


def test_every_target_url_of_an_issued_credential_resolves(issued: IssuedCredential) -> None:
    alignments = issued.document["credentialSubject"]["achievement"]["alignment"]
    assert len(alignments) == issued.competency.active_claims().count() > 0
    for alignment in alignments:
        path = alignment["targetUrl"].removeprefix(SITE)
        as_json = Client().get(path, HTTP_ACCEPT="application/json")
        assert as_json.status_code == 200, alignment["targetUrl"]
        assert as_json.json()["uri"] == alignment["targetUrl"]
        assert as_json.json()["fullStatement"].startswith(alignment["targetName"])
        assert Client().get(path).status_code == 200  # and a page for a person who follows the link
