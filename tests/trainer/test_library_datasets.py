"""The task library's datasets and catalogue: every tiny builder, the sources' install hints, and that each
shipped task has what a learner needs (brief, starter, notebook) and what tests need (a reference)."""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from tracker.formats.seed_markdown import parse_seed_markdown
from trainer.catalogue import CATALOGUE_DIR, FULL_TASKS, TASKS
from trainer.datasets import base, registry, speech, wordnet
from trainer.datasets.base import LABELS_DIR, SHARED_DIR, TEST_INPUTS_FILE, TEST_LABELS_FILE, TRAIN_FILE
from trainer.datasets.registry import BUILDERS

TINY_WITHOUT_RUNTIME = [t for t in TASKS if t.tiny and t.dataset != "fashion-negatives-tiny"]
SEEDS = base.Seeds(b"this installation's own secret..")
OTHER_SEEDS = base.Seeds(b"another installation's secret...")


def load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, base.BuiltDataset]]:
    out = {}
    for task in TINY_WITHOUT_RUNTIME:
        folder = tmp_path_factory.mktemp(task.dataset)
        out[task.dataset] = (folder, BUILDERS[task.dataset](folder, seeds=SEEDS))
    return out


@pytest.mark.parametrize("task", TINY_WITHOUT_RUNTIME, ids=lambda t: t.slug)
def test_tiny_dataset_fits_its_task(task: object, built: dict[str, tuple[Path, base.BuiltDataset]]) -> None:
    folder, result = built[task.dataset]  # type: ignore[attr-defined]
    spec = task.spec  # type: ignore[attr-defined]
    assert result.slug == task.dataset and result.version == registry.VERSIONS[result.slug]  # type: ignore[attr-defined]
    train, inputs, truth = load(folder / TRAIN_FILE), load(folder / TEST_INPUTS_FILE), load(folder / TEST_LABELS_FILE)
    names = spec.get("inputs") or ["x"]
    for name in names:
        assert name in train and name in inputs
        assert train[name].dtype != object and len(train[name]) == len(train["y"])
    rows = len(inputs[names[0]])
    assert "y" not in inputs, "the test input must never hold labels"
    assert len(truth["y"]) == rows
    shape = spec.get("input_shape")
    if shape:  # the harness reshapes x to input_shape when the sizes agree
        assert math.prod(train["x"].shape[1:]) == math.prod(shape) == math.prod(inputs["x"].shape[1:])
    if task.problem in ("classification", "tagging", "segmentation"):  # type: ignore[attr-defined]
        assert int(truth["y"].max()) < spec["num_classes"] and int(train["y"].max()) < spec["num_classes"]
        assert truth["y"].shape[1:] == tuple(spec.get("output_shape", [spec["num_classes"]])[:-1])
    # Every card picture named in the stats exists; the stats count what is in the files.
    for picture in result.stats.get("pictures", []):
        assert (folder / picture).is_file()
    assert result.stats["splits"]["train"]["count"] == len(train["y"])
    assert result.stats["total_bytes"] == sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("slug", [t.dataset for t in TINY_WITHOUT_RUNTIME if t.dataset != "spoken-digits-tiny"])
def test_tiny_builds_are_reproducible(
    slug: str, built: dict[str, tuple[Path, base.BuiltDataset]], tmp_path: Path
) -> None:
    folder, _ = built[slug]
    BUILDERS[slug](tmp_path, seeds=SEEDS)
    assert base.files_checksum(tmp_path) == base.files_checksum(folder)


@pytest.mark.parametrize("slug", [t.dataset for t in TINY_WITHOUT_RUNTIME if t.dataset != "spoken-digits-tiny"])
def test_another_installation_draws_another_test_split(
    slug: str, built: dict[str, tuple[Path, base.BuiltDataset]], tmp_path: Path
) -> None:
    """The test split comes from the installation's secret: Skillproof's source alone cannot recompute it."""
    folder, _ = built[slug]
    BUILDERS[slug](tmp_path, seeds=OTHER_SEEDS)
    ours, theirs = load(folder / TEST_LABELS_FILE), load(tmp_path / TEST_LABELS_FILE)
    assert ours.keys() == theirs.keys()
    assert any(not np.array_equal(ours[name], theirs[name]) for name in ours)
    inputs_ours, inputs_theirs = load(folder / TEST_INPUTS_FILE), load(tmp_path / TEST_INPUTS_FILE)
    assert any(not np.array_equal(inputs_ours[name], inputs_theirs[name]) for name in inputs_ours)


