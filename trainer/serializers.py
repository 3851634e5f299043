from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from evidence.api import EvidenceSerializer
from evidence.models import Evidence
from tracker.serializers import absolute_url
from trainer.engines import Engine
from trainer.models import TaskSpec, TrainingRun
from trainer.queue import queue_positions
from trainer.quotas import Quota, quota_for


class TaskSpecSerializer(serializers.ModelSerializer[TaskSpec]):
    claim: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(read_only=True)
    competency = serializers.CharField(source="claim.competency.slug", read_only=True)
    dataset = serializers.SerializerMethodField()
    budget = serializers.SerializerMethodField()
    spec = serializers.SerializerMethodField()
    starter_py = serializers.SerializerMethodField()
    starter_ipynb = serializers.SerializerMethodField()
    also_claims: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(read_only=True, many=True)
    leaderboard = serializers.SerializerMethodField()
    training_data = serializers.SerializerMethodField()
    engines = serializers.SerializerMethodField(
        help_text="The engines an attempt may ask for (the first is the default)."
    )

    class Meta:
        model = TaskSpec
        fields = [
            "slug", "title", "summary", "claim", "also_claims", "competency", "brief", "problem", "metric",
            "threshold", "criteria", "budget", "spec", "allow_evaluate_only", "dataset", "starter_py",
            "starter_ipynb", "training_data", "leaderboard", "engines",
        ]  # fmt: skip

    def get_engines(self, task: TaskSpec) -> list[str]:
        return task.allowed_engines()

    def get_spec(self, task: TaskSpec) -> dict[str, Any]:
        return task.learner_spec()

    def get_budget(self, task: TaskSpec) -> dict[str, int]:
        return {
            "epochs": task.max_epochs, "wall_seconds": task.wall_seconds,
            "memory_mb": task.memory_mb, "max_params": task.max_params,
        }  # fmt: skip

    def get_dataset(self, task: TaskSpec) -> dict[str, Any]:
        d = task.dataset
        stats = d.stats or {}
        return {
            "slug": d.slug, "version": d.version, "checksum": d.checksum, "title": d.title, "licence": d.licence,
            "source": d.source, "description": d.description, "splits": stats.get("splits", {}),
            "class_names": stats.get("class_names", []), "total_bytes": stats.get("total_bytes"),
        }  # fmt: skip

    def get_training_data(self, task: TaskSpec) -> str:
        return absolute_url(self.context, reverse("api-task-data", args=[task.slug, "train.npz"]))

    def get_leaderboard(self, task: TaskSpec) -> str:
        return absolute_url(self.context, reverse("task-leaderboard", args=[task.slug]))

    def get_starter_py(self, task: TaskSpec) -> str:
        return absolute_url(self.context, reverse("task-starter-py", args=[task.slug]))

    def get_starter_ipynb(self, task: TaskSpec) -> str:
        return absolute_url(self.context, reverse("task-starter-ipynb", args=[task.slug]))


class QuotaSerializer(serializers.Serializer[Quota]):
    remaining_today = serializers.IntegerField()
    per_day = serializers.IntegerField()
    resets_at = serializers.DateTimeField()
    max_active = serializers.IntegerField()
    active = serializers.IntegerField()
    storage_mb = serializers.FloatField()
    storage_cap_mb = serializers.IntegerField()


class TaskSpecDetailSerializer(TaskSpecSerializer):
    """A task, with the caller's quota on it when they are signed in."""

    quota = serializers.SerializerMethodField()

    class Meta(TaskSpecSerializer.Meta):
        fields = [*TaskSpecSerializer.Meta.fields, "quota"]

    @extend_schema_field(QuotaSerializer(allow_null=True))
    def get_quota(self, task: TaskSpec) -> dict[str, Any] | None:
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return None
        return dict(QuotaSerializer(quota_for(request.user, task)).data)


