"""A learner trains a model through real pages and watches it live: task page → upload → run page.

Everything is real: pytest-django's live server, Debian's Chromium, a Celery worker process on the
same test database, the bubblewrap sandbox and TensorFlow. The tiny task trains in a couple of
seconds, too fast to watch, so these tests use slower variants of it ("tiny-live", 6 epochs, and
"tiny-cancel", 20 epochs) and a solution whose `train()` fits with small batches: about a second
or two per epoch on the tiny split.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import nbformat
import pytest
from playwright.sync_api import ConsoleMessage, Page, expect
from pytest_django.live_server_helper import LiveServer

from evidence.models import Evidence
from tests.conftest import make_user
from tests.trainer.conftest import (  # noqa: F401 - fixtures used by name
    REFERENCE,
    Worker,
    data_dir,
    sandbox,
    tiny_task,
    worker,
)
from tests.web.conftest import log_in, screenshot
from trainer.catalogue import TASKS
from trainer.models import TaskSpec, TrainingRun

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# The reference CNN, trained with batches of 8 on the whole tiny train split (1,800 images): measured
# 1-3 s per epoch on the 2-core CPU box, so 6 epochs take ~9-17 s (accuracy ~0.84, passes at 0.5).
SLOW_SOURCE = (
    REFERENCE
    + b"""

def train(model, data, spec):
    model.fit(
        data["x_train"], data["y_train"], validation_data=(data["x_val"], data["y_val"]),
        epochs=spec["epochs"], batch_size=8, verbose=2,
    )
    return model
"""
)
FINISHED = ("Scored", "Failed", "Cancelled")

# One read of everything the live panel shows; the chart is the Chart.js instance run.js keeps.
LIVE_STATE_JS = """() => {
  const bar = document.querySelector('#run-status [role=progressbar]');
  const canvas = document.getElementById('curves');
  const chart = window.Chart && canvas ? Chart.getChart(canvas) : undefined;
  return {
    state: (document.getElementById('run-state')?.textContent || '').trim(),
    now: bar ? Number(bar.getAttribute('aria-valuenow')) : null,
    progress: (document.getElementById('run-progress')?.textContent || '').trim(),
    points: chart ? chart.data.labels.length : null,
    same_document: window.__sameDocument === true,
  };
}"""


def _variant(tiny: TaskSpec, slug: str, epochs: int) -> TaskSpec:
    """A copy of the tiny task with another slug and epoch budget (and a brief that says so)."""
    definition = replace(next(t for t in TASKS if t.slug == tiny.slug), slug=slug, max_epochs=epochs)
    task = TaskSpec.objects.get(pk=tiny.pk)
    task.pk = None
    task._state.adding = True
    task.slug, task.max_epochs, task.brief = slug, epochs, definition.brief()
    task.title = f"Classify Fashion-MNIST clothing images ({slug})"
    task.save()
    return task


@pytest.fixture
def live_task(tiny_task: TaskSpec) -> TaskSpec:  # noqa: F811 - the imported fixture
    make_user("learner", "learner")
    return _variant(tiny_task, "tiny-live", 6)


@pytest.fixture
def cancel_task(tiny_task: TaskSpec) -> TaskSpec:  # noqa: F811 - the imported fixture
    make_user("learner", "learner")
    return _variant(tiny_task, "tiny-cancel", 20)


@pytest.fixture
def console_errors(page: Page) -> Iterator[list[str]]:
    """Every console error, uncaught exception and 4xx/5xx response on the page; the test fails on any."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.on(
        "response",
        lambda response: errors.append(f"http {response.status}: {response.url}") if response.status >= 400 else None,
    )
    yield errors


def _submit(page: Page, base: str, task: TaskSpec, name: str) -> int:
    """Upload SLOW_SOURCE through the task page's form; returns the run id from the page it lands on."""
    page.goto(f"{base}/tasks/{task.slug}/")
    page.get_by_label("Your submission").set_input_files(
        files=[{"name": name, "mimeType": "text/x-python", "buffer": SLOW_SOURCE}]
    )
    page.get_by_role("button", name="Train and score it").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+/$"))
    match = re.search(r"/runs/(\d+)/$", page.url)
    assert match
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Attempt {match.group(1)}")
    # Set after the page loaded: it survives htmx swaps but not a reload or a navigation.
    page.evaluate("() => { window.__sameDocument = true; }")
    return int(match.group(1))


