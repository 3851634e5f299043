"""Admins see all evidence and reviews. Reviews are append-only, so the admin never edits one."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from evidence.models import Evidence, Notification, Review


class ReviewInline(admin.TabularInline[Review, Evidence]):
    model = Review
    extra = 0
    can_delete = False
    fields = ("created_at", "reviewer", "decision", "comment", "rubric")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Evidence)
class EvidenceAdmin(admin.ModelAdmin[Evidence]):
    list_display = [
        "id",
        "learner",
        "competency",
        "claim",
        "kind",
        "status",
        "version",
        "submitted_at",
        "file_pruned_at",
    ]
    list_filter = ["status", "kind", "competency", ("file_pruned_at", admin.EmptyFieldListFilter)]
    search_fields = ["learner__username", "body", "url", "file_name"]
    list_select_related = ["learner", "competency", "claim"]
    inlines = [ReviewInline]
    # Evidence is what the learner sent: the admin inspects it, the services change its state.
    readonly_fields = tuple(f.name for f in Evidence._meta.concrete_fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin[Review]):
    list_display = ["id", "evidence", "reviewer", "decision", "created_at"]
    list_filter = ["decision"]
    list_select_related = ["evidence", "reviewer"]
    readonly_fields = ["evidence", "reviewer", "decision", "comment", "rubric", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    list_display = ["recipient", "message", "created_at", "read_at"]
    list_select_related = ["recipient"]
