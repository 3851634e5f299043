from typing import Any

from django import forms
from django.conf import settings

from evidence.services import MAX_BODY_CHARS
from tracker.models import Claim
from trainer.engines import label
from trainer.models import TaskSpec, TrainingRun


class ClaimChoiceForm(forms.Form):
    """A form for a task that may prove several claims: the learner picks one (the task's own by default)."""

    def __init__(self, *args: Any, claims: list[Claim] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.claims = claims or []
        if len(self.claims) > 1:
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


class TrainingSubmitForm(ClaimChoiceForm):
    file = forms.FileField(
        label="Your submission",
        help_text=(
            f".py or .ipynb (up to {settings.TRAINER_SUBMISSION_MAX_MB} MB); "
            "a trained .keras model where the task allows it."
        ),
    )
    file_if_passes = forms.BooleanField(
        label="File it as evidence if it passes",
        required=False,
        help_text="A passing attempt then goes to your mentor's review queue by itself. Otherwise you choose later.",
    )

    def __init__(self, *args: Any, task: TaskSpec | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if task is not None:  # what this task takes, exactly
            self.fields["file"].help_text = (
                f"{task.accepted_files()}, up to {settings.TRAINER_SUBMISSION_MAX_MB} MB, "
                f"with at most {task.max_code_kb} KB of code."
            )
            engines = task.allowed_engines()
            self.fields["engine"] = forms.ChoiceField(
                label="Engine",
                choices=[(name, label(name)) for name in engines],
                initial=engines[0] if engines else None,
                required=False,  # left out (a script posting only the file): the task's first engine
                help_text="The backend Keras trains on. tf.keras runs Keras 2 code (`from tensorflow import keras`); "
                "R runs an .R script (Keras through reticulate).",
            )
        if "claim" in self.fields:
            self.fields["claim"].label = "If it passes, file it for the claim"
        self.order_fields(["file", "engine", "file_if_passes", "claim"])


class FilingForm(ClaimChoiceForm):
    note = forms.CharField(
        label="What do you want feedback on?",
        required=False,
        max_length=MAX_BODY_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required for an attempt that did not pass; optional otherwise. Markdown.",
    )

    def __init__(self, *args: Any, run: TrainingRun, **kwargs: Any) -> None:
        super().__init__(*args, claims=run.task.claims(), **kwargs)
        self.run = run
        if run.passed:
            self.fields["note"].label = "A note for your mentor (optional)"
        backend_claims = set(run.task.two_engine_claims.values_list("pk", flat=True))
        two = [claim for claim in self.claims if claim.pk in backend_claims]
        if two:
            others = TrainingRun.objects.filter(learner_id=run.learner_id, task_id=run.task_id, status="succeeded")
            others = others.exclude(pk=run.pk)
            backend = (run.environment or {}).get("backend")
            if isinstance(backend, str):
                others = others.exclude(environment__backend=backend)
            choices = [
                (other.pk, f"#{other.pk} · {other.get_engine_display()} · {run.task.metric} "
                 f"{other.metric_value if other.metric_value is not None else 'n/a'} · {other.created_at:%d %b %H:%M}")
                for other in others.select_related("task").order_by("-created_at", "-pk")[:50]
            ]  # fmt: skip
            claims = ", ".join(str(claim.order) for claim in two)
            self.fields["companion"] = forms.TypedChoiceField(
                label="Second run, on another backend",
                choices=[("", "—"), *choices],
                coerce=int,
                required=False,
                empty_value=None,
                help_text=f"Only for claim {claims} (the backend): a scored attempt of yours at this task on another "
                "backend, shown beside this one to your mentor."
                + ("" if choices else " You have none yet: submit this task again on another engine."),
            )

    def chosen_companion(self) -> TrainingRun | None:
        wanted = self.cleaned_data.get("companion")
        if wanted is None:
            return None
        return TrainingRun.objects.filter(learner_id=self.run.learner_id, pk=wanted).first()

    def clean_note(self) -> str:
        note = str(self.cleaned_data.get("note") or "").strip()
        if not self.run.passed and not note:
            raise forms.ValidationError("This attempt did not pass: say in a sentence what you want feedback on.")
        return note


class CompareForm(forms.Form):
    """Two of the learner's attempts whose learning curves are drawn together."""

    a = forms.TypedChoiceField(label="Attempt", coerce=int, required=False, empty_value=None)
    b = forms.TypedChoiceField(label="with attempt", coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, runs: list[TrainingRun], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label_suffix = ""  # "Attempt", not "Attempt:", before a select
        choices = [(run.pk, f"#{run.pk} · {run.created_at:%d %b %H:%M}") for run in runs if run.history]
        for name in ("a", "b"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", "—"), *choices]


class QuotaLiftForm(forms.Form):
    """A mentor's own limits for one learner on one task; empty keeps the task's (or the site's)."""

    attempts_per_day = forms.IntegerField(label="Attempts per day", required=False, min_value=1, max_value=1000)
    max_active = forms.IntegerField(label="Queued or running at once", required=False, min_value=1, max_value=20)
    reason = forms.CharField(label="Why", required=False, max_length=300)
