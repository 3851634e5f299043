"""The Content-Security-Policy in a real browser: no page the suite visits here trips it, Swagger UI included."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.conftest import make_user
from tests.web.conftest import log_in
from tracker.models import Competency

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pages_and_the_api_docs_render_without_a_policy_violation(
    page: Page, live_server: LiveServer, keras: Competency
) -> None:
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            violations.append(f"{page.url}: {message.text[:90]}")

    page.on("console", on_console)
    base = live_server.url
    make_user("learner", "learner")
    log_in(page, base, "learner")
    for path in ("/", "/competencies/", f"/competencies/{keras.slug}/", "/dashboard/", "/evidence/"):
        page.goto(f"{base}{path}")
        expect(page.locator("main")).to_be_visible()
    page.goto(f"{base}/api/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=20_000)
    expect(page.locator(".swagger-ui")).to_contain_text("/api/tasks/{slug}/runs/")
    assert violations == [], violations
