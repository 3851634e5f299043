"""The accessibility audit itself (tests/web/a11y.py): it finds what it should, where and when it should.

Pages are served by Playwright on a made-up origin, so each holds exactly the fault under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, Route

from tests.web.a11y import A11yAudit

ORIGIN = "http://a11y.test"
PAGE = (
    '<!doctype html><html lang="en"><head><title>{title}</title></head>'
    "<body><main><h1>{title}</h1>{body}</main></body></html>"
)
SITE = {
    "/clean": PAGE.format(title="Clean", body='<a href="/no-alt">A picture</a>'),
    "/no-alt": PAGE.format(
        title="No alt", body='<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><a href="/clean">Back</a>'
    ),
    # Fine as loaded; a click adds a field with no label, then the form leaves the page.
    "/breaks-on-click": PAGE.format(
        title="Breaks on click",
        body='<form action="/clean"><button type="button" id="add">Add</button><button>Go</button></form>'
        "<script>document.getElementById('add').onclick = () =>"
        " document.querySelector('form').insertAdjacentHTML('afterbegin', '<input name=q>');</script>",
    ),
    "/low-contrast": PAGE.format(title="Low contrast", body='<p style="color:#aaa;background:#fff">Faint</p>'),
    # htmx swaps in a field with no label a moment after the page loaded.
    "/swaps": PAGE.format(
        title="Swaps",
        body='<script src="/htmx.js"></script><div hx-get="/fragment" hx-trigger="load delay:200ms">Loading</div>',
    ),
    "/fragment": "<input name=q>",
    "/htmx.js": (Path(settings.BASE_DIR) / "static" / "vendor" / "htmx-2.0.11.min.js").read_text(),
}


def _serve(route: Route) -> None:
    path = route.request.url.removeprefix(ORIGIN).split("?")[0]
    kind = "text/javascript" if path.endswith(".js") else "text/html"
    route.fulfill(status=200, content_type=kind, body=SITE[path])


@pytest.fixture
def audited(browser: Browser) -> Iterator[tuple[Page, A11yAudit]]:
    context = browser.new_context()
    page = context.new_page()
    page.route(f"{ORIGIN}/**", _serve)  # first, so that the audit's own route handler runs before it
    audit = A11yAudit.attach(page)
    yield page, audit
    context.close()


def test_a_page_left_by_a_link_is_checked_before_the_next_one_loads(audited: tuple[Page, A11yAudit]) -> None:
    page, audit = audited
    page.goto(f"{ORIGIN}/clean")
    page.get_by_role("link", name="A picture").click()
    page.wait_for_url(f"{ORIGIN}/no-alt")
    page.get_by_role("link", name="Back").click()
    page.wait_for_url(f"{ORIGIN}/clean")
    audit.check_now()
    assert [(v.rule, v.path, v.target, v.impact) for v in audit.violations.values()] == [
        ("image-alt", "/no-alt", "img", "critical")
    ]
    assert audit.problems() == [str(next(iter(audit.violations.values())))]
    assert "Images must have alternative text" in audit.problems()[0]


def test_the_state_a_click_made_is_checked_when_a_form_leaves_the_page(audited: tuple[Page, A11yAudit]) -> None:
    page, audit = audited
    page.goto(f"{ORIGIN}/breaks-on-click")
    page.get_by_role("button", name="Add").click()
    page.get_by_role("button", name="Go").click()
    page.wait_for_url(f"{ORIGIN}/clean?q=")
    assert {(v.rule, v.path) for v in audit.violations.values()} == {("label", "/breaks-on-click")}


def test_the_page_a_test_ends_on_is_checked_at_the_end_and_says_why(audited: tuple[Page, A11yAudit]) -> None:
    page, audit = audited
    page.goto(f"{ORIGIN}/low-contrast")
    assert audit.problems() == ["never checked: /low-contrast"]
    audit.check_now()
    (problem,) = audit.problems()
    assert problem.startswith("color-contrast (serious) on /low-contrast: p")
    assert "insufficient color contrast of 2.32 (foreground color: #aaaaaa, background color: #ffffff" in problem


def test_an_htmx_swap_is_checked_without_leaving_the_page(audited: tuple[Page, A11yAudit]) -> None:
    page, audit = audited
    page.goto(f"{ORIGIN}/swaps")
    page.wait_for_selector("input[name=q]")
    for _ in range(50):
        if audit.violations:
            break
        page.wait_for_timeout(100)
    assert {(v.rule, v.path) for v in audit.violations.values()} == {("label", "/swaps")}
