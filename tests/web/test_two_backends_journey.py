"""Claim 2 in a real browser: the learner reads on the task page that the claim takes two backends, files a
TensorFlow attempt with their JAX attempt as the second run, and the mentor reviews the two side by side.

The two attempts are left as the worker leaves them (made with the services: the engine tests train the tiny
task on each backend for real); everything after is pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from evidence.models import Evidence
from tests.conftest import make_user
from tests.trainer.conftest import data_dir, tiny_task  # noqa: F401 - fixtures used by name
from tests.trainer.test_two_engines import scored
from tests.web.conftest import log_in, screenshot
from tracker.models import Competency
from tracker.services import mentor_assign
from trainer.models import TaskSpec

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_learner_files_two_backends_and_the_mentor_compares_them(
    page: Page,
    other_page: Page,
    live_server: LiveServer,
    tiny_task: TaskSpec,  # noqa: F811
    keras: Competency,
) -> None:
    base = live_server.url
    learner = make_user("learner", "learner")
    mentor_assign(mentor=make_user("mentor"), competencies=[keras])
    tf = scored(learner, tiny_task, "tensorflow", 0.8125, [2.5, 1.5])
    jax = scored(learner, tiny_task, "jax", 0.7975, [6.0, 0.75])

    # 1. The task page says claim 2 takes two backends and which engines there are.
    log_in(page, base, "learner")
    page.goto(f"{base}/tasks/{tiny_task.slug}/")
    expect(page.locator("#two-engines-2")).to_contain_text("Claim 2 takes two backends.")
    expect(page.locator("#two-engines-2")).to_contain_text("Keras 3 on JAX")

    # 2. Filing the TensorFlow attempt for claim 2 alone is refused with the reason; with the JAX one it is filed.
    page.goto(f"{base}{tf.get_absolute_url()}")
    page.get_by_label("Evidence for the claim").select_option(label=f"2. {tiny_task.two_engine_claims.get().text}")
    page.get_by_role("button", name="File as evidence").click()
    expect(page.get_by_role("alert")).to_contain_text("another backend")
    second = page.get_by_label("Second run, on another backend")
    expect(second.locator("option")).to_have_count(2)  # "—" and the JAX attempt: never another TensorFlow one
    second.select_option(str(jax.pk))
    page.get_by_role("button", name="File as evidence").click()
    expect(page.locator(".messages")).to_contain_text("in your mentor's review queue")
    evidence = Evidence.objects.get()
    assert evidence.filing.companion == jax

    # 3. The mentor opens it from the queue: the two runs side by side.
    log_in(other_page, base, "mentor")
    other_page.get_by_role("link", name="Review queue").click()
    other_page.get_by_role("link", name="Review", exact=True).click()
    table = other_page.get_by_role("table", name=f"On two backends: attempts #{tf.pk} and #{jax.pk} side by side")
    expect(table).to_be_visible()
    backend = table.get_by_role("row").filter(has=other_page.get_by_role("rowheader", name="Keras backend (measured)"))
    expect(backend).to_contain_text("tensorflow")
    expect(backend).to_contain_text("jax")
    first_epoch = table.get_by_role("row").filter(has=other_page.get_by_role("rowheader", name="First epoch"))
    expect(first_epoch).to_contain_text("6.00 s")
    other_page.get_by_role("link", name=f"#{jax.pk}").first.click()
    expect(other_page.get_by_role("heading", level=1)).to_have_text(f"Attempt {jax.pk}")
    other_page.go_back()
    screenshot(other_page, "two-backends")
