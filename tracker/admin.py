"""The Django admin edits the whole catalogue, with history, import and export."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from simple_history.admin import SimpleHistoryAdmin

from tracker import services
from tracker.exporters import EXPORTERS
from tracker.forms import ClaimForm, ImportForm
from tracker.models import MENTOR, ApiToken, Claim, Competency, RateLimitHit, Resource, User


class ClaimInline(admin.StackedInline[Claim, Competency]):
    # Stacked, not tabular: a table row of a claim's text, kinds and rubric made the page ~1,950 px wide, and a
    # table's cells have no labels of their own (the column heading is no <label>).
    model = Claim
    form = ClaimForm
    extra = 0
    fields = ["text", ("order", "required", "is_active"), "evidence_kinds", "rubric"]


# Links typed without a scheme are https (Django 6's default; silences its deprecation warning).
HTTPS_URLS: Mapping[type[models.Field[Any, Any]], Mapping[str, Any]] = {models.URLField: {"assume_scheme": "https"}}


class ResourceInline(admin.StackedInline[Resource, Competency]):
    # Stacked like the claims, so that every box has a label.
    model = Resource
    extra = 0
    fields = [("title", "order"), "url"]
    formfield_overrides = HTTPS_URLS


def _export_action(fmt: str, label: str) -> Any:
    def action(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Competency]) -> HttpResponse:
        filename, content_type, text = EXPORTERS[fmt](queryset.order_by("title"))
        response = HttpResponse(text, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    action.__name__ = f"export_{fmt}"
    return admin.action(description=label)(action)


@admin.register(Competency)
class CompetencyAdmin(SimpleHistoryAdmin):
    list_display = ["title", "category", "status", "version", "updated_at"]
    list_filter = ["status", "category"]
    search_fields = ["title", "description"]
    prepopulated_fields = {"slug": ["title"]}
    # Searched as one types, over mentors only (SkillproofUserAdmin.get_search_results): a cohort has thousands
    # of users, which a plain or two-box picker would all load into the page.
    autocomplete_fields = ["mentors"]
    readonly_fields = ["uuid", "version", "created_at", "updated_at"]
    inlines = [ClaimInline, ResourceInline]
    actions = [
        _export_action("markdown", "Export as Markdown (seed format)"),
        _export_action("case", "Export as CASE 1.1 JSON"),
        _export_action("moodle", "Export as Moodle competency CSV"),
    ]
    change_list_template = "admin/tracker/competency/change_list.html"

    def get_form(self, request: HttpRequest, obj: Competency | None = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        if mentors := form.base_fields.get("mentors"):
            # What the picker offers is what the form takes: active mentors, and whoever already reviews this
            # competency (kept, even if no longer a mentor, until someone takes them off).
            current = obj.mentors.values("pk") if obj else User.objects.none().values("pk")
            mentors.queryset = User.objects.filter(
                Q(groups__name=MENTOR, is_active=True) | Q(pk__in=current)
            ).distinct()
            mentors.error_messages["invalid_choice"] = (
                "User %(value)s is no mentor: give them the mentor role on their user page first."
            )
        return form

    def get_urls(self) -> list[URLPattern]:
        custom = [path("import/", self.admin_site.admin_view(self.import_view), name="tracker_competency_import")]
        return custom + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            return redirect("admin:tracker_competency_changelist")
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                competencies = services.competency_import_upload(upload=form.cleaned_data["file"])
            except services.FrameworkImportError as error:
                form.add_error("file", str(error))
            else:
                names = ", ".join(c.title for c in competencies)
                messages.success(request, f"Imported {len(competencies)} competency(ies): {names}.")
                return redirect("admin:tracker_competency_changelist")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": "Import competencies",
            "opts": self.model._meta,
        }
        return render(request, "admin/tracker/competency/import.html", context)


@admin.register(Claim)
class ClaimAdmin(SimpleHistoryAdmin):
    list_display = ["text", "competency", "order", "required", "is_active"]
    list_filter = ["competency", "required", "is_active"]
    search_fields = ["text"]
    readonly_fields = ["uuid", "version"]
    form = ClaimForm


@admin.register(Resource)
class ResourceAdmin(SimpleHistoryAdmin):
    formfield_overrides = HTTPS_URLS
    list_display = ["title", "url", "competency", "order"]
    list_filter = ["competency"]
    search_fields = ["title", "url"]


class MentoredInline(admin.TabularInline[Any, User]):
    model = Competency.mentors.through
    extra = 0
    verbose_name = "competency this user mentors"
    verbose_name_plural = "competencies this user mentors"


@admin.register(User)
class SkillproofUserAdmin(UserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_staff", "roles"]
    list_filter = ["groups", "is_staff", "is_active"]
    inlines = [MentoredInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[User], search_term: str
    ) -> tuple[QuerySet[User], bool]:
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if _autocompletes(request, Competency, "mentors"):
            # A competency's reviewers are picked among active mentors; the user list itself still finds everyone.
            queryset = queryset.filter(groups__name=MENTOR, is_active=True)
        return queryset, may_have_duplicates

    @admin.display(description="Roles")
    def roles(self, user: User) -> str:
        return ", ".join(sorted(g.name for g in user.groups.all()))


def _autocompletes(request: HttpRequest, model: type[models.Model], field_name: str) -> bool:
    """Whether `request` is the admin's autocomplete asking for choices of `model.field_name`."""
    match = request.resolver_match
    return (
        match is not None
        and match.url_name == "autocomplete"
        and request.GET.get("app_label") == model._meta.app_label
        and request.GET.get("model_name") == model._meta.model_name
        and request.GET.get("field_name") == field_name
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Tokens are made by their owners (the API tokens page); here they are seen and revoked (deleted)."""

    list_display = ["name", "user", "hint", "created_at", "expires_at", "last_used_at", "state"]
    list_filter = ["expires_at"]
    search_fields = ["name", "user__username"]
    readonly_fields = ["user", "name", "hint", "created_at", "expires_at", "last_used_at", "state"]
    exclude = ["digest", "password_fingerprint"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        return super().get_queryset(request).select_related("user")


@admin.register(RateLimitHit)
class RateLimitHitAdmin(admin.ModelAdmin[RateLimitHit]):
    """Sign-up and password-reset requests counted in the last hour; deleting them lifts the limit."""

    list_display = ["scope", "created_at"]
    list_filter = ["scope"]
    readonly_fields = ["scope", "key", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