class TrainingRunSerializer(serializers.ModelSerializer[TrainingRun]):
    task: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    learner = serializers.CharField(source="learner.username", read_only=True)
    claim: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(read_only=True)
    evidence = serializers.SerializerMethodField(help_text="Evidence this attempt was filed as.")
    queue_position = serializers.SerializerMethodField()
    hints = serializers.SerializerMethodField(help_text="Plain-words hints when the model did not learn.")
    eta_seconds = serializers.SerializerMethodField()
    dataset = serializers.SerializerMethodField()
    model_url = serializers.SerializerMethodField()
    engine_label = serializers.CharField(source="get_engine_display", read_only=True)

    class Meta:
        model = TrainingRun
        fields = [
            "id", "learner", "task", "claim", "file_if_passes", "engine", "engine_label", "evidence", "status", "stage",
            "queue_position",
            "attempt", "worker", "epoch", "epochs", "eta_seconds", "history", "metrics", "passed", "export_check",
            "hints",
            "error_kind", "error_message", "environment", "timings", "param_count", "model_summary", "code_sha256",
            "file_name", "source_kind", "notices", "dataset", "log_tail", "cancel_requested", "created_at",
            "started_at", "finished_at", "artifacts_pruned_at", "model_url",
        ]  # fmt: skip

    def get_queue_position(self, run: TrainingRun) -> int | None:
        if run.status != TrainingRun.State.QUEUED:
            return None
        # One query per response for the queued runs it lists (a list's root is shared; its instance is the page).
        asked: set[int]
        positions: dict[int, int]
        asked, positions = getattr(self.root, "_queue_positions", (set(), {}))
        if run.pk not in asked:
            listed = self.root.instance
            runs = list(listed) if isinstance(listed, list | tuple | QuerySet) else []
            asked = {r.pk for r in runs if getattr(r, "status", None) == TrainingRun.State.QUEUED} | {run.pk}
            positions = queue_positions(asked)
            self.root._queue_positions = (asked, positions)  # type: ignore[attr-defined]
        return positions.get(run.pk)

    def get_evidence(self, run: TrainingRun) -> list[int]:
        return [filing.evidence_id for filing in run.filings.all()]

    def get_hints(self, run: TrainingRun) -> list[str]:
        return run.hints() if run.is_finished else []

    def get_eta_seconds(self, run: TrainingRun) -> float | None:
        return run.eta_seconds()

    def get_dataset(self, run: TrainingRun) -> dict[str, str]:
        return {"slug": run.dataset.slug, "version": run.dataset.version, "checksum": run.dataset.checksum}

    def get_model_url(self, run: TrainingRun) -> str | None:
        if not run.artifact_path("model.keras"):
            return None
        return absolute_url(self.context, reverse("api-run-model", args=[run.pk]))


class AttemptSubmitSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(
        help_text=".py, .ipynb, an .R script where the task takes the R engine, or a trained .keras model where the "
        "task allows it."
    )
    file_if_passes = serializers.BooleanField(default=False, help_text="File it as evidence if it passes.")
    claim = serializers.IntegerField(required=False, help_text="The claim to file it for (default: the task's).")
    engine = serializers.ChoiceField(
        choices=Engine.choices, required=False, help_text="The engine to train on (default: the task's first engine)."
    )


class TrainingEvidenceSerializer(EvidenceSerializer):
    """Evidence, plus what training evidence adds: the finished run to file (or, as before attempts existed,
    a `file` to train and file if it passes, on `task`) and the run it cites."""

    task = serializers.CharField(
        write_only=True, required=False, help_text="With `file`: the task spec's slug (default: the claim's task)."
    )
    # Null on read for evidence that cites no run (every kind but filed training), so the schema says so.
    run = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Training: the finished attempt to file (at /api/runs/<id>/); read: the run cited, or null.",
    )
    companion = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Training, for a claim about the backend: your scored attempt at the same task on another "
        "backend, filed with `run` and shown beside it; read: that run, or null.",
    )
    note = serializers.CharField(
        write_only=True, required=False, allow_blank=True, help_text="Training: what you want feedback on."
    )

    class Meta(EvidenceSerializer.Meta):
        fields = [*EvidenceSerializer.Meta.fields, "task", "run", "companion", "note"]

    def to_representation(self, instance: Evidence) -> dict[str, Any]:
        data = super().to_representation(instance)
        filing = getattr(instance, "filing", None)
        data["run"] = filing.run_id if filing is not None else None
        data["companion"] = filing.companion_id if filing is not None else None
        return data
