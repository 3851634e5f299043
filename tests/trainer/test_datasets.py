"""Dataset builders, the registry service and the build_datasets command (real Fashion-MNIST from Debian)."""

from __future__ import annotations

import gzip
import io
import shutil
import struct
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.fixtures import Settings

from trainer.datasets import fashion_mnist, registry
from trainer.datasets.base import (
    TEST_INPUTS_FILE,
    TEST_LABELS_FILE,
    TRAIN_FILE,
    BuiltDataset,
    DatasetUnavailable,
    Seeds,
    file_sizes,
    files_checksum,
    write_npz,
)
from trainer.datasets.registry import dataset_build, dataset_files, dataset_is_current, dataset_verify
from trainer.models import Dataset

TINY = fashion_mnist.TINY_SLUG
SEEDS = Seeds(b"an installation's secret, 32 byte")


def write_idx(path: Path, payload: bytes) -> Path:
    with gzip.open(path, "wb") as handle:
        handle.write(payload)
    return path


def idx_bytes(type_code: int, dims: tuple[int, ...], data: bytes) -> bytes:
    return bytes([0, 0, type_code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + data


def load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


# read_idx


def test_read_idx_uint8_images(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "x.gz", idx_bytes(0x08, (2, 3, 4), bytes(range(24))))
    array = fashion_mnist.read_idx(path)
    assert array.dtype == np.uint8 and array.shape == (2, 3, 4)
    assert array[1, 2, 3] == 23
    array[0, 0, 0] = 1  # a writable copy, not a view of the decompressed bytes


def test_read_idx_big_endian_int32_comes_back_native(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "y.gz", idx_bytes(0x0C, (3,), struct.pack(">3i", 1, -2, 70000)))
    array = fashion_mnist.read_idx(path)
    assert array.tolist() == [1, -2, 70000] and array.dtype.isnative


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\x01\x00\x08\x01" + struct.pack(">I", 2) + b"ab", "not an IDX file"),
        (idx_bytes(0x07, (2,), b"ab"), "unknown IDX type code 0x07"),
        (idx_bytes(0x08, (2, 3), bytes(5)), "needs 6 bytes of data, the file holds 5"),
        (idx_bytes(0x08, (2, 3), bytes(7)), "the file holds 7"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "header cut short"),
        (b"\x00\x00\x08\x00", "at least one dimension"),
        (b"\x00\x00", "not an IDX file"),
    ],
)
def test_read_idx_refuses_a_corrupt_file(tmp_path: Path, payload: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fashion_mnist.read_idx(write_idx(tmp_path / "bad.gz", payload))


def test_read_idx_refuses_a_file_that_is_not_gzip(tmp_path: Path) -> None:
    path = tmp_path / "plain.gz"
    path.write_bytes(idx_bytes(0x08, (2,), b"ab"))
    with pytest.raises(ValueError, match="not a readable gzip file"):
        fashion_mnist.read_idx(path)


def test_read_idx_refuses_a_truncated_gzip(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "cut.gz", idx_bytes(0x08, (1000,), bytes(1000)))
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(ValueError, match="not a readable gzip file"):
        fashion_mnist.read_idx(path)


# write_npz and files_checksum


def test_write_npz_is_reproducible_and_loadable(tmp_path: Path) -> None:
    x = np.arange(12, dtype=np.uint8).reshape(3, 4)
    write_npz(tmp_path / "a" / "deep" / "f.npz", x=x, y=np.array([1, 2, 3]))
    write_npz(tmp_path / "b" / "deep" / "f.npz", x=x, y=np.array([1, 2, 3]))
    assert (tmp_path / "a/deep/f.npz").read_bytes() == (tmp_path / "b/deep/f.npz").read_bytes()
    # No wall-clock time in the archive, so a write at any later moment is identical too.
    with zipfile.ZipFile(tmp_path / "a/deep/f.npz") as archive:
        assert [(i.filename, i.date_time) for i in archive.infolist()] == [
            ("x.npy", (1980, 1, 1, 0, 0, 0)),
            ("y.npy", (1980, 1, 1, 0, 0, 0)),
        ]
    loaded = load(tmp_path / "a/deep/f.npz")
    assert loaded["x"].tolist() == x.tolist() and loaded["y"].tolist() == [1, 2, 3]


def test_write_npz_refuses_objects_and_non_arrays(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="object dtype"):
        write_npz(tmp_path / "f.npz", x=np.array([{}], dtype=object))
    with pytest.raises(TypeError, match="numpy array"):
        write_npz(tmp_path / "f.npz", x=[1, 2])  # type: ignore[arg-type]


def test_files_checksum_sees_contents_and_names(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.bin").write_bytes(b"one")
    (tmp_path / "sub" / "b.bin").write_bytes(b"two")
    original = files_checksum(tmp_path)
    assert files_checksum(tmp_path) == original
    (tmp_path / "sub" / "b.bin").rename(tmp_path / "sub" / "c.bin")
    renamed = files_checksum(tmp_path)
    assert renamed != original
    (tmp_path / "sub" / "c.bin").write_bytes(b"tw0")
    assert files_checksum(tmp_path) not in (original, renamed)
    assert file_sizes(tmp_path) == {"a.bin": 3, "sub/c.bin": 3}


def test_files_checksum_does_not_let_bytes_move_between_files(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"xy")
    (tmp_path / "b").write_bytes(b"z")
    before = files_checksum(tmp_path)
    (tmp_path / "a").write_bytes(b"x")
    (tmp_path / "b").write_bytes(b"yz")
    assert files_checksum(tmp_path) != before


# The tiny Fashion-MNIST build


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny")
    started = time.monotonic()
    built = fashion_mnist.build(out, seeds=SEEDS, tiny=True)
    assert time.monotonic() - started < 10
    assert built.slug == TINY and built.version == fashion_mnist.VERSION
    return out


def test_tiny_shapes_and_dtypes(tiny_dir: Path) -> None:
    train, test_inputs, test_labels = (
        load(tiny_dir / TRAIN_FILE),
        load(tiny_dir / TEST_INPUTS_FILE),
        load(tiny_dir / TEST_LABELS_FILE),
    )
    assert train["x"].shape == (2000, 28, 28) and train["x"].dtype == np.uint8
    assert train["y"].shape == (2000,)
    assert test_inputs["x"].shape == (500, 28, 28) and test_inputs["x"].dtype == np.uint8
    assert test_labels["y"].shape == (500,)


def test_tiny_is_stratified(tiny_dir: Path) -> None:
    assert np.bincount(load(tiny_dir / TRAIN_FILE)["y"], minlength=10).tolist() == [200] * 10
    assert np.bincount(load(tiny_dir / TEST_LABELS_FILE)["y"], minlength=10).tolist() == [50] * 10
    # Shuffled: the classes interleave rather than come in ten blocks.
    assert len(set(load(tiny_dir / TRAIN_FILE)["y"][:50].tolist())) > 5


def test_tiny_keeps_labels_apart(tiny_dir: Path) -> None:
    assert sorted(p.name for p in tiny_dir.iterdir()) == ["card", "labels", "test_inputs.npz", "train.npz"]
    assert set(load(tiny_dir / TRAIN_FILE)) == {"x", "y"}
    assert set(load(tiny_dir / TEST_INPUTS_FILE)) == {"x"}
    assert set(load(tiny_dir / TEST_LABELS_FILE)) == {"y"}


def test_tiny_images_are_real_training_images_with_their_labels(tiny_dir: Path) -> None:
    full_x = fashion_mnist.read_idx(fashion_mnist.SOURCE_DIR / fashion_mnist.SOURCE_FILES["train_x"])
    full_y = fashion_mnist.read_idx(fashion_mnist.SOURCE_DIR / fashion_mnist.SOURCE_FILES["train_y"])
    labels_of: dict[bytes, set[int]] = {}
    for image, label in zip(full_x, full_y, strict=True):
        labels_of.setdefault(image.tobytes(), set()).add(int(label))
    tiny = load(tiny_dir / TRAIN_FILE)
    assert all(int(y) in labels_of.get(x.tobytes(), set()) for x, y in zip(tiny["x"], tiny["y"], strict=True))


def test_tiny_build_is_deterministic(tiny_dir: Path, tmp_path: Path) -> None:
    built = fashion_mnist.build(tmp_path, seeds=SEEDS, tiny=True)
    assert files_checksum(tmp_path) == files_checksum(tiny_dir)
    stats = built.stats
    assert stats["splits"]["train"] == {"count": 2000, "class_counts": [200] * 10}
    assert stats["splits"]["test"] == {"count": 500, "class_counts": [50] * 10}
    assert stats["shape"] == [28, 28] and stats["dtype"] == "uint8"
    assert stats["class_names"][0] == "T-shirt/top" and stats["class_names"][9] == "Ankle boot"
    assert set(stats["file_sizes"]) == {TRAIN_FILE, TEST_INPUTS_FILE, TEST_LABELS_FILE, "card/images.png"}
    assert stats["total_bytes"] == sum(stats["file_sizes"].values())
    assert "float32" in built.description and "channel" in built.description


def test_missing_source_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fashion_mnist, "SOURCE_DIR", tmp_path / "nowhere")
    with pytest.raises(DatasetUnavailable, match=r"apt-get install dataset-fashion-mnist"):
        fashion_mnist.build(tmp_path / "out", seeds=SEEDS)
    assert not (tmp_path / "out").exists()


# dataset_build, dataset_files, dataset_verify


@pytest.mark.django_db
class TestDatasetBuild:
    def test_builds_and_records(self, tmp_path: Path) -> None:
        dataset = dataset_build(slug=TINY, data_dir=tmp_path)
        folder = tmp_path / TINY / fashion_mnist.VERSION
        assert dataset.path == str(folder) and dataset.checksum == files_checksum(folder)
        assert dataset.title == "Fashion-MNIST (tiny)" and dataset.licence == "MIT (Zalando Research)"
        assert dataset.source == "Debian package dataset-fashion-mnist"
        assert dataset.stats["splits"]["train"]["count"] == 2000
        files = dataset_files(dataset)
        assert files == {
            "train": folder / "train.npz",
            "test_inputs": folder / "test_inputs.npz",
            "test_labels": folder / "labels" / "test_labels.npz",
        }
        assert all(path.is_file() for path in files.values())
        assert dataset_verify(dataset)
        # Only the dataset itself remains: no staging or old folders beside it.
        assert [p.name for p in (tmp_path / TINY).iterdir()] == [fashion_mnist.VERSION]

    def test_second_call_does_nothing(self, tmp_path: Path) -> None:
        first = dataset_build(slug=TINY, data_dir=tmp_path)
        folder = tmp_path / TINY / fashion_mnist.VERSION
        inode, mtime = folder.stat().st_ino, (folder / TRAIN_FILE).stat().st_mtime_ns
        assert dataset_is_current(slug=TINY, data_dir=tmp_path)
        second = dataset_build(slug=TINY, data_dir=tmp_path)
        assert second.pk == first.pk and second.built_at == first.built_at
        assert folder.stat().st_ino == inode and (folder / TRAIN_FILE).stat().st_mtime_ns == mtime
        assert Dataset.objects.count() == 1

    def test_tampering_is_detected_and_rebuilt(self, tmp_path: Path) -> None:
        dataset = dataset_build(slug=TINY, data_dir=tmp_path)
        folder = tmp_path / TINY / fashion_mnist.VERSION
        with (folder / TEST_INPUTS_FILE).open("ab") as handle:
            handle.write(b"\0")
        assert not dataset_verify(dataset)
        assert not dataset_is_current(slug=TINY, data_dir=tmp_path)
        rebuilt = dataset_build(slug=TINY, data_dir=tmp_path)
        assert rebuilt.pk == dataset.pk and rebuilt.checksum == dataset.checksum
        assert dataset_verify(rebuilt)

    def test_extra_file_counts_as_tampering(self, tmp_path: Path) -> None:
        dataset = dataset_build(slug=TINY, data_dir=tmp_path)
        (tmp_path / TINY / fashion_mnist.VERSION / "labels" / "copy.npz").write_bytes(b"x")
        assert not dataset_verify(dataset)
        dataset_build(slug=TINY, data_dir=tmp_path)
        assert not (tmp_path / TINY / fashion_mnist.VERSION / "labels" / "copy.npz").exists()

    def test_missing_folder_is_rebuilt(self, tmp_path: Path) -> None:
        dataset = dataset_build(slug=TINY, data_dir=tmp_path)
        shutil.rmtree(tmp_path / TINY / fashion_mnist.VERSION)
        assert not dataset_verify(dataset)
        assert dataset_verify(dataset_build(slug=TINY, data_dir=tmp_path))

    def test_force_rebuilds(self, tmp_path: Path) -> None:
        dataset_build(slug=TINY, data_dir=tmp_path)
        inode = (tmp_path / TINY / fashion_mnist.VERSION).stat().st_ino
        dataset_build(slug=TINY, data_dir=tmp_path, force=True)
        assert (tmp_path / TINY / fashion_mnist.VERSION).stat().st_ino != inode

    def test_data_dir_defaults_to_the_setting(self, tmp_path: Path, settings: Settings) -> None:
        settings.TRAINER_DATA_DIR = tmp_path / "from-settings"
        assert dataset_build(slug=TINY).path == str(tmp_path / "from-settings" / TINY / fashion_mnist.VERSION)

    def test_unavailable_source_leaves_nothing(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(fashion_mnist, "SOURCE_DIR", tmp_path / "nowhere")
        with pytest.raises(DatasetUnavailable):
            dataset_build(slug=TINY, data_dir=tmp_path / "data")
        assert not Dataset.objects.exists()
        assert list((tmp_path / "data" / TINY).iterdir()) == []

    def test_unknown_slug(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="Unknown dataset 'nope'"):
            dataset_build(slug="nope", data_dir=tmp_path)


# The build_datasets command


def build_toy(out_dir: Path, *, seeds: Seeds) -> BuiltDataset:
    """A stand-in dataset with no source package, so the command has something that always builds."""
    write_npz(out_dir / TRAIN_FILE, x=np.zeros((4, 2), dtype=np.float32), y=np.array([0, 1, 0, 1]))
    write_npz(out_dir / TEST_INPUTS_FILE, x=np.ones((2, 2), dtype=np.float32))
    write_npz(out_dir / TEST_LABELS_FILE, y=np.array([1, 0]))
    sizes = file_sizes(out_dir)
    return BuiltDataset("toy", "1", "Toy", "tests", "", "", {"file_sizes": sizes, "total_bytes": sum(sizes.values())})


def run_command(*args: str) -> tuple[str, str, CommandError | None]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("build_datasets", *args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


@pytest.mark.django_db
def test_command_missing_source_still_builds_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    settings.TRAINER_DATA_DIR = tmp_path / "data"
    monkeypatch.setattr(fashion_mnist, "SOURCE_DIR", tmp_path / "nowhere")
    for slug in [s for s in registry.BUILDERS if s not in (fashion_mnist.SLUG, fashion_mnist.TINY_SLUG)]:
        monkeypatch.delitem(registry.BUILDERS, slug)  # only the two Fashion-MNIST builders and the toy
    monkeypatch.setitem(registry.BUILDERS, "toy", build_toy)
    monkeypatch.setitem(registry.VERSIONS, "toy", "1")
    out, err, error = run_command()
    assert error is not None and error.returncode == 1
    assert "fashion-mnist, fashion-mnist-tiny" in str(error)
    assert err.count("apt-get install dataset-fashion-mnist") == 2
    assert "toy 1: built in" in out and "sha256 " in out and " MB" in out
    toy = Dataset.objects.get(slug="toy")
    assert dataset_verify(toy) and toy.path == str(tmp_path / "data" / "toy" / "1")
    assert list(Dataset.objects.values_list("slug", flat=True)) == ["toy"]


@pytest.mark.django_db
def test_command_builds_then_reports_up_to_date(tmp_path: Path, settings: Settings) -> None:
    settings.TRAINER_DATA_DIR = tmp_path
    out, err, error = run_command(TINY)
    assert error is None and err == ""
    checksum = Dataset.objects.get(slug=TINY).checksum
    version = fashion_mnist.VERSION
    assert out.startswith(f"{TINY} {version}: built in ") and f"sha256 {checksum[:12]}" in out and "1.1 MB" in out
    out, _, error = run_command(TINY)
    assert error is None and out.startswith(f"{TINY} {version}: up to date in ")
    out, _, error = run_command(TINY, "--force")
    assert error is None and out.startswith(f"{TINY} {version}: built in ")


@pytest.mark.django_db
def test_command_refuses_an_unknown_slug() -> None:
    _, _, error = run_command("nope")
    assert error is not None and "Unknown dataset nope" in str(error)
