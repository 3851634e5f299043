"""Playwright driving Debian's Chromium against pytest-django's live server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import PASSWORD
from tests.web.a11y import AXE_SOURCE, A11yAudit

# Playwright's sync API keeps an event loop running in the test thread; the ORM calls the tests
# make there are still synchronous, so Django's async-safety guard does not apply.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail("Chromium is missing: apt-get install -y chromium (the browser tests need it)")
    if not AXE_SOURCE.is_file():
        pytest.fail("axe-core is missing: run `npm ci --prefix tests/js` (.ci/run does; every page is checked with it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


CALL_FAILED = pytest.StashKey[bool]()
CHECKED: set[str] = set()  # for the summary line: the URL paths axe-core looked at, and how many runs
CHECKS = [0]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if CHECKS[0]:
        terminalreporter.write_line(f"axe-core: {CHECKS[0]} page states checked, {len(CHECKED)} distinct URL paths")


def _session(browser: Browser, request: pytest.FixtureRequest, name: str) -> Iterator[Page]:
    """A browser tab whose every page is checked with axe-core (tests/web/a11y.py); violations fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    audit = A11yAudit.attach(page)
    yield page
    passed = not request.node.stash.get(CALL_FAILED, True)  # after a failure, its own report is enough
    if passed:
        audit.check_now()
    context.close()
    CHECKED.update(audit.checked)
    CHECKS[0] += audit.checks
    if passed and (problems := audit.problems()):
        pytest.fail(f"Accessibility (axe-core, WCAG 2 A/AA) in {name}:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    yield from _session(browser, request, "page")


@pytest.fixture
def other_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A second, independent browser session (its own cookies) for the other person."""
    yield from _session(browser, request, "other_page")


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/")


def screenshot(page: Page, name: str) -> None:
    """docs/screenshots/<name>.png, only when SCREENSHOTS=1 (`make screenshots`): test runs leave the files alone."""
    if os.environ.get("SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
