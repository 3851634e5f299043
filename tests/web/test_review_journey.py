"""The learner → mentor loop through real pages: submit, request changes, resubmit, approve.

The learner and the mentor each have their own browser context (own cookies), so both sessions
live side by side as they would on two machines. Setup data is made with services; every step of
the journey itself is a click or a keystroke on a real page.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.conftest import KERAS_FILE, make_user
from tests.web.conftest import log_in, screenshot
from tracker.models import Competency
from tracker.services import competency_import_files, mentor_assign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIRST_ANSWER = (
    "Keras is **the friendly layer** over a backend: the same model code runs on TensorFlow, "
    "JAX or PyTorch. <script>alert('xss')</script>"
)
SECOND_ANSWER = (
    "Keras gives **one high-level API** for layers, losses and training loops, so developers "
    "experiment fast and still switch backends (TensorFlow, JAX or PyTorch) without rewriting models."
)


@pytest.fixture
def keras_setup(db: None) -> Competency:
    keras = competency_import_files(paths=[KERAS_FILE])[0]
    make_user("learner", "learner")
    mentor = make_user("mentor")
    mentor_assign(mentor=mentor, competencies=[keras])
    return keras


def _open_keras(page: Page) -> None:
    page.get_by_role("link", name="Competencies", exact=True).click()
    page.get_by_role("row").filter(has_text="Keras").get_by_role("link", name="Keras").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Keras")


def _first_claim(page: Page) -> Locator:
    claim = page.locator("li.claim").first
    expect(claim).to_contain_text("main reason developers use Keras")
    return claim


def _written_answer_box(page: Page) -> Locator:
    # The answer textarea (the kind radio is "Written answer").
    return page.get_by_role("textbox", name="Your answer")


def _dashboard_row(page: Page, base_url: str) -> Locator:
    page.goto(f"{base_url}/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your progress")
    return page.locator("section.dashboard-row").filter(has=page.get_by_role("link", name="Keras", exact=True))


def test_written_answer_goes_through_changes_requested_to_approved(
    page: Page, other_page: Page, live_server: LiveServer, keras_setup: Competency
) -> None:
    base = live_server.url
    learner, mentor = page, other_page
    dialogs: list[str] = []
    for p in (learner, mentor):
        p.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    # 1. The learner writes an answer to claim 1 and submits it.
    log_in(learner, base, "learner")
    _open_keras(learner)
    _first_claim(learner).get_by_role("link", name="Add evidence").click()
    expect(learner.get_by_role("heading", level=1)).to_have_text("New evidence")
    learner.get_by_role("radio", name="Written answer").check()
    _written_answer_box(learner).fill(FIRST_ANSWER)
    learner.get_by_role("button", name="Submit for review").click()
    expect(learner).to_have_url(re.compile(r"/evidence/\d+/$"))
    expect(learner.get_by_role("heading", level=1)).to_contain_text("Awaiting review")
    expect(learner.locator(".messages")).to_contain_text("Submitted for review.")
    first_url = learner.url

    # 2. The dashboard shows the competency awaiting review, nothing approved yet.
    row = _dashboard_row(learner, base)
    expect(row.locator(".badge")).to_have_text("Awaiting review")
    expect(row.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "0")
    expect(row).to_contain_text("0 of 10 required claims approved")

    # 3. The mentor sees the notification, opens the queue and requests changes.
    log_in(mentor, base, "mentor")
    bell = mentor.get_by_role("link", name="Notifications, 1 unread")
    expect(bell).to_be_visible()
    expect(bell.locator(".count")).to_have_text("1")
    mentor.get_by_role("link", name="Review queue").click()
    expect(mentor.get_by_role("heading", level=1)).to_contain_text("1 waiting")
    queue_row = mentor.get_by_role("row").filter(has=mentor.get_by_role("link", name="Review"))
    expect(queue_row).to_contain_text("Keras")
    queue_row.get_by_role("link", name="Review").click()
    expect(mentor).to_have_url(f"{first_url}#decide")

    answer = mentor.locator(".answer")
    expect(answer.locator("strong")).to_have_text("the friendly layer")
    # Raw HTML is off: the tag shows as text and never becomes an element, so nothing ran.
    expect(answer).to_contain_text("<script>alert('xss')</script>")
    expect(answer.locator("script")).to_have_count(0)
    assert dialogs == []
    expect(mentor.get_by_role("heading", name="Your decision")).to_be_visible()
    screenshot(mentor, "review")

    mentor.get_by_role("radio", name="Request changes").check()
    mentor.get_by_role("textbox", name="Comment").fill("Good start: also say **why** a single API matters.")
    mentor.get_by_role("button", name="Record decision").click()
    expect(mentor.locator(".messages")).to_contain_text("Decision recorded")
    expect(mentor.get_by_role("heading", level=1)).to_contain_text("Changes requested")
    expect(mentor.locator("article.review")).to_contain_text("Request changes")

    # 4. The learner reads the request through the notification and resubmits.
    learner.reload()
    expect(learner.get_by_role("link", name="Notifications, 1 unread")).to_be_visible()
    learner.get_by_role("link", name="Notifications, 1 unread").click()
    expect(learner.get_by_role("heading", level=1)).to_have_text("Notifications")
    learner.get_by_role(
        "link", name=re.compile(r"mentor requested changes to your evidence for Keras, claim 1")
    ).click()
    expect(learner).to_have_url(first_url)
    expect(learner.get_by_role("heading", level=1)).to_contain_text("Changes requested")
    review = learner.locator("article.review")
    expect(review).to_contain_text("Request changes")
    expect(review.locator("strong", has_text="why")).to_be_visible()
    expect(learner.get_by_role("link", name="Notifications, 0 unread")).to_be_visible()

    learner.get_by_role("link", name="Resubmit a new version").click()
    expect(learner.get_by_role("heading", level=1)).to_have_text("Resubmit (version 2)")
    expect(learner.get_by_role("heading", name="What your mentor said")).to_be_visible()
    expect(learner.get_by_role("radio", name="Written answer")).to_be_checked()
    expect(_written_answer_box(learner)).to_have_value(FIRST_ANSWER)
    _written_answer_box(learner).fill(SECOND_ANSWER)
    learner.get_by_role("button", name="Submit for review").click()
    expect(learner.locator(".messages")).to_contain_text("Version 2 submitted for review.")
    expect(learner.get_by_role("heading", level=1)).to_contain_text("Awaiting review")
    expect(learner.get_by_text(re.compile(r"version 2 · created"))).to_be_visible()
    expect(learner.get_by_role("heading", name="Versions")).to_be_visible()
    versions = learner.locator("ol.history li")
    expect(versions).to_have_count(2)
    expect(versions.get_by_role("link", name="Version 1")).to_have_attribute("href", first_url.removeprefix(base))
    expect(versions.filter(has_text="Version 1")).to_contain_text("Changes requested")
    expect(versions.filter(has_text="Version 2 (this one)")).to_contain_text("Awaiting review")
    second_url = learner.url
    assert second_url != first_url

    # 5. The mentor approves version 2, scoring one rubric criterion.
    mentor.get_by_role("link", name="Review queue").click()
    expect(mentor.get_by_role("heading", level=1)).to_contain_text("1 waiting")
    queue_row = mentor.get_by_role("row").filter(has=mentor.get_by_role("link", name="Review"))
    expect(queue_row).to_contain_text("(v2)")
    queue_row.get_by_role("link", name="Review").click()
    expect(mentor).to_have_url(f"{second_url}#decide")
    expect(mentor.locator(".answer strong")).to_have_text("one high-level API")
    mentor.get_by_role("spinbutton", name="Accuracy").fill("4")
    mentor.get_by_role("radio", name="Approve").check()
    mentor.get_by_role("button", name="Record decision").click()
    expect(mentor.locator(".messages")).to_contain_text("Decision recorded")
    expect(mentor.get_by_role("heading", level=1)).to_contain_text("Approved")
    expect(mentor.locator("article.review")).to_contain_text("Accuracy: 4/5")
    mentor.get_by_role("link", name="Review queue").click()
    expect(mentor.get_by_role("heading", level=1)).to_contain_text("0 waiting")

    # 6. The learner's dashboard shows the approval.
    row = _dashboard_row(learner, base)
    progress = row.get_by_role("progressbar")
    expect(progress).to_have_attribute("aria-valuenow", "10")
    expect(row).to_contain_text("1 of 10 required claims approved")
    expect(row.locator(".badge")).to_have_text("In progress")
    screenshot(learner, "dashboard")
    assert dialogs == []


def test_empty_written_answer_shows_a_field_error(page: Page, live_server: LiveServer, keras_setup: Competency) -> None:
    log_in(page, live_server.url, "learner")
    _open_keras(page)
    _first_claim(page).get_by_role("link", name="Add evidence").click()
    page.get_by_role("radio", name="Written answer").check()
    with page.expect_response(re.compile(r"/evidence/new/$")) as response_info:
        page.get_by_role("button", name="Submit for review").click()
    assert response_info.value.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text("New evidence")
    expect(page.locator(".field.has-error .field-errors")).to_have_text("Write your answer.")
    expect(page.get_by_role("radio", name="Written answer")).to_be_checked()


def test_someone_elses_evidence_is_a_styled_404(
    page: Page, other_page: Page, live_server: LiveServer, keras_setup: Competency
) -> None:
    make_user("other", "learner")
    log_in(page, live_server.url, "learner")
    _open_keras(page)
    _first_claim(page).get_by_role("link", name="Add evidence").click()
    page.get_by_role("radio", name="Written answer").check()
    _written_answer_box(page).fill(FIRST_ANSWER)
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Awaiting review")
    evidence_url = page.url

    log_in(other_page, live_server.url, "other")
    response = other_page.goto(evidence_url)
    assert response is not None and response.status == 404
    expect(other_page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(other_page.get_by_role("link", name="Skillproof")).to_be_visible()
    expect(other_page.locator("body")).not_to_contain_text("friendly layer")
