"""axe-core on every page a browser test visits, in the state the test leaves it (WCAG 2.0/2.1, levels A and AA).

When does a page get checked? When the test leaves it: the page's own `beforeunload` starts axe, and a route
handler holds the next request of the main frame's navigation until axe has reported, so the state a test
reached by typing, clicking or waiting is checked, and the check never races the next page. The page a test
ends on is checked at teardown. After an htmx swap the page is checked again (at most every few seconds: the
run page polls every second). A MutationObserver skips a check when nothing changed since the last one.

Nothing escapes: every URL the main frame showed must have been checked at least once, or the test fails
saying which was not.

Why in the page, through an init script and a binding, rather than `page.evaluate`: while a navigation request
is held, Chromium answers no evaluation in the old document (it waits for the navigation), yet the document's
own scripts keep running. And why not a <script> tag: the site's Content-Security-Policy refuses inline scripts,
and the suite keeps that policy on (tests/web/test_csp_journey.py); init scripts are not subject to it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from playwright.sync_api import Frame, Page, Request, Route

AXE_SOURCE = Path(settings.BASE_DIR) / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
HTMX_RECHECK_MS = 3000  # the run page swaps its status every second; checking each swap would slow it down
LEAVE_GRACE_S = 1.0  # a navigation that fires no beforeunload (a download) waits this long, then goes
CHECK_TIMEOUT_S = 30.0
# Markup we do not write, left out of the check: Swagger UI (drf-spectacular's sidecar) nests buttons in its
# operation headers and colours its method labels below 4.5:1, known upstream (swagger-api/swagger-ui#7350,
# #9576). The rest of those pages is still checked.
THIRD_PARTY = {"/api/docs/": [".swagger-ui"]}

# Runs in every document before its own scripts. window.__a11yReport is the Python side (A11yAudit._report).
GLUE = """
(() => {
  if (window.top !== window || !/^https?:$/.test(location.protocol)) return;
  const tags = %(tags)s;
  const context = {exclude: (%(third_party)s[location.pathname] || []).map(selector => [selector])};
  let dirty = true, running = null, lastHtmx = 0;
  const observer = new MutationObserver(() => { dirty = true; });
  observer.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  async function run(why) {
    while (running) await running;
    if (!dirty) return window.__a11yReport({why, url: location.href, violations: null});
    running = (async () => {
      const results = await axe.run(context, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
      observer.takeRecords();  // axe's own probing is no change of the page
      dirty = false;
      const violations = results.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => ({
          target: n.target.map(t => [].concat(t).join(' >>> ')).join(' '),
          why: (n.failureSummary || '').split('\\n').slice(1).join(' ').trim(),
        })),
      }));
      await window.__a11yReport({why, url: location.href, violations});
    })();
    try { await running; } finally { running = null; }
  }
  window.__a11yCheck = run;
  addEventListener('beforeunload', () => { window.__a11yReport({why: 'leaving', url: location.href}); run('left'); });
  document.addEventListener('htmx:afterSettle', () => {
    if (Date.now() - lastHtmx < %(htmx_ms)d) return;
    lastHtmx = Date.now();
    run('htmx');
  });
})();
"""


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    target: str
    path: str
    help: str
    why: str

    def __str__(self) -> str:
        return f"{self.rule} ({self.impact}) on {self.path}: {self.target} — {self.help}: {self.why}"


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class A11yAudit:
    """Checks one browser tab for its whole life; `problems()` says what it found."""

    page: Page
    violations: dict[tuple[str, str, str], Violation] = field(default_factory=dict)
    visited: set[str] = field(default_factory=set)
    checked: set[str] = field(default_factory=set)
    checks: int = 0
    leave: str = ""  # the current document's: "" (still showing), "leaving" (axe running), "left" (checked)

    @classmethod
    def attach(cls, page: Page) -> A11yAudit:
        audit = cls(page)
        glue = GLUE % {
            "tags": json.dumps(WCAG_TAGS), "third_party": json.dumps(THIRD_PARTY), "htmx_ms": HTMX_RECHECK_MS
        }  # fmt: skip
        page.add_init_script(AXE_SOURCE.read_text() + "\n" + glue)
        page.expose_binding("__a11yReport", audit._report)
        page.route("**/*", audit._before_request)
        page.on("framenavigated", audit._navigated)
        return audit

    def check_now(self) -> None:
        """Check the page as it is (no navigation may be under way)."""
        if urlsplit(self.page.url).scheme in ("http", "https"):
            self.page.evaluate("() => window.__a11yCheck('final')")

    def problems(self) -> list[str]:
        unchecked = [f"never checked: {path}" for path in sorted(self.visited - self.checked)]
        return [str(violation) for violation in self.violations.values()] + unchecked

    def _report(self, source: Any, report: dict[str, Any]) -> None:
        if report["why"] == "leaving":
            self.leave = "leaving"
            return
        if report["why"] == "left":
            self.leave = "left"
        path = _path(report["url"])
        self.checked.add(path)
        self.checks += report["violations"] is not None
        for item in report["violations"] or []:
            for node in item["nodes"]:
                violation = Violation(item["id"], item["impact"], node["target"], path, item["help"], node["why"])
                self.violations.setdefault((violation.rule, path, violation.target), violation)

    def _before_request(self, route: Route, request: Request) -> None:
        try:
            if request.is_navigation_request() and request.frame == self.page.main_frame:
                self._wait_until_left()
        finally:
            route.fallback()

    def _wait_until_left(self) -> None:
        """Hold the navigation until the page it leaves has been checked (its beforeunload started the check)."""
        if urlsplit(self.page.url).scheme not in ("http", "https"):
            return  # about:blank: nothing to check
        started = time.monotonic()
        while not self.leave and time.monotonic() - started < LEAVE_GRACE_S:
            self.page.wait_for_timeout(20)
        while self.leave == "leaving" and time.monotonic() - started < CHECK_TIMEOUT_S:
            self.page.wait_for_timeout(20)

    def _navigated(self, frame: Frame) -> None:
        if frame != self.page.main_frame:
            return
        if urlsplit(frame.url).scheme in ("http", "https"):
            self.visited.add(_path(frame.url))
        self.leave = ""
