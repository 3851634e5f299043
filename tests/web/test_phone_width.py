"""The main pages fit a phone: at 375 CSS pixels wide nothing makes the page scroll sideways.

A wide table or a long word may scroll inside its own box (`.table-scroll`, `pre`); the page itself may not.
The data is made with services (a run finished by hand: no training here); every page is opened as the
person who would open it. axe-core checks each one at this width too (tests/web/a11y.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import Page, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from credentials.keys import keyfile_create
from credentials.models import IssuedCredential
from evidence.services import EvidenceInput, evidence_create, review_record
from tests.conftest import make_competency, make_user
from tests.trainer.conftest import REFERENCE, data_dir, tiny_task  # noqa: F401 - fixtures used by name
from tests.web.conftest import log_in, screenshot
from tracker.models import Competency, User
from tracker.services import mentor_assign
from trainer.filings import run_file
from trainer.models import TaskSpec, TrainingRun
from trainer.services import attempt_submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE: ViewportSize = {"width": 375, "height": 812}

# The page's sideways overflow, and the outermost elements that stick out past the right edge.
OVERFLOW_JS = """() => {
  const width = window.innerWidth, scroll = document.scrollingElement.scrollWidth;
  const sticksOut = e => e.getBoundingClientRect().right > width + 0.5;
  const culprits = [...document.body.querySelectorAll('*')]
    .filter(e => sticksOut(e) && !sticksOut(e.parentElement) && e.getClientRects().length)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + [...e.classList].map(c => '.' + c).join('')
              + ` (${Math.round(e.getBoundingClientRect().right)} px: ${e.outerHTML.slice(0, 120)})`);
  return {scroll, width, culprits: culprits.slice(0, 5)};
}"""


def _scored_run(learner: User, task: TaskSpec) -> TrainingRun:
    """A finished, passing attempt as the worker would leave it (history, metrics, environment, log)."""
    run = attempt_submit(learner=learner, task=task, upload=SimpleUploadedFile("model.py", REFERENCE))
    history = [
        {"epoch": n, "loss": 1.2 / n, "accuracy": 0.6 + n / 20, "val_loss": 1.3 / n, "val_accuracy": 0.58 + n / 20}
        for n in (1, 2, 3)
    ]
    TrainingRun.objects.filter(pk=run.pk).update(
        status="succeeded", stage="done", passed=True, epoch=3, epochs=3, history=history,
        metrics={"accuracy": 0.8233, "macro_f1": 0.8191}, started_at=timezone.now(), finished_at=timezone.now(),
        environment={"python": "3.11.2", "tensorflow": "2.20.0", "keras": "3.12.0", "backend": "tensorflow"},
        log_tail="Epoch 3/3\n225/225 - 2s - 9ms/step - accuracy: 0.7500 - loss: 0.4000 - " + "x" * 200,
    )  # fmt: skip
    return TrainingRun.objects.get(pk=run.pk)


@pytest.fixture
def cohort(
    live_server: LiveServer,
    tiny_task: TaskSpec,  # noqa: F811 - the imported fixture
    settings: Any,
    tmp_path: Path,
) -> dict[str, str]:
    """A learner with evidence waiting, a filed run and a public credential; their mentor. Returns page paths."""
    settings.SITE_URL = live_server.url
    settings.CREDENTIALS_SIGNING_KEY = ""
    settings.CREDENTIALS_KEY_FILE = tmp_path / "credentials_keys"
    keyfile_create(settings.CREDENTIALS_KEY_FILE)
    keras: Competency = tiny_task.claim.competency
    widgets = make_competency("Widgets", claims=2)
    learner, mentor = make_user("learner", "learner"), make_user("mentor")
    mentor_assign(mentor=mentor, competencies=[keras, widgets])
    first = keras.active_claims().order_by("order").first()
    assert first is not None
    answer = EvidenceInput(kind="written", body="Keras is **one API** over TensorFlow, JAX and PyTorch. " * 3)
    written = evidence_create(learner=learner, claim=first, data=answer, submit=True)
    run = _scored_run(learner, tiny_task)
    filed = run_file(run=run, learner=learner, claim=tiny_task.claim, note="Is the dropout right?")
    for claim in widgets.active_claims():
        evidence = evidence_create(learner=learner, claim=claim, data=answer, submit=True)
        review_record(evidence=evidence, reviewer=mentor, decision="approve")
    credential = IssuedCredential.objects.get(learner=learner)
    credential.public = True
    credential.save()
    return {
        "run": f"/runs/{run.pk}/",
        "written": written.get_absolute_url(),
        "filed": filed.get_absolute_url(),
        "new evidence": f"/claims/{first.pk}/evidence/new/",
        "keras": keras.get_absolute_url(),
        "task": tiny_task.get_absolute_url(),
        "attempts": f"/tasks/{tiny_task.slug}/attempts/{learner.pk}/",
        "credential": credential.get_absolute_url(),
    }


def _overflowing(page: Page, base: str, paths: list[str]) -> list[str]:
    found = []
    for path in paths:
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status == 200, path
        expect(page.locator("main")).to_be_visible()
        measured = page.evaluate(OVERFLOW_JS)
        if measured["scroll"] > measured["width"]:
            found.append(
                f"{path}: {measured['scroll']} px wide in {measured['width']} ({', '.join(measured['culprits'])})"
            )
    return found


def test_main_pages_do_not_scroll_sideways_on_a_phone(
    page: Page, other_page: Page, live_server: LiveServer, cohort: dict[str, str]
) -> None:
    base = live_server.url
    for tab in (page, other_page):
        tab.set_viewport_size(PHONE)
    anonymous = ["/", "/competencies/", "/accounts/login/", "/accounts/signup/", cohort["credential"]]
    found = _overflowing(other_page, base, [*anonymous, "/credentials/verify/"])

    log_in(page, base, "learner")
    learner = ["/", "/dashboard/", "/competencies/", cohort["keras"], cohort["new evidence"], cohort["written"]]
    learner += ["/evidence/", cohort["filed"], cohort["run"], "/tasks/", cohort["task"], "/notifications/"]
    learner += ["/credentials/", cohort["credential"], "/accounts/tokens/"]
    found += _overflowing(page, base, learner)
    page.goto(f"{base}/dashboard/")
    screenshot(page, "phone-dashboard")

    log_in(other_page, base, "mentor")
    mentor = [
        "/review/",
        f"{cohort['written']}#decide",
        cohort["filed"],
        "/review/learners/",
        cohort["attempts"],
        "/runs/",
    ]
    found += _overflowing(other_page, base, mentor)
    assert found == [], "\n".join(found)
