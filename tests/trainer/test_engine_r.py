"""The R engine, all real: a Celery worker, bubblewrap sandboxes running Rscript with the harness's R shim on the R
runtime, the trusted scorer. The R task's reference passes its tiny variant and its starter does not; the run
records R, reticulate, Keras and TensorFlow as measured inside, equal to what is installed (read from outside). An
R script's system("curl ...") reaches nothing and writes nothing outside its job. An .R script is refused by a
task that does not take R, and Python code by the R task, with a message that says what to submit.
"""

from __future__ import annotations

import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.conftest import make_user
from tests.trainer.conftest import REFERENCE, REPO, Worker, submit, wait_for_run
from tests.trainer.test_engines_end_to_end import installed
from tests.trainer.test_hostile import (
    HOSTILE_DIR,
    assert_failed,
    assert_no_marked_processes,
    hostile_report,
    new_marker,
    watch,
)
from trainer.catalogue import DIAMONDS_R
from trainer.errors import TrainingError
from trainer.models import TaskSpec
from trainer.sandbox.config import sandbox_config
from trainer.services import attempt_submit

REFERENCE_R = DIAMONDS_R.path("reference.R").read_bytes()
STARTER_R = DIAMONDS_R.path("starter.R").read_bytes()
_learners = iter(range(1, 1000))


def learner() -> Any:
    return make_user(f"r-learner-{next(_learners)}", "learner")


# --- what may be submitted (no worker) ------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_r_script_is_refused_by_a_task_that_does_not_take_r(tiny_task: TaskSpec) -> None:
    with pytest.raises(TrainingError, match=r"does not take R scripts .*submit \.py, \.ipynb") as caught:
        attempt_submit(learner=learner(), task=tiny_task, upload=SimpleUploadedFile("model.R", REFERENCE_R))
    assert caught.value.status == 400


@pytest.mark.django_db
def test_python_code_is_refused_by_the_r_task_and_r_code_by_a_python_engine(r_task: TaskSpec) -> None:
    with pytest.raises(TrainingError, match=r"This task is done in R: submit \.R"):
        attempt_submit(learner=learner(), task=r_task, upload=SimpleUploadedFile("model.py", REFERENCE))
    with pytest.raises(TrainingError, match="This task trains on r"):
        attempt_submit(
            learner=learner(), task=r_task, upload=SimpleUploadedFile("model.R", REFERENCE_R), engine="tensorflow"
        )
    run = attempt_submit(learner=learner(), task=r_task, upload=SimpleUploadedFile("Prices.R", REFERENCE_R))
    assert (run.engine, run.source_kind) == ("r", "r")


@pytest.mark.django_db
def test_on_a_task_taking_r_and_python_the_file_decides_the_engine_unless_one_is_asked(r_task: TaskSpec) -> None:
    r_task.engines = ["tensorflow", "r"]
    r_task.save()
    assert attempt_submit(learner=learner(), task=r_task, upload=SimpleUploadedFile("a.R", REFERENCE_R)).engine == "r"
    assert attempt_submit(learner=learner(), task=r_task, upload=SimpleUploadedFile("a.py", REFERENCE)).engine == (
        "tensorflow"
    )
    with pytest.raises(TrainingError, match=r"The R \(.*\) engine runs an \.R script") as caught:
        attempt_submit(learner=learner(), task=r_task, upload=SimpleUploadedFile("a.py", REFERENCE), engine="r")
    assert caught.value.status == 400
    with pytest.raises(TrainingError, match="engine runs Python code") as caught:
        attempt_submit(
            learner=learner(), task=r_task, upload=SimpleUploadedFile("a.R", REFERENCE_R), engine="tensorflow"
        )
    assert caught.value.status == 400


@pytest.mark.django_db
def test_the_attempt_form_and_the_api_offer_the_r_engine(r_task: TaskSpec, client: Client) -> None:
    client.force_login(learner())
    page = client.get(r_task.get_absolute_url()).content.decode()
    assert '<option value="r"' in page and "Starter .R" in page and "Starter .py" not in page
    starter = client.get(f"/tasks/{r_task.slug}/starter.R")
    assert starter.status_code == 200 and starter.content == STARTER_R
    assert client.get(f"/api/tasks/{r_task.slug}/").json()["engines"] == ["r"]


