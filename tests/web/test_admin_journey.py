"""An admin edits a competency in the Django admin, in Chromium: the page fits 1280 px (and a phone), a mentor is
picked by typing their name, and a claim's rubric is edited with its boxes. axe-core checks every admin page it
opens (tests/web/a11y.py).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.conftest import make_user
from tests.web.conftest import log_in
from tracker.models import Competency

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCROLL_WIDTH_JS = "() => document.scrollingElement.scrollWidth"


def test_admin_picks_a_mentor_by_name_on_a_page_that_fits_1280_px(
    page: Page, live_server: LiveServer, keras: Competency
) -> None:
    admin = make_user("root", "admin")
    make_user("mira", "mentor")
    make_user("mirabel", "learner")  # her name matches too, but she is no mentor
    base = live_server.url
    log_in(page, base, "root")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/admin/tracker/competency/{keras.pk}/change/")
    assert page.evaluate(SCROLL_WIDTH_JS) <= 1280
    # The picker holds the chosen mentors only (none yet), not every user of the site.
    assert page.locator("select#id_mentors option").count() == 0

    page.locator(".field-mentors .select2-selection").click()
    page.get_by_role("searchbox", name="Search mentors").fill("mir")
    results = page.locator(".select2-results__option:not(.loading-results)")
    expect(results).to_have_text(["mira"])
    results.first.click()

    second_claim = page.locator("#claims-1")
    second_claim.get_by_role("button", name="Add a criterion").click()
    expect(second_claim.get_by_label("Criterion 3")).to_be_focused()
    second_claim.get_by_label("Criterion 3").fill("  Readability ")
    first_claim = page.locator("#claims-0")
    expect(first_claim.get_by_label("Criterion 2")).to_have_value("Depth")
    first_claim.get_by_role("button", name="Remove criterion 2").click()
    expect(first_claim.get_by_label("Criterion 2")).to_have_value("Clarity")
    first_claim.get_by_label("Criterion 3").fill("accuracy")  # "Accuracy" is criterion 1
    page.get_by_role("button", name="Save and continue editing").click()

    # Refused in words, with what was typed and chosen still there; the duplicate is emptied and it saves.
    first_claim = page.locator("#claims-0")
    expect(first_claim).to_contain_text("“accuracy” is listed twice")
    expect(page.locator("#id_mentors option:checked")).to_have_text(["mira"])
    expect(page.locator("#claims-1").get_by_label("Criterion 1")).to_have_value("  Readability ")
    first_claim.get_by_label("Criterion 3").fill("")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    assert list(keras.mentors.values_list("username", flat=True)) == ["mira"]
    assert keras.claims.get(order=1).rubric == ["Accuracy", "Clarity"]
    claim = keras.claims.get(order=2)
    assert claim.rubric == ["Readability"]
    assert claim.history.first().history_user == admin
    assert keras.history.first().history_user == admin

    page.set_viewport_size({"width": 375, "height": 812})
    assert page.evaluate(SCROLL_WIDTH_JS) <= 375
    # The claim's own admin page edits it with the same boxes.
    page.goto(f"{base}/admin/tracker/claim/{claim.pk}/change/")
    expect(page.get_by_label("Criterion 1")).to_have_value("Readability")
    expect(page.get_by_role("checkbox", name="Keras training task")).to_be_visible()
    assert page.evaluate(SCROLL_WIDTH_JS) <= 375