def _watch(page: Page, until: tuple[str, ...], seconds: float, on_sample: Any = None) -> list[dict[str, Any]]:
    """Sample the live panel every 0.2 s until its badge reads one of `until`."""
    samples: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while True:
        sample = page.evaluate(LIVE_STATE_JS)
        samples.append(sample)
        if on_sample:
            on_sample(sample)
        if sample["state"] in until:
            return samples
        assert time.monotonic() < deadline, f"still {sample} after {seconds}s; seen {samples[-5:]}"
        page.wait_for_timeout(200)


def test_learner_submits_code_and_watches_it_train_live(
    page: Page,
    live_server: LiveServer,
    worker: Worker,  # noqa: F811 - the imported fixture
    live_task: TaskSpec,
    console_errors: list[str],
) -> None:
    base = live_server.url
    log_in(page, base, "learner")

    # 1. The task page: brief, metric and threshold, starter downloads, the upload form.
    page.goto(f"{base}/tasks/tiny-live/")
    expect(page.get_by_role("heading", level=1)).to_have_text(live_task.title)
    brief = page.locator(".prose")
    expect(brief).to_contain_text("Build a Keras image classifier for Fashion-MNIST")
    expect(brief).to_contain_text("At most 6 epochs")
    glance = page.locator("aside")
    expect(glance.get_by_role("row").filter(has_text="Pass when")).to_contain_text("accuracy ≥ 0.5")
    expect(glance.get_by_role("row").filter(has_text="Budget")).to_contain_text("6 epochs")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Starter .py").click()
    starter = download_info.value
    assert starter.suggested_filename == "tiny-live-starter.py"
    assert "def build_model(spec)" in Path(starter.path()).read_text()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Starter notebook (Colab)").click()
    notebook_download = download_info.value
    assert notebook_download.suggested_filename == "tiny-live-starter.ipynb"
    notebook = nbformat.reads(Path(notebook_download.path()).read_text(), as_version=4)
    nbformat.validate(notebook)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "def build_model(spec)" in code
    assert "/api/tasks/tiny-live/runs/" in code and f'SITE = "{base}"' in code

    run_id = _submit(page, base, live_task, "live.py")
    run = TrainingRun.objects.get(pk=run_id)
    assert run.task == live_task and run.epochs == 6 and run.source_kind == "py"

    # 2. Live, without reloading: Queued/Running, then the bar, the epoch text and the chart move.
    expect(page.locator("#run-state")).to_have_text(re.compile(r"^(Queued|Running)$"))
    expect(page.locator("#run-progress")).to_contain_text("of 6")
    shot = {"taken": False}

    def maybe_screenshot(sample: dict[str, Any]) -> None:
        if not shot["taken"] and sample["state"] == "Running" and (sample["points"] or 0) >= 2:
            screenshot(page, "run-live")
            shot["taken"] = True

    started = time.monotonic()
    samples = _watch(page, FINISHED, 180, maybe_screenshot)
    watched = time.monotonic() - started
    assert all(s["same_document"] for s in samples), "the run page reloaded or navigated"
    final = samples[-1]
    run.refresh_from_db()
    assert final["state"] == "Scored", (final, run.error_kind, run.error_message, run.log_tail[-2000:])

    running = [s for s in samples if s["state"] == "Running"]
    values = [s["now"] for s in running]
    assert values == sorted(values), f"aria-valuenow went backwards: {values}"
    distinct = sorted({v for v in values if v})
    assert len(distinct) >= 2, f"aria-valuenow while running: {values}"
    texts = [s["progress"] for s in running]
    epoch_texts = {re.match(r"Epoch \d+ of 6", t).group(0) for t in texts if re.match(r"Epoch \d+ of 6", t)}
    assert len(epoch_texts) >= 2, f"epoch text while running: {sorted(set(texts))}"
    # None: sampled before the deferred chart script had drawn (the page is already live by then).
    points = [s["points"] or 0 for s in running]
    assert max(points) >= 2, f"chart points while running: {points}"
    assert points == sorted(points), f"chart points went backwards: {points}"
    assert shot["taken"]
    seconds = [row["seconds"] for row in run.history]
    print(
        f"\nwatched {watched:.1f}s; epoch seconds {seconds}; train {run.timings.get('train')}s; "
        f"valuenow seen {distinct}; chart points seen {sorted(set(points))}"
    )

    # 3. Scored: the result, metrics, model, picture, provenance and the model download.
    assert final["now"] == 6 and final["points"] == 6, final
    expect(page.locator("#run-progress")).to_contain_text("Epoch 6 of 6")
    result = page.locator("p.result")
    expect(result).to_have_class(re.compile(r"\bpass\b"))
    accuracy = run.metrics["accuracy"]
    expect(result).to_contain_text(f"Passed: accuracy {accuracy:.4f} (threshold 0.5)")
    metrics = page.locator("p.result + table")
    expect(metrics.get_by_role("row").filter(has_text="accuracy")).to_contain_text(str(accuracy))
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)

    model = page.locator("section").filter(has=page.get_by_role("heading", name="Model", exact=True))
    expect(model).to_contain_text(f"{run.param_count:,} model parameters")
    expect(page.locator("pre.summary")).to_contain_text("conv2d")
    expect(page.locator("pre.summary")).to_contain_text("Total params")
    page.get_by_text("Architecture picture").click()
    picture = model.get_by_role("img", name="Architecture of the model")
    expect(picture).to_be_visible()
    page.wait_for_function("() => document.querySelector('img.architecture')?.naturalWidth > 0")

    provenance = page.locator("section").filter(has=page.get_by_role("heading", name="Provenance"))

    def provenance_row(name: str) -> Any:
        return provenance.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name, exact=True))

    expect(provenance_row("Code SHA-256")).to_contain_text(hashlib.sha256(SLOW_SOURCE).hexdigest())
    expect(provenance_row("Dataset")).to_contain_text(live_task.dataset.checksum)
    expect(provenance_row("Keras")).to_contain_text("3.15.1")
    expect(provenance_row("Engine")).to_contain_text("TensorFlow")
    expect(provenance_row("Keras backend (measured)").get_by_role("cell")).to_have_text("tensorflow")
    expect(provenance_row("TensorFlow")).to_contain_text("2.21.0")

    with page.expect_download() as download_info:
        model.get_by_role("link", name="Download model.keras").click()
    download = download_info.value
    assert download.suggested_filename == f"run-{run_id}-model.keras"
    saved = Path(download.path()).read_bytes()
    assert zipfile.is_zipfile(io.BytesIO(saved))
    with zipfile.ZipFile(io.BytesIO(saved)) as archive:
        assert "config.json" in archive.namelist()
        assert json.loads(archive.read("config.json"))["class_name"] == "Sequential"

    page.evaluate("() => window.scrollTo(0, 0)")
    screenshot(page, "run-finished")
    assert page.evaluate("() => window.__sameDocument === true")
    # An attempt: nothing reaches the mentor until the learner files it, which the page offers.
    assert not Evidence.objects.exists()
    expect(page.get_by_role("button", name=f"File as evidence for claim {live_task.claim.order}")).to_be_visible()
    assert console_errors == []


