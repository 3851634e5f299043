from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from evidence.api import EvidenceSerializer
from evidence.models import Evidence
from tracker.serializers import absolute_url
from trainer.models import TaskSpec, TrainingRun


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

    class Meta:
        model = TaskSpec
        fields = [
            "slug", "title", "summary", "claim", "also_claims", "competency", "brief", "problem", "metric",
            "threshold", "criteria", "budget", "spec", "allow_evaluate_only", "dataset", "starter_py",
            "starter_ipynb", "training_data", "leaderboard",
        ]  # fmt: skip

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


class TrainingRunSerializer(serializers.ModelSerializer[TrainingRun]):
    task: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    evidence: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(read_only=True)
    queue_position = serializers.SerializerMethodField()
    eta_seconds = serializers.SerializerMethodField()
    dataset = serializers.SerializerMethodField()
    model_url = serializers.SerializerMethodField()

    class Meta:
        model = TrainingRun
        fields = [
            "id", "evidence", "task", "status", "stage", "queue_position", "attempt", "worker", "epoch", "epochs",
            "eta_seconds", "history", "metrics", "passed", "error_kind", "error_message", "environment", "timings",
            "param_count", "model_summary", "code_sha256", "source_kind", "notices", "dataset", "log_tail",
            "cancel_requested", "created_at", "started_at", "finished_at", "model_url",
        ]  # fmt: skip

    def get_queue_position(self, run: TrainingRun) -> int | None:
        return run.queue_position()

    def get_eta_seconds(self, run: TrainingRun) -> float | None:
        return run.eta_seconds()

    def get_dataset(self, run: TrainingRun) -> dict[str, str]:
        return {"slug": run.dataset.slug, "version": run.dataset.version, "checksum": run.dataset.checksum}

    def get_model_url(self, run: TrainingRun) -> str | None:
        if not run.artifact_path("model.keras"):
            return None
        return absolute_url(self.context, reverse("api-run-model", args=[run.pk]))


class TrainingEvidenceSerializer(EvidenceSerializer):
    """Evidence, plus what training evidence adds: the task to run (on create) and the run's id."""

    task = serializers.CharField(
        write_only=True, required=False, help_text="Training only: the task spec's slug (default: the claim's task)."
    )
    run = serializers.SerializerMethodField(help_text="Training only: the id of the run at /api/runs/<id>/.")

    class Meta(EvidenceSerializer.Meta):
        fields = [*EvidenceSerializer.Meta.fields, "task", "run"]

    def get_run(self, evidence: Evidence) -> int | None:
        run = getattr(evidence, "run", None)
        return run.pk if run is not None else None
