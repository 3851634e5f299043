from __future__ import annotations

from typing import Any

from django import forms

from evidence.models import Kind, Review
from evidence.services import MAX_BODY_CHARS, EvidenceInput
from tracker.models import Claim


class ChoicesMixin(forms.Form):
    def _choice_field(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        return field


KIND_FIELDS = {Kind.WRITTEN: "body", Kind.LINK: "url", Kind.FILE: "file", Kind.NOTEBOOK: "file"}


class EvidenceForm(ChoicesMixin):
    """The learner's evidence for one claim; only the kinds the claim allows are offered."""

    kind = forms.ChoiceField(widget=forms.RadioSelect, label="Kind of evidence")
    body = forms.CharField(
        label="Your answer",
        required=False,
        strip=True,
        max_length=MAX_BODY_CHARS,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text="Markdown. Explain in your own words; link sources.",
    )
    url = forms.URLField(label="Link", required=False, assume_scheme="https", max_length=2000)
    file = forms.FileField(
        label="File",
        required=False,
        help_text="PDF, image, text, code or zip up to 10 MB; notebooks (.ipynb) up to 10 MB.",
    )

    def __init__(self, *args: Any, claim: Claim, fixed_kind: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Training evidence is submitted from the task's page (trainer.views.task_detail).
        kinds = [fixed_kind] if fixed_kind else [k for k in claim.evidence_kinds if k in KIND_FIELDS]
        self._choice_field("kind").choices = [(k, Kind(k).label) for k in kinds]
        if len(kinds) == 1:
            self.fields["kind"].initial = kinds[0]
        # Only the inputs this claim can use: no file field where files prove nothing.
        for name in {"body", "url", "file"} - {KIND_FIELDS[Kind(k)] for k in kinds}:
            del self.fields[name]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind")
        field = KIND_FIELDS.get(kind) if kind else None
        if field and not cleaned.get(field) and not self.errors.get(field) and not self.allow_missing_file(field):
            messages = {"body": "Write your answer.", "url": "Enter the link.", "file": "Choose a file to upload."}
            self.add_error(field, messages[field])
        return cleaned

    def allow_missing_file(self, field: str) -> bool:
        # Editing a draft keeps its file unless a new one is chosen.
        return field == "file" and bool(self.initial.get("has_file"))

    def to_input(self) -> EvidenceInput:
        data = self.cleaned_data
        return EvidenceInput(
            kind=data["kind"], body=data.get("body") or "", url=data.get("url") or "", file=data.get("file")
        )


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=Review.Decision.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        required=False,
        max_length=MAX_BODY_CHARS,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Required to request changes or reject. Markdown.",
    )

    def __init__(self, *args: Any, claim: Claim, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for index, criterion in enumerate(claim.rubric):
            self.fields[f"rubric_{index}"] = forms.IntegerField(
                label=criterion, required=False, min_value=1, max_value=5, help_text="1 (weak) to 5 (excellent)"
            )
        self.criteria = list(claim.rubric)

    def rubric(self) -> dict[str, Any]:
        return {
            criterion: self.cleaned_data.get(f"rubric_{i}")
            for i, criterion in enumerate(self.criteria)
            if self.cleaned_data.get(f"rubric_{i}") is not None
        }


class QueueFilterForm(ChoicesMixin):
    competency = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    claim = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *Kind.choices])
    # A username, not a list of every learner: a cohort has thousands (the picker alone was 200 KB per page).
    learner = forms.CharField(required=False, max_length=150, label="Learner (username)")
    min_age_days = forms.IntegerField(required=False, min_value=0, max_value=3650, label="Waiting at least (days)")

    def __init__(self, *args: Any, competencies: list[Any], learners: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.learners = learners  # a queryset: only the named learner is looked up
        self._choice_field("competency").choices = [("", "Any competency"), *((c.pk, c.title) for c in competencies)]
        claims = [(cl.pk, f"{c.title} · {cl.order}. {cl.text[:50]}") for c in competencies for cl in c.claims.all()]
        self._choice_field("claim").choices = [("", "Any claim"), *claims]

    def clean_learner(self) -> int | None:
        """The learner's id, from a username (or an id, as links from older pages carry)."""
        name = (self.cleaned_data.get("learner") or "").strip()
        if not name:
            return None
        found = self.learners.filter(username=name).values_list("pk", flat=True).first()
        if found is None and name.isdigit():
            found = self.learners.filter(pk=int(name)).values_list("pk", flat=True).first()
        if found is None:
            raise forms.ValidationError("No learner by that username has evidence in the competencies you review.")
        return int(found)
