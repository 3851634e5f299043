from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import KERAS_FILE, SEED_FILE
from tracker.exporters import export_markdown
from tracker.formats.base import FormatError
from tracker.formats.seed_markdown import parse_seed_markdown, write_seed_markdown
from tracker.models import Claim, Competency, Resource
from tracker.services import competency_data, competency_import_files

pytestmark = pytest.mark.django_db


def test_seed_file_imports_ten_claims_and_seven_resources() -> None:
    competency = competency_import_files(paths=[SEED_FILE])[0]
    assert competency.title == "Keras"
    assert competency.category == "ML Framework"
    assert competency.claims.count() == 10
    assert competency.resources.count() == 7
    assert competency.resources.first().url == "https://keras.io/"
    assert "ONEIROS" in competency.description


def test_reimport_updates_in_place_without_duplicates() -> None:
    first = competency_import_files(paths=[SEED_FILE])[0]
    claim_ids = list(first.claims.values_list("pk", flat=True))
    second = competency_import_files(paths=[SEED_FILE])[0]
    assert second.pk == first.pk
    assert list(second.claims.values_list("pk", flat=True)) == claim_ids
    assert (Competency.objects.count(), Claim.objects.count(), Resource.objects.count()) == (1, 10, 7)


def test_reimport_with_edited_claim_keeps_its_row(tmp_path: Path) -> None:
    competency = competency_import_files(paths=[SEED_FILE])[0]
    third = competency.claims.get(order=3)
    edited = tmp_path / "edited.md"
    edited.write_text(SEED_FILE.read_text().replace("Google Colab.", "Google Colab and Kaggle."))
    competency_import_files(paths=[edited])
    third.refresh_from_db()
    assert third.text.endswith("Google Colab and Kaggle.")
    assert Claim.objects.count() == 10


def test_unchanged_reimport_does_not_bump_versions() -> None:
    competency = competency_import_files(paths=[SEED_FILE])[0]
    version = competency.version
    competency_import_files(paths=[SEED_FILE])
    competency.refresh_from_db()
    assert competency.version == version


@pytest.mark.parametrize("path", [SEED_FILE, KERAS_FILE], ids=["seed", "shipped"])
def test_round_trip_through_the_database_is_lossless(path: Path) -> None:
    competency = competency_import_files(paths=[path])[0]
    _name, _type, text = export_markdown([competency])
    assert text == path.read_text()


def test_shipped_keras_has_every_seed_claim_and_resource() -> None:
    seed, shipped = parse_seed_markdown(SEED_FILE.read_text()), parse_seed_markdown(KERAS_FILE.read_text())
    assert len(shipped.claims) == len(seed.claims) == 10
    assert [r.url for r in shipped.resources] == [r.url for r in seed.resources]
    assert shipped.description != seed.description  # written in our own words
    assert all(claim.required for claim in shipped.claims)  # as the seed has them: Keras from R too (issue 13)
    assert "training" in shipped.claims[5].evidence_kinds  # proven by the R task (trainer/catalogue/diamonds)
    assert "training" in shipped.claims[4].evidence_kinds


def test_claim_notes_round_trip() -> None:
    data = parse_seed_markdown(KERAS_FILE.read_text())
    assert parse_seed_markdown(write_seed_markdown(data)) == data


def test_export_from_the_database_matches_the_model() -> None:
    competency = competency_import_files(paths=[KERAS_FILE])[0]
    data = competency_data(competency=competency)
    assert [c.text for c in data.claims] == list(competency.claims.values_list("text", flat=True))


BROKEN = {
    "no title": ("Keras\n\n## How do you prove it?\n\n- x\n\n## How do you improve it?\n", 1),
    "no prove heading": ("# Competency - A - B\n\ntext\n\n## How do you improve it?\n", None),
    "prose in the claim list": ("# Competency - A - B\n\n## How do you prove it?\n\n- ok\n\nnot a bullet\n\n## How do you improve it?\n", 7),
    "resource without url": ("# Competency - A - B\n\n## How do you prove it?\n\n- ok\n\n## How do you improve it?\n\n- Just a title\n", 9),
    "unknown evidence kind": ("# Competency - A - B\n\n## How do you prove it?\n\n- ok <!-- evidence: telepathy -->\n\n## How do you improve it?\n", 5),
    "no claims": ("# Competency - A - B\n\n## How do you prove it?\n\n## How do you improve it?\n", 3),
}  # fmt: skip


@pytest.mark.parametrize("text,line", BROKEN.values(), ids=BROKEN.keys())
def test_broken_file_names_the_line(text: str, line: int | None) -> None:
    with pytest.raises(FormatError) as caught:
        parse_seed_markdown(text)
    assert caught.value.line == line
    assert caught.value.message


def test_command_imports_all_or_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text(BROKEN["resource without url"][0])
    with pytest.raises(CommandError, match=r"bad.md, line 9: .*nothing was imported"):
        call_command("import_competencies", str(SEED_FILE), str(bad))
    assert Competency.objects.count() == 0


def test_command_imports_and_exports(tmp_path: Path) -> None:
    call_command("import_competencies", str(SEED_FILE))
    out = tmp_path / "out.md"
    call_command("export_competencies", "keras", "--output", str(out))
    assert out.read_text() == SEED_FILE.read_text()


def test_command_rejects_missing_file_and_unknown_slug() -> None:
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_competencies", "/nonexistent.md")
    with pytest.raises(CommandError, match="Unknown competency: nope"):
        call_command("export_competencies", "nope")