def test_labels_stay_in_their_folder(built: dict[str, tuple[Path, base.BuiltDataset]]) -> None:
    for folder, _ in built.values():
        tops = {p.relative_to(folder).parts[0] for p in folder.rglob("*") if p.is_file()}
        assert tops <= {TRAIN_FILE, TEST_INPUTS_FILE, LABELS_DIR, SHARED_DIR, base.CARD_DIR}


def test_missing_wordnet_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wordnet, "SOURCE", tmp_path / "data.noun")
    with pytest.raises(base.DatasetUnavailable, match="apt-get install wordnet-base"):
        wordnet.build(tmp_path / "out", seeds=base.Seeds(b"s" * 32), tiny=True)


def test_missing_espeak_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(speech.shutil, "which", lambda name: None)
    with pytest.raises(base.DatasetUnavailable, match="apt-get install espeak-ng"):
        speech.build(tmp_path, seeds=base.Seeds(b"s" * 32), tiny=True)


def test_wordnet_test_texts_are_not_training_texts(built: dict[str, tuple[Path, base.BuiltDataset]]) -> None:
    folder, _ = built["wordnet-glosses-tiny"]
    train, inputs = load(folder / TRAIN_FILE), load(folder / TEST_INPUTS_FILE)
    assert not set(train["text"].tolist()) & set(inputs["text"].tolist())
    assert train["vocabulary"][0] == "<pad>" and int(train["x"].max()) < len(train["vocabulary"])


def test_speech_test_settings_are_unseen() -> None:
    grid = speech.settings_grid()
    assert len(grid) == len(set(grid)) == 288


# --- the catalogue ------------------------------------------------------------------------------------------

KERAS = parse_seed_markdown((Path(__file__).resolve().parents[2] / "tracker" / "catalogue" / "keras.md").read_text())


def test_every_claim_that_takes_training_evidence_has_a_task() -> None:
    proven = {order for task in FULL_TASKS for order in (task.claim_order, *task.also_claim_orders)}
    taking_training = 0
    for order, claim in enumerate(KERAS.claims, start=1):
        if "training" in claim.evidence_kinds:
            taking_training += 1
            assert order in proven, f"claim {order} takes training evidence but no task proves it"
    assert taking_training == 8  # claim 4 by the export task, claim 6 (Keras from R) by the R task


@pytest.mark.parametrize("task", FULL_TASKS, ids=lambda t: t.slug)
def test_each_task_ships_a_brief_starter_and_reference(task: object) -> None:
    folder, suffix = CATALOGUE_DIR / task.folder, task.suffix  # type: ignore[attr-defined]
    for name in ("brief.md", f"starter{suffix}", f"reference{suffix}"):
        assert (folder / name).is_file(), f"{task.slug} lacks {name}"  # type: ignore[attr-defined]
    for name in (f"starter{suffix}", f"reference{suffix}"):
        if suffix == ".R":  # top-level R functions: `name <- function(`
            functions = set(re.findall(r"^(\w+) <- function\(", (folder / name).read_text(), re.MULTILINE))
        else:
            tree = ast.parse((folder / name).read_text())
            functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert "build_model" in functions
        if task.spec.get("loss", "x") is None:  # type: ignore[attr-defined]
            assert "train" in functions, "a task with no standard loss needs train()"
    assert (task.metric and 0 <= task.baseline < task.threshold <= task.reference + 1e-9) or task.metric == "is_like"  # type: ignore[attr-defined]


