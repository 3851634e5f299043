"""The engine of a run, without a worker: chosen on the form and in the API, checked against the task and the
installation, shown on the run page and in the evidence. The runs themselves: test_engines_end_to_end.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.trainer.conftest import REFERENCE, submit
from tests.trainer.test_attempts import api_for, post_attempt
from tracker.models import User
from trainer.engines import Engine, measured_engine
from trainer.models import TaskSpec, TrainingRun
from trainer.services import TrainingError

pytestmark = pytest.mark.django_db


def test_a_task_takes_every_keras_3_engine_unless_it_says_otherwise(tiny_task: TaskSpec) -> None:
    fresh = TaskSpec(slug="x", title="x", claim=tiny_task.claim, dataset=tiny_task.dataset, brief="x", threshold=0.5)
    assert fresh.engines == ["tensorflow", "jax", "torch"]
    # The shipped tiny Fashion-MNIST task also takes legacy tf.keras code; the GAN's loop needs TensorFlow.
    assert tiny_task.allowed_engines() == ["tensorflow", "jax", "torch", "tf_keras"]


def test_an_attempt_runs_on_the_engine_it_asks_for(alice: User, tiny_task: TaskSpec) -> None:
    api = api_for(alice)
    body = post_attempt(api, tiny_task, engine="jax").json()
    assert body["engine"] == "jax" and body["engine_label"] == "Keras 3 on JAX", body
    assert TrainingRun.objects.get(pk=body["id"]).engine == "jax"
    default = post_attempt(api, tiny_task).json()
    assert default["engine"] == "tensorflow"  # the task's first engine
    task = api.get(f"/api/tasks/{tiny_task.slug}/").json()
    assert task["engines"] == ["tensorflow", "jax", "torch", "tf_keras"]


def test_an_engine_the_task_does_not_take_is_refused_naming_those_it_does(alice: User, tiny_task: TaskSpec) -> None:
    TaskSpec.objects.filter(pk=tiny_task.pk).update(engines=["tensorflow", "jax"])
    response = post_attempt(api_for(alice), tiny_task, engine="torch")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "tensorflow (Keras 3 on TensorFlow), jax (Keras 3 on JAX)" in detail and "torch (" not in detail, detail
    assert not TrainingRun.objects.exists()


def test_an_unknown_engine_is_a_400_not_a_500(alice: User, tiny_task: TaskSpec) -> None:
    response = post_attempt(api_for(alice), tiny_task, engine="theano")
    assert response.status_code == 400 and "engine" in response.json(), response.json()
    with pytest.raises(TrainingError, match="There is no engine 'theano'"):
        submit(alice, tiny_task, REFERENCE, engine="theano")
    assert not TrainingRun.objects.exists()


def test_an_engine_this_installation_does_not_install_is_not_offered(
    alice: User, tiny_task: TaskSpec, settings: Any
) -> None:
    settings.TRAINER_ENGINES = ["tensorflow", "torch"]
    assert tiny_task.allowed_engines() == ["tensorflow", "torch"]
    response = post_attempt(api_for(alice), tiny_task, engine="jax")
    assert response.status_code == 400 and "jax" not in response.json()["detail"].split("trains on")[1]
    settings.TRAINER_ENGINES = ["jax"]
    TaskSpec.objects.filter(pk=tiny_task.pk).update(engines=["tensorflow"])
    response = post_attempt(api_for(alice), tiny_task)
    assert (
        response.status_code == 400 and "None of the engines this task takes is installed" in response.json()["detail"]
    )


def test_the_form_offers_the_tasks_engines_and_the_run_page_names_the_one_chosen(
    client: Client, alice: User, tiny_task: TaskSpec
) -> None:
    TaskSpec.objects.filter(pk=tiny_task.pk).update(engines=["torch", "tensorflow"])
    client.force_login(alice)
    page = client.get(tiny_task.get_absolute_url()).content.decode()
    assert '<option value="tensorflow" selected>Keras 3 on TensorFlow</option>' in page, page
    assert '<option value="torch">Keras 3 on PyTorch</option>' in page and 'value="jax"' not in page
    response = client.post(
        tiny_task.get_absolute_url(), {"file": SimpleUploadedFile("m.py", REFERENCE), "engine": "torch"}
    )
    run = TrainingRun.objects.get()
    assert response.status_code == 302 and run.engine == "torch"
    assert "on Keras 3 on PyTorch" in client.get(run.get_absolute_url()).content.decode()
    refused = client.post(
        tiny_task.get_absolute_url(), {"file": SimpleUploadedFile("m.py", REFERENCE), "engine": "jax"}
    )
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()


def test_an_admin_cannot_give_a_task_an_unknown_engine(tiny_task: TaskSpec) -> None:
    for wrong in (["tensorflow", "cntk"], [], "jax", [3]):
        tiny_task.engines = wrong
        with pytest.raises(ValidationError) as error:
            tiny_task.clean()
        assert "engines" in error.value.message_dict, wrong
    tiny_task.engines = ["tf_keras"]
    tiny_task.clean()


def test_what_was_measured_is_what_the_run_page_and_evidence_show(alice: User, tiny_task: TaskSpec) -> None:
    run = submit(alice, tiny_task, REFERENCE, engine="jax")
    run.environment = {
        "python": "3.11.2", "keras": "3.15.1", "keras_flavour": "keras", "backend": "jax", "jax": "0.10.2",
        "jaxlib": "0.10.2", "device": "CPU", "devices": ["CPU"],
    }  # fmt: skip
    run.timings = {"train": 3.0, "cold_start": ["train", "predict"]}
    rows = dict(run.provenance())
    assert rows["Engine"] == "Keras 3 on JAX" and rows["Keras backend (measured)"] == "jax"
    assert rows["JAX"] == "0.10.2" and "TensorFlow" not in rows
    assert rows["Sandbox start"].startswith("cold: no warm Keras 3 on JAX sandbox was waiting (train, predict)")
    assert run.environment_text() == "Keras 3.15.1 on jax (JAX 0.10.2, jaxlib 0.10.2), CPU"
    assert measured_engine(run.environment) == Engine.JAX
    assert measured_engine({"backend": "tensorflow", "keras_flavour": "tf_keras"}) == Engine.TF_KERAS
    assert measured_engine({"backend": "theano"}) is None


def test_the_admin_sees_runs_failures_and_median_time_per_engine(
    client: Client, admin_user: User, alice: User, tiny_task: TaskSpec
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    start = timezone.now()
    for engine, status, kind, seconds in [
        ("jax", "succeeded", "", 10), ("jax", "failed", "nan_loss", 20), ("jax", "failed", "worker_lost", 60),
        ("torch", "succeeded", "", 40), ("torch", "queued", "", None),
    ]:  # fmt: skip
        run = submit(alice, tiny_task, REFERENCE, engine=engine)
        end = start + timedelta(seconds=seconds) if seconds else None
        TrainingRun.objects.filter(pk=run.pk).update(
            status=status, error_kind=kind, started_at=start if seconds else None, finished_at=end
        )
    client.force_login(admin_user)
    page = client.get("/admin/trainer/trainingrun/").content.decode()
    rows = {row.split("</td>")[0]: row for row in page.split("<tr><td>")[1:]}
    assert "<td>3</td><td>2</td><td>1</td><td>20.0 s</td>" in rows["Keras 3 on JAX (<code>jax</code>)"], page
    assert "<td>2</td><td>0</td><td>0</td><td>40.0 s</td>" in rows["Keras 3 on PyTorch (<code>torch</code>)"]
    assert "<td>0</td><td>0</td><td>0</td><td>—</td>" in rows["Keras 3 on TensorFlow (<code>tensorflow</code>)"]


def test_sandbox_setup_without_r_says_what_to_install_before_installing_anything(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.management import CommandError, call_command

    from trainer.management.commands import sandbox_setup

    settings.TRAINER_SANDBOX, settings.TRAINER_ENGINES = "none", ["tensorflow", "r"]
    settings.TRAINER_ROOT, settings.TRAINER_RUNTIME_DIR = tmp_path, tmp_path / "runtime"
    monkeypatch.setattr(sandbox_setup.shutil, "which", lambda name: None)  # a machine without Debian's R
    with pytest.raises(CommandError, match="apt-get install r-base-core r-cran-reticulate r-cran-ggplot2"):
        call_command("sandbox_setup", "--install-only")
    assert list((tmp_path / "runtime").iterdir()) == []  # no runtime was started


def test_a_sandbox_that_reports_r_ran_the_r_engine() -> None:
    keras3_on_tf = {"keras_flavour": "keras", "backend": "tensorflow"}
    assert measured_engine(keras3_on_tf) == Engine.TENSORFLOW
    assert measured_engine(keras3_on_tf | {"r": "4.2.2", "reticulate": "1.28"}) == Engine.R


def _default_engines(path: str) -> list[str]:
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TRAINER_ENGINES"} | {"PATH": path, "SECRET_KEY": "x"}
    code = "import json; from tracker.project import settings; print(json.dumps(settings.TRAINER_ENGINES))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_default_engines_take_r_only_where_r_is_installed() -> None:
    """A machine without Debian's R still sets up and trains on every Python engine (make run on a fresh machine);
    where Rscript is installed, R is offered too."""
    import shutil

    assert _default_engines("/nonexistent") == ["tensorflow", "jax", "torch", "tf_keras"]
    assert shutil.which("Rscript"), "Debian's R is installed where the tests run (.ci/run)"
    assert _default_engines("/usr/local/bin:/usr/bin:/bin") == ["tensorflow", "jax", "torch", "tf_keras", "r"]