# --- end to end on a real worker ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def module_worker(
    sandbox: None, data_dir: Path, django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    """One worker keeping one warm R sandbox (no TensorFlow one: no run here needs it)."""
    started = Worker(
        data_dir, tmp_path_factory.mktemp("engine-r") / "worker.log", TRAINER_POOL_SIZE="0",
        TRAINER_POOL_SIZES="r=1", TRAINER_HEARTBEAT_STALE_SECONDS="60",
    )  # fmt: skip
    yield started
    started.stop()


@pytest.fixture
def worker(module_worker: Worker, r_task: TaskSpec) -> Worker:
    assert module_worker.process.poll() is None, module_worker.log()[-3000:]
    return module_worker


def installed_r() -> dict[str, str]:
    """R's and reticulate's versions, asked of R outside any sandbox."""
    code = 'cat(paste(R.version$major, R.version$minor, sep = "."), as.character(packageVersion("reticulate")))'
    done = subprocess.run(["Rscript", "--vanilla", "-e", code], capture_output=True, text=True, check=True)
    r, reticulate = done.stdout.split()
    return {"r": r, "reticulate": reticulate}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_r_tasks_reference_passes_and_its_starter_does_not(
    worker: Worker, r_task: TaskSpec, client: Client
) -> None:
    reference = submit(learner(), r_task, REFERENCE_R, "reference.R")
    starter = submit(learner(), r_task, STARTER_R, "starter.R")
    reference, starter = wait_for_run(reference, 300), wait_for_run(starter, 300)

    assert reference.status == "succeeded", (reference.error_kind, reference.error_message, reference.log_tail[-3000:])
    assert reference.passed is True and reference.metrics["r2"] >= r_task.threshold, reference.metrics
    assert {"rmse", "mae"} <= set(reference.metrics)
    assert reference.engine == "r" and len(reference.history) == r_task.max_epochs
    env = reference.environment
    assert {key: env.get(key) for key in ("r", "reticulate")} == installed_r(), env
    assert env["keras"] == installed("r", "keras") and env["tensorflow"] == installed("r", "tensorflow_cpu"), env
    assert env["backend"] == "tensorflow" and env["device"] == "CPU", env
    assert starter.status == "succeeded", (starter.error_kind, starter.error_message, starter.log_tail[-3000:])
    assert starter.passed is False and starter.metrics["r2"] < r_task.threshold, starter.metrics
    assert "x_train" not in starter.error_message and "carat" in starter.log_tail  # the starter's R summary()
    client.force_login(reference.learner)
    page = client.get(reference.get_absolute_url()).content.decode()
    assert reference.get_engine_display() in page and env["r"] in page and env["tensorflow"] in page
    assert re.search(rf"reticulate</th>\s*<td>{re.escape(env['reticulate'])}<", page), page


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r_system_curl_reaches_nothing_and_writes_nothing_outside_the_job(worker: Worker, r_task: TaskSpec) -> None:
    marker = new_marker()
    heard: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def listen() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            heard.append(connection.recv(1000))
            connection.close()

    listening = threading.Thread(target=listen, daemon=True)
    listening.start()
    venv = sandbox_config().python_for("r").parent.parent
    name = f"skillproof-hostile-{marker}.txt"
    targets = [
        Path("/var/tmp") / name, Path("/") / name, Path(settings.TRAINER_ROOT) / name, venv / name,
        Path("/usr/lib/R/site-library") / name, Path("/etc/R") / name, REPO / name,
    ]  # fmt: skip
    code = (HOSTILE_DIR / "system_curl.R").read_text()
    for key, value in {"MARKER": marker, "PORT": port, "TARGETS": "|".join(map(str, targets))}.items():
        code = code.replace(f"@{key}@", str(value))
    try:
        run, _ = watch(submit(learner(), r_task, code.encode(), "hostile.R"), marker)
    finally:
        stop.set()
        listening.join()
        listener.close()

    assert_failed(run, "learner_error")
    assert "Your R script failed while loading: HOSTILE REPORT" in run.error_message, run.error_message
    report = hostile_report(run)
    assert heard == [], heard  # the host's loopback is not the sandbox's
    for key in ("curl_host", "curl_internet", "wget_host"):
        assert re.search(r"EXIT=[1-9]", report[key]), (key, report[key])
    assert [path for path in targets if path.exists()] == []
    written = [key for key, value in report.items() if value == "WROTE" or value.endswith("EXIT=0")]
    assert written == ["sleeper"], report  # only the background sleep started (and it must not outlive the run)
    assert_no_marked_processes(marker)  # the background sleep died with the sandbox
