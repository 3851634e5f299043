"""Test sets stay secret: generated splits come from a per-installation secret kept beside the data (never in a
dataset folder, so never in a sandbox, never in the repository); tasks on public test data train on the server
only, with a code cap far below the test set's size, and their dataset card says what remains possible."""

from __future__ import annotations

import stat
import subprocess
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.conftest import make_user
from trainer.catalogue import FULL_TASKS, PUBLIC_DATA_CODE_KB, TASKS
from trainer.datasets import base, fashion_mnist
from trainer.datasets.base import SECRET_FILE, TEST_INPUTS_FILE, TEST_LABELS_FILE, installation_seeds
from trainer.datasets.registry import dataset_build, dataset_folder
from trainer.errors import TrainingError
from trainer.models import Dataset, TaskSpec
from trainer.services import attempt_submit, tasks_sync

REPO = Path(__file__).resolve().parents[2]


def load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def test_the_secret_is_created_once_private_and_beside_the_data(tmp_path: Path) -> None:
    first = installation_seeds(tmp_path)
    secret = tmp_path / SECRET_FILE
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(secret.read_bytes()) == base.SECRET_BYTES
    assert installation_seeds(tmp_path) == first  # read back, never replaced
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_FILE]  # no staging file left behind


def test_two_builds_starting_at_once_agree_on_one_secret(tmp_path: Path) -> None:
    found: list[base.Seeds] = []
    threads = [threading.Thread(target=lambda: found.append(installation_seeds(tmp_path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 1 and found[0].secret == (tmp_path / SECRET_FILE).read_bytes()


def test_a_configured_secret_wins_and_is_checked(tmp_path: Path) -> None:
    assert installation_seeds(tmp_path, "ab" * 16).secret == b"\xab" * 16
    assert not (tmp_path / SECRET_FILE).exists()  # several machines share the configured one instead
    with pytest.raises(ValueError, match="hexadecimal"):
        installation_seeds(tmp_path, "not hex")
    with pytest.raises(ValueError, match="at least 16 bytes"):
        installation_seeds(tmp_path, "abcd")
    (tmp_path / SECRET_FILE).write_bytes(b"short")
    with pytest.raises(ValueError, match="damaged"):
        installation_seeds(tmp_path)


def test_seeds_name_their_purpose() -> None:
    seeds = base.Seeds(b"k" * 32)
    assert seeds.rng("a").integers(1 << 62) == seeds.rng("a").integers(1 << 62)
    assert seeds.rng("a").integers(1 << 62) != seeds.rng("b").integers(1 << 62)
    assert base.Seeds(b"j" * 32).rng("a").integers(1 << 62) != seeds.rng("a").integers(1 << 62)


def test_no_secret_file_in_the_repository() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert SECRET_FILE not in tracked
    assert SECRET_FILE in (REPO / ".gitignore").read_text() or "var/" in (REPO / ".gitignore").read_text()


@pytest.mark.django_db
def test_dataset_build_uses_the_installation_secret_and_keeps_it_out_of_the_dataset(
    tmp_path: Path, settings: Any
) -> None:
    settings.TRAINER_DATASET_SECRET = ""
    dataset = dataset_build(slug=fashion_mnist.TINY_SLUG, data_dir=tmp_path)
    folder = dataset_folder(slug=fashion_mnist.TINY_SLUG, data_dir=tmp_path)
    assert (tmp_path / SECRET_FILE).is_file()
    assert not list(folder.rglob(SECRET_FILE))
    secret = (tmp_path / SECRET_FILE).read_bytes()
    assert all(secret not in p.read_bytes() for p in folder.rglob("*") if p.is_file())
    # Fashion-MNIST's test set is public: the row says so, and the test images come in an installation order.
    assert dataset.test_labels_public
    other = tmp_path / "elsewhere"
    settings.TRAINER_DATASET_SECRET = "cd" * 32
    fashion_mnist.build(other, seeds=installation_seeds(other, settings.TRAINER_DATASET_SECRET), tiny=True)
    assert not np.array_equal(load(folder / TEST_LABELS_FILE)["y"], load(other / TEST_LABELS_FILE)["y"])


def test_the_full_public_test_set_is_reordered_per_installation(tmp_path: Path) -> None:
    """Not the published order: a list of labels in that order scores nothing."""
    fashion_mnist.build(tmp_path, seeds=base.Seeds(b"q" * 32))
    published = fashion_mnist.read_idx(fashion_mnist.SOURCE_DIR / fashion_mnist.SOURCE_FILES["test_y"])
    ours = load(tmp_path / TEST_LABELS_FILE)["y"]
    assert sorted(ours.tolist()) == sorted(published.tolist())
    assert np.mean(ours == published) < 0.2  # what a random order agrees on: about 10%
    assert load(tmp_path / TEST_INPUTS_FILE)["x"].shape == (10_000, 28, 28)


def test_no_shipped_task_on_public_test_data_takes_models() -> None:
    public = {"fashion-mnist", "fashion-mnist-tiny", "fashion-mnist-embed", "fashion-mnist-embed-tiny"}
    public |= {"wordnet-glosses", "wordnet-glosses-tiny", "fashion-negatives", "fashion-negatives-tiny"}
    public |= {"diamonds", "diamonds-tiny"}  # ggplot2's, row for row
    for task in TASKS:
        if task.dataset in public:
            assert not task.allow_evaluate_only, task.slug
            assert task.max_code_kb == PUBLIC_DATA_CODE_KB, task.slug
    # The cap is far below what a table of the whole test set needs (10,000 images: about 21 KB at best).
    assert PUBLIC_DATA_CODE_KB * 1024 < 21_000
    # ... and above what the shipped code needs.
    for task in FULL_TASKS:
        for name in (f"starter{task.suffix}", f"reference{task.suffix}"):
            assert task.path(name).stat().st_size < task.max_code_kb * 1024 / 4, (task.slug, name)


@pytest.fixture
def public_task(keras: Any, tmp_path: Path, settings: Any) -> TaskSpec:
    settings.TRAINER_DATA_DIR = tmp_path
    dataset_build(slug=fashion_mnist.TINY_SLUG, data_dir=tmp_path)
    tasks_sync()
    TaskSpec.objects.filter(slug="fashion-mnist-tiny").update(is_tiny=False)
    return TaskSpec.objects.get(slug="fashion-mnist-tiny")


@pytest.mark.django_db
def test_public_data_refuses_models_even_when_asked(public_task: TaskSpec) -> None:
    public_task.allow_evaluate_only = True
    with pytest.raises(ValidationError) as error:
        public_task.full_clean()
    assert "test labels are public" in str(error.value)
    public_task.save()  # as a script bypassing the admin could: still no model is taken
    learner = make_user("pat", "learner")
    upload = SimpleUploadedFile("model.keras", b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(TrainingError, match="trains your code on the server"):
        attempt_submit(learner=learner, task=public_task, upload=upload)
    tasks_sync()  # the shipped definition never turns it on for public data
    assert not TaskSpec.objects.get(pk=public_task.pk).allow_evaluate_only


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["big.py", "big.ipynb"])
def test_code_over_the_cap_is_refused_with_the_figures(public_task: TaskSpec, name: str) -> None:
    import nbformat

    table = "LABELS = " + repr({i: i % 10 for i in range(4000)}) + "\n"
    if name.endswith(".py"):
        data = table.encode()
    else:
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(table)])
        data = nbformat.writes(notebook).encode()
    learner = make_user("pat", "learner")
    with pytest.raises(TrainingError) as error:
        attempt_submit(learner=learner, task=public_task, upload=SimpleUploadedFile(name, data))
    message = error.value.message
    assert f"at most {PUBLIC_DATA_CODE_KB} KB" in message and "KB of code" in message
    assert not learner.training_runs.exists()


@pytest.mark.django_db
def test_the_task_page_says_what_the_test_set_is(public_task: TaskSpec, client: Client) -> None:
    client.force_login(make_user("pat", "learner"))
    page = client.get(public_task.get_absolute_url()).content.decode()
    assert "Public." in page and f"at most {PUBLIC_DATA_CODE_KB} KB" in page and "What remains possible" in page
    assert "or a trained .keras model" not in page
    Dataset.objects.filter(pk=public_task.dataset_id).update(test_labels_public=False)
    page = client.get(public_task.get_absolute_url()).content.decode()
    assert "Secret." in page and "its own secret seed" in page
