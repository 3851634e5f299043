"""An admin brings Moodle's own example framework (the OECD core competencies) into the site, in Chromium: the
Import page previews the tree and saves nothing until "Import" is pressed; then anyone browses the framework as a
tree, and a competency page shows its Moodle id numbers and its cross references as links. axe-core checks every
page (tests/web/a11y.py); the tree page fits a phone.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.conftest import FIXTURES, make_user
from tests.web.conftest import log_in, screenshot
from tracker.models import Competency, Framework

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MOODLE_EXAMPLE = FIXTURES / "frameworks" / "moodle-example.csv"
SCROLL_WIDTH_JS = "() => document.scrollingElement.scrollWidth"


def test_an_admin_previews_and_imports_a_moodle_framework_and_a_learner_browses_it(
    page: Page, other_page: Page, live_server: LiveServer
) -> None:
    base = live_server.url
    make_user("root", "admin")
    make_user("learner", "learner")
    competencies_before = Competency.objects.count()

    # 1. Upload: the preview shows the tree and what the import would do; nothing is saved yet.
    log_in(page, base, "root")
    page.goto(f"{base}/admin/tracker/competency/import/")
    page.get_by_label("File").set_input_files(str(MOODLE_EXAMPLE))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("Nothing is saved yet.")).to_be_visible()
    expect(page.get_by_text("16 competencies (what learners earn), 44 claims")).to_be_visible()
    expect(page.get_by_role("combobox", name="Level 2")).to_be_visible()
    assert not Framework.objects.filter(idnumber="OECD-CORE").exists()
    assert Competency.objects.count() == competencies_before

    # 2. Import: the framework's admin page, with its tree.
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("Imported the framework OECD")
    framework = Framework.objects.get(idnumber="OECD-CORE")
    assert framework.nodes.count() == 64

    # 3. A learner browses it: the framework list, the tree, a competency with its id numbers and links.
    log_in(other_page, base, "learner")
    other_page.goto(f"{base}/frameworks/")
    other_page.get_by_role("link", name="OECD").click()
    expect(other_page.get_by_role("heading", level=1)).to_have_text("OECD")
    tree = other_page.locator("ul.framework-tree").first
    expect(tree).to_contain_text("Delivery-related")
    screenshot(other_page, "framework-tree")
    other_page.get_by_role("link", name="Analytical Thinking", exact=True).click()
    expect(other_page.get_by_text("analytical-thinking").first).to_be_visible()
    expect(other_page.get_by_text("DR-AT1").first).to_be_visible()

    # 4. The tree reads on a phone: nothing sticks out sideways.
    other_page.set_viewport_size({"width": 375, "height": 800})
    other_page.goto(f"{base}{framework.get_absolute_url()}")
    assert other_page.evaluate(SCROLL_WIDTH_JS) <= 375
