"""Importing over a live catalogue: clear refusals instead of server errors, lengths checked on every database,
and nothing quietly taken from the claims that Keras tasks prove."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.conftest import KERAS_FILE, SEED_FILE
from tracker.formats.moodle import write_moodle_csv
from tracker.models import Claim, Competency
from tracker.services import FrameworkImportError, competency_data, competency_import_files, framework_parse
from tracker.services import competency_import as import_frameworks
from trainer.models import Dataset, TaskSpec

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/tracker/competency/import/"
MINIMAL = (
    "# Competency - {category} - {title}\n\n## How do you prove it?\n\n- {claim}\n\n## How do you improve it?\n\n{res}"
)


def make_task(claim: Claim, *also: Claim, title: str = "Fashion-MNIST classifier") -> TaskSpec:
    dataset = Dataset.objects.get_or_create(
        slug="fashion",
        version="1",
        defaults={"title": "Fashion", "source": "test", "path": "/nowhere", "checksum": "0"},
    )[0]
    task = TaskSpec.objects.create(
        slug=title.lower().replace(" ", "-"), title=title, claim=claim, dataset=dataset, brief="b", threshold=0.5
    )
    task.also_claims.set(also)
    return task


def import_text(admin_client: Client, text: str, name: str = "catalogue.md") -> bytes:
    upload = SimpleUploadedFile(name, text.encode(), content_type="text/markdown")
    response = admin_client.post(IMPORT_URL, {"file": upload})
    assert response.status_code == 200, "the import should have been refused on the page"
    return bytes(response.content)


def kinds(keras: Competency) -> dict[int, list[str]]:
    return {claim.order: claim.evidence_kinds for claim in keras.claims.all()}


def test_reimporting_the_seed_keeps_what_tasks_need(keras: Competency) -> None:
    # The seed says nothing of evidence kinds or rubrics; the shipped catalogue does, and tasks rely on it.
    make_task(keras.claims.get(order=5), keras.claims.get(order=7))
    before = kinds(keras)
    rubric = keras.claims.get(order=1).rubric
    competency_import_files(paths=[SEED_FILE])
    assert kinds(keras) == before
    assert "training" in keras.claims.get(order=5).evidence_kinds
    assert "training" in keras.claims.get(order=7).evidence_kinds
    assert keras.claims.get(order=1).rubric == rubric == ["Accuracy", "Depth", "Clarity"]
    assert (
        keras.claims.get(order=5).text == framework_parse(name="seed.md", text=SEED_FILE.read_text())[0].claims[4].text
    )


def test_reimporting_moodle_csv_keeps_evidence_kinds(keras: Competency) -> None:
    before = kinds(keras)
    import_frameworks(
        frameworks=framework_parse(name="k.csv", text=write_moodle_csv([competency_data(competency=keras)]))
    )
    assert kinds(keras) == before


def test_new_claims_without_a_note_get_the_default_kinds(db: None) -> None:
    competency = competency_import_files(paths=[SEED_FILE])[0]
    assert {tuple(claim.evidence_kinds) for claim in competency.claims.all()} == {
        ("written", "link", "file", "notebook")
    }


def test_dropping_training_from_a_claim_a_task_proves_is_refused(admin_client: Client, keras: Competency) -> None:
    make_task(keras.claims.get(order=5))
    before = kinds(keras)
    text = KERAS_FILE.read_text().replace(
        "TensorFlow backend. <!-- evidence: training, notebook, written, link -->",
        "TensorFlow backend. <!-- evidence: notebook, written, link -->",
    )
    page = import_text(admin_client, text)
    assert b"claim 5 (&#x27;You can design, develop and implement" in page
    assert (
        b"is proven by the Keras task &#x27;Fashion-MNIST classifier&#x27;, so its evidence must include training"
        in page
    )
    assert kinds(keras) == before


def test_removing_a_claim_a_task_proves_is_refused_not_a_500(admin_client: Client, keras: Competency) -> None:
    make_task(keras.claims.get(order=2), keras.claims.get(order=10), title="Bidirectional tagger")
    last = "\n\n- You can design and model CNN, RNN"
    text = KERAS_FILE.read_text()
    shortened = text[: text.index(last)] + text[text.index("\n\n## How do you improve it?") :]
    page = import_text(admin_client, shortened)
    assert (
        b"claim 10" in page and b"is missing from the file, but the Keras task &#x27;Bidirectional tagger&#x27;" in page
    )
    assert keras.claims.filter(is_active=True).count() == 10


def test_removing_a_claim_nothing_uses_still_works(keras: Competency, tmp_path: object) -> None:
    text = KERAS_FILE.read_text()
    last = "\n\n- You can design and model CNN, RNN"
    shortened = text[: text.index(last)] + text[text.index("\n\n## How do you improve it?") :]
    import_frameworks(frameworks=framework_parse(name="k.md", text=shortened))
    assert keras.claims.count() == 9


@pytest.mark.parametrize("fields,message", [
    ({"title": "T" * 5000}, "title: Ensure this value has at most 200 characters (it has 5000)."),
    ({"category": "C" * 201}, "category: Ensure this value has at most 200 characters (it has 201)."),
    ({"claim": "c" * 1001}, "claim 1: text: Keep a claim to 1,000 characters (this one has 1,001)."),
    ({"res": f"- {'r' * 301}: https://example.com/"}, "resource 1: title: Ensure this value has at most 300 characters"),
    ({"res": f"- Docs: https://example.com/{'p' * 1000}"}, "resource 1: url: Ensure this value has at most 1000 characters"),
    ({"res": "- Docs: https://exa mple"}, "must read"),
])  # fmt: skip
def test_values_too_long_for_their_fields_are_refused_on_every_database(
    admin_client: Client, fields: dict[str, str], message: str
) -> None:
    values = {"category": "Testing", "title": "Widgets", "claim": "You can make widgets.", "res": "", **fields}
    page = import_text(admin_client, MINIMAL.format(**values))
    assert message.encode() in page.replace(b"&#x27;", b"'")
    assert not Competency.objects.exists()


def test_values_are_checked_on_update_as_well(keras: Competency) -> None:
    text = KERAS_FILE.read_text().replace(
        "- Keras documentation: https://keras.io/", f"- {'K' * 400}: https://keras.io/"
    )
    with pytest.raises(FrameworkImportError) as caught:
        import_frameworks(frameworks=framework_parse(name="k.md", text=text))
    assert str(caught.value).startswith("Keras: resource 1: title: Ensure this value has at most 300 characters")
    assert keras.resources.get(order=1).title == "Keras documentation"
