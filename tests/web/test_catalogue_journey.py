import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.conftest import KERAS_FILE, make_user
from tests.web.conftest import log_in, screenshot
from tracker.services import competency_import_files

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_learner_logs_in_opens_keras_and_sees_its_claims(page: Page, live_server: LiveServer) -> None:
    competency_import_files(paths=[KERAS_FILE])
    make_user("learner", "learner")
    log_in(page, live_server.url, "learner")

    page.get_by_role("link", name="Competencies", exact=True).click()
    row = page.get_by_role("row").filter(has_text="Keras")
    expect(row).to_contain_text("Not started")
    row.get_by_role("link", name="Keras").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Keras")
    expect(page.locator("li.claim")).to_have_count(10)
    expect(page.locator("li.claim").first).to_contain_text("main reason developers use Keras")
    expect(page.get_by_role("link", name="Keras documentation")).to_have_attribute("href", "https://keras.io/")
    screenshot(page, "competency")


def test_signup_form_shows_errors_in_the_page(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.url}/accounts/signup/")
    page.get_by_label("Username").fill("newbie")
    page.get_by_label("Email").fill("newbie@example.com")
    page.locator("#id_password1").fill("short")
    page.get_by_label("Password confirmation").fill("different")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator(".field-errors")).to_contain_text("didn’t match")


def test_unknown_page_is_styled(page: Page, live_server: LiveServer) -> None:
    response = page.goto(f"{live_server.url}/nope/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_role("link", name="Skillproof")).to_be_visible()
