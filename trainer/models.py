"""Task specs, their datasets, and training runs."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse

from evidence.models import Evidence
from tracker.models import Claim
from trainer.engines import KERAS3_ENGINES, Engine, unknown_engines

# The engine libraries whose versions a sandbox measures (trainer/harness/harness.py: environment), as named.
ENGINE_VERSIONS = (
    ("tensorflow", "TensorFlow"), ("jax", "JAX"), ("jaxlib", "jaxlib"), ("torch", "PyTorch"), ("r", "R"),
    ("reticulate", "reticulate"),
)  # fmt: skip


def _seconds(value: object) -> str | None:
    return f"{value:.1f} s" if isinstance(value, int | float) else None


class ErrorKind(models.TextChoices):
    """Why a run failed: every kind the platform stores, with the words a person sees."""

    # Reported by the harness, beside learner code (trainer/harness/harness.py: ERROR_KINDS).
    SYNTAX_ERROR = "syntax_error", "Syntax error"
    IMPORT_ERROR = "import_error", "Import not available"
    LEARNER_ERROR = "learner_error", "Error in your code"
    MISSING_BUILD_MODEL = "missing_build_model", "No build_model function"
    MISSING_TRAIN = "missing_train", "No train function"
    BAD_MODEL = "bad_model", "Not a Keras model"
    MISSING_LAYER = "missing_layer", "Required layer missing"
    SHAPE_MISMATCH = "shape_mismatch", "Wrong shape"
    NAN_LOSS = "nan_loss", "Loss became NaN"
    UNSAFE_MODEL = "unsafe_model", "Unsafe model file"
    BAD_MODEL_FILE = "bad_model_file", "Unreadable model file"
    BAD_EXPORT = "bad_export", "Unusable export"
    # Reported by the harness or measured by the platform.
    OVER_BUDGET = "over_budget", "Over budget"
    OUT_OF_MEMORY = "out_of_memory", "Out of memory"
    # Decided by the platform from outside the sandbox (trainer/pipeline.py, trainer/scoring.py).
    TIMEOUT = "timeout", "Out of time"
    NO_MODEL = "no_model", "No model saved"
    BAD_PREDICTIONS = "bad_predictions", "Unusable predictions"
    BAD_OUTPUT = "bad_output", "Unusable output"
    CRASHED = "crashed", "Crashed"
    # The platform's own failures (trainer/services.py): not the learner's doing.
    PLATFORM_ERROR = "platform_error", "Platform failure"
    WORKER_LOST = "worker_lost", "Worker stopped responding"


# The platform's own failures: the attempt is refunded, and it cannot be filed as evidence.
PLATFORM_KINDS = frozenset({ErrorKind.PLATFORM_ERROR, ErrorKind.WORKER_LOST})

# The kinds the harness may report. It runs beside learner code, so a kind outside this set is not
# believed, and one in it only explains a failure: success is measured, never reported.
HARNESS_KINDS = frozenset(
    {
        ErrorKind.SYNTAX_ERROR, ErrorKind.IMPORT_ERROR, ErrorKind.LEARNER_ERROR, ErrorKind.MISSING_BUILD_MODEL,
        ErrorKind.MISSING_TRAIN, ErrorKind.BAD_MODEL, ErrorKind.MISSING_LAYER, ErrorKind.SHAPE_MISMATCH,
        ErrorKind.NAN_LOSS, ErrorKind.UNSAFE_MODEL, ErrorKind.BAD_MODEL_FILE, ErrorKind.OVER_BUDGET,
        ErrorKind.OUT_OF_MEMORY, ErrorKind.BAD_EXPORT,
    }
)  # fmt: skip


class Dataset(models.Model):
    """A versioned, checksummed dataset built by `manage.py build_datasets`.

    Files live under TRAINER_DATA_DIR/<slug>/<version>/: `train.npz` (x, y) and `test_inputs.npz`
    (x) may be copied into a sandbox; `labels/test_labels.npz` (y) never is.
    """

    slug = models.SlugField(max_length=100)
    version = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    source = models.CharField(max_length=300, help_text="Where the data comes from (package, generator).")
    licence = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    path = models.CharField(max_length=500, help_text="Folder holding the files.")
    checksum = models.CharField(max_length=64, help_text="SHA-256 over the files, in name order.")
    stats = models.JSONField(default=dict, blank=True, help_text="Sizes, splits, class balance.")
    test_labels_public = models.BooleanField(
        default=False,
        help_text="The test labels can be looked up in public sources: tasks on this data train on the server only.",
    )
    built_at = models.DateTimeField(auto_now=True)

    class Meta:
        unique_together = [("slug", "version")]
        ordering = ["slug", "-built_at"]

    def __str__(self) -> str:
        return f"{self.title} ({self.version})"


def default_engines() -> list[str]:
    return [str(engine) for engine in KERAS3_ENGINES]


class TaskSpec(models.Model):
    """What a learner must build for a claim, how it is scored, and the budgets the platform enforces."""

    class Problem(models.TextChoices):
        CLASSIFICATION = "classification", "Classification"
        SEGMENTATION = "segmentation", "Segmentation"
        TAGGING = "tagging", "Sequence tagging"
        EMBEDDING = "embedding", "Embeddings (feature extraction)"
        GENERATION = "generation", "Generation"
        REGRESSION = "regression", "Regression"

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="task_specs")
    also_claims = models.ManyToManyField(
        Claim, blank=True, related_name="secondary_task_specs", help_text="Other claims a passing run also proves."
    )
    two_engine_claims = models.ManyToManyField(
        Claim,
        blank=True,
        related_name="two_engine_task_specs",
        help_text="Claims this task proves only with two of the learner's passing runs on different backends, "
        "filed together (a claim about knowing the backend): the mentor sees them side by side.",
    )
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="task_specs")
    summary = models.CharField(max_length=300, blank=True, help_text="What a passing run proves, in one line.")
    brief = models.TextField(help_text="Markdown shown to the learner.")
    problem = models.CharField(max_length=30, choices=Problem.choices, default=Problem.CLASSIFICATION)
    metric = models.CharField(max_length=40, default="accuracy")
    threshold = models.FloatField(help_text="Pass when the metric is at least this.")
    criteria = models.JSONField(
        default=list, blank=True, help_text='Further conditions, e.g. [{"metric": "copy_rate", "max": 0.05}].'
    )
    spec = models.JSONField(default=dict, help_text="The dict passed to build_model(spec).")
    max_epochs = models.PositiveIntegerField(default=5)
    wall_seconds = models.PositiveIntegerField(default=600, help_text="Whole training stage, wall clock.")
    memory_mb = models.PositiveIntegerField(default=3072)
    max_params = models.PositiveBigIntegerField(default=2_000_000)
    allow_evaluate_only = models.BooleanField(
        default=False, help_text="Accept a trained .keras file (never on data whose test labels are public)."
    )
    max_code_kb = models.PositiveIntegerField(
        default=64,
        validators=[MinValueValidator(1)],
        help_text="Most code a submission may carry (a .py, or a notebook's code cells), in KB.",
    )
    engines = models.JSONField(
        default=default_engines,
        blank=True,
        help_text='The engines a learner may train on, e.g. ["tensorflow", "jax", "torch", "tf_keras"]; '
        "default: every Keras 3 backend.",
    )
    is_active = models.BooleanField(default=True)
    # Fast variants for tests and health checks: hidden from learners (pages, API, submissions, leaderboards).
    is_tiny = models.BooleanField(default=False)
    needs_accelerator = models.BooleanField(
        default=False, help_text="Runs only on workers started for the accelerator queue (TRAINER_GPU_QUEUE)."
    )
    baseline = models.FloatField(
        null=True, blank=True, help_text="The metric a trivial model reaches (e.g. always the commonest class)."
    )
    attempts_per_day = models.PositiveIntegerField(
        null=True, blank=True, help_text="Attempts per learner per day; empty for the site default."
    )
    max_active = models.PositiveIntegerField(
        null=True, blank=True, help_text="Queued or running attempts per learner at once; empty for the site default."
    )

    class Meta:
        ordering = ["claim__order", "slug"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("task-detail", args=[self.slug])

    def clean(self) -> None:
        """Admins edit specs and criteria as JSON: refuse shapes the harness and the scorer cannot use."""
        from django.core.exceptions import ValidationError

        if not isinstance(self.spec, dict):
            raise ValidationError({"spec": 'The spec must be a JSON object, e.g. {"num_classes": 10}.'})
        rules = self.criteria
        if not isinstance(rules, list):
            raise ValidationError({"criteria": 'List the criteria, e.g. [{"metric": "copy_rate", "max": 0.1}].'})
        for number, rule in enumerate(rules, start=1):
            bounds = [k for k in ("min", "max") if isinstance(rule, dict) and k in rule]
            if not (isinstance(rule, dict) and isinstance(rule.get("metric"), str) and bounds):
                raise ValidationError({"criteria": f"Criterion {number} needs a metric and a min or a max."})
            if not all(isinstance(rule[k], int | float) and not isinstance(rule[k], bool) for k in bounds):
                raise ValidationError({"criteria": f"Criterion {number}: min and max must be numbers."})
        wrong = unknown_engines(self.engines)
        if wrong or not self.engines:
            choices = ", ".join(Engine.values)
            raise ValidationError({"engines": f"List one or more engines among {choices} (not {', '.join(wrong)})."})
        if self.allow_evaluate_only and self.dataset_id and self.dataset.test_labels_public:
            raise ValidationError(
                {
                    "allow_evaluate_only": "This dataset's test labels are public: a model trained elsewhere could "
                    "have learnt them, so this task must train on the server."
                }
            )

    @property
    def accepts_models(self) -> bool:
        """Whether a trained .keras file may be submitted: allowed by the admin, and never on public test data."""
        return self.allow_evaluate_only and not self.dataset.test_labels_public

    @property
    def takes_r(self) -> bool:
        """Whether an .R script may be submitted: the task takes the R engine."""
        return Engine.R in (self.engines if isinstance(self.engines, list) else [])

    @property
    def takes_python(self) -> bool:
        """Whether Python code (.py, .ipynb) may be submitted: the task takes an engine other than R."""
        return any(e != Engine.R for e in (self.engines if isinstance(self.engines, list) else []))

    def accepted_files(self) -> str:
        """The kinds of file an attempt at this task may be, in words."""
        kinds = [".py, .ipynb"] if self.takes_python else []
        kinds += [".R (an R script using Keras through reticulate)"] if self.takes_r else []
        kinds += ["a trained .keras model"] if self.accepts_models else []
        return " or ".join(kinds) or "nothing (no engine)"

    def allowed_engines(self) -> list[str]:
        """The engines this task takes that this installation offers (TRAINER_ENGINES), in the usual order."""
        listed = set(self.engines if isinstance(self.engines, list) else [])
        return [e for e in Engine.values if e in listed and e in settings.TRAINER_ENGINES]

    def claims(self) -> list[Claim]:
        """Every claim a passing run of this task proves, the main one first."""
        return [self.claim, *self.also_claims.exclude(pk=self.claim_id).order_by("order")]

    def needs_two_engines(self, claim: Claim) -> bool:
        """Whether evidence for `claim` from this task takes two passing runs on different backends."""
        return any(c.pk == claim.pk for c in self.two_engine_claims.all())

    def learner_spec(self) -> dict[str, Any]:
        """What build_model(spec) receives: the task's spec plus the budgets it must respect."""
        return {**self.spec, "epochs": self.max_epochs, "max_params": self.max_params, "metric": self.metric}


