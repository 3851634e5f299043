"""A claim edited by hand (tracker.forms.ClaimForm): evidence kinds as checkboxes, the rubric as one box per name."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import QueryDict

from evidence.models import Kind
from tracker.formats.base import EVIDENCE_KINDS
from tracker.forms import ClaimForm
from tracker.models import (
    EVIDENCE_KIND_LABELS,
    RUBRIC_CRITERION_MAX_CHARS,
    RUBRIC_MAX_CRITERIA,
    Claim,
    Competency,
)

pytestmark = pytest.mark.django_db


def _posted(claim: Claim, **changes: Any) -> QueryDict:
    """What the claim's form sends unchanged (checkboxes and boxes as repeated names, like a browser), then changes."""
    fields: dict[str, Any] = {
        "competency": claim.competency_id, "order": claim.order, "text": claim.text, "required": "on",
        "evidence_kinds": list(claim.evidence_kinds), "rubric": [*claim.rubric, "", ""], "is_active": "on",
    } | changes  # fmt: skip
    data = QueryDict(mutable=True)
    for name, value in fields.items():
        data.setlist(name, [str(v) for v in value] if isinstance(value, list) else [str(value)])
    return data


@pytest.fixture
def claim(keras: Competency) -> Claim:
    return keras.claims.get(order=1)


def test_kinds_are_labelled_in_the_words_of_the_evidence_form() -> None:
    assert list(EVIDENCE_KIND_LABELS) == list(EVIDENCE_KINDS)
    assert {kind.value: kind.label for kind in Kind} == EVIDENCE_KIND_LABELS


def test_ticked_kinds_are_stored_as_a_list_in_the_catalogues_order(claim: Claim) -> None:
    form = ClaimForm(_posted(claim, evidence_kinds=["training", "written", "notebook"]), instance=claim)
    assert form.is_valid(), form.errors
    form.save()
    claim.refresh_from_db()
    assert claim.evidence_kinds == ["written", "notebook", "training"]


def test_no_kind_ticked_is_refused_with_a_message(claim: Claim) -> None:
    form = ClaimForm(_posted(claim, evidence_kinds=[]), instance=claim)
    assert not form.is_valid()
    assert form.errors["evidence_kinds"] == ["Tick at least one kind of evidence that proves this claim."]


def test_an_unknown_kind_is_refused(claim: Claim) -> None:
    form = ClaimForm(_posted(claim, evidence_kinds=["written", "telepathy"]), instance=claim)
    assert form.errors["evidence_kinds"] == ["“telepathy” is no kind of evidence this site takes."]


def test_the_form_shows_one_labelled_checkbox_per_kind_with_the_stored_ones_ticked(claim: Claim) -> None:
    html = str(ClaimForm(instance=claim)["evidence_kinds"])
    for number, kind in enumerate(EVIDENCE_KINDS):
        box_id = f"id_evidence_kinds_{number}"
        ticked = " checked" if kind in claim.evidence_kinds else ""
        assert f'<label for="{box_id}"><input type="checkbox" name="evidence_kinds" value="{kind}"' in html
        assert f'id="{box_id}"{ticked}>\n {EVIDENCE_KIND_LABELS[kind]}</label>' in html


def test_rubric_names_are_trimmed_and_empty_boxes_dropped(claim: Claim) -> None:
    form = ClaimForm(_posted(claim, rubric=["  Correctness ", "", "   ", "Clarity", ""]), instance=claim)
    assert form.is_valid(), form.errors
    form.save()
    claim.refresh_from_db()
    assert claim.rubric == ["Correctness", "Clarity"]


def test_emptying_every_box_leaves_no_rubric(claim: Claim) -> None:
    claim.rubric = ["Correctness"]
    claim.save()
    form = ClaimForm(_posted(claim, rubric=["", "", ""]), instance=claim)
    assert form.is_valid(), form.errors
    assert form.save().rubric == []


@pytest.mark.parametrize("rubric,message", [
    (["Clarity", "Speed", "clarity "], "“clarity” is listed twice: a mentor scores each criterion once, so name each once."),
    (["Clarity", "x" * (RUBRIC_CRITERION_MAX_CHARS + 1)],
     f"Criterion 2 has {RUBRIC_CRITERION_MAX_CHARS + 1} characters; keep each to {RUBRIC_CRITERION_MAX_CHARS} "
     "(a short name such as “Clarity”; the claim says the rest)."),
    ([f"Criterion {n}" for n in range(RUBRIC_MAX_CRITERIA + 1)],
     f"Keep the rubric to {RUBRIC_MAX_CRITERIA} criteria (this one has {RUBRIC_MAX_CRITERIA + 1}): "
     "a mentor scores every one on each review."),
])  # fmt: skip
def test_a_bad_rubric_is_refused_in_words(claim: Claim, rubric: list[str], message: str) -> None:
    stored = list(claim.rubric)
    form = ClaimForm(_posted(claim, rubric=rubric), instance=claim)
    assert not form.is_valid()
    assert form.errors["rubric"] == [message]
    claim.refresh_from_db()
    assert claim.rubric == stored


def test_the_limits_themselves_are_accepted(claim: Claim) -> None:
    rubric = [f"{n} " + "x" * (RUBRIC_CRITERION_MAX_CHARS - 3) for n in range(10, 10 + RUBRIC_MAX_CRITERIA)]
    form = ClaimForm(_posted(claim, rubric=rubric), instance=claim)
    assert form.is_valid(), form.errors


def test_rubric_boxes_show_each_criterion_then_empty_ones_each_with_its_label(claim: Claim) -> None:
    claim.rubric = ["Correctness", 'Uses <b>"quotes"</b>']
    html = str(ClaimForm(instance=claim)["rubric"])
    ids = ["id_rubric", "id_rubric_1", "id_rubric_2", "id_rubric_3"]
    values = ["Correctness", "Uses &lt;b&gt;&quot;quotes&quot;&lt;/b&gt;", "", ""]
    for number, (box_id, value) in enumerate(zip(ids, values, strict=True), start=1):
        assert f'<label for="{box_id}">Criterion {number}</label>' in html
        assert f'<input type="text" name="rubric" id="{box_id}" value="{value}"' in html
    assert html.count("<input") == 4
    # The help text describes every box; the buttons are for the script to show.
    assert html.count('aria-describedby="id_rubric_helptext"') == 4
    assert '<button type="button" class="button criteria-add" hidden>Add a criterion</button>' in html


def test_a_form_without_the_rubric_keeps_the_stored_one(claim: Claim) -> None:
    claim.rubric = ["Correctness"]
    claim.save()
    data = _posted(claim, text="Reworded.")
    del data["rubric"]
    form = ClaimForm(data, instance=claim)
    assert form.is_valid(), form.errors
    assert form.save().rubric == ["Correctness"]


def test_boxes_shown_again_after_an_error_keep_what_was_typed_and_two_empty_ones(claim: Claim) -> None:
    form = ClaimForm(_posted(claim, rubric=["Clarity", "", " clarity", "", ""]), instance=claim)
    assert not form.is_valid()
    html = str(form["rubric"])
    assert html.count("<input") == 4
    assert 'id="id_rubric" value="Clarity"' in html
    assert 'id="id_rubric_1" value=" clarity"' in html
    assert 'id="id_rubric_2" value=""' in html
    assert 'id="id_rubric_3" value=""' in html