def fake_stats() -> dict[str, object]:
    """Every scalar a brief may quote, as a built dataset would record it."""
    return {
        "splits": {"train": {"count": 1000}, "test": {"count": 200}}, "gallery": 100, "queries": 100,
        "settings": {"train": 230, "test": 58}, "sample_rate": 8000, "vocabulary_size": 32, "sequence_length": 20,
        "frames": 8, "latent_dim": 32, "classifier_accuracy": 0.98, "base_params": 100, "base_source_accuracy": 0.9,
        "base_target_accuracy": 0.2, "real_digits": {"is_like": 9.0, "fid_like": 0.2},
        "random_noise": {"is_like": 2.2, "fid_like": 28.0},
    }  # fmt: skip


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.slug)
def test_brief_fills_every_field(task: object) -> None:
    text = task.brief(fake_stats())  # type: ignore[attr-defined]
    assert not re.search(r"\{[a-z_]+\}", text), "a {field} was left unfilled"
    assert str(task.max_epochs) in text  # type: ignore[attr-defined]


def notebook_code(source: str) -> str:
    """What the server runs of a notebook: code cells, magic and shell lines dropped."""
    notebook = nbformat.reads(source, as_version=4)
    cells = [c.source for c in notebook.cells if c.cell_type == "code"]
    return "\n\n".join("\n".join(x for x in c.splitlines() if not x.lstrip().startswith(("%", "!"))) for c in cells)


@pytest.mark.django_db
@pytest.mark.parametrize("definition", [t for t in FULL_TASKS if t.suffix == ".py"], ids=lambda t: t.slug)
def test_starter_notebook_compiles_and_guards_colab_cells(definition: object, keras: object) -> None:
    from tracker.models import Claim
    from trainer.models import Dataset, TaskSpec
    from trainer.starters import starter_notebook

    dataset = Dataset.objects.create(slug=definition.dataset, version="1", title="d", path="/nowhere", checksum="0")  # type: ignore[attr-defined]
    claim = Claim.objects.get(competency=keras, order=definition.claim_order)  # type: ignore[attr-defined]
    task = TaskSpec.objects.create(
        slug=definition.slug, title=definition.title, claim=claim, dataset=dataset, brief="b",  # type: ignore[attr-defined]
        threshold=definition.threshold, spec=definition.spec, problem=definition.problem,  # type: ignore[attr-defined]
    )  # fmt: skip
    source = starter_notebook(task, site_url="https://skillproof.example")
    code = notebook_code(source)
    tree = ast.parse(code)  # valid Python once magics are dropped, as the server runs it
    assert "%%writefile submission.py" in source
    assert f"/api/tasks/{task.slug}/runs/" in source and "file_if_passes" in source
    guarded = [n for n in tree.body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test)]
    assert len(guarded) == 2  # the try-out and the submission never run on the server
    assert not any("requests" in ast.unparse(n) for n in tree.body if n not in guarded)


@pytest.mark.django_db
def test_a_failing_builder_does_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: object
) -> None:
    import io

    from django.core.management import CommandError, call_command

    from trainer.models import Dataset

    def explode(out_dir: Path, *, seeds: base.Seeds) -> base.BuiltDataset:
        raise RuntimeError("the synthesiser crashed")

    settings.TRAINER_DATA_DIR = tmp_path  # type: ignore[attr-defined]
    for slug in [s for s in BUILDERS if s not in ("neighbour-tags-tiny", "babi-rooms-tiny")]:
        monkeypatch.delitem(BUILDERS, slug)
    monkeypatch.setitem(BUILDERS, "aaa-broken", explode)
    monkeypatch.setitem(registry.VERSIONS, "aaa-broken", "1")
    err = io.StringIO()
    with pytest.raises(CommandError, match="aaa-broken"):
        call_command("build_datasets", stdout=io.StringIO(), stderr=err)
    assert "aaa-broken: not built, the builder failed: RuntimeError: the synthesiser crashed" in err.getvalue()
    assert set(Dataset.objects.values_list("slug", flat=True)) == {"neighbour-tags-tiny", "babi-rooms-tiny"}
