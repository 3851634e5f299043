from django import forms
from django.conf import settings


class TrainingSubmitForm(forms.Form):
    file = forms.FileField(
        label="Your submission",
        help_text=(
            f".py or .ipynb (up to {settings.TRAINER_SUBMISSION_MAX_MB} MB); "
            "a trained .keras model where the task allows it."
        ),
    )
