"""Attempts in a real browser: three attempts (one refused while two run), two curves compared, the best filed,
the mentor sees the path and approves. Real worker, sandbox and training."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from evidence.models import Evidence, Status
from tests.conftest import make_user
from tests.trainer.conftest import (  # noqa: F401 - fixtures used by name
    REFERENCE,
    Worker,
    data_dir,
    sandbox,
    tiny_task,
    wait_for_run,
    worker,
)
from tests.trainer.test_attempts_worker import SCALED_TWICE
from tests.web.conftest import log_in, screenshot
from tracker.models import Competency
from tracker.services import mentor_assign
from trainer.models import TaskSpec, TrainingRun

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

COMPARE_JS = """() => {
  const chart = Chart.getChart(document.getElementById('compare-chart'));
  return chart ? chart.data.datasets.map((d) => d.label) : null;
}"""


def _submit(page: Page, base: str, task: TaskSpec, name: str, code: bytes) -> None:
    page.goto(f"{base}/tasks/{task.slug}/")
    page.get_by_label("Your submission").set_input_files(
        files=[{"name": name, "mimeType": "text/x-python", "buffer": code}]
    )
    page.get_by_role("button", name="Train and score it").click()


def test_three_attempts_compare_file_the_best_and_the_mentor_approves(
    page: Page,
    other_page: Page,
    live_server: LiveServer,
    worker: Worker,  # noqa: F811 - the imported fixture
    tiny_task: TaskSpec,  # noqa: F811
    keras: Competency,
) -> None:
    base = live_server.url
    make_user("learner", "learner")
    mentor_assign(mentor=make_user("mentor"), competencies=[keras])
    log_in(page, base, "learner")
    page.goto(f"{base}/tasks/{tiny_task.slug}/")
    expect(page.locator("#quota")).to_contain_text("20 of 20 attempts left today")

    # 1. Two attempts: both queue or run; a third is refused until one finishes, with the reason.
    _submit(page, base, tiny_task, "first.py", REFERENCE)
    expect(page).to_have_url(re.compile(r"/runs/\d+/$"))
    _submit(page, base, tiny_task, "scaled.py", SCALED_TWICE)
    expect(page).to_have_url(re.compile(r"/runs/\d+/$"))
    _submit(page, base, tiny_task, "third.py", REFERENCE)
    expect(page.locator(".field-errors")).to_contain_text("at most 2 at once")
    first, scaled = TrainingRun.objects.order_by("pk")
    wait_for_run(first)
    wait_for_run(scaled)
    _submit(page, base, tiny_task, "third.py", REFERENCE)
    expect(page).to_have_url(re.compile(r"/runs/\d+/$"))
    expect(page.locator("#run-state")).to_have_text("Scored", timeout=120_000)
    third = TrainingRun.objects.order_by("pk").last()
    assert third is not None and wait_for_run(third).status == "succeeded"
    assert not Evidence.objects.exists()  # attempts never reach the mentor by themselves

    # 2. The task page: attempts newest first, the best, the quota; two curves drawn together.
    page.goto(f"{base}/tasks/{tiny_task.slug}/")
    rows = page.locator("#attempts tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text(f"#{third.pk}")
    expect(page.locator("#quota")).to_contain_text("17 of 20 attempts left today")
    best = max((first, scaled, third), key=lambda run: (run.refresh_from_db(), run.metrics["accuracy"])[1])
    expect(page.locator("#best-attempt")).to_contain_text(f"attempt #{best.pk}")
    page.get_by_label("Attempt", exact=True).select_option(str(scaled.pk))
    page.get_by_label("with attempt").select_option(str(best.pk))
    page.get_by_role("button", name="Compare").click()
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('compare-chart'))")
    labels = page.evaluate(COMPARE_JS)
    assert f"#{scaled.pk} loss" in labels and f"#{best.pk} val_loss" in labels, labels
    screenshot(page, "task-attempts")

    # 3. The scaled-twice attempt says why it did not learn.
    page.goto(f"{base}/runs/{scaled.pk}/")
    expect(page.locator(".hint")).to_contain_text("ln(10)")

    # 4. File the best; it goes to the mentor with the learner's note.
    page.goto(f"{base}/runs/{best.pk}/")
    page.get_by_label("A note for your mentor (optional)").fill("My best of three: is the dropout right?")
    screenshot(page, "run-file")
    page.get_by_role("button", name=re.compile("File as evidence")).click()
    expect(page.locator(".messages")).to_contain_text("in your mentor's review queue")
    evidence = Evidence.objects.get()
    expect(page).to_have_url(f"{base}{evidence.get_absolute_url()}")

    # 5. The mentor sees the run, the learner's path, and approves.
    log_in(other_page, base, "mentor")
    other_page.get_by_role("link", name="Review queue").click()
    expect(other_page.get_by_role("heading", level=1)).to_contain_text("1 waiting")
    other_page.get_by_role("row").filter(has=other_page.get_by_role("link", name="Review")).get_by_role(
        "link", name="Review"
    ).click()
    expect(other_page.locator(".run-summary")).to_contain_text(f"Trusted training run #{best.pk}")
    expect(other_page.locator("#other-attempts")).to_contain_text("3 attempts at this task")
    expect(other_page.locator(".answer")).to_contain_text("is the dropout right?")
    other_page.locator("#other-attempts").get_by_role("link").click()
    expect(other_page.get_by_role("heading", level=1)).to_contain_text("Attempts of learner")
    expect(other_page.locator("tbody tr")).to_have_count(3)
    other_page.go_back()
    other_page.get_by_role("radio", name="Approve").check()
    other_page.get_by_role("button", name="Record decision").click()
    expect(other_page.get_by_role("heading", level=1)).to_contain_text("Approved")
    assert Evidence.objects.get().status == Status.APPROVED