class WorkerSeen(models.Model):
    """A Celery worker that said it is alive (trainer.workers): which queues it serves, and when it last said so."""

    name = models.CharField(max_length=200, unique=True)
    queues = models.JSONField(default=list)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "worker"

    def __str__(self) -> str:
        return self.name


def run_code_upload_to(instance: TrainingRun, filename: str) -> str:
    # Random folder per upload: names never collide and are not guessable from the outside.
    return f"runs/code/{instance.learner_id}/{uuid.uuid4().hex}/{filename}"


class TrainingRun(models.Model):
    """One attempt of one learner at one task: queued, trained, scored; filed as evidence only by choice."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Scored"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ErrorKind = ErrorKind

    class Stage(models.TextChoices):
        WAITING = "waiting", "Waiting"
        TRAIN = "train", "Training"
        PREDICT = "predict", "Predicting"
        SCORE = "score", "Scoring"
        EXPORT = "export", "Checking the export"
        DONE = "done", "Done"

    # A run waiting for or holding a worker; every other state is final.
    ACTIVE = (State.QUEUED, State.RUNNING)

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_runs")
    task = models.ForeignKey(TaskSpec, on_delete=models.PROTECT, related_name="runs")
    # Filing: the claim a passing attempt is filed for when `file_if_passes` (None: the task's own claim).
    claim = models.ForeignKey(Claim, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    file_if_passes = models.BooleanField(default=False)
    # The submitted code (or model) is kept for good: it is small, and it is the record.
    code = models.FileField(upload_to=run_code_upload_to, max_length=300, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    file_size = models.PositiveBigIntegerField(default=0)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="runs")
    source_kind = models.CharField(max_length=20, help_text="py, ipynb, r (an R script) or keras")
    # Asked for by the learner; what the sandbox measured is in `environment` (and must agree: trainer.pipeline).
    engine = models.CharField(max_length=20, choices=Engine.choices, default=Engine.TENSORFLOW)
    code_sha256 = models.CharField(max_length=64)
    notices = models.JSONField(default=list, blank=True, help_text="What the platform changed, e.g. dropped ! lines.")
    status = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED, db_index=True)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.WAITING)
    attempt = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    cancel_requested = models.BooleanField(default=False)
    epoch = models.PositiveIntegerField(default=0)
    epochs = models.PositiveIntegerField(default=0)
    history = models.JSONField(default=list, blank=True, help_text="One dict per epoch.")
    metrics = models.JSONField(default=dict, blank=True, help_text="Trusted: computed by the platform.")
    passed = models.BooleanField(null=True)
    export_check = models.JSONField(
        default=dict,
        blank=True,
        help_text="Tasks that check an export: the SavedModel against the model (trainer.exports).",
    )
    environment = models.JSONField(default=dict, blank=True)
    timings = models.JSONField(default=dict, blank=True, help_text="Seconds per stage.")
    model_summary = models.TextField(blank=True)
    param_count = models.PositiveBigIntegerField(null=True, blank=True)
    log_tail = models.TextField(blank=True)
    error_kind = models.CharField(max_length=40, blank=True, choices=ErrorKind.choices)
    error_message = models.TextField(blank=True)
    artifacts_dir = models.CharField(max_length=500, blank=True)
    artifact_bytes = models.PositiveBigIntegerField(default=0, help_text="Bytes of model and pictures kept.")
    artifacts_pruned_at = models.DateTimeField(
        null=True, blank=True, help_text="When the model and pictures of this never-filed attempt were deleted."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    enqueued_at = models.DateTimeField(null=True, blank=True, help_text="Last time a message was sent for it.")
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["learner", "task", "created_at"]),
            models.Index(fields=["learner", "started_at"]),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.task} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("run-detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status not in self.ACTIVE

    @property
    def waiting_without_worker(self) -> bool:
        """Queued, and no worker that serves this run's queue has been seen for TRAINER_NO_WORKER_MINUTES."""
        if self.status != self.State.QUEUED:
            return False
        from trainer.workers import queue_unserved

        return queue_unserved(needs_accelerator=self.task.needs_accelerator)

    def queue_position(self) -> int | None:
        """1 for the next run to start, under the fair order the dispatcher follows; None once it has started."""
        if self.status != self.State.QUEUED:
            return None
        from trainer.queue import queue_positions

        return queue_positions([self.pk]).get(self.pk)

    @property
    def counts_for_quota(self) -> bool:
        """Learner failures count; a platform fault, or a cancel before the run started, is refunded."""
        if self.error_kind in PLATFORM_KINDS:
            return False
        return not (self.status == self.State.CANCELLED and self.started_at is None)

    @property
    def can_be_filed(self) -> bool:
        """A finished attempt whose result says something about the learner's work (not a cancel or our fault)."""
        return self.status in (self.State.SUCCEEDED, self.State.FAILED) and self.error_kind not in PLATFORM_KINDS

    @property
    def code_short(self) -> str:
        return self.code_sha256[:10]

    @property
    def export_failed(self) -> bool:
        """The task checks an export (claim 4) and this run's did not pass (trainer.exports)."""
        return bool(self.export_check) and not self.export_check.get("passed")

    @property
    def metric_value(self) -> float | None:
        value = (self.metrics or {}).get(self.task.metric)
        return float(value) if isinstance(value, int | float) else None

    def hints(self) -> list[str]:
        """Plain-words hints for a run that did not learn (see trainer.hints)."""
        from trainer.hints import run_hints

        return run_hints(self)

    def eta_seconds(self) -> float | None:
        """Seconds left in training, from the mean epoch time so far."""
        times = [float(h["seconds"]) for h in self.history if isinstance(h, dict) and h.get("seconds")]
        if not times or self.stage != self.Stage.TRAIN or not self.epochs:
            return None
        return round(sum(times) / len(times) * max(self.epochs - self.epoch, 0), 1)

    @property
    def has_model_file(self) -> bool:
        return self.artifact_path("model.keras") is not None

    @property
    def has_architecture(self) -> bool:
        return self.artifact_path("predict/architecture.png") is not None

    def provenance(self) -> list[tuple[str, str]]:
        """Environment and timings as labelled rows for people (the JSON keeps the raw keys)."""
        env, t = self.environment or {}, self.timings or {}
        rows = [
            ("Engine", self.get_engine_display()), ("Python", env.get("python")),
            ("Keras" if env.get("keras_flavour") != "tf_keras" else "tf.keras (tf_keras)", env.get("keras")),
            ("Keras backend (measured)", env.get("backend")),
            *((name, env.get(key)) for key, name in ENGINE_VERSIONS), ("Device", env.get("device")),
            ("Sandbox start", self.cold_start_text()),
            ("Waiting for a warm sandbox", _seconds(t.get("sandbox_wait"))), ("Training", _seconds(t.get("train"))),
            ("Prediction", _seconds(t.get("predict"))), ("Scoring", _seconds(t.get("score"))),
            ("Peak memory", f"{t['peak_memory_mb']:,.0f} MB" if t.get("peak_memory_mb") else None),
        ]  # fmt: skip
        return [(label, str(value)) for label, value in rows if value not in (None, "")]

    def epoch_seconds(self) -> list[float]:
        """Seconds each epoch took, as the training process reported them (finite numbers only)."""
        values = [row.get("seconds") for row in self.history or [] if isinstance(row, dict)]
        return [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]

    def environment_text(self) -> str:
        """The engine as measured inside the sandbox, in one line: "Keras 3.15.1 on jax (JAX 0.10.2), CPU"."""
        env = self.environment or {}
        keras = "tf.keras" if env.get("keras_flavour") == "tf_keras" else "Keras"
        versions = [f"{name} {env[key]}" for key, name in ENGINE_VERSIONS if env.get(key)]
        found = f"{keras} {env.get('keras', '?')} on {env.get('backend', '?')}"
        return f"{found} ({', '.join(versions)}), {env.get('device', '?')}" if versions else found

    def cold_start_text(self) -> str | None:
        """Which stages started a sandbox cold (no warm one of this engine was waiting), for the run page."""
        cold = (self.timings or {}).get("cold_start")
        if not isinstance(cold, list) or not cold:
            return None
        stages = ", ".join(str(stage).replace("_", " ") for stage in cold)
        return f"cold: no warm {self.get_engine_display()} sandbox was waiting ({stages}); it imported its engine first"

    def artifact_path(self, name: str) -> str | None:
        from pathlib import Path

        if not self.artifacts_dir:
            return None
        path = Path(settings.MEDIA_ROOT) / self.artifacts_dir / name
        return str(path) if path.is_file() else None


