"""Claim 6 in a real browser, all real: the learner opens the R task, takes its starter .R, uploads the reference
.R script, and watches the run on a Celery worker whose warm R sandbox runs Rscript → reticulate → Keras. The
finished run page names the R engine with R's, reticulate's, Keras's and TensorFlow's versions as measured inside
the sandbox, the R² against the threshold, and every page passes axe-core.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.conftest import make_user
from tests.trainer.conftest import Worker, data_dir, r_task, sandbox  # noqa: F401 - fixtures used by name

# module_worker: the R tests' worker (one warm R sandbox, no TensorFlow one), reused here by name.
from tests.trainer.test_engine_r import REFERENCE_R, STARTER_R, installed_r, module_worker  # noqa: F401
from tests.web.conftest import log_in, screenshot
from trainer.models import TaskSpec, TrainingRun

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_learner_trains_the_r_task_in_the_browser(
    page: Page,
    live_server: LiveServer,
    module_worker: Worker,  # noqa: F811
    r_task: TaskSpec,  # noqa: F811
) -> None:
    assert module_worker.process.poll() is None, module_worker.log()[-3000:]
    base = live_server.url
    make_user("learner", "learner")
    log_in(page, base, "learner")

    # 1. The task page offers the R starter, and R is the only engine it takes.
    page.goto(f"{base}/tasks/{r_task.slug}/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Starter .R").click()
    assert Path(download.value.path()).read_bytes() == STARTER_R
    engine = page.get_by_label("Engine")
    expect(engine.locator("option")).to_have_count(1)
    expect(engine.locator("option")).to_have_text("R (Keras 3 on TensorFlow, through reticulate)")

    # 2. Upload the reference .R script; the run page takes over and shows it finished, scored on the hidden rows.
    page.get_by_label("Your submission").set_input_files(
        files=[{"name": "reference.R", "mimeType": "text/plain", "buffer": REFERENCE_R}]
    )
    page.get_by_role("button", name="Train and score it").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+/$"))
    run = TrainingRun.objects.get()
    expect(page.locator("#run-state")).to_have_text("Scored", timeout=300_000)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.passed, (run.error_kind, run.error_message, run.log_tail[-3000:])

    # 3. What ran, as measured inside the sandbox, in the provenance table; R² with its threshold.
    page.reload()
    versions = installed_r()
    provenance = page.get_by_role("table").filter(has=page.get_by_role("rowheader", name="Engine"))
    for header, value in [
        ("Engine", "R (Keras 3 on TensorFlow, through reticulate)"),
        ("Keras backend (measured)", "tensorflow"),
        ("Device", "CPU"),
    ]:
        expect(provenance.get_by_role("row").filter(has=page.get_by_role("rowheader", name=header))).to_contain_text(
            value
        )
    expect(provenance).to_contain_text(versions["r"])
    expect(provenance).to_contain_text(versions["reticulate"])
    expect(page.get_by_text(f"{run.metrics['r2']:.4f}").first).to_be_visible()
    screenshot(page, "run-r")
