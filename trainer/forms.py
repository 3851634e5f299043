from typing import Any

from django import forms
from django.conf import settings

from tracker.models import Claim


class TrainingSubmitForm(forms.Form):
    file = forms.FileField(
        label="Your submission",
        help_text=(
            f".py or .ipynb (up to {settings.TRAINER_SUBMISSION_MAX_MB} MB); "
            "a trained .keras model where the task allows it."
        ),
    )

    def __init__(self, *args: Any, claims: list[Claim] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.claims = claims or []
        if len(self.claims) > 1:
            # A task that proves several claims: the evidence is filed under the one the learner picks.
            self.fields["claim"] = forms.TypedChoiceField(
                label="Evidence for the claim",
                choices=[(c.pk, f"{c.order}. {c.text}") for c in self.claims],
                coerce=int,
                initial=self.claims[0].pk,
                required=False,  # left out (a script posting only the file): the task's main claim
                empty_value=None,
            )

    def chosen_claim(self) -> Claim:
        wanted = self.cleaned_data.get("claim")
        return next((c for c in self.claims if c.pk == wanted), self.claims[0])
