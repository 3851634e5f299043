"""Task pages and the catalogue's links to them (no training here)."""

from __future__ import annotations

import json

import nbformat
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tracker.models import Competency, User
from trainer.models import Dataset, TaskSpec, TrainingRun
from trainer.pipeline import db_safe

pytestmark = pytest.mark.django_db


def test_claim_links_to_its_keras_task(client: Client, keras: Competency, tiny_task: TaskSpec) -> None:
    tiny_task.is_tiny = False  # the catalogue hides tiny variants
    tiny_task.save()
    body = client.get(keras.get_absolute_url()).content.decode()
    assert f'href="/tasks/{tiny_task.slug}/"' in body


def test_training_only_claim_sends_the_form_to_the_task(client: Client, alice: User, tiny_task: TaskSpec) -> None:
    claim = tiny_task.claim
    claim.evidence_kinds = ["training"]
    claim.save()
    client.force_login(alice)
    response = client.get(f"/claims/{claim.pk}/evidence/new/", follow=True)
    # The evidence form hands over to the trainer's page for the claim, which picks the claim's task.
    assert [url for url, _status in response.redirect_chain] == [
        f"/claims/{claim.pk}/task/",
        tiny_task.get_absolute_url(),
    ]
    assert response.status_code == 200


def test_task_page_shows_the_brief_and_refuses_bad_files(client: Client, alice: User, tiny_task: TaskSpec) -> None:
    page = client.get(tiny_task.get_absolute_url()).content.decode()
    assert "Fashion-MNIST" in page and "1,800 images" in page and "500 test images" in page
    client.force_login(alice)
    for name, content, message in [
        ("model.exe", b"MZ", "Submit .py, .ipynb."),
        ("bad.ipynb", b"{", "not valid JSON"),
        ("model.keras", b"PK\x03\x04", "trains your code on the server"),  # public test data: no models
        ("bad.py", b"\xff\xfe", "not UTF-8"),
    ]:
        response = client.post(tiny_task.get_absolute_url(), {"file": SimpleUploadedFile(name, content)})
        assert response.status_code == 400, name
        assert message in response.content.decode(), name
    assert not TrainingRun.objects.exists()
    # A task on secret test data may take models (shapes-segmentation does); a broken one is still refused.
    Dataset.objects.filter(pk=tiny_task.dataset_id).update(test_labels_public=False)
    TaskSpec.objects.filter(pk=tiny_task.pk).update(allow_evaluate_only=True)
    for name, content, message in [
        ("model.exe", b"MZ", "Submit .py, .ipynb or a trained .keras model."),
        ("bad.keras", b"not a zip", "not a .keras model file"),
    ]:
        response = client.post(tiny_task.get_absolute_url(), {"file": SimpleUploadedFile(name, content)})
        assert response.status_code == 400 and message in response.content.decode(), name
    assert not TrainingRun.objects.exists()


def test_starter_notebook_is_valid_and_guards_colab_only_cells(client: Client, tiny_task: TaskSpec) -> None:
    response = client.get(f"/tasks/{tiny_task.slug}/starter.ipynb")
    notebook = nbformat.reads(response.content.decode(), as_version=4)
    nbformat.validate(notebook)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "def build_model(spec)" in code
    assert code.count('if __name__ == "__main__":') == 2  # local try-out and submission skip on the server
    assert f"/api/tasks/{tiny_task.slug}/runs/" in code and '"file_if_passes": "true"' in code


def test_api_lists_tasks_with_their_spec(client: Client, tiny_task: TaskSpec) -> None:
    data = client.get(f"/api/tasks/{tiny_task.slug}/").json()
    assert data["spec"]["input_shape"] == [28, 28, 1] and data["spec"]["num_classes"] == 10
    assert data["claim"] == tiny_task.claim_id and data["metric"] == "accuracy"
    assert data["budget"]["epochs"] == tiny_task.max_epochs
    assert client.get(data["starter_py"]).status_code == 200


def test_db_safe_removes_nul_everywhere() -> None:
    dirty = {"a\x00": ["x\x00y", {"k": "\x00"}], "n": 1.5}
    clean = db_safe(dirty)
    assert "\x00" not in json.dumps(clean)
    assert clean["n"] == 1.5


def test_training_queue_shows_mentors_only_their_competencies_runs(
    client: Client, alice: User, charlie: User, dana: User, admin_user: User, tiny_task: TaskSpec
) -> None:
    from tests.trainer.conftest import REFERENCE, submit

    run = submit(alice, tiny_task, REFERENCE)
    for user, sees in ((charlie, True), (dana, False), (admin_user, True)):
        client.force_login(user)
        body = client.get("/runs/").content.decode()
        assert (f'href="/runs/{run.pk}/"' in body) == sees, user.username
    client.force_login(alice)
    assert client.get("/runs/").status_code == 404  # learners see their own runs on their evidence