class Filing(models.Model):
    """A run filed as training evidence for one claim the task proves; one run may back several claims."""

    run = models.ForeignKey(TrainingRun, on_delete=models.PROTECT, related_name="filings")
    # For a claim about backends (TaskSpec.two_engine_claims): the learner's run of the same task on another one.
    companion = models.ForeignKey(
        TrainingRun, null=True, blank=True, on_delete=models.PROTECT, related_name="companion_filings"
    )
    evidence = models.OneToOneField(Evidence, on_delete=models.CASCADE, related_name="filing")
    automatic = models.BooleanField(default=False, help_text="Filed when it passed, as the learner asked.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Run {self.run_id} filed as evidence {self.evidence_id}"


class QuotaOverride(models.Model):
    """A learner's own limits, for one task or (task empty) for every task; empty limits keep the default."""

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quota_overrides")
    task = models.ForeignKey(TaskSpec, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    attempts_per_day = models.PositiveIntegerField(null=True, blank=True)
    max_active = models.PositiveIntegerField(null=True, blank=True)
    storage_mb = models.PositiveIntegerField(null=True, blank=True, help_text="Storage cap for this learner.")
    reason = models.CharField(max_length=300, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["learner", "task"], name="one_override_per_learner_task"),
            models.UniqueConstraint(
                fields=["learner"], condition=models.Q(task__isnull=True), name="one_site_override_per_learner"
            ),
        ]

    def __str__(self) -> str:
        return f"Limits of {self.learner} on {self.task or 'every task'}"
