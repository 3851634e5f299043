from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.contrib.admin.widgets import AdminTextareaWidget
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.utils.datastructures import MultiValueDict
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from tracker.formats.base import EVIDENCE_KINDS
from tracker.models import RUBRIC_CRITERION_MAX_CHARS, RUBRIC_MAX_CRITERIA, Claim, User, evidence_kind_choices


class SignupForm(UserCreationForm[User]):
    email = forms.EmailField(required=True, help_text="For review notifications and password resets.")

    class Meta:
        model = User
        fields = ("username", "email", "first_name", "last_name")

    def clean_email(self) -> str:
        # A taken address is no error here: the sign-up answers the same and mails the address's owner instead.
        return self.cleaned_data["email"].strip().lower()


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, required=False, help_text="What it is for, e.g. “Colab”. Left empty, it is named by date."
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text=(
            "The seed's Markdown format (.md, .txt), a Moodle competency-framework CSV (.csv) "
            "or a CASE 1.1 package (.json)."
        )
    )


class EvidenceKindsField(forms.MultipleChoiceField):
    """One checkbox per evidence kind; cleans to a list in `EVIDENCE_KINDS` order, as imports and exports write it."""

    widget = forms.CheckboxSelectMultiple
    default_error_messages = {
        "required": "Tick at least one kind of evidence that proves this claim.",
        "invalid_choice": "“%(value)s” is no kind of evidence this site takes.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=evidence_kind_choices, **kwargs)

    def clean(self, value: Any) -> list[str]:
        chosen = set(super().clean(value))
        return [kind for kind in EVIDENCE_KINDS if kind in chosen]


class CriteriaWidget(forms.Widget):
    """One text box per criterion and a few empty ones to add more.

    Works without JavaScript: a person types into an empty box to add a criterion and empties a box to remove
    one (empty boxes are dropped); each save shows fresh empty boxes. static/js/admin-criteria.js adds "Add a
    criterion" and "Remove" buttons. Every box has its own visible label, and all share one name, in order.
    """

    blank_rows = 2

    class Media:
        # Its CSS is in static/css/admin.css, which every admin page loads.
        js = ["js/admin-criteria.js"]

    def value_from_datadict(self, data: Mapping[str, Any], files: MultiValueDict[str, Any], name: str) -> list[str]:
        if isinstance(data, MultiValueDict):
            return data.getlist(name)
        value = data.get(name)
        return list(value) if isinstance(value, list | tuple) else [] if value is None else [value]

    def value_omitted_from_data(self, data: Mapping[str, Any], files: MultiValueDict[str, Any], name: str) -> bool:
        # Empty boxes are still sent, so a missing name means the form had no such field: keep the stored rubric.
        return name not in data

    def format_value(self, value: Any) -> list[str]:  # type: ignore[override]
        # Shown again after an error, the boxes left empty are dropped: the fresh empty ones follow.
        return [str(item) for item in value if str(item).strip()] if isinstance(value, list | tuple) else []

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        attrs = self.build_attrs(self.attrs, attrs)
        base_id = attrs.pop("id", f"id_{name}")
        # The first box takes the field's own id, so that the field's label and help text point at it.
        rows = [
            (base_id if index == 0 else f"{base_id}_{index}", index + 1, name, text, _flat_attrs(attrs))
            for index, text in enumerate(self.format_value(value) + [""] * self.blank_rows)
        ]
        items = format_html_join(
            "",
            '<li class="criteria-row"><label for="{0}">Criterion {1}</label>'
            '<input type="text" name="{2}" id="{0}" value="{3}" class="vTextField"{4}>'
            '<button type="button" class="button criteria-remove" hidden>Remove <span class="visually-hidden">'
            "criterion {1}</span></button></li>",
            rows,
        )
        return format_html(
            '<div class="criteria" id="{}_editor"><ol class="criteria-rows">{}</ol>'
            '<button type="button" class="button criteria-add" hidden>Add a criterion</button></div>',
            base_id,
            items,
        )


def _flat_attrs(attrs: Mapping[str, Any]) -> SafeString:
    """The field's other attributes (aria-describedby, aria-invalid) on every box."""
    pairs = [(key, value) for key, value in attrs.items() if value not in (None, False)]
    return format_html_join("", ' {}="{}"', ((key, "" if value is True else value) for key, value in pairs))


class CriteriaField(forms.Field):
    """A rubric: a list of short, distinct criterion names (`Claim.rubric`), edited as one box per name."""

    widget = CriteriaWidget

    def to_python(self, value: Any) -> list[str]:
        rows: Sequence[Any] = value if isinstance(value, list | tuple) else [] if value in (None, "") else [value]
        return [text for text in (str(row).strip() for row in rows) if text]

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        errors = []
        if len(value) > RUBRIC_MAX_CRITERIA:
            errors.append(
                f"Keep the rubric to {RUBRIC_MAX_CRITERIA} criteria (this one has {len(value)}): "
                "a mentor scores every one on each review."
            )
        for number, name in enumerate(value, start=1):
            if len(name) > RUBRIC_CRITERION_MAX_CHARS:
                errors.append(
                    f"Criterion {number} has {len(name)} characters; keep each to {RUBRIC_CRITERION_MAX_CHARS} "
                    "(a short name such as “Clarity”; the claim says the rest)."
                )
        seen: set[str] = set()
        for name in value:
            if name.casefold() in seen:
                errors.append(f"“{name}” is listed twice: a mentor scores each criterion once, so name each once.")
            seen.add(name.casefold())
        if errors:
            raise ValidationError(errors)


class ClaimForm(forms.ModelForm[Claim]):
    """A claim edited by hand (the admin's claim page and the claims on a competency's page)."""

    evidence_kinds = EvidenceKindsField(
        label="Evidence kinds", help_text="What a learner may hand in to prove this claim: at least one."
    )
    rubric = CriteriaField(
        required=False,
        label="Rubric criteria",
        help_text="What a mentor scores from 1 to 5 when reviewing, one per box, e.g. “Correctness”. "
        "Empty boxes are left out; empty a box to remove its criterion.",
    )

    class Meta:
        model = Claim
        fields = ["competency", "order", "text", "required", "evidence_kinds", "rubric", "is_active"]
        widgets = {"text": AdminTextareaWidget(attrs={"rows": 3})}
