"""Admins edit task specs (thresholds, budgets, which claims they prove), inspect datasets and runs.

Datasets are built by `manage.py build_datasets` and runs by the worker: the admin shows them read-only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from trainer import selectors
from trainer.models import Dataset, QuotaOverride, TaskSpec, TrainingRun


@admin.register(TaskSpec)
class TaskSpecAdmin(admin.ModelAdmin[TaskSpec]):
    list_display = ["slug", "title", "claim", "problem", "metric", "threshold", "is_active", "is_tiny"]
    list_filter = ["problem", "is_active", "is_tiny", "claim__competency"]
    search_fields = ["slug", "title", "summary"]
    list_select_related = ["claim__competency", "dataset"]
    filter_horizontal = ["also_claims"]
    fieldsets = [
        (None, {"fields": ["slug", "title", "summary", "claim", "also_claims", "dataset", "is_active", "is_tiny"]}),
        ("Engines a learner may train on", {"fields": ["engines"]}),
        ("Scoring", {"fields": ["problem", "metric", "threshold", "criteria", "baseline"]}),
        ("Quotas (empty: the site's defaults)", {"fields": ["attempts_per_day", "max_active"]}),
        ("What build_model(spec) gets, and the budgets", {
            "fields": ["spec", "max_epochs", "wall_seconds", "memory_mb", "max_params", "allow_evaluate_only"],
        }),
        ("Brief (Markdown)", {"fields": ["brief"]}),
    ]  # fmt: skip


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin[Dataset]):
    list_display = ["slug", "version", "title", "licence", "short_checksum", "built_at"]
    search_fields = ["slug", "title", "source"]
    readonly_fields = tuple(f.name for f in Dataset._meta.concrete_fields)

    @admin.display(description="sha256")
    def short_checksum(self, dataset: Dataset) -> str:
        return dataset.checksum[:12]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin[TrainingRun]):
    list_display = ["id", "task", "learner", "engine", "status", "stage", "passed", "attempt", "created_at"]
    list_filter = ["status", "engine", "passed", "task"]
    search_fields = ["learner__username", "task__slug", "code_sha256"]
    list_select_related = ["task", "learner"]
    readonly_fields = tuple(f.name for f in TrainingRun._meta.concrete_fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        # Per engine, over every run: above the list (templates/admin/trainer/trainingrun/change_list.html).
        return super().changelist_view(request, {**(extra_context or {}), "engine_stats": selectors.engine_stats()})


@admin.register(QuotaOverride)
class QuotaOverrideAdmin(admin.ModelAdmin[QuotaOverride]):
    """A learner's own limits (a mentor may ask an admin to lift them); empty limits keep the task's or site's."""

    list_display = ["learner", "task", "attempts_per_day", "max_active", "storage_mb", "granted_by", "created_at"]
    list_select_related = ["learner", "task", "granted_by"]
    search_fields = ["learner__username", "task__slug", "reason"]
    autocomplete_fields = ["learner"]
    readonly_fields = ["granted_by", "created_at"]

    def save_model(self, request: HttpRequest, obj: QuotaOverride, form: Any, change: bool) -> None:
        obj.granted_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