def test_learner_cancels_a_running_training(
    page: Page,
    live_server: LiveServer,
    worker: Worker,  # noqa: F811 - the imported fixture
    cancel_task: TaskSpec,
    console_errors: list[str],
) -> None:
    base = live_server.url
    log_in(page, base, "learner")
    run_id = _submit(page, base, cancel_task, "slow.py")

    # Wait, on the live page, until training is under way (at least one epoch done).
    _watch(page, ("Running",), 120)
    page.wait_for_function(
        "() => Number(document.querySelector('#run-status [role=progressbar]')?.getAttribute('aria-valuenow')) >= 1",
        timeout=120_000,
    )
    expect(page.locator("#run-progress")).to_contain_text(re.compile(r"Epoch \d+ of 20"))

    # The Cancel button posts a form and comes back to the run page, which then polls to the end.
    page.get_by_role("button", name="Cancel").click()
    expect(page).to_have_url(f"{base}/runs/{run_id}/")
    page.evaluate("() => { window.__sameDocument = true; }")
    expect(page.locator(".messages")).to_contain_text("Cancelling…")
    samples = _watch(page, FINISHED, 60)
    assert samples[-1]["state"] == "Cancelled", samples[-1]
    assert all(s["same_document"] for s in samples), "the run page reloaded or navigated"
    expect(page.locator("#run-status")).to_contain_text("This run was cancelled.")
    expect(page.get_by_role("button", name=re.compile("Cancel"))).to_have_count(0)
    run = TrainingRun.objects.get(pk=run_id)
    assert run.status == "cancelled" and run.cancel_requested and 1 <= run.epoch < 20
    # A cancelled run saved no model and no picture, so the page must not offer them. (It did: the
    # link and the <img> showed whenever the run had an artifacts folder; the picture 404ed.)
    assert run.artifact_path("model.keras") is None and run.artifact_path("predict/architecture.png") is None
    expect(page.get_by_role("link", name="Download model.keras")).to_have_count(0)
    expect(page.locator("img.architecture")).to_have_count(0)
    assert not [e for e in console_errors if "/files/" in e], console_errors

    # A cancelled attempt cannot be filed, and nothing reached the mentor.
    expect(page.get_by_role("button", name=re.compile("File as evidence"))).to_have_count(0)
    assert not Evidence.objects.exists()
    assert console_errors == []
