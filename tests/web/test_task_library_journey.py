"""A learner browses the task library in Chromium: the catalogue by claim, a task's dataset card with its
pictures, the starter notebook, and the leaderboard opt-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.conftest import make_user
from tests.trainer.conftest import data_dir  # noqa: F401 - fixture used by name
from tests.web.conftest import log_in, screenshot
from tracker.models import Competency, User
from trainer.models import TaskSpec

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The full tasks whose datasets build in seconds, and the tiny variants of the two that take longer (speech
# synthesis, pre-training the base model), shown in the catalogue as full tasks are.
SLOW = {"spoken-digits", "finetune-pretrained"}


@pytest.fixture
def shown_tasks(keras: Competency, data_dir: Path, settings: Any) -> list[TaskSpec]:  # noqa: F811
    """Three tasks, built and shown in the catalogue."""
    from trainer.catalogue import TASKS
    from trainer.datasets.registry import dataset_build
    from trainer.services import tasks_sync

    settings.TRAINER_DATA_DIR = data_dir
    shown = [
        t.slug
        for t in TASKS
        if (t.tiny and t.slug.removesuffix("-tiny") in SLOW) or (not t.tiny and t.slug not in SLOW)
    ]
    for task in TASKS:
        if task.slug in shown:
            dataset_build(slug=task.dataset, data_dir=data_dir)
    tasks_sync()
    TaskSpec.objects.filter(slug__in=shown).update(is_tiny=False)
    return list(TaskSpec.objects.filter(slug__in=shown))


def test_learner_browses_the_task_library(page: Page, live_server: LiveServer, shown_tasks: list[TaskSpec]) -> None:
    make_user("lena", "learner")
    log_in(page, live_server.url, "lena")

    page.get_by_role("link", name="Tasks", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Keras tasks")
    expect(page.locator("ol.claim-catalogue > li")).to_have_count(10)
    vision = page.locator("ol.claim-catalogue > li").nth(6)  # claim 7: computer vision
    expect(vision).to_contain_text("Segment generated shapes")
    expect(vision).to_contain_text("Extract image features")
    expect(page.locator("ol.claim-catalogue .card")).to_have_count(15)  # 12 tasks, one of them under 4 claims
    expect(vision).to_contain_text("mean_iou ≥ 0.8")
    expect(page.locator("ol.claim-catalogue > li").first).to_contain_text("reviewed by a mentor")
    screenshot(page, "tasks")

    vision.get_by_role("link", name="Segment generated shapes").click()
    expect(page.get_by_role("heading", name="Dataset card: Generated shapes")).to_be_visible()
    pictures = page.locator(".card-pictures img")
    expect(pictures).to_have_count(2)
    for index in range(2):  # the pictures really load (served from the dataset's card folder)
        pictures.nth(index).scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=pictures.nth(index).element_handle())
    expect(page.locator(".dataset-card")).to_contain_text("triangle")
    screenshot(page, "task-card")

    with page.expect_download() as download:
        page.get_by_role("link", name="Starter notebook (Colab)").click()
    notebook = nbformat.reads(Path(download.value.path()).read_text(), as_version=4)
    assert notebook.cells[3].source.startswith("%%writefile submission.py")

    page.get_by_role("link", name="Full leaderboard").click()
    expect(page.get_by_text("No passing runs to show yet.")).to_be_visible()
    page.get_by_role("button", name="Show me on the leaderboards").click()
    expect(page.get_by_text("You are on the leaderboards.")).to_be_visible()
    assert User.objects.get(username="lena").on_leaderboards is True
