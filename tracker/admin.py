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

from tracker import frameworks, services
from tracker.exporters import EXPORTERS
from tracker.formats.base import FormatError
from tracker.formats.tree import ROLES, parse_levels
from tracker.forms import ClaimForm, ImportForm
from tracker.models import (
    MENTOR,
    ApiToken,
    Claim,
    Competency,
    Framework,
    FrameworkNode,
    RateLimitHit,
    Resource,
    User,
)

# Files read as framework trees (previewed before import); anything else is the seed's Markdown.
TREE_SUFFIXES = (".csv", ".json")


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


def _attachment(filename: str, content_type: str, text: str) -> HttpResponse:
    """An export as a download named `filename`."""
    response = HttpResponse(text, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _export_action(fmt: str, label: str) -> Any:
    def action(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Competency]) -> HttpResponse:
        return _attachment(*EXPORTERS[fmt](queryset.order_by("title")))

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

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # A competency written here is a framework of one; its claims, edited above, are that framework's nodes.
        frameworks.framework_sync_competency(competency=form.instance)

    def get_urls(self) -> list[URLPattern]:
        custom = [path("import/", self.admin_site.admin_view(self.import_view), name="tracker_competency_import")]
        return custom + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Markdown imports at once; a Moodle or CASE framework is previewed first and imported when confirmed."""
        if not self.has_add_permission(request):
            return redirect("admin:tracker_competency_changelist")
        if request.method == "POST" and "token" in request.POST:
            return self._preview_or_import(request)
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.name.lower().endswith(TREE_SUFFIXES):
                token = frameworks.framework_upload_stage(name=upload.name, data=upload.read())
                return self._preview(request, token, {})
            try:
                competencies = services.competency_import_upload(upload=upload)
            except services.FrameworkImportError as error:
                form.add_error("file", str(error))
            else:
                names = ", ".join(c.title for c in competencies)
                messages.success(request, f"Imported {len(competencies)} competency(ies): {names}.")
                return redirect("admin:tracker_competency_changelist")
        return self._render_import(request, form)

    def _render_import(self, request: HttpRequest, form: ImportForm) -> HttpResponse:
        context = {**self.admin_site.each_context(request), "form": form, "title": "Import competencies"}
        context["opts"] = self.model._meta
        return render(request, "admin/tracker/competency/import.html", context)

    def _preview_or_import(self, request: HttpRequest) -> HttpResponse:
        token = request.POST["token"]
        try:
            levels = parse_levels(
                {
                    key.removeprefix("level-"): request.POST.get(key, "")
                    for key in request.POST
                    if key.startswith("level-")
                }
            )
        except FormatError as error:
            levels = {}
            messages.error(request, error.message)
        if request.POST.get("action") != "import":
            return self._preview(request, token, levels)
        try:
            name, data = frameworks.framework_upload_load(token=token)
            framework = frameworks.framework_import(name=name, data=data, levels=levels)
        except services.FrameworkImportError as error:
            return self._preview(request, token, levels, error=str(error))
        frameworks.framework_upload_discard(token=token)
        messages.success(request, f"Imported the framework {framework.title}.")
        return redirect("admin:tracker_framework_change", framework.pk)

    def _preview(self, request: HttpRequest, token: str, levels: dict[int, str], error: str = "") -> HttpResponse:
        """The tree the file would give, what would change, and a role per level; nothing is saved."""
        plan = None
        try:
            name, data = frameworks.framework_upload_load(token=token)
            plan = frameworks.framework_plan(name=name, data=data, levels=levels)
        except services.FrameworkImportError as failure:
            error = error or str(failure)
        context = {
            **self.admin_site.each_context(request),
            "title": "Preview the import",
            "opts": self.model._meta,
            "plan": plan,
            "token": token,
            "error": error,
            "roles": ROLES,
            "levels": levels,
        }
        return render(request, "admin/tracker/competency/import_preview.html", context)


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


def _framework_export_action(fmt: str, label: str) -> Any:
    def action(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Framework]) -> HttpResponse:
        if queryset.count() != 1:
            modeladmin.message_user(request, "Export one framework at a time.", messages.WARNING)
            return None  # type: ignore[return-value]
        return _attachment(*frameworks.framework_export(framework=queryset.get(), fmt=fmt))

    action.__name__ = f"export_framework_{fmt}"
    return admin.action(description=label)(action)


@admin.register(Framework)
class FrameworkAdmin(SimpleHistoryAdmin):
    list_display = ["title", "idnumber", "source_format", "node_count", "updated_at"]
    list_filter = ["source_format"]
    search_fields = ["title", "idnumber", "source_identifier"]
    readonly_fields = ["uuid", "tree", "source_format", "source_identifier", "levels", "created_at", "updated_at"]
    fields = [
        "title", "idnumber", "description", "tree", "source_format", "source_identifier", "source_uri",
        "source_version", "scale_values", "scale_configuration", "taxonomies", "levels", "uuid",
        "created_at", "updated_at",
    ]  # fmt: skip
    # No inline of its nodes: a framework may have thousands (5,000 is the import's limit), which one form could
    # neither show nor post (DATA_UPLOAD_MAX_NUMBER_FIELDS). The tree above links each node to its own page,
    # where it is edited with its history.
    actions = [
        _framework_export_action("moodle", "Export as Moodle competency framework CSV"),
        _framework_export_action("case", "Export as CASE 1.1 package (JSON)"),
    ]

    change_list_template = "admin/tracker/framework/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Framework]:
        return super().get_queryset(request).annotate(node_total=models.Count("nodes"))

    @admin.display(description="Nodes", ordering="node_total")
    def node_count(self, framework: Framework) -> int:
        return int(getattr(framework, "node_total", 0))

    @admin.display(description="Tree")
    def tree(self, framework: Framework) -> str:
        from django.template.loader import render_to_string

        return render_to_string("tracker/_framework_tree.html", {"nodes": framework.roots(), "admin": True})


@admin.register(FrameworkNode)
class FrameworkNodeAdmin(SimpleHistoryAdmin):
    list_display = ["short_name", "framework", "role", "idnumber", "human_coding_scheme", "retired_at"]
    list_filter = ["framework", "role"]
    search_fields = ["short_name", "idnumber", "human_coding_scheme"]
    readonly_fields = ["framework", "parent", "role", "competency", "claim", "case_identifier", "source_data"]
